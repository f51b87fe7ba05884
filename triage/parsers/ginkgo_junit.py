"""Ginkgo v2 JUnit XML report (`ginkgo --junit-report`): test totals, every spec's state, failures.

Layout (reporters/junit_report.go): `<testsuites>` holding one `<testsuite>` per suite (its name is
the suite description, `package` its path), whose `<properties>` carry the suite config
(`SuiteSucceeded`, `SpecialSuiteFailureReason`, `RandomSeed`, `FailFast`, `ParallelTotal`, ...) and
whose `<testcase>`s are named `[LeafNodeType] full text`, with a `status` (Ginkgo's spec state), a
`time`, and a `<failure>` (failed, aborted, timed out) or `<error>` (panicked, interrupted) whose
message is Gomega's and whose text holds the failure's location.

Records cite the line of their element: a spec its `<testcase>`, a failure its `<failure>` or
`<error>`, the suite its `<testsuite>` and the summary its `</testsuite>`. The captured output
(`<system-err>`) is not read: a JSON report carries it with the parallel process of each spec.
"""

from __future__ import annotations

import json
import re
import xml.parsers.expat
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from triage.bundle.sources import Source
from triage.parsers._common import message_key
from triage.parsers.base import Format, ParseResult
from triage.parsers.ginkgo_report import state_level
from triage.parsers.ginkgo_syntax import IN_LINE
from triage.table.schema import conform, empty_events
from triage.table.vocabulary import NOT_PASSED_STATES

_NAME = re.compile(r"^\[([A-Za-z]+)\](?: (.*))?$", re.S)
_LOCATION = re.compile(r"^\s*(\S+:\d+)\s*$", re.M)


@dataclass
class _Case:
    line: int
    attrs: dict[str, str]
    failure_line: int | None = None
    failure: dict[str, str] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)


@dataclass
class _Suite:
    line: int
    attrs: dict[str, str]
    end_line: int = 0
    properties: dict[str, str] = field(default_factory=dict)
    cases: list[_Case] = field(default_factory=list)


def _read(text: str) -> list[_Suite]:
    """The suites of a JUnit document with the lines their elements start on."""
    parser = xml.parsers.expat.ParserCreate()
    suites: list[_Suite] = []
    in_failure = False

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal in_failure
        line = parser.CurrentLineNumber
        if name == "testsuite":
            suites.append(_Suite(line, attrs))
        elif name == "property" and suites:
            suites[-1].properties[attrs.get("name", "")] = attrs.get("value", "")
        elif name == "testcase" and suites:
            suites[-1].cases.append(_Case(line, attrs))
        elif name in ("failure", "error") and suites and suites[-1].cases:
            case = suites[-1].cases[-1]
            case.failure_line, case.failure, in_failure = line, {"kind": name, **attrs}, True

    def end(name: str) -> None:
        nonlocal in_failure
        if name == "testsuite" and suites:
            suites[-1].end_line = parser.CurrentLineNumber
        in_failure = in_failure and name not in ("failure", "error")

    def data(chunk: str) -> None:
        if in_failure and suites and suites[-1].cases:
            suites[-1].cases[-1].text.append(chunk)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    parser.Parse(text, True)
    return suites


def _node_and_name(case: _Case) -> tuple[str, str]:
    full = case.attrs.get("name", "")
    match = _NAME.match(full)
    if match is None:
        return "It", full
    node, text = match[1], match[2] or ""
    return node, (text if node == "It" else full)


def _failure_location(text: str) -> str | None:
    for line in text.split("\n"):
        match = re.match(IN_LINE, line.strip())
        if match:
            return match[2]
    match = _LOCATION.search(text)
    return match[1] if match else None


# Columns a run of records may leave all null.
_RECORD_TYPES = {"level": pl.String, "spec": pl.String, "spec_index": pl.UInt32}


