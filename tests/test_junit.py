"""JUnit output: one case per failed spec and per finding at or above --fail-on, readable by JUnit tools."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner
from junitparser import Error, Failure, JUnitXml, Skipped

from triage.api import analyze
from triage.cli import main
from triage.report.render import render

BUNDLES = Path(__file__).resolve().parents[1] / "fixtures" / "bundles"
SPEC = "should emit audit event with policy-defined fallback severity"


def test_junit_lists_the_failed_spec_with_its_cause_and_evidence() -> None:
    """The race bundle's failed spec is a failed case at its repository path with its cause and quotes."""
    xml = JUnitXml.fromstring(render(analyze(BUNDLES / "04-race-timeout"), "junit").encode())
    specs, findings = list(xml)
    assert (specs.name, specs.tests, specs.failures, specs.errors) == ("failed specs", 1, 1, 0)
    (case,) = list(specs)
    assert case.name.endswith(f"[It] {SPEC}") and abs(case.time - 31.002) < 1e-9
    (failure,) = case.result
    assert "\nLocation: test/integration/signalprocessing/severity_integration_test.go:297\n" in failure.text
    assert isinstance(failure, Failure) and failure.type == "flush-query-race"
    assert failure.message.startswith("flush-query-race (high): A query for ")
    assert "Failure: Timed out after 30.002s." in failure.text
    assert "integration-signalprocessing.log:934" in failure.text  # the buffered event it quotes
    assert [c.name for c in findings] == [
        "flush-query-race (high) sev-audit-rr-010 at integration-signalprocessing.log:929"
    ]


def test_fail_on_picks_the_findings_and_interrupted_specs_are_skipped() -> None:
    """With --fail-on medium only findings of medium and above are cases; interrupted specs are skipped."""
    report = analyze(BUNDLES / "07-datastorage-down")
    root = ET.fromstring(render(report, "junit", fail_on="medium"))
    expected = [f for f in report.findings if f.severity.label in ("medium", "high", "critical")]
    assert len(expected) < len(report.findings)
    findings = root.find("testsuite[@name='findings']")
    assert findings is not None and findings.get("tests") == str(len(expected))
    xml = JUnitXml.fromstring(render(report, "junit", fail_on="medium").encode())
    states = sorted(type(r[0]).__name__ for r in (case.result for case in next(iter(xml))))
    assert states == ["Failure", "Skipped", "Skipped", "Skipped"]
    assert root.get("tests") == str(4 + len(expected)) and root.get("failures") == str(1 + len(expected))
    assert not any(isinstance(r, Error) for case in next(iter(xml)) for r in case.result)
    assert all(isinstance(r, Skipped) or r.message for case in next(iter(xml)) for r in case.result)


def test_control_characters_and_markup_in_a_log_stay_well_formed(tmp_path: Path) -> None:
    """A spec name carrying a bell, `<`, `&` and `]]>` gives XML that parses back to it, the bell replaced."""
    bundle = tmp_path / "race"
    shutil.copytree(BUNDLES / "04-race-timeout", bundle)
    log = bundle / "integration-signalprocessing.log"
    planted = "\x1b[0m<b>&amp; ]]> \x07"
    log.write_text(log.read_text(encoding="utf-8").replace(SPEC, SPEC + planted), encoding="utf-8")
    result = CliRunner().invoke(main, ["analyze", str(bundle), "--format", "junit"])
    assert result.exit_code == 0, result.output
    case = ET.fromstring(result.stdout).find("testsuite/testcase")
    assert case is not None
    name = case.get("name") or ""
    assert name.endswith(SPEC + "<b>&amp; ]]> \ufffd")  # the parser drops the colour code; BEL is no XML


def test_junit_is_deterministic() -> None:
    """The same bundle gives the same bytes, with no time stamp or host name."""
    first = render(analyze(BUNDLES / "07-datastorage-down"), "junit")
    assert first == render(analyze(BUNDLES / "07-datastorage-down"), "junit")
    assert "timestamp=" not in first and "hostname=" not in first


# Elements and attributes the common JUnit schema (Jenkins' junit-10.xsd) allows, and those it requires.
SCHEMA = {
    "testsuites": ({"name", "time", "tests", "failures", "disabled", "errors"}, set()),
    "testsuite": (
        {"name", "tests", "failures", "errors", "group", "time", "disabled", "skipped", "timestamp",
         "hostname", "id", "package", "file", "log", "url", "version"},
        {"name", "tests"},
    ),
    "testcase": ({"name", "assertions", "time", "classname", "status"}, {"name"}),
    "failure": ({"message", "type"}, set()),
    "error": ({"message", "type"}, set()),
    "skipped": ({"message"}, set()),
}  # fmt: skip
CHILDREN = {
    "testsuites": {"testsuite"},
    "testsuite": {"properties", "testcase", "system-out", "system-err"},
    "testcase": {"skipped", "error", "failure", "system-out", "system-err"},
    "failure": set(),
    "error": set(),
    "skipped": set(),
}


def test_every_element_and_attribute_is_one_the_junit_schema_allows() -> None:
    """Each element sits where the common JUnit schema puts it, with only its attributes and the required."""
    for bundle in ("04-race-timeout", "07-datastorage-down"):
        root = ET.fromstring(render(analyze(BUNDLES / bundle), "junit", fail_on="info"))
        assert root.tag == "testsuites"
        for parent in root.iter():
            allowed, required = SCHEMA[parent.tag]
            assert required <= set(parent.attrib) <= allowed, parent.tag
            assert {child.tag for child in parent} <= CHILDREN[parent.tag], parent.tag
