"""Ginkgo v2 JSON report (`ginkgo --json-report`): a JSON array of suite reports.

Each suite report (types.Report) holds the suite's description, path, `PreRunStats`, `SuiteConfig`
(`ParallelTotal`, `FailFast`, ...), whether it succeeded and why not (`SpecialSuiteFailureReasons`),
and one `SpecReports` entry per spec and suite node: texts, location, state, times, the parallel
process that ran it, its failure, and its captured GinkgoWriter output.

The report becomes the records a `-v` log gives: a suite record, a spec record per spec report (its
state, location, process), a failure record per failure, a summary record with Ginkgo's counts, and
the captured output parsed like a `-v` timeline (zap console and JSON lines, helper prints, banners),
each line in its spec's block. Its records carry `source_kind` "ginkgo": they are the test run's.

Lines: a record of the report itself cites the report's line holding its key (`"LeafNodeType"` for a
spec, `"Message"` for a failure, `"SuiteDescription"` and `"SuiteSucceeded"` for the suite). A
captured output is one JSON string on one line, so its lines are numbered after the report's last
line: line N + k is line k of every spec's `CapturedGinkgoWriterOutput`, taken one after another in
report order, each split at its newlines (`captured_lines` gives them back for quoting).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import polars as pl

from triage.bundle.lines import read_lines
from triage.bundle.sources import Source
from triage.parsers import ginkgo as ginkgo_text
from triage.parsers._common import fraction_precision, message_key, utc_offset_seconds
from triage.parsers.base import Format, ParseResult
from triage.parsers.ginkgo_report_doc import (
    NotAReport,
    field_dict,
    field_int,
    field_list,
    field_str,
    location_of,
    output_lines,
    spec_name,
    suite_flags,
    suites_of,
)
from triage.table.exprs import iso_ts
from triage.table.schema import conform, empty_events
from triage.table.vocabulary import NOT_PASSED_STATES

_EVENT_KIND = "ginkgo"


def _key_lines(raw: list[str], key: str) -> list[int]:
    """1-based line of every occurrence of `"key":`, in order (a line holding two counts twice)."""
    needle = f'"{key}":'
    return [number for number, text in enumerate(raw, 1) for _ in range(text.count(needle))]


def _first_at_or_after(lines: list[int], start: int, end: int) -> int | None:
    return next((n for n in lines if start <= n < end), None)


def _attrs(**fields: object) -> str:
    return json.dumps({k: v for k, v in fields.items() if v is not None}, ensure_ascii=False)


# Columns a run of records may leave all null.
_RECORD_TYPES = {"when": pl.String, "level": pl.String, "spec": pl.String, "spec_index": pl.UInt32}


def _record(line: int, raw: list[str], record: str, message: str, **fields: object) -> dict[str, object]:
    when = fields.pop("when", None)
    return {
        "line": line,
        "n_lines": 1,
        "record": record,
        # Go's zero time stands for "not set" (a pending spec's end).
        "when": when if isinstance(when, str) and not when.startswith("0001-01-01") else None,
        "level": fields.pop("level", None),
        "logger": "ginkgo",
        "message": message,
        "spec": fields.pop("spec", None),
        "spec_index": fields.pop("spec_index", None),
        "attrs": _attrs(**fields),
        "raw": raw[line - 1],
    }


def state_level(state: str) -> str:
    """The level of a spec's record: error for a failure, warn for an interruption, else info.

    Args:
        state: Ginkgo's spec state (`passed`, `failed`, `interrupted`, ...).

    Returns:
        A LEVELS value.
    """
    if state == "interrupted":
        return "warn"
    return "error" if state in NOT_PASSED_STATES else "info"


def _suite_record(suite: dict[str, Any], raw: list[str], line: int) -> dict[str, object]:
    config, stats = field_dict(suite.get("SuiteConfig")), field_dict(suite.get("PreRunStats"))
    description = field_str(suite.get("SuiteDescription"))
    return _record(
        line,
        raw,
        "suite",
        f"Running Suite: {description} - {field_str(suite.get('SuitePath'))}",
        when=suite.get("StartTime"),
        suite=description,
        path=field_str(suite.get("SuitePath")),
        seed=field_int(config.get("RandomSeed")),
        randomize_all=config.get("RandomizeAllSpecs") is True,
        will_run=field_int(stats.get("SpecsThatWillRun")),
        total=field_int(stats.get("TotalSpecs")),
        processes=field_int(config.get("ParallelTotal")) or 1,
        flags=suite_flags(config),
    )


def _summary_record(suites: list[dict[str, Any]], raw: list[str], line: int) -> dict[str, object]:
    """Ginkgo's closing counts over every suite of the report (`ginkgo -r` reports several)."""
    specs = [spec for suite in suites for spec in suite["SpecReports"]]
    states = Counter(
        field_str(s.get("State")) or "passed"
        for s in specs
        if (field_str(s.get("LeafNodeType")) or "It") == "It"
    )
    failed = sum(states[s] for s in NOT_PASSED_STATES)
    succeeded = all(suite.get("SuiteSucceeded") is True for suite in suites)
    reasons = sorted(
        {str(r) for suite in suites for r in field_list(suite.get("SpecialSuiteFailureReasons"))}
    )
    run_ns = [suite.get("RunTime") for suite in suites]
    totals = [field_int(field_dict(suite.get("PreRunStats")).get("TotalSpecs")) for suite in suites]
    return _record(
        line,
        raw,
        "summary",
        ("SUCCESS!" if succeeded else "FAIL!") + (f" - {'; '.join(reasons)}" if reasons else ""),
        when=suites[-1].get("EndTime"),
        level="info" if succeeded else "error",
        ran=states["passed"] + failed,
        total=sum(t for t in totals if t is not None) if any(t is not None for t in totals) else None,
        duration_s=sum(r for r in run_ns if isinstance(r, int | float)) / 1e9,
        status="SUCCESS!" if succeeded else "FAIL!",
        reason="; ".join(reasons) or None,
        passed=states["passed"],
        failed=failed,
        pending=states["pending"],
        skipped=states["skipped"],
    )


