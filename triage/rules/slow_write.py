"""Batch writes to DataStorage that took seconds.

## What it detects
* `Slow audit batch write detected` lines in the captured spec timelines: a batch write that took
  more than 2 s from the store's side (`write_duration`). One finding per timeline.
* DataStorage `Batch audit events created successfully` lines with `duration_seconds` above 2 s when
  the test log kept no slow-write line: the store must have logged one outside the captured
  timelines (inferred).
* At info level, DataStorage batch writes far slower than the store's flush interval (5x and at
  least 0.5 s) that stay under the 2 s threshold.

## Why it matters
The store writes synchronously in its only goroutine: while one batch takes seconds, no tick is
served and everything else waits in the buffer. Queries in that window miss events, and timer
ticks are coalesced or trip `TIMER BUG DETECTED`.

## How to fix
Look at DataStorage for the cause: connection pool exhaustion, PostgreSQL load, hash-chain work per
batch (`Batch audit events created with hash chains`). In tests, flush before querying and keep
`Eventually` timeouts above the worst write time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import polars as pl

from triage.facts.analysis import Analysis
from triage.rules._store import evidence, flush_interval, seconds, spec_label, spec_states, store_label
from triage.rules.base import Finding, Rule, Severity
from triage.rules.wording import plural, when
from triage.table.exprs import attr
from triage.table.vocabulary import NOT_PASSED_STATES, SLOW_WRITE

RULE_ID = "slow-write"
SLOW_S = 2.0  # store.go logs a slow write above this
NOTE_INTERVALS = 5
NOTE_MIN_S = 0.5


def check(analysis: Analysis) -> Iterator[Finding]:
    """Find slow batch writes.

    Args:
        analysis: the analysed bundle.

    Yields:
        One finding per timeline with slow-write lines, one for DataStorage writes over 2 s when
        none was captured, and an info note for writes far above the flush interval.
    """
    slow = analysis.pipeline.store_errors.filter(pl.col("msg_key") == SLOW_WRITE).with_columns(
        attr("batch_size", pl.Int64()), _duration("write_duration")
    )
    states = spec_states(analysis)
    for (file, spec_index), group in sorted(
        slow.group_by("file", "spec_index"), key=lambda g: (str(g[0][0]), int(str(g[0][1] or 0)))
    ):
        rows = list(group.sort("line").iter_rows(named=True))
        yield _store_finding(analysis, rows, states.get((str(file), int(str(spec_index or 0)))))
    yield from _datastorage(analysis, captured=not slow.is_empty())


def _duration(key: str) -> pl.Expr:
    """A Go duration field as seconds: zap prints float seconds, other encoders "2.4s" or "850ms"."""
    text = pl.col("attrs").str.json_path_match(f"$.{key}")
    number = text.cast(pl.Float64, strict=False)
    value = text.str.extract(r"^([0-9.]+)", 1).cast(pl.Float64, strict=False)
    unit = text.str.extract(r"([a-zµ]+)$", 1)
    scaled = (
        pl.when(unit == "ms")
        .then(value / 1e3)
        .when(unit.is_in(["us", "µs"]))
        .then(value / 1e6)
        .otherwise(value)
    )
    return pl.coalesce(number, scaled).alias(key)


def _store_finding(analysis: Analysis, rows: Sequence[Mapping[str, object]], state: str | None) -> Finding:
    worst = max(rows, key=lambda r: float(str(r["write_duration"] or 0)))
    took = float(str(worst["write_duration"] or 0))
    failed = state in NOT_PASSED_STATES
    count = f"{len(rows)} slow batch writes" if len(rows) > 1 else "A slow batch write"
    longest = "longest " if len(rows) > 1 else ""
    size = plural(int(str(worst["batch_size"] or 0)), "event")
    summary = (
        f"{count} in {store_label(analysis, worst['spec_index'])} ({longest}{seconds(took)} for "
        f"{size}, logged {when(worst)}), "
        f"in spec {spec_label(worst)}."
    )
    if failed:
        summary += f" The spec {state}."
    return Finding(
        rule=RULE_ID,
        severity=Severity.HIGH if failed else Severity.MEDIUM,
        summary=summary,
        correlation_id=None,
        evidence=evidence(rows),
    )


def _datastorage(analysis: Analysis, captured: bool) -> Iterator[Finding]:
    writes = analysis.pipeline.writes.filter(pl.col("duration_seconds").is_not_null())
    if writes.is_empty():
        return
    over = writes.filter(pl.col("duration_seconds") > SLOW_S).sort("ts", "line")
    if not over.is_empty() and not captured:
        rows = list(over.iter_rows(named=True))
        worst = max(rows, key=lambda r: float(str(r["duration_seconds"])))
        yield Finding(
            rule=RULE_ID,
            severity=Severity.LOW,
            summary=(
                f"DataStorage took over {seconds(SLOW_S)} for {plural(len(rows), 'batch write')} "
                f"(longest {seconds(float(str(worst['duration_seconds'])))} for {worst['count']} events at "
                f"{when(worst)}); the store logs a slow-write line for "
                "each, outside the captured timelines (inferred)."
            ),
            correlation_id=None,
            evidence=evidence(rows),
        )
    interval = flush_interval(analysis)
    if interval is None:
        return
    floor = max(NOTE_INTERVALS * interval, NOTE_MIN_S)
    slowish = writes.filter((pl.col("duration_seconds") > floor) & (pl.col("duration_seconds") <= SLOW_S))
    if slowish.is_empty():
        return
    rows = list(slowish.sort("ts", "line").iter_rows(named=True))
    worst = max(rows, key=lambda r: float(str(r["duration_seconds"])))
    yield Finding(
        rule=RULE_ID,
        severity=Severity.INFO,
        summary=(
            f"{plural(len(rows), 'DataStorage batch write')} took over {seconds(floor)} (the flush "
            f"interval is {seconds(interval)}; longest {seconds(float(str(worst['duration_seconds'])))} at "
            f"{when(worst)}): each held its store's writer that long."
        ),
        correlation_id=None,
        evidence=evidence(rows),
    )


RULE = Rule(
    id=RULE_ID,
    title="Slow batch writes to DataStorage",
    severity=Severity.MEDIUM,
    requires=("ginkgo", "zap_console", "zap_json"),
    check=check,
    doc=__doc__ or "",
)
