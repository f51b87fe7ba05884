"""What a Ginkgo test run did: totals and the specs that did not pass, read from the event table.

Ginkgo's "N Failed" counts interrupted specs too (Ran = Passed + Failed), so the interrupted ones are
counted apart: from the `Summarizing N Failures:` entries when the log has them, else from the spec
blocks; when the run was interrupted (`FAIL! - Interrupted by …`) and no entries list them, every
counted failure that no failed spec block shows is an interrupted spec. Totals come from the `Ran …`
and `SUCCESS!|FAIL! -- …` lines; a log cut before them leaves `ran` unknown and counts the spec
blocks it shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

import polars as pl

from triage.table import vocabulary
from triage.table.attrs import Attrs
from triage.table.exprs import decode_json


class SpecState(StrEnum):
    """A spec's end state, as Ginkgo names it (types.SpecState)."""

    PENDING = "pending"
    SKIPPED = "skipped"
    PASSED = "passed"
    FAILED = "failed"
    ABORTED = "aborted"
    PANICKED = "panicked"
    INTERRUPTED = "interrupted"
    TIMEDOUT = "timedout"


class RunStatus(StrEnum):
    """How the run ended: the suite's verdict, or incomplete when the log stops before it."""

    PASSED = "passed"
    FAILED = "failed"
    INCOMPLETE = "incomplete"


# Counted as "failed" here; interrupted specs are counted apart (`table.vocabulary`).
FAILED_STATES = tuple(SpecState(state) for state in vocabulary.FAILED_STATES)
NOT_PASSED_STATES = tuple(SpecState(state) for state in vocabulary.NOT_PASSED_STATES)


@dataclass(frozen=True)
class SpecResult:
    """A spec that did not pass.

    Attributes:
        name: full spec name as printed.
        state: its end state.
        location: the spec's file:line (the failure location when only the summary names it).
        duration_s: runtime from the block header, None when unknown.
        correlation_ids: sorted unique correlation IDs seen in the spec's block.
        failure_message: the failure message on one line (`failure_message`), None when not printed.
        failure_location: file:line of the failure, None when not printed.
        file: the test-run log.
        line: line of the spec's header (or of its summary entry when no block was printed).
        process: the Ginkgo parallel process that ran it, None when the source does not say (a JSON
            report always does; a text log only in a progress report).
    """

    name: str
    state: SpecState
    location: str | None
    duration_s: float | None
    correlation_ids: tuple[str, ...]
    failure_message: str | None
    failure_location: str | None
    file: str
    line: int
    process: int | None = None


@dataclass(frozen=True)
class TestRun:
    """One Ginkgo run, from one log file.

    Attributes:
        file: the test-run log.
        suite: suite description from `Running Suite:`.
        processes: parallel processes (1 when the header says none, None without a header).
        will_run, total: from `Will run N of M specs` / `Ran N of M Specs`.
        ran: specs that ran (passed + failed + interrupted); None when the log ends before Ginkgo's
            summary (the other counts are then those of the spec blocks it shows).
        passed, failed, interrupted, pending, skipped: spec counts; `failed` excludes interrupted.
        duration_s: from `Ran … in X seconds`.
        status: the run's verdict.
        specs: failed, panicked, timed-out, aborted and interrupted specs, in file order.
        reason: why the run stopped early when Ginkgo says (`Interrupted by Other Ginkgo Process`,
            `Interrupted by User`, ...), None otherwise.
        flags: the options of the `ginkgo` command line the log starts with (e.g. `--fail-fast`).
        unfinished: specs whose block the log starts but never closes (a log cut while they ran).
        passed_specs: (name, location) of each passed spec whose block the log shows (a `-v` log or a
            JSON report shows them all), in file order.
    """

    __test__ = False  # not a pytest test class, despite the name

    file: str
    suite: str | None
    processes: int | None
    will_run: int | None
    ran: int | None
    total: int | None
    passed: int | None
    failed: int | None
    interrupted: int | None
    pending: int | None
    skipped: int | None
    duration_s: float | None
    status: RunStatus
    specs: tuple[SpecResult, ...]
    reason: str | None = None
    flags: tuple[str, ...] = ()
    unfinished: tuple[str, ...] = ()
    passed_specs: tuple[tuple[str, str | None], ...] = ()


_ATTRS = pl.Struct(
    {
        "suite": pl.String,
        "processes": pl.Int64,
        "will_run": pl.Int64,
        "total": pl.Int64,
        "state": pl.String,
        "duration_s": pl.Float64,
        "location": pl.String,
        "node": pl.String,
        "marker": pl.Boolean,
        "name": pl.String,
        "ran": pl.Int64,
        "status": pl.String,
        "passed": pl.Int64,
        "failed": pl.Int64,
        "pending": pl.Int64,
        "skipped": pl.Int64,
        "result": pl.String,
        "reason": pl.String,
        "process": pl.Int64,
        "flags": pl.String,
        "text": pl.String,
    }
)


_READ_RECORDS = ("suite", "spec", "summary", "failure")


