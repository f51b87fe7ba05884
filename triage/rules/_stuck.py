"""A writer that stopped: Flush() or Close() timed out and nothing the store logged afterwards shows
the writer moving again (a stall that a later TIMER BUG line closed is a starved writer, not a stuck one)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from triage.facts.analysis import Analysis, per_analysis
from triage.rules._store import as_dt, ds_skew
from triage.table.exprs import attr, with_time_bounds
from triage.table.vocabulary import (
    DROPS,
    FAILED_WRITE,
    FLUSH_TIMED_OUT,
    TIMER_BUG,
    UNREACHABLE,
)

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


@per_analysis
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
