"""Fewer events written than buffered.

## What it detects
* Events not conserved across all stores: every buffered event is written, dropped or still
  buffered, so the `Event buffered successfully` lines of every store (a lower bound of what was
  buffered) less the batches the stores dropped bound what DataStorage must have written. When
  DataStorage's log shows less than half of that, the pipeline stopped writing (critical): the finding says
  how many were buffered and written, which stores buffered them, and since when buffered minus
  written has grown without coming back to zero. Without DataStorage's log, the batches the stores'
  ticks flushed stand in for the writes, and the finding says so.
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
When the pipeline stopped writing, find what keeps the stores from handing events to DataStorage:
a `Flush()` that does not drain the channel (SP-AUDIT-001), a writer stuck retrying, or ticks that
no longer fire (`timer-stall`); every spec that queries after that point waits in vain. For a
counter gap, read `dropped-events` and `unflushed-events` for where the events went. For long
waits, see `timer-stall` and `slow-write`; tests should call `Flush()` before they query.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from triage.facts.analysis import Analysis
from triage.rules._store import closing_counters, evidence, flush_interval, seconds, spec_label, store_label
from triage.rules.base import Finding, Rule, Severity
from triage.rules.wording import plural, when
from triage.table.exprs import attr
from triage.table.vocabulary import BUFFER_FULL, DROPS

RULE_ID = "write-rate-gap"
MIN_GAP = 10  # fewer unwritten events than this can be the last flush interval's, still on their way
MAX_STORES = 5
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
    yield from _not_conserved(analysis)
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


def _not_conserved(analysis: Analysis) -> Iterator[Finding]:
    """Buffered lines of all stores against DataStorage's writes (or, without its log, the flushes)."""
    pipe = analysis.pipeline
    buffered = pipe.buffered
    drops = pipe.store_errors.filter(pl.col("msg_key").is_in(DROPS))
    sizes = drops.select(attr("batch_size", pl.Int64())).get_column("batch_size")
    dropped = int(sizes.sum() or 0) + pipe.store_errors.filter(pl.col("msg_key") == BUFFER_FULL).height
    expected = buffered.height - dropped
    if expected < MIN_GAP:
        return
    has_ds = "datastorage" in set(analysis.events.get_column("service").unique().cast(pl.String).drop_nulls())
    skew = pl.duration(nanoseconds=pipe.skew_ns or 0, time_unit="ns")
    if has_ds:
        outs = pipe.writes.select(
            "file", "line", (pl.col("ts") - skew).alias("ts"), pl.col("count").alias("n")
        )
        measured, against = "DataStorage wrote", "DataStorage's log"
    else:
        outs = pipe.flushes.select("file", "line", "ts", pl.col("batch").alias("n"))
        measured, against = "the stores' ticks flushed (DataStorage's log is missing)", "the flushes"
    done = int(outs.get_column("n").sum() or 0)
    gap = expected - done
    if gap < MIN_GAP or done * 2 >= expected:
        return
    rate = 100.0 * done / expected
    ins = buffered.select("file", "line", "ts", pl.lit(1, pl.Int64).alias("n"))
    drop_rows = drops.select("file", "line", "ts", sizes.fill_null(0).alias("n"))
    since, first = _since(ins, pl.concat([outs.cast({"n": pl.Int64}), drop_rows]))
    stores = sorted(
        (s for s in analysis.stores if s.max_total_buffered), key=lambda s: -(s.max_total_buffered or 0)
    )
    per_store = ", ".join(f"{s.name} {s.max_total_buffered}" for s in stores[:MAX_STORES])
    if len(stores) > MAX_STORES:
        per_store += f" and {len(stores) - MAX_STORES} more"
    which = f" (highest total_buffered per store: {per_store})" if per_store else ""
    last_out = outs.sort("ts").tail(1)
    rows = [*first, *buffered.tail(1).iter_rows(named=True), *last_out.iter_rows(named=True)]
    rows += list(pipe.closed.tail(1).iter_rows(named=True))
    yield Finding(
        rule=RULE_ID,
        severity=Severity.CRITICAL,
        summary=(
            f"The audit pipeline stopped writing: the stores logged {buffered.height} buffered events"
            f"{which}, {dropped} were dropped and {measured} {done} ({rate:.0f} %): {gap} events were "
            f"neither written nor dropped, still buffered or lost when the logs end. Buffered minus written "
            f"has grown since {since} without coming back to zero. Observed: the buffered lines and "
            f"{against}; inferred: that the missing events are these stores' (DataStorage logs no "
            "correlation IDs)."
        ),
        correlation_id=None,
        evidence=evidence(rows),
    )


def _since(ins: pl.DataFrame, outs: pl.DataFrame) -> tuple[str, list[dict[str, object]]]:
    """When buffered minus written (and dropped) last stood at zero or below, and the line after it.

    Args:
        ins: buffered lines (file, line, ts, n = 1).
        outs: writes or flushes and drops (file, line, ts, n = events).

    Returns:
        The time the running gap began to grow for good, and the buffered line that began it.
    """
    moves = (
        pl.concat([ins.with_columns(pl.lit(True).alias("in")), outs.with_columns(pl.lit(False).alias("in"))])
        .drop_nulls("ts")
        .with_columns(pl.when(pl.col("in")).then(pl.col("n")).otherwise(-pl.col("n")).alias("d"))
        .sort("ts", "in", "file", "line")
        .with_columns(pl.col("d").cum_sum().alias("gap"))
        .with_row_index("_i")
    )
    settled = moves.filter(pl.col("gap") <= 0).get_column("_i").max()
    start = 0 if settled is None else int(str(settled)) + 1
    grown = moves.filter((pl.col("_i") >= start) & pl.col("in")).head(1)
    if grown.is_empty():
        return "the first buffered line", []
    row = grown.row(0, named=True)
    return when(row, "ts", "s"), [{"file": row["file"], "line": row["line"], "ts": row["ts"]}]


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
