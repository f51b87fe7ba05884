"""The store's flush timer fired far later than its interval.

## What it detects
* `TIMER BUG DETECTED: Tick interval significantly exceeded expected` lines in the captured spec
  timelines: the writer goroutine got a tick more than 2x the flush interval after its last flush
  or tick (5x in later code), usually because it was starved or blocked. One finding per
  timeline, with the tick before the gap, the late tick and the TIMER BUG line: high when that
  spec failed or a spec failed during the stall (the line is printed when it ends, `actual_interval`
  after it began), medium for a stall of 10 intervals or more, low otherwise.
* At info level, a `Timer tick received` line printed long after its `tick_time` (10 intervals
  and at least 2 s) in a timeline with no TIMER BUG line: Go's ticker held that tick and dropped
  the later ones while the writer was busy (a slow or retried write) or blocked. The detector
  measures from the last flush, so it stays silent when a write or an unprinted `Flush()` ran
  just before.

## Why it matters
While the writer does not tick, nothing buffered is written: queries made in that window miss
events that the test already produced, and a long stall can outlast an `Eventually` timeout.

## How to fix
Find what held the writer: a slow or retried write (`slow-write`, `dropped-events`), CPU starvation
of the test process (too many Ginkgo processes for the machine), or a blocking call in the writer.
Tests should `Flush()` the store before querying instead of relying on the timer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta

import polars as pl

from triage.facts.analysis import Analysis
from triage.rules._queries import clock, spec_blocks
from triage.rules._store import evidence, flush_interval, seconds, spec_label, spec_states, store_label
from triage.rules.base import Finding, Rule, Severity
from triage.rules.wording import when
from triage.table.exprs import attr
from triage.table.vocabulary import NOT_PASSED_STATES, TIMER_BUG

RULE_ID = "timer-stall"
# A coalesced-tick gap worth a note: this many intervals, and at least this long.
GAP_INTERVALS = 10
GAP_MIN_S = 2.0
LONG_STALL_MULTIPLIER = 10.0


def check(analysis: Analysis) -> Iterator[Finding]:
    """Find TIMER BUG lines and large tick gaps.

    Args:
        analysis: the analysed bundle.

    Yields:
        One finding per timeline with TIMER BUG lines, and info notes for coalesced ticks.
    """
    states = spec_states(analysis)
    bugs = analysis.pipeline.store_errors.filter(pl.col("msg_key") == TIMER_BUG).with_columns(
        attr("actual_interval", pl.Float64()),
        attr("expected_interval", pl.Float64()),
        attr("drift_multiplier", pl.Float64()),
    )
    reported: set[tuple[str, int]] = set()
    for (file, spec_index), group in sorted(
        bugs.group_by("file", "spec_index"), key=lambda g: (str(g[0][0]), int(str(g[0][1] or 0)))
    ):
        rows = list(group.sort("line").iter_rows(named=True))
        key = (str(file), int(str(spec_index or 0)))
        reported.add(key)
        yield _bug_finding(analysis, rows, states.get(key))
    yield from _coalesced(analysis, reported)


def _bug_finding(analysis: Analysis, rows: Sequence[Mapping[str, object]], state: str | None) -> Finding:
    worst = max(rows, key=lambda r: float(str(r["actual_interval"] or 0)))
    actual = float(str(worst["actual_interval"] or 0))
    expected = float(str(worst["expected_interval"] or 0)) or None
    multiplier = float(str(worst["drift_multiplier"] or 0)) or (actual / expected if expected else 0.0)
    ticks = analysis.pipeline.ticks.filter(
        (pl.col("file") == worst["file"]) & (pl.col("spec_index") == worst["spec_index"])
    ).sort("line")
    around: list[Mapping[str, object]] = []
    for row in rows:
        before = ticks.filter(pl.col("line") < row["line"]).tail(2)
        around.extend(before.iter_rows(named=True))  # the last tick before the gap and the late tick
    where = store_label(analysis, worst["spec_index"])
    failed = state in NOT_PASSED_STATES
    during = [] if failed else _failed_during(analysis, rows)
    severity = (
        Severity.HIGH
        if failed or during
        else (Severity.MEDIUM if multiplier >= LONG_STALL_MULTIPLIER else Severity.LOW)
    )
    count = (
        f"{len(rows)} TIMER BUG DETECTED lines; the longest: " if len(rows) > 1 else "TIMER BUG DETECTED: "
    )
    expected_text = f" (expected {seconds(expected)}, x{multiplier:.0f})" if expected else ""
    verdict = f" The spec {state}." if failed and state else ""
    if during:
        verdict = f" {len(during)} spec(s) failed while it received no tick, the first at {clock(during[0])}."
    summary = (
        f"{count}the writer of {where} received no tick for {seconds(actual)}{expected_text} until "
        f"{when(worst)}, in spec {spec_label(worst)}.{verdict}"
    )
    return Finding(
        rule=RULE_ID,
        severity=severity,
        summary=summary,
        correlation_id=None,
        evidence=evidence([*around, *rows]),
    )


def _failed_during(analysis: Analysis, rows: Sequence[Mapping[str, object]]) -> list[datetime]:
    """When specs failed inside a stall: between a TIMER BUG line and `actual_interval` before it."""
    windows = [
        (r["ts"] - timedelta(seconds=float(str(r["actual_interval"] or 0))), r["ts"])
        for r in rows
        if isinstance(r["ts"], datetime)
    ]
    return sorted(
        b.fail_at
        for b in spec_blocks(analysis).values()
        if b.failed and b.fail_at is not None and any(lo <= b.fail_at <= hi for lo, hi in windows)
    )


def _coalesced(analysis: Analysis, reported: set[tuple[str, int]]) -> Iterator[Finding]:
    """Ticks received long after they fired, in timelines without a TIMER BUG line.

    Go's ticker keeps one tick while the writer is busy and drops the rest, so a blocked writer
    shows as a tick printed long after its `tick_time`, then a jump to the next tick_time. The
    detector does not fire when a write or an unprinted Flush() reset its reference just before.
    """
    interval = flush_interval(analysis)
    ticks = analysis.pipeline.ticks
    timed = pl.col("tick_at").is_not_null() & pl.col("ts").is_not_null() & pl.col("spec_index").is_not_null()
    if interval is None or not ticks.select(timed.any()).item():
        return
    limit_ns = int(max(GAP_INTERVALS * interval, GAP_MIN_S) * 1e9)
    # Worked out on the timed ticks' keys: only the late ticks are copied whole.
    keys = (
        ticks.select(
            "file",
            "spec_index",
            "line",
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"),
            # The line's time has whole seconds, so this is a lower bound of the delay.
            (pl.col("ts") - pl.col("tick_at")).dt.total_nanoseconds().alias("late_ns"),
            timed.alias("_timed"),
        )
        .filter("_timed")
        .sort("file", "spec_index", "line")
        .with_columns(pl.col("line").shift().over("file", "spec_index").alias("prev_line"))
        .filter(pl.col("late_ns") > limit_ns)
    )
    late = ticks.select(pl.all().gather(keys["_row"])).with_columns(keys["late_ns"], keys["prev_line"])
    for (file, spec_index), group in sorted(
        late.group_by("file", "spec_index"), key=lambda g: (str(g[0][0]), int(str(g[0][1] or 0)))
    ):
        if (str(file), int(str(spec_index))) in reported:
            continue
        worst = group.sort("late_ns", "line", descending=[True, False]).row(0, named=True)
        near = ticks.filter(
            timed & (pl.col("file") == file) & pl.col("line").is_in([worst["prev_line"], worst["line"]])
        )
        yield Finding(
            rule=RULE_ID,
            severity=Severity.INFO,
            summary=(
                f"A tick of {store_label(analysis, spec_index)} fired at {when(worst, 'tick_at', 'ms')} "
                f"was printed at {when(worst)}, at least {seconds(int(worst['late_ns']) / 1e9)} later "
                f"(interval {seconds(interval)}): the writer was busy or blocked that long and the ticks "
                f"in between were dropped, with no TIMER BUG line, in spec {spec_label(worst)}."
            ),
            correlation_id=None,
            evidence=evidence(list(near.iter_rows(named=True))),
        )


RULE = Rule(
    id=RULE_ID,
    title="Flush timer stalled",
    severity=Severity.MEDIUM,
    requires=("ginkgo",),
    check=check,
    doc=__doc__ or "",
)
