"""What the store rules share: evidence, the flush interval, closing counters, spec states and a
replay of one timeline's writer activity (the retry model is in `_retries.py`, a stopped writer in
`_stuck.py`).

The replay follows store.go's single writer goroutine through the lines a timeline kept: a
buffered line adds an event; a tick hands everything but `buffer_utilization` events to a write
(a write is synchronous, so the next tick or a drop line proves the previous write ended); a
`Failed to write audit batch` line with no write under way is a write started by `Flush()` or
`Close()`, whose V(1) lines are not printed at Info.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from triage.facts.analysis import Analysis, per_analysis
from triage.facts.audit_pipeline import UNFRAMED
from triage.rules._retries import MAX_ATTEMPTS
from triage.rules.base import Evidence, quote
from triage.table.exprs import attr
from triage.table.vocabulary import (
    DROPS,
    FAILED_WRITE,
    SLOW_WRITE,
    WRITER_STARTED,
)

MAX_EVIDENCE = 8


def as_dt(value: object) -> datetime:
    """A frame value that must be a datetime (rules only call this on non-null times)."""
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {value!r}")
    return value


def seconds(value: float) -> str:
    """A duration for a summary: `350 ms`, `4.0 s`, `35 s`."""
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 10:
        return f"{value:.1f} s"
    return f"{value:.0f} s"


def cite(row: Mapping[str, object]) -> Evidence:
    """Evidence for a row that carries `file` and `line`."""
    return quote(row["file"], row["line"])


def evidence(rows: Sequence[Mapping[str, object]], limit: int = MAX_EVIDENCE) -> tuple[Evidence, ...]:
    """Quote rows in time order, without duplicates, keeping the first and last few.

    Rows without a time sort last; equal times keep file and line order, which is the order a
    process wrote them.

    Args:
        rows: rows with `file`, `line` and `ts`.
        limit: how many lines at most.

    Returns:
        The evidence.
    """
    unique = {(str(r["file"]), int(str(r["line"]))): r for r in rows}
    picked = sorted(unique.values(), key=_time_key)
    if len(picked) > limit:
        head = limit // 2
        picked = picked[:head] + picked[len(picked) - (limit - head) :]
    return tuple(cite(r) for r in picked)


def _time_key(row: Mapping[str, object]) -> tuple[bool, float, str, int]:
    ts = row.get("ts")
    at = ts.timestamp() if isinstance(ts, datetime) else 0.0
    return (not isinstance(ts, datetime), at, str(row["file"]), int(str(row["line"])))


def flush_interval(analysis: Analysis) -> float | None:
    """The store's FlushInterval in seconds: from the ticks, else from the writer's start line.

    Args:
        analysis: the analysed bundle.

    Returns:
        Seconds, or None when no store line says.
    """
    values = analysis.pipeline.ticks["expected_interval"].drop_nulls()
    if not values.len():
        started = analysis.events.filter(
            (pl.col("service") == "test-run") & (pl.col("msg_key") == WRITER_STARTED)
        )
        started = analysis.attrs.attach(started).select(attr("flush_interval", pl.Float64()))
        values = started["flush_interval"].drop_nulls()
    middle = values.cast(pl.Float64).median() if values.len() else None
    return float(middle) if isinstance(middle, float) and middle > 0 else None


@dataclass(frozen=True)
class Counters:
    """The `Audit store closed` counters (process 1 only) and the line that logged them."""

    buffered: int
    written: int
    dropped: int
    failed_batches: int
    row: Mapping[str, object]

    @property
    def gap(self) -> int:
        """Events neither written nor counted as dropped."""
        return self.buffered - self.dropped - self.written


def closing_counters(analysis: Analysis) -> Counters | None:
    """Process 1's closing counters, None when no complete `Audit store closed` line was logged.

    Args:
        analysis: the analysed bundle.

    Returns:
        The counters of the first such line (only process 1 closes its store).
    """
    closed = analysis.pipeline.closed.drop_nulls(["buffered_count", "written_count"]).sort("file", "line")
    if closed.is_empty():
        return None
    row = closed.row(0, named=True)
    return Counters(
        buffered=int(row["buffered_count"]),
        written=int(row["written_count"]),
        dropped=int(row["dropped_count"] or 0),
        failed_batches=int(row["failed_batch_count"] or 0),
        row=row,
    )


@per_analysis
def spec_states(analysis: Analysis) -> dict[tuple[str, int], str]:
    """Each spec block's end state as its header printed it (passed, failed, timedout, ...).

    Args:
        analysis: the analysed bundle.

    Returns:
        (file, spec_index) -> state.
    """
    headers = analysis.events.filter((pl.col("record") == "spec") & pl.col("spec_index").is_not_null())
    headers = analysis.attrs.attach(headers).select(
        "file", "spec_index", pl.col("attrs").str.json_path_match("$.state").alias("state")
    )
    return {
        (str(f), int(i)): str(s)
        for f, i, s in headers.unique(["file", "spec_index"], keep="first").iter_rows()
        if s is not None
    }


def store_label(analysis: Analysis, spec_index: object) -> str:
    """How a summary names the store a timeline belongs to: "process 1's store", "store A"."""
    store = analysis.store_of_spec.get(int(str(spec_index))) if spec_index is not None else None
    if store is None:
        return "an unattributed store"
    return f"{store.name}'s store" if store.name.startswith("process") else store.name


def spec_label(row: Mapping[str, object]) -> str:
    """A spec's name for a summary, shortened to its last words."""
    if row.get("spec_index") == UNFRAMED:
        return "none (lines outside any spec block)"
    name = str(row.get("spec") or f"spec block {row.get('spec_index')}")
    return name if len(name) <= 90 else "…" + name[-89:]


