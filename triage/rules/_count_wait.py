"""What the audit pipeline did while a failed count waited: whether the store logged, the writer moved or
stalled, DataStorage wrote, the controller reached the emitting step, and whether anything failed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from triage.facts.analysis import Analysis
from triage.rules._assertions import (
    Mismatch,
)
from triage.rules._queries import flush_prints, query_prints
from triage.rules._store import ds_skew
from triage.rules._stuck import stuck_writer
from triage.rules._unlogged import emitted_before
from triage.table.vocabulary import FLUSH_TIMED_OUT, TIMER_BUG

AUDIT_WORDS = re.compile(r"(?i)\baudit\b|\bevents?\b|\bevent\(s\)")
PHASE_LINE = r"^Processing (\w+) phase$"
TRANSITION = "signalprocessing.phase.transition"
MAX_EVIDENCE = 8
NEVER_EMITTED = "were never emitted"  # a summary that rules out late or lost events
UNDECIDED = "observed: only the count"  # ends a summary whose logs cannot tell why the count differs
TIMED_OUT = re.compile(r"Timed out after (\d+(?:\.\d+)?)s")
# After a logged slow write: the next write (up to the 2 s a write may take unlogged), a flush
# interval (1 s by default) and the store line's one-second time precision.
SLOW_RECOVERY = timedelta(seconds=4)


def store_logged(analysis: Analysis, m: Mismatch) -> bool:
    """True when the spec's timeline holds any audit-store line (buffered or tick) before the failure."""
    f = m.failure
    where = (pl.col("file") == f["file"]) & (pl.col("spec_index") == f["spec_index"])
    pipe = analysis.pipeline
    return bool(pipe.buffered.filter(where).height or pipe.ticks.filter(where).height)


def wait_writes(analysis: Analysis, m: Mismatch, text: str) -> tuple[int, int] | None:
    """DataStorage's batch writes while a timed-out `Eventually` waited: in all, and in its second half.

    None when the spec did not time out, its failure has no time, or DataStorage's log is absent.
    """
    waited = TIMED_OUT.search(text)
    at = m.failure.get("ts")
    if (
        waited is None
        or not isinstance(at, datetime)
        or not analysis.events.filter(pl.col("service") == "datastorage").height
    ):
        return None
    writes = analysis.pipeline.writes
    skew = ds_skew(analysis)
    span = timedelta(seconds=float(waited.group(1)))
    start, middle = at - span + skew, at - span / 2 + skew
    return (
        writes.filter(pl.col("ts").is_between(start, at + skew)).height,
        writes.filter(pl.col("ts").is_between(middle, at + skew)).height,
    )


def step_logged(analysis: Analysis, m: Mismatch, event_type: str | None) -> bool:
    """True when the spec's lines show the awaited type possibly emitted and unwritten at the last query."""
    if event_type is None or m.last is None:
        return False
    f = m.failure
    return emitted_before(analysis, str(f["file"]), int(f["spec_index"]), int(m.last["line"]), event_type)


def writer_alive(analysis: Analysis, m: Mismatch, text: str) -> str:
    """What shows the store's writer working while a timed-out `Eventually` waited, "" when nothing does.

    A `✅ Audit store flushed successfully` print in the spec before the failure: the writer took the
    Flush() and returned, writing everything buffered before it; this holds for an assertion checked
    once too. Else DataStorage's batch writes in the second half of the wait.
    """
    one_shot = m.at_least and TIMED_OUT.search(text) is None
    if TIMED_OUT.search(text) is None and not one_shot:
        return ""
    f = m.failure
    flushed = flush_prints(analysis).filter(
        (pl.col("file") == f["file"])
        & (pl.col("spec_index") == f["spec_index"])
        & (pl.col("line") < f["line"])
    )
    if flushed.height:
        waited = "checked" if one_shot else "waited"
        return f"the spec's Flush() returned successfully (line {flushed['line'][-1]}) before it {waited}"
    writes = wait_writes(analysis, m, text)
    if writes is not None and writes[1]:
        return f"DataStorage committed {writes[1]} batch write(s) in the second half of the wait"
    return ""