@dataclass(frozen=True)
class _LogRows:
    """What a test log's summary reads: its suite, spec, summary and failure records, and the
    (spec_index, correlation_id) of its records that name a correlation ID."""

    records: pl.DataFrame
    logged: pl.DataFrame

    @cached_property
    def by_record(self) -> dict[str, list[dict[str, Any]]]:
        """The records as rows (line, spec, spec_index, message and their `attrs` fields) by record
        type, in line order; all decoded in one pass."""
        picked = self.records.sort("line", maintain_order=True)
        attrs = decode_json(picked["attrs"], _ATTRS).alias("_a")
        frame = (
            picked.select(pl.col("record").cast(pl.String), "line", "spec", "spec_index", "message")
            .with_columns(attrs)
            .unnest("_a")
        )
        parts = frame.partition_by("record", as_dict=True, include_key=False, maintain_order=True)
        return {str(record): part.to_dicts() for (record,), part in parts.items()}

    def rows(self, record: str) -> list[dict[str, Any]]:
        """The rows of one record type (`by_record`), none when the log has no such record."""
        return self.by_record.get(record, [])


def _first(rows: list[dict[str, Any]], key: str) -> Any:
    return next((row[key] for row in rows if row.get(key) is not None), None)


def _ids_by_block(logged: pl.DataFrame, blocks: list[int]) -> dict[int, tuple[str, ...]]:
    """The correlation IDs each of `blocks` (spec indices) logged, sorted."""
    wanted = logged.filter(pl.col("spec_index").is_in(blocks))
    ids = wanted.group_by("spec_index").agg(pl.col("correlation_id").unique().sort())
    return {int(row["spec_index"]): tuple(row["correlation_id"]) for row in ids.to_dicts()}


MAX_MESSAGE_CHARS = 400


def failure_message(text: str | None) -> str | None:
    """A failure's message on one line: Gomega's `Expected … to equal …` lines joined, spaces collapsed.

    Args:
        text: the failure as printed (a `[FAILED] …` block up to its `In [It] at:` line) or as a
            JSON report keeps it.

    Returns:
        The message, cut at MAX_MESSAGE_CHARS with an ellipsis; None for no text.
    """
    if not text:
        return None
    lines = [line for line in text.split("\n") if not re.match(r"^\s*In \[[^\]]+\] at: ", line)]
    message = re.sub(r"\s+", " ", " ".join(lines)).strip()
    message = re.sub(r"^\[[A-Z]+\] ", "", message)
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 1].rstrip() + "…"
    return message or None


def _failures_by_block(rows: _LogRows) -> dict[int, tuple[str | None, str | None]]:
    # The failure message block wins; a timeline `[FAILED] in [It]` marker gives only a location.
    blocks: dict[int, tuple[str | None, str | None]] = {}
    markers: dict[int, str | None] = {}
    for row in rows.rows("failure"):
        index = row["spec_index"]
        if index is None:
            continue
        if row["marker"]:
            markers.setdefault(index, row["location"])
        else:
            blocks.setdefault(index, (failure_message(row["text"]) or row["message"], row["location"]))
    return {
        index: blocks.get(index, (None, markers.get(index))) for index in sorted(set(blocks) | set(markers))
    }


def _spec_results(
    file: str, rows: _LogRows, blocks: list[dict[str, Any]], entries: list[dict[str, Any]]
) -> tuple[SpecResult, ...]:
    not_passed = [block for block in blocks if block["state"] in NOT_PASSED_STATES]
    ids = _ids_by_block(rows.logged, [block["spec_index"] for block in not_passed])
    failures = _failures_by_block(rows)
    results = []
    for block in not_passed:
        message, location = failures.get(block["spec_index"], (None, None))
        results.append(
            SpecResult(
                name=block["spec"] or "",
                state=SpecState(block["state"]),
                location=block["location"],
                duration_s=block["duration_s"],
                correlation_ids=ids.get(block["spec_index"], ()),
                failure_message=message,
                failure_location=location,
                file=file,
                line=block["line"],
                process=block["process"],
            )
        )
    names = {_plain_name(block["spec"]) for block in blocks}
    for entry in entries:
        if _plain_name(entry["name"]) not in names and entry["state"] in NOT_PASSED_STATES:
            results.append(
                SpecResult(
                    entry["name"],
                    SpecState(entry["state"]),
                    entry["location"],
                    None,
                    (),
                    None,
                    entry["location"],
                    file,
                    entry["line"],
                )
            )
    return tuple(sorted(results, key=lambda result: result.line))


def _bare_failures(rows: _LogRows) -> list[dict[str, Any]]:
    """Failure messages printed outside any spec block (a log excerpt that kept no header)."""
    return [row for row in rows.rows("failure") if row["spec_index"] is None and not row["marker"]]


def _plain_name(name: str | None) -> str:
    """A spec's name without the `[It]` (or other node) marker Ginkgo puts before the failing node."""
    return re.sub(r" \[[A-Za-z]+\] ", " ", name or "")


def _count(rows: list[dict[str, Any]], states: tuple[str, ...]) -> int:
    return sum(1 for row in rows if row["state"] in states)