@dataclass(frozen=True)
class Write:
    """A batch write the replay followed: the events it carried, its last attempt and failure line."""

    events: tuple[Mapping[str, object], ...]
    attempt: int
    failure: Mapping[str, object] | None


@dataclass(frozen=True)
class WriterEnd:
    """Where one timeline's replay left the writer.

    Attributes:
        stuck: the write still retrying when the timeline ended (last attempt below the maximum),
            None when no write was visibly stuck.
        waiting: buffered rows not yet handed to any write.
        dropped: each dropped write with the drop line that ended it, in line order.
        exhausted: the write whose last attempt failed when the timeline ended, with no drop line
            after it (the store drops it then), None when there is none.
    """

    stuck: Write | None
    waiting: tuple[Mapping[str, object], ...]
    dropped: tuple[tuple[Write, Mapping[str, object]], ...]
    exhausted: Write | None = None


def store_activity(analysis: Analysis, file: str, spec_index: int | None) -> pl.DataFrame:
    """One timeline's buffered, tick and writer-outcome lines, in line order.

    Args:
        analysis: the analysed bundle.
        file: the test log.
        spec_index: the timeline; None for the store lines outside any spec block.

    Returns:
        Rows with kind ("buffered", "tick", "failed", "dropped", "slow"), the row's evidence columns,
        correlation_id, ts, ts_precision, tick fields, attempt, batch_size and error.
    """
    return store_activities(analysis, [(file, spec_index)])[file, spec_index]