def _spec_records(
    spec: dict[str, Any], index: int, raw: list[str], at: int, failure_at: int | None
) -> list[dict[str, object]]:
    state = field_str(spec.get("State")) or "passed"
    node = field_str(spec.get("LeafNodeType")) or "It"
    name = spec_name(spec)
    run_s = spec.get("RunTime")
    common = {"spec": name, "spec_index": index}
    records = [
        _record(
            at,
            raw,
            "spec",
            name,
            when=spec.get("StartTime"),
            level=state_level(state),
            state=state,
            duration_s=run_s / 1e9 if isinstance(run_s, int | float) and state != "pending" else None,
            node=None if node == "It" else node,
            location=location_of(spec.get("LeafNodeLocation")),
            process=field_int(spec.get("ParallelProcess")),
            **common,
        )
    ]
    failure = spec.get("Failure")
    if isinstance(failure, dict) and failure_at is not None:
        message = field_str(failure.get("Message"))
        records.append(
            _record(
                failure_at,
                raw,
                "failure",
                message.split("\n", 1)[0],
                # No `ts`: the record sits above its spec's output lines, which a time here would bound.
                time=field_dict(failure.get("TimelineLocation")).get("Time"),
                level=state_level(state),
                state=state,
                node=field_str(failure.get("FailureNodeType")) or None,
                location=location_of(failure.get("Location")),
                text=message,
                marker=False,
                **common,
            )
        )
    return records


def _output_events(
    outputs: list[tuple[int, str, list[str]]], first_line: int, source: Source
) -> tuple[pl.DataFrame | None, Counter[int], int]:
    """Parse the specs' captured output as GinkgoWriter output, its lines numbered on from `first_line`.

    Returns:
        The events, each in its spec's block (None without output), their UTC offset counts, and the
        number of lines not understood.
    """
    numbers: list[int] = []
    texts: list[str] = []
    owners: list[tuple[int, int, str]] = []
    for spec_index, name, lines in (output for output in outputs if output[2]):
        start = first_line + len(numbers)
        numbers.extend(range(start, start + len(lines)))
        texts.extend(lines)
        owners.append((start, spec_index, name))
    if not numbers:
        return None, Counter(), 0
    frame = pl.DataFrame({"line": numbers, "raw": texts}, schema={"line": pl.UInt32, "raw": pl.String})
    result = ginkgo_text.parse(frame, replace(source, kind=_EVENT_KIND), captured=True)
    blocks = pl.DataFrame(
        owners, schema={"line": pl.UInt32, "_index": pl.UInt32, "_name": pl.String}, orient="row"
    )
    # Each record belongs to the spec whose output holds its first line. Ginkgo writes no headers,
    # failures or summaries into GinkgoWriter: whatever looks like one there is the suite's output.
    events = (
        result.events.sort("line")
        .join_asof(blocks, on="line", strategy="backward")
        .with_columns(
            pl.col("_index").alias("spec_index"),
            pl.col("_name").alias("spec"),
            pl.when(pl.col("record").cast(pl.String).is_in(["spec", "failure", "summary", "suite"]))
            .then(pl.lit("output"))
            .otherwise(pl.col("record").cast(pl.String))
            .alias("record"),
        )
    )
    offsets = Counter(cast(dict[int, int], result.facts.get("utc_offsets", {})))
    return conform(events), offsets, result.unparsed.height