def stalled(analysis: Analysis, m: Mismatch, text: str) -> bool:
    """True when a store's flush timer stalled in the second half of a timed-out wait, or its time is unknown.

    A `TIMER BUG DETECTED` line is logged when a stall ends, `actual_interval` after it began; a stall
    still on when the spec failed is logged later, so any stall that ended after the wait's middle counts.
    """
    waited = TIMED_OUT.search(text)
    at = m.failure.get("ts")
    stalls = analysis.pipeline.store_errors.filter(pl.col("msg_key").str.starts_with(TIMER_BUG))
    if waited is None or not isinstance(at, datetime) or stalls.is_empty():
        return not stalls.is_empty()
    middle = at - timedelta(seconds=float(waited.group(1)) / 2)
    held = pl.col("attrs").str.json_path_match("$.actual_interval").cast(pl.Float64, strict=False)
    began = pl.col("ts") - pl.duration(microseconds=(held.fill_null(0.0) * 1e6).cast(pl.Int64))
    return bool(stalls.filter(pl.col("ts").is_null() | ((pl.col("ts") >= middle) & (began <= at))).height)


def writes_stopped(analysis: Analysis, m: Mismatch, text: str) -> bool:
    """True when DataStorage logged no batch write while a timed-out `Eventually` waited (its log present)
    and the run shows a writer stuck (a Flush() or Close() timed out after DataStorage's last write).

    A query sees an event only after its batch committed: with no commit at all during the wait, the
    count says nothing about what was emitted, unless the writer was moving. A writer that is not
    stuck hands every buffered event over at the next tick; a stall, a slow or failed write, or a
    refused one logs a line of its own (weighed apart), so with none of them and no stuck writer, no
    write during the whole wait means there was nothing buffered to write.
    """
    writes = wait_writes(analysis, m, text)
    return writes is not None and writes[0] == 0 and stuck_writer(analysis) is not None


def still_arriving(analysis: Analysis, m: Mismatch, cid: str, event_type: str | None) -> bool:
    """True when the spec's queries for the ID found more events as it waited: they were arriving late."""
    f = m.failure
    prints = query_prints(analysis).filter(
        (pl.col("file") == f["file"])
        & (pl.col("spec_index") == f["spec_index"])
        & (pl.col("correlation_id") == cid)
        & pl.col("count").is_not_null()
    )
    if event_type is not None:
        prints = prints.filter(pl.col("event_type") == event_type)
    counts = prints.get_column("count").to_list()
    return len(counts) > 1 and max(counts) > min(counts)


def pipeline_failed(analysis: Analysis, m: Mismatch) -> bool:
    """True when the spec's timeline shows its store failing or dropping a batch, or a Flush() timing out."""
    f = m.failure
    before = (
        (pl.col("file") == f["file"])
        & (pl.col("spec_index") == f["spec_index"])
        & (pl.col("line") < f["line"])
    )
    errors = analysis.pipeline.store_errors.filter(before)
    if errors.filter(pl.col("msg_key").str.contains("(?i)drop|failed to write|data loss")).height:
        return True
    if _slow_until(errors, f.get("ts")):
        return True
    prints = analysis.events.filter(before & pl.col("record").is_in(["helper", "output"]))
    return bool(prints.get_column("message").cast(pl.String).str.contains(FLUSH_TIMED_OUT).any())


def _slow_until(errors: pl.DataFrame, at: Any) -> bool:
    """True when a slow batch write the store logged could still hold events back when the spec failed.

    The store logs a slow write when it returns, and writes the next batch (everything buffered
    meanwhile) right after: once that next write had time to finish (a write not slow enough to be
    logged, a flush interval, the line's one-second time precision), the delay was over.
    """
    slow = errors.filter(pl.col("msg_key").str.contains("(?i)slow audit batch write"))
    times = slow.get_column("ts").drop_nulls()
    if not isinstance(at, datetime) or times.len() < slow.height:  # a line without a time: assume late
        return slow.height > 0
    return bool(times.len()) and at - times.max() <= SLOW_RECOVERY  # type: ignore[operator]