def store_activities(
    analysis: Analysis, timelines: Sequence[tuple[str, int | None]]
) -> dict[tuple[str, int | None], pl.DataFrame]:
    """`store_activity` of several timelines, read in one pass over the pipeline's frames.

    Args:
        analysis: the analysed bundle.
        timelines: (test log, spec_index) pairs; spec_index None for the lines outside any block.

    Returns:
        Each timeline's rows as `store_activity` gives them.
    """
    p = analysis.pipeline
    indices = [i for _, i in timelines if i is not None]
    # Rows of the timelines' files and blocks: a few more than wanted, left out when split below.
    block = pl.col("spec_index").is_in(indices)
    if any(i is None for _, i in timelines):
        block = block | pl.col("spec_index").is_null()
    where = pl.col("file").cast(pl.String).is_in([f for f, _ in timelines]) & block

    def picked(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(where)

    common = ["file", "line", "ts", "ts_precision", "spec", "spec_index"]
    buffered = picked(p.buffered).select(
        *common, pl.lit("buffered").alias("kind"), "correlation_id", "total_buffered"
    )
    ticks = picked(p.ticks).select(
        *common, pl.lit("tick").alias("kind"), "batch", "buffer_utilization", "tick_at", "actual_interval"
    )
    kind = (
        pl.when(pl.col("msg_key") == FAILED_WRITE)
        .then(pl.lit("failed"))
        .when(pl.col("msg_key").is_in(DROPS))
        .then(pl.lit("dropped"))
        .when(pl.col("msg_key") == SLOW_WRITE)
        .then(pl.lit("slow"))
    )
    outcomes = (
        picked(p.store_errors)
        .select(
            *common,
            kind.alias("kind"),
            attr("attempt", pl.Int64()),
            attr("batch_size", pl.Int64()),
            attr("error", pl.String()),
        )
        .drop_nulls("kind")
    )
    rows = pl.concat([buffered, ticks, outcomes], how="diagonal_relaxed").sort("line")
    parts = rows.partition_by("file", "spec_index", as_dict=True, maintain_order=True)
    found = {(str(f), None if i is None else int(i)): part for (f, i), part in parts.items()}
    return {timeline: found.get(timeline, rows.clear()) for timeline in timelines}


def replay(activity: pl.DataFrame) -> WriterEnd:
    """Follow the writer through one timeline (see the module docstring).

    Args:
        activity: `store_activity` rows of one timeline.

    Returns:
        The writer's state when the timeline ends.
    """
    waiting: list[Mapping[str, object]] = []
    write: Write | None = None
    dropped: list[tuple[Write, Mapping[str, object]]] = []
    for row in activity.iter_rows(named=True):
        kind = row["kind"]
        if kind == "buffered":
            waiting.append(row)
        elif kind == "tick":
            # The writer is back in its select loop, so any earlier write has ended. Only the
            # channel's `buffer_utilization` events stay behind: the rest is in this tick's batch,
            # or (with an empty batch) already left through a Flush() that prints nothing at Info.
            split = max(0, len(waiting) - int(row["buffer_utilization"] or 0))
            handed, waiting = waiting[:split], waiting[split:]
            write = Write(tuple(handed), 0, None) if row["batch"] else None
        elif kind == "failed":
            attempt = int(row["attempt"] or 1)
            if write is None or (attempt == 1 and write.attempt >= 1):
                size = int(row["batch_size"] or 0)
                handed, waiting = waiting[:size], waiting[size:]
                write = Write(tuple(handed), attempt, row)
            else:
                write = Write(write.events, attempt, row)
        elif kind == "dropped":
            if write is None:  # a drop with no attempt line kept: its batch came from the channel
                size = int(row["batch_size"] or 0)
                handed, waiting = waiting[:size], waiting[size:]
                write = Write(tuple(handed), MAX_ATTEMPTS, None)
            dropped.append((write, row))
            write = None
        elif kind == "slow":
            write = None
    stuck = write if write is not None and 1 <= write.attempt < MAX_ATTEMPTS else None
    exhausted = write if write is not None and write.attempt >= MAX_ATTEMPTS and write.failure else None
    return WriterEnd(stuck=stuck, waiting=tuple(waiting), dropped=tuple(dropped), exhausted=exhausted)


@per_analysis
def run_end(analysis: Analysis) -> Mapping[str, object] | None:
    """The last timed line of the test log: the run was still going then.

    Args:
        analysis: the analysed bundle.

    Returns:
        The row (file, line, ts, ts_precision), None without a timed test-log line.
    """
    timed = (
        analysis.events.lazy()
        .filter((pl.col("service") == "test-run") & pl.col("ts").is_not_null())
        .select("file", "line", "ts", "ts_precision")
        .sort("ts", "file", "line")
        .tail(1)
        .collect()
    )
    return timed.row(0, named=True) if timed.height else None


def test_log_of(analysis: Analysis, spec_index: int) -> str | None:
    """The test log holding a timeline's store lines."""
    p = analysis.pipeline
    for frame in (p.ticks, p.buffered, p.store_errors):
        files = frame.filter(pl.col("spec_index") == spec_index)["file"].unique().sort()
        if files.len():
            return str(files[0])
    return None


def ds_skew(analysis: Analysis) -> timedelta:
    """DataStorage's clock minus the test host's, zero when it could not be estimated.

    Args:
        analysis: the analysed bundle.

    Returns:
        The offset.
    """
    return timedelta(microseconds=(analysis.pipeline.skew_ns or 0) // 1000)


@per_analysis
def failing_blocks(analysis: Analysis) -> dict[tuple[str, int], int]:
    """The spec blocks (file, spec_index) where the store failed or dropped a batch write.

    A slow write or a late tick is no failure: its events were still written.

    Args:
        analysis: the analysed bundle.

    Returns:
        Each block's last line that shows a batch failing or dropped, for a failing batch its first
        attempt: a retry resends the batch it already had, and its drop ends it, so only an event
        buffered before that first attempt can have been in it.
    """
    errors = analysis.pipeline.store_errors.filter(pl.col("msg_key").is_in([FAILED_WRITE, *DROPS]))
    attempt = attr("attempt", pl.Int64())
    # A block's drop lines count only where none of its failed attempts was logged (they end a batch).
    attempted = errors.filter(pl.col("msg_key") == FAILED_WRITE).select("file", "spec_index").unique()
    firsts = pl.concat(
        [
            errors.filter((pl.col("msg_key") == FAILED_WRITE) & (attempt.fill_null(1) <= 1)),
            errors.filter(pl.col("msg_key") != FAILED_WRITE).join(
                attempted, on=["file", "spec_index"], how="anti", nulls_equal=True
            ),
        ]
    )
    rows = firsts.drop_nulls(["file", "spec_index"]).group_by("file", "spec_index").agg(pl.col("line").max())
    return {(str(f), int(i)): int(line) for f, i, line in rows.iter_rows()}