def parse(lines: pl.DataFrame, source: Source) -> ParseResult:
    """Parse a Ginkgo v2 JSON report.

    Args:
        lines: columns `line` and `raw` (the whole report).
        source: the report.

    Returns:
        Suite, spec, failure and summary records, and the captured output's records in their specs'
        blocks; a report that cannot be read leaves every line not understood, with a note saying why.
    """
    raw = lines.get_column("raw").to_list()
    try:
        suites = suites_of("\n".join(raw))
    except NotAReport as exc:
        facts: dict[str, object] = {"utc_offsets": {}, "notes": [f"Ginkgo JSON report unreadable: {exc}"]}
        return ParseResult(empty_events(), lines.select("line", "raw"), facts)
    spec_lines = _key_lines(raw, "LeafNodeType")
    failure_lines = _key_lines(raw, "Failure")
    message_lines = _key_lines(raw, "Message")
    suite_lines = _key_lines(raw, "SuiteDescription") or [1]
    end_lines = _key_lines(raw, "SuiteSucceeded") or suite_lines
    records: list[dict[str, object]] = []
    outputs: list[tuple[int, str, list[str]]] = []
    index = 0
    for number, suite in enumerate(suites):
        at = suite_lines[min(number, len(suite_lines) - 1)]
        records.append(_suite_record(suite, raw, at))
        for spec in suite["SpecReports"]:
            index += 1
            start = spec_lines[index - 1] if index <= len(spec_lines) else at
            end = spec_lines[index] if index < len(spec_lines) else len(raw) + 1
            failure_key = _first_at_or_after(failure_lines, start, end)
            message = _first_at_or_after(message_lines, failure_key, end) if failure_key else None
            records.extend(_spec_records(spec, index, raw, start, message or failure_key))
            outputs.append((index, spec_name(spec), output_lines(spec)))
    if not suites:
        return ParseResult(empty_events(), pl.DataFrame(schema=lines.schema), {"utc_offsets": {}})
    records.append(_summary_record(suites, raw, end_lines[min(len(suites), len(end_lines)) - 1]))
    when = pl.col("when")
    own = pl.DataFrame(records, schema_overrides=_RECORD_TYPES, infer_schema_length=None).with_columns(
        iso_ts(when).alias("ts"),
        pl.when(when.is_not_null()).then(fraction_precision(when)).alias("ts_precision"),
        pl.when(when.is_not_null()).then(False).alias("ts_assumed"),
        utc_offset_seconds(when).alias("utc_offset"),
    )
    logged, offsets, not_understood = _output_events(outputs, len(raw) + 1, source)
    offsets.update(int(o) for o in own.get_column("utc_offset").drop_nulls().to_list())
    own = own.with_columns(
        pl.lit(source.name).alias("file"),
        pl.lit(_EVENT_KIND).alias("source_kind"),
        pl.lit(source.service or "test-run").alias("service"),
        message_key(pl.col("message")).alias("msg_key"),
    )
    events = pl.concat([conform(own), *([] if logged is None else [logged])]).sort("line")
    notes = [f"{not_understood} line(s) of captured output not understood"] if not_understood else []
    facts = {"utc_offsets": dict(sorted(offsets.items())), "notes": notes}
    return ParseResult(events, pl.DataFrame(schema={"line": pl.UInt32, "raw": pl.String}), facts)


@lru_cache(maxsize=4)
def _captured(path: Path, size: int, mtime_ns: int) -> tuple[int, tuple[str, ...]] | None:
    del size, mtime_ns  # part of the cache key only: a changed file is read again
    try:
        read = read_lines(path)  # split as the report was split when it was parsed
        suites = suites_of("\n".join(read.frame.get_column("raw").to_list()))
    except (OSError, NotAReport):
        return None
    lines = [line for suite in suites for spec in suite["SpecReports"] for line in output_lines(spec)]
    return read.count, tuple(lines)


def captured_line(path: Path, line: int) -> str | None:
    """The text of a captured-output line of a Ginkgo JSON report, as its records cite it.

    Args:
        path: the report.
        line: a line number past the report's last line.

    Returns:
        The line's text, or None when the file is no report or has no such line.
    """
    try:
        stat = path.stat()
    except OSError:
        return None
    found = _captured(path, stat.st_size, stat.st_mtime_ns)
    if found is None:
        return None
    count, lines = found
    at = line - count - 1
    return lines[at] if 0 <= at < len(lines) else None


_REPORT_START = re.compile(r'^\[\s*\{\s*"')  # a list of suite reports


def _is_report(opening: str, text: str) -> bool:
    return bool(_REPORT_START.match(opening)) and '"SuitePath"' in text and '"SpecReports"' in text


FORMAT = Format(
    kind="ginkgo_report",
    label="Ginkgo JSON report: suite reports with SpecReports",
    parse=parse,
    document=_is_report,
)
