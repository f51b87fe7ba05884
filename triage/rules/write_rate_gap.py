"""Fewer events written than buffered.

## What it detects
* Process 1's `Audit store closed` counters with `written_count` below `buffered_count -
  dropped_count`. Only process 1 closes its store, so these counters cover process 1 alone; they
  are never compared with another store's `total_buffered`. With `failed_batch_count` above 0 the
  missing events are most likely those batches; with none, they were neither written nor dropped.
* Periods where events sat in a store's buffer far longer than the flush interval (10 intervals
  and at least 1 s) before a tick flushed them: a stalled timer, coalesced ticks behind a slow
  write, or a writer busy retrying. These are reported at info level when process 1's counters
  are available (they say whether anything was lost) and at low level when they are not.

## Why it matters
A write rate below 100 % means audit events that the code produced never reached DataStorage;
tests that query for them fail or pass only by luck. Long buffer waits are where flush/query
races come from.

## How to fix
For a counter gap, read `dropped-events` and `unflushed-events` for where the events went. For long
waits, see `timer-stall` and `slow-write`; tests should call `Flush()` before they query.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from triage.analysis import Analysis
from triage.rules._store import (
    closing_counters,
    evidence,
    flush_interval,
    plural,
    seconds,
    spec_label,
    store_label,
    when,
)
from triage.rules.base import Finding, Rule, Severity

RULE_ID = "write-rate-gap"
WAIT_INTERVALS = 10
WAIT_MIN_S = 1.0
_WIDTH_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def check(analysis: Analysis) -> Iterator[Finding]:
    """Find a closing-counter gap and long buffer waits.

    Args:
        analysis: the analysed bundle.

    Yields:
        One finding for process 1's counters, and one per timeline with long waits.
    """
    counters = closing_counters(analysis)
    if counters is not None and counters.gap > 0:
        rate = 100.0 * counters.written / counters.buffered if counters.buffered else 0.0
        if counters.failed_batches:
            why = (
                f"failed_batch_count {counters.failed_batches} says batches were dropped, most likely those "
                "events (see dropped-events)"
            )
        else:
            why = "no batch failed, so they were never handed to DataStorage (see unflushed-events)"
        yield Finding(
            rule=RULE_ID,
            severity=Severity.MEDIUM if counters.failed_batches else Severity.HIGH,
            summary=(
                f"Process 1's store wrote {counters.written} of {counters.buffered} buffered events "
                f"({rate:.0f} %, dropped_count {counters.dropped}): {counters.gap} never written; {why}."
            ),
            correlation_id=None,
            evidence=evidence([counters.row]),
        )
    yield from _long_waits(analysis, Severity.INFO if counters is not None else Severity.LOW)


def _long_waits(analysis: Analysis, severity: Severity) -> Iterator[Finding]:
    interval = flush_interval(analysis)
    buffered = analysis.pipeline.buffered
    timed = pl.col("flush_at").is_not_null() & pl.col("ts").is_not_null() & pl.col("spec_index").is_not_null()
    if interval is None or not buffered.select(timed.any()).item():
        return
    limit_ns = int(max(WAIT_INTERVALS * interval, WAIT_MIN_S) * 1e9)
    width = pl.col("ts_precision").cast(pl.String).replace_strict(_WIDTH_NS, default=0, return_dtype=pl.Int64)
    # The flush began when the writer received the tick: no earlier than the tick fired
    # (`tick_time`) nor than the second its line printed. The wait is at least that, less the end
    # of the buffered line's printed second.
    received = analysis.pipeline.ticks.select(
        "file", pl.col("line").alias("flush_line"), pl.col("ts").alias("tick_printed")
    )
    began = pl.max_horizontal("flush_at", pl.col("tick_printed").fill_null(pl.col("flush_at")))
    # `flush_at` is its tick's `tick_at`, so no wait exceeds flush_at - ts - width plus the most any
    # tick line printed after its tick_time: only the rows that bound leaves above the limit are
    # joined to their tick, on the few columns needed, and only the long waits are copied whole.
    printed_late = analysis.pipeline.ticks.select(
        (pl.col("ts") - pl.col("tick_at")).dt.total_nanoseconds().max()
    ).item()
    # The lateness is taken off the limit rather than added to the wait, which could overflow.
    bound = (pl.col("flush_at") - pl.col("ts")).dt.total_nanoseconds() - width
    keys = (
        buffered.select("file", "flush_line", "flush_at", "ts", "ts_precision", "spec_index")
        .with_row_index("_row")
        .filter(timed & (bound > limit_ns - max(printed_late or 0, 0)))
    )
    measured = (
        keys.join(received, on=["file", "flush_line"], how="left", maintain_order="left")
        .with_columns(began.alias("began"))
        .with_columns(((pl.col("began") - pl.col("ts")).dt.total_nanoseconds() - width).alias("wait_ns"))
        .filter(pl.col("wait_ns") > limit_ns)
    )
    waits = buffered.select(pl.all().gather(measured["_row"])).with_columns(
        measured["began"], measured["wait_ns"]
    )
    for _, group in sorted(
        waits.group_by("file", "spec_index", "flush_line"),
        key=lambda g: (str(g[0][0]), int(str(g[0][1])), int(str(g[0][2]))),
    ):
        rows = list(group.sort("line").iter_rows(named=True))
        first = rows[0]
        flush = analysis.pipeline.ticks.filter(
            (pl.col("file") == first["file"]) & (pl.col("line") == first["flush_line"])
        )
        waited = max(int(str(r["wait_ns"])) for r in rows) / 1e9
        yield Finding(
            rule=RULE_ID,
            severity=severity,
            summary=(
                f"{plural(len(rows), 'event')} buffered from {when(first)} in "
                f"{store_label(analysis, first['spec_index'])} waited at least {seconds(waited)} (flush "
                f"interval {seconds(interval)}) for the tick fired at {when(first, 'flush_at', 'ms')} that "
                f"flushed them (printed {when(first, 'began', 's')}), in spec {spec_label(first)}."
            ),
            correlation_id=None,
            evidence=evidence([*rows[:3], *rows[-1:], *flush.iter_rows(named=True)]),
        )


RULE = Rule(
    id=RULE_ID,
    title="Fewer events written than buffered",
    severity=Severity.HIGH,
    requires=("ginkgo",),
    check=check,
    doc=__doc__ or "",
)
