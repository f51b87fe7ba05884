"""The report as JUnit XML (`--format junit`), for CI systems that show test results.

Two test suites: `failed specs`, one test case per failed spec (its cause and the cause's evidence in
the failure text; an interrupted spec is a skipped case, since it did not fail on its own), and
`findings`, one failed test case per finding at or above `--fail-on` (above info without it). The
layout and attributes are those of the common JUnit schema (Jenkins' junit-10: `testsuites`,
`testsuite`, `testcase` with `failure`, `error` and `skipped`), which has no place for a test case's
source file: the spec's location in the repository is a line of its failure text. No time stamp or
host name is written, so the same input gives the same bytes. Characters XML 1.0 cannot hold
(control characters a log may carry) become U+FFFD; every text goes through the report's redaction
first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

from triage.facts.testrun import FAILED_STATES, NOT_PASSED_STATES, SpecState
from triage.report.ci import cause_text, repo_location, reported_findings
from triage.report.model import Report
from triage.report.redact import Redactor
from triage.report.verdict import SpecVerdict
from triage.report.wording import MAX_EVIDENCE, clip
from triage.rules.base import Finding

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Ginkgo's own JUnit report marks these as errors rather than assertion failures.
_ERROR_STATES = (SpecState.PANICKED, SpecState.ABORTED)


def render_junit(report: Report, fail_on: str | None, redactor: Redactor) -> str:
    """JUnit XML of the failed specs and the findings at or above `fail_on`.

    Args:
        report: the analysis result.
        fail_on: the `--fail-on` severity, or None (findings above info).
        redactor: the output's redactor.

    Returns:
        The XML document, ending in a newline.
    """

    def text(value: str) -> str:
        return _NOT_XML.sub("\ufffd", redactor.text(value))

    suites = ET.Element("testsuites", name="triage")
    specs = ET.SubElement(suites, "testsuite", name="failed specs")
    suite_of = {run.file: run.suite or run.file for run in report.tests}
    for v in report.verdicts:
        if v.spec.state in NOT_PASSED_STATES:
            _spec_case(specs, v, suite_of.get(v.spec.file, v.spec.file), text)
    findings = ET.SubElement(suites, "testsuite", name="findings")
    for f in reported_findings(report, fail_on):
        case = ET.SubElement(findings, "testcase", name=text(_finding_name(f)), classname="triage.findings")
        case.set("time", "0.000")
        failure = ET.SubElement(case, "failure", message=text(one_line(f.summary)), type=f.severity.label)
        failure.text = text(_evidence_text(f))
    for suite in (specs, findings):
        _count(suite, ("failure", "error", "skipped"))
    _count(suites, ("failure", "error"))  # the schema has no skipped count for the root
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def one_line(value: str) -> str:
    """Text on one line, runs of white space made one space."""
    return " ".join(value.split())


def _spec_case(suite: ET.Element, v: SpecVerdict, classname: str, text: Callable[[str], str]) -> None:
    spec = v.spec
    case = ET.SubElement(suite, "testcase", name=text(spec.name), classname=text(classname))
    case.set("time", f"{spec.duration_s or 0:.3f}")
    if spec.state not in FAILED_STATES:
        ET.SubElement(case, "skipped", message=f"{spec.state.value}: did not fail on its own")
        return
    tag = "error" if spec.state in _ERROR_STATES else "failure"
    cause = cause_text(v)
    kind = v.cause.rule if v.cause else "unexplained"
    element = ET.SubElement(case, tag, message=text(one_line(cause)), type=kind)
    lines = [f"Cause: {cause}"]
    where = repo_location(spec.location)
    if where is not None and where.path:
        lines.append(f"Location: {where.path}" + (f":{where.line}" if where.line is not None else ""))
    if spec.failure_message:
        at = f" (at {spec.failure_location})" if spec.failure_location else ""
        lines.append(f"Failure: {spec.failure_message}{at}")
    lines.append(f"Test log: {spec.file}:{spec.line}")
    if v.cause is not None:
        lines.append(_evidence_text(v.cause, head=False))
    element.text = text("\n".join(lines))


def _finding_name(f: Finding) -> str:
    about = f" {f.correlation_id}" if f.correlation_id else ""
    first = f" at {f.evidence[0].where}" if f.evidence else ""
    return f"{f.rule} ({f.severity.label}){about}{first}"


def _evidence_text(f: Finding, head: bool = True) -> str:
    """A finding's evidence, one quoted line each, after its summary unless `head` is False."""
    shown = f.evidence[:MAX_EVIDENCE]
    lines = [f"{f.rule} ({f.severity.label}): {f.summary}"] if head else []
    lines.append("Evidence:")
    lines += [f"  {e.where}  {clip(e.text or '')}" for e in shown]
    if len(f.evidence) > len(shown):
        lines.append(f"  … {len(f.evidence) - len(shown)} more line(s) in the report")
    return "\n".join(lines)


def _count(suite: ET.Element, results: tuple[str, ...]) -> None:
    """Set a suite's (or the root's) tests, time and count of each result from the cases it holds."""
    cases = list(suite.iter("testcase"))
    suite.set("tests", str(len(cases)))
    for tag in results:
        suite.set(
            "skipped" if tag == "skipped" else tag + "s", str(sum(c.find(tag) is not None for c in cases))
        )
    suite.set("time", f"{sum(float(case.get('time', '0')) for case in cases):.3f}")
