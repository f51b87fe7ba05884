"""What the store rules share: clock text, the flush interval, closing counters, spec states and
a replay of one timeline's writer activity.

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

from triage.facts.analysis import Analysis
from triage.facts.audit_pipeline import UNFRAMED
from triage.rules.base import Evidence, quote
from triage.table.exprs import attr, with_time_bounds
from triage.table.vocabulary import (
    DROPS,
    FAILED_WRITE,
    FLUSH_TIMED_OUT,
    SLOW_WRITE,
    TIMER_BUG,
    UNREACHABLE,
    WRITER_STARTED,
)

MAX_ATTEMPTS = 3  # store.go MaxRetries: total attempts before a batch is dropped
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
    p = analysis.pipeline
    block = pl.col("spec_index").is_null() if spec_index is None else pl.col("spec_index") == spec_index
    where = (pl.col("file") == file) & block
    common = ["file", "line", "ts", "ts_precision", "spec", "spec_index"]
    buffered = p.buffered.filter(where).select(
        *common, pl.lit("buffered").alias("kind"), "correlation_id", "total_buffered"
    )
    ticks = p.ticks.filter(where).select(
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
        p.store_errors.filter(where)
        .select(
            *common,
            kind.alias("kind"),
            attr("attempt", pl.Int64()),
            attr("batch_size", pl.Int64()),
            attr("error", pl.String()),
        )
        .drop_nulls("kind")
    )
    return pl.concat([buffered, ticks, outcomes], how="diagonal_relaxed").sort("line")


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


CLIENT_TIMEOUT_S = 5.0  # the store's DataStorage client gives up on a request after 5 s
# A refused connection or a reset (EOF) fails at once; this bounds such an attempt generously.
FAST_FAILURE_S = 1.5
FAST_FAILURES = ("connection refused", "EOF")


def backoff_after(attempt: int) -> float:
    """Seconds the January store sleeps after a failed attempt: attempt² (1 s, then 4 s)."""
    return float(attempt * attempt) if attempt < MAX_ATTEMPTS else 0.0


def attempt_bound(error: object) -> float:
    """The longest one write attempt can take, judged by how the last one failed.

    Args:
        error: the `error` field of a `Failed to write audit batch` line.

    Returns:
        Seconds: short for refused or reset connections, the client timeout otherwise.
    """
    return FAST_FAILURE_S if reason(error) in FAST_FAILURES else CLIENT_TIMEOUT_S


def retry_window(
    attempt: int, logged_at: datetime, per_attempt: float, into_second: float
) -> tuple[float, float]:
    """When a write still retrying after `attempt` ends: at the earliest, and with attempts of `per_attempt`.

    Args:
        attempt: the last failed attempt (1-based).
        logged_at: the time its `Failed to write audit batch` line printed (seconds precision).
        per_attempt: how long each remaining attempt takes.
        into_second: where in its printed second the failure is placed (0 to 1).

    Returns:
        (earliest, end) as POSIX seconds; the earliest takes every remaining attempt as instant.
    """
    sleeps = sum(backoff_after(k) for k in range(attempt, MAX_ATTEMPTS))
    start = logged_at.timestamp()
    return start + sleeps, start + into_second + sleeps + (MAX_ATTEMPTS - attempt) * per_attempt


def full_retry_s(per_attempt: float) -> float:
    """How long a fresh batch takes to be dropped when every attempt takes `per_attempt`."""
    return sum(backoff_after(k) for k in range(1, MAX_ATTEMPTS)) + MAX_ATTEMPTS * per_attempt


def typical_attempt_s(analysis: Analysis) -> float | None:
    """How long a failing write attempt took in this run, from consecutive attempts of one batch.

    Attempt k+1 prints k² seconds of backoff plus its own duration after attempt k; the lines have
    whole seconds, so the mean over all pairs is the estimate.

    Args:
        analysis: the analysed bundle.

    Returns:
        Seconds (within 0 and the client timeout), None when no batch failed twice.
    """
    failed = analysis.pipeline.store_errors.filter(pl.col("msg_key") == FAILED_WRITE).select(
        "file", "spec_index", "line", "ts", attr("attempt", pl.Int64()), attr("batch_size", pl.Int64())
    )
    group = ["file", "spec_index"]
    pairs = (
        failed.sort("file", "spec_index", "line")
        .with_columns(
            pl.col("attempt").shift().over(group).alias("prev_attempt"),
            pl.col("batch_size").shift().over(group).alias("prev_size"),
            pl.col("ts").shift().over(group).alias("prev_ts"),
        )
        .filter(
            (pl.col("attempt") == pl.col("prev_attempt") + 1) & (pl.col("batch_size") == pl.col("prev_size"))
        )
        .select(
            (
                (pl.col("ts") - pl.col("prev_ts")).dt.total_milliseconds() / 1000
                - pl.col("prev_attempt").pow(2)
            ).alias("took")
        )
    )
    if pairs.is_empty():
        return None
    mean = pairs["took"].mean()
    return min(max(float(mean), 0.0), CLIENT_TIMEOUT_S) if isinstance(mean, float) else None


def reason(error: object) -> str:
    """The telling part of a store write error: `connection refused`, `status 400`, `EOF`."""
    text = str(error or "")
    for needle in ("connection refused", "EOF", "timeout", "no such host"):
        if needle in text:
            return needle
    status = text.find("returned status ")
    if status >= 0:
        return "status " + text[status + len("returned status ") :].split(":")[0]
    return text[:60] or "no error text"


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


CLOSE_TIMEOUT = "Timeout waiting for audit store to close"
# A writer retrying a refused batch logs an attempt at least this often (5 s timeout, 4 s backoff).
_RETRY_SPAN = timedelta(seconds=10)
_SLACK = timedelta(seconds=1)  # a write in the second a flush gave up is no sign of the writer moving on


@dataclass(frozen=True)
class StuckWriter:
    """Flush() and Close() calls that timed out while DataStorage's writes had stopped.

    Attributes:
        said: the test's prints of a timed-out Flush() (file, line, spec_index, ts, ts_precision).
        closes: process 1's `Timeout waiting for audit store to close` lines.
        rows: both, as (file, line, ts, ts_precision), in time order.
        last_write: DataStorage's last batch write, None when it logged none.
        stopped_at: when the writer stopped handing batches over, on the test host's clock: DataStorage's
            last answer to a batch (a write or a refusal, after its last write), skew removed; None
            when DataStorage never wrote.
    """

    said: pl.DataFrame
    closes: pl.DataFrame
    rows: pl.DataFrame
    last_write: Mapping[str, object] | None
    stopped_at: datetime | None


def stuck_writer(analysis: Analysis) -> StuckWriter | None:
    """The stores' writers stuck: a Flush() or Close() timed out after DataStorage's last batch write.

    A run whose store's attempts were still being refused when the last flush timed out is DataStorage
    unreachable, not a stuck writer, whether or not DataStorage wrote before: the writer was busy
    retrying (and backing off), which is what made the flush time out, and each batch it took ends
    written or dropped.

    Args:
        analysis: the analysed bundle.

    Returns:
        The stuck writer, None when the logs do not show one.
    """
    events = analysis.events
    test = events.filter((pl.col("service") == "test-run") & pl.col("record").is_in(["helper", "output"]))
    said = test.filter(pl.col("message").cast(pl.String).str.contains(FLUSH_TIMED_OUT))
    closes = analysis.pipeline.store_errors.filter(pl.col("msg_key") == CLOSE_TIMEOUT)
    if said.is_empty() and closes.is_empty():
        return None
    warned = with_time_bounds(said.select("file", "line", "spec_index", "ts", "ts_precision"), events)
    rows = pl.concat(
        [
            warned.select("file", "line", pl.col("ts_lo").alias("ts"), "ts_precision"),
            closes.select("file", "line", "ts", "ts_precision"),
        ],
        how="vertical_relaxed",
    ).sort("ts", "file", "line", nulls_last=True)
    writes = analysis.pipeline.writes.drop_nulls("ts").sort("ts")
    latest = rows.drop_nulls("ts").tail(1)
    last_write = writes.row(-1, named=True) if writes.height else None
    # A batch DataStorage refused was handed over too: the writer was moving until its last answer.
    answers = pl.concat([writes.select("ts"), analysis.pipeline.rejects.drop_nulls("ts").select("ts")])
    last_answer = answers.get_column("ts").max()
    skew = ds_skew(analysis)
    # Stuck, not slow: a flush or Close() still timed out after DataStorage's last answer to a batch.
    stopped = last_write is None or (
        latest.height > 0 and as_dt(last_answer) - skew <= as_dt(latest["ts"][0]) + _SLACK
    )
    refused = analysis.pipeline.store_errors.filter(
        pl.col("msg_key").is_in([FAILED_WRITE, *DROPS]) & pl.col("attrs").str.contains(UNREACHABLE)
    )
    refused_last = refused.get_column("ts").max()
    still_refused = (
        isinstance(refused_last, datetime)
        and latest.height > 0
        and refused_last >= as_dt(latest["ts"][0]) - _RETRY_SPAN
    )
    if not stopped or still_refused or _starved(analysis, rows):
        return None
    at = as_dt(last_answer) - skew if last_write is not None else None
    return StuckWriter(said, closes, rows, last_write, at)


def _starved(analysis: Analysis, rows: pl.DataFrame) -> bool:
    """Whether every timed-out Flush() and Close() fell inside a stall a later TIMER BUG line closed.

    A TIMER BUG line is printed by the writer itself when its late tick finally arrives, `actual_interval`
    after the tick before: the writer was starved over that span, not stuck, and it moved again after.

    Args:
        analysis: the analysed bundle.
        rows: the timed-out calls (ts, on the test host's clock).

    Returns:
        True when each call with a time lies inside such a span, and at least one does.
    """
    bugs = (
        analysis.pipeline.store_errors.filter(pl.col("msg_key") == TIMER_BUG)
        .with_columns(attr("actual_interval", pl.Float64()))
        .drop_nulls(["ts", "actual_interval"])
    )
    spans = [
        (as_dt(r["ts"]) - timedelta(seconds=float(r["actual_interval"])), as_dt(r["ts"]))
        for r in bugs.iter_rows(named=True)
    ]
    times = [as_dt(t) for t in rows.get_column("ts").drop_nulls()]
    return bool(times) and all(any(lo <= t <= hi for lo, hi in spans) for t in times)


def ds_skew(analysis: Analysis) -> timedelta:
    """DataStorage's clock minus the test host's, zero when it could not be estimated.

    Args:
        analysis: the analysed bundle.

    Returns:
        The offset.
    """
    return timedelta(microseconds=(analysis.pipeline.skew_ns or 0) // 1000)


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