def _record(line: int, record: str, message: str, **fields: Any) -> dict[str, Any]:
    return {
        "line": line,
        "n_lines": 1,
        "record": record,
        "level": fields.pop("level", None),
        "message": message,
        "spec": fields.pop("spec", None),
        "spec_index": fields.pop("spec_index", None),
        "attrs": json.dumps({k: v for k, v in fields.items() if v is not None}, ensure_ascii=False),
    }


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _suite_records(suite: _Suite, first_index: int) -> list[dict[str, Any]]:
    props = suite.properties
    processes = int(props["ParallelTotal"]) if props.get("ParallelTotal", "").isdigit() else None
    flags = [f"--procs={processes}"] if processes and processes > 1 else []
    flags += ["--fail-fast"] if props.get("FailFast") == "true" else []
    description = suite.attrs.get("name", "")
    records = [
        _record(
            suite.line,
            "suite",
            f"Running Suite: {description} - {suite.attrs.get('package', '')}",
            suite=description,
            path=suite.attrs.get("package"),
            seed=int(props["RandomSeed"]) if props.get("RandomSeed", "").isdigit() else None,
            processes=processes or 1,
            flags=" ".join(flags) or None,
        )
    ]
    states: Counter[str] = Counter()
    for index, case in enumerate(suite.cases, first_index):
        node, name = _node_and_name(case)
        state = case.attrs.get("status", "passed")
        if node == "It":
            states[state] += 1
        common: dict[str, Any] = {"spec": name, "spec_index": index, "level": state_level(state)}
        records.append(
            _record(
                case.line,
                "spec",
                name,
                state=state,
                duration_s=_seconds(case.attrs.get("time")) if state != "pending" else None,
                node=None if node == "It" else node,
                **common,
            )
        )
        if case.failure_line is not None:
            text = "".join(case.text)
            message = case.failure.get("message", "")
            records.append(
                _record(
                    case.failure_line,
                    "failure",
                    message.split("\n", 1)[0],
                    state=state,
                    node=node,
                    location=_failure_location(text),
                    text=message if case.failure.get("kind") == "failure" or not text.strip() else text,
                    marker=False,
                    **common,
                )
            )
    succeeded = props.get("SuiteSucceeded") == "true"
    reason = props.get("SpecialSuiteFailureReason") or None
    failed = sum(states[s] for s in NOT_PASSED_STATES)
    records.append(
        _record(
            suite.end_line or suite.line,
            "summary",
            ("SUCCESS!" if succeeded else "FAIL!") + (f" - {reason}" if reason else ""),
            level="info" if succeeded else "error",
            ran=states["passed"] + failed,
            duration_s=_seconds(suite.attrs.get("time")),
            status="SUCCESS!" if succeeded else "FAIL!",
            reason=reason,
            passed=states["passed"],
            failed=failed,
            pending=states["pending"],
            skipped=states["skipped"],
        )
    )
    return records


def parse(lines: pl.DataFrame, source: Source) -> ParseResult:
    """Parse a Ginkgo v2 JUnit XML report.

    Args:
        lines: columns `line` and `raw` (the whole report).
        source: the report.

    Returns:
        Suite, spec, failure and summary records with `source_kind` "ginkgo"; a report that is no
        well-formed XML leaves every line not understood, with a note saying why.
    """
    raw = lines.get_column("raw").to_list()
    try:
        suites = _read("\n".join(raw))
    except xml.parsers.expat.ExpatError as exc:
        facts: dict[str, object] = {"utc_offsets": {}, "notes": [f"JUnit report unreadable: {exc}"]}
        return ParseResult(empty_events(), lines.select("line", "raw"), facts)
    records: list[dict[str, Any]] = []
    for suite in suites:
        records.extend(_suite_records(suite, len([r for r in records if r["record"] == "spec"]) + 1))
    if not records:
        return ParseResult(empty_events(), pl.DataFrame(schema=lines.schema), {"utc_offsets": {}})
    events = pl.DataFrame(records, schema_overrides=_RECORD_TYPES, infer_schema_length=None).with_columns(
        pl.col("line").cast(pl.UInt32),
        pl.Series("raw", [raw[r["line"] - 1] for r in records]),
        pl.lit(source.name).alias("file"),
        pl.lit("ginkgo").alias("source_kind"),
        pl.lit(source.service or "test-run").alias("service"),
        pl.lit("ginkgo").alias("logger"),
        message_key(pl.col("message")).alias("msg_key"),
    )
    return ParseResult(conform(events).sort("line"), pl.DataFrame(schema=lines.schema), {"utc_offsets": {}})


# Ginkgo's JUnit report gives its suite config as properties.
_JUNIT = re.compile(r'<testsuite\s[^>]*>\s*<properties>\s*<property name="SuiteSucceeded"')


def _is_junit(opening: str, text: str) -> bool:
    return opening.startswith("<") and bool(_JUNIT.search(text))


FORMAT = Format(
    kind="ginkgo_junit",
    label="Ginkgo JUnit report: test suites with Ginkgo's suite properties",
    parse=parse,
    document=_is_junit,
)