def _summarize_file(file: str, rows: _LogRows) -> TestRun:
    suite = rows.rows("suite")
    specs = rows.rows("spec")
    summary = rows.rows("summary")
    # Suite-level nodes ([SynchronizedBeforeSuite] …) are not specs in Ginkgo's counts.
    blocks = [row for row in specs if row["spec_index"] is not None]
    its = [row for row in blocks if row["node"] is None]
    compact = [row for row in specs if row["spec_index"] is None]
    entries = [row for row in summary if row["name"] is not None]
    it_entries = [row for row in entries if not row["name"].startswith("[")]
    ran_row = next((row for row in summary if row["ran"] is not None), None)
    status_row = next((row for row in summary if row["status"] is not None), None)
    counts_row = next((row for row in summary if row["passed"] is not None), None)

    reason = status_row["reason"] if status_row else None
    interrupted = _count(it_entries if entries else its, (SpecState.INTERRUPTED,))
    if counts_row is not None:
        if not entries and reason and reason.startswith("Interrupted"):
            # Interrupted specs may print no block: Ginkgo's failures beyond the failures shown (in
            # spec blocks, or bare in an excerpt) are them.
            shown = _count(its, FAILED_STATES) + _count(_bare_failures(rows), FAILED_STATES)
            interrupted = max(interrupted, counts_row["failed"] - shown)
        failed = counts_row["failed"] - interrupted
    else:
        failed = _count(it_entries if entries else its, FAILED_STATES)

    def counted(key: str, state: SpecState) -> int:
        if counts_row is not None:
            return int(counts_row[key])
        return _count(its, (state,)) + sum(int(row[key] or 0) for row in compact)

    passed, pending, skipped = (
        counted(k, s)
        for k, s in (
            ("passed", SpecState.PASSED),
            ("pending", SpecState.PENDING),
            ("skipped", SpecState.SKIPPED),
        )
    )
    ran = ran_row["ran"] if ran_row else None
    verdict = status_row["status"] if status_row else _first(summary, "result")
    status = {
        "SUCCESS!": RunStatus.PASSED,
        "passed": RunStatus.PASSED,
        "FAIL!": RunStatus.FAILED,
        "failed": RunStatus.FAILED,
    }.get(verdict or "", RunStatus.INCOMPLETE)
    suite_name = _first(suite, "suite")
    processes = _first(suite, "processes")
    return TestRun(
        file=file,
        suite=suite_name,
        processes=processes if processes is not None else (1 if suite_name is not None else None),
        will_run=_first(suite, "will_run"),
        ran=ran,
        total=ran_row["total"] if ran_row else _first(suite, "total"),
        passed=passed,
        failed=failed,
        interrupted=interrupted,
        pending=pending,
        skipped=skipped,
        duration_s=ran_row["duration_s"] if ran_row else None,
        status=status,
        specs=_spec_results(file, rows, blocks, entries),
        reason=reason,
        flags=tuple(flag for flag in (_first(suite, "flags") or "").split() if flag.startswith("-")),
        unfinished=tuple(row["spec"] or "" for row in blocks if row["state"] is None),
        passed_specs=tuple(
            (row["spec"] or "", row["location"]) for row in its if row["state"] == SpecState.PASSED
        ),
    )


def summarize_test_runs(events: pl.DataFrame, attrs: Attrs | None = None) -> tuple[TestRun, ...]:
    """Summarize every Ginkgo log in the event table.

    Args:
        events: the event table (any sources; only source_kind "ginkgo" is read).
        attrs: the store of its records' `attrs`; None when `events` has its `attrs` column.

    Returns:
        One TestRun per test-run log, in file-name order.
    """
    # Most of a test log is log records, of which only the correlation IDs are read: the rows wanted are
    # picked before any column is copied.
    ginkgo = pl.col("source_kind") == "ginkgo"
    records = (attrs or Attrs()).attach(events.filter(ginkgo & pl.col("record").is_in(_READ_RECORDS)))
    logged = (
        events.lazy()
        .filter(ginkgo & pl.col("spec_index").is_not_null() & pl.col("correlation_id").is_not_null())
        .select("file", "spec_index", "correlation_id")
        .unique()  # which IDs each spec logged is all that is read
        .collect()
    )
    files = sorted(events.lazy().filter(ginkgo).select(pl.col("file").unique()).collect()["file"].to_list())
    return tuple(
        _summarize_file(
            file, _LogRows(records.filter(pl.col("file") == file), logged.filter(pl.col("file") == file))
        )
        for file in files
    )


def summarize_tests(events: pl.DataFrame, file: str | None = None) -> TestRun | None:
    """Summarize a Ginkgo test run from the event table.

    Args:
        events: the event table.
        file: which test-run log to summarize; by default the first in file-name order.

    Returns:
        The run's summary, or None when the table holds no (such) Ginkgo log.
    """
    runs = summarize_test_runs(events)
    if file is not None:
        runs = tuple(run for run in runs if run.file == file)
    return runs[0] if runs else None
