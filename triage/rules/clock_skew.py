"""The test host and the containers disagree on the time.

## What it detects
A clock offset between the test host (the audit store's `tick_time` in the test log) and DataStorage
(its `Batch audit events created successfully` records, and the `HTTP request` lines of batches it
refused). Each flushing timer tick sends one batch, and on one machine the request reaches DataStorage
well within a millisecond, so the arrival times (commit time minus the handler's duration) of the
batches cluster at one offset from the ticks that sent them. The rule takes the offset most
flush/request pairs agree on (within 2 ms). A large negative offset shows as writes committed
*before* the tick that sent them, which cannot happen with agreeing clocks.

It fires above 50 ms: half the suite's 100 ms flush interval, and far above the estimate's own error
(DataStorage prints milliseconds; the HTTP hop takes well under 1 ms). Offsets of a second or more
are medium, since at that size even the seconds-only store lines disagree across logs. Smaller
offsets are reported as info, so the report says the clocks were checked.

## Why it matters
Triage lines up the test log and the container logs by time: which write carried which flush, whether
a query ran before the events it looked for were committed. An offset of half a flush interval is
enough to put a write on the wrong side of a query, and links between flushes and writes become
guesses. On macOS the containers run in the podman machine VM, whose clock drifts after the laptop
sleeps.

## How to fix
Correct the times of one side by the reported offset before comparing them across logs. Resync the
VM's clock (restart the podman machine, or step it with chrony inside the VM) and re-run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import polars as pl

from triage.facts.analysis import Analysis
from triage.facts.clock import Offset
from triage.rules.base import Evidence, Finding, Rule, Severity, quote
from triage.rules.wording import clock

RULE_ID = "clock-skew"
THRESHOLD_NS = 50_000_000
LARGE_NS = 1_000_000_000
MAX_PAIRS_QUOTED = 3


def _ms(ns: int) -> str:
    return f"{abs(ns) / 1e6:.1f} ms"


def _at(ts: datetime, precision: str | None) -> str:
    return clock(ts, precision)


def _evidence(examples: pl.DataFrame) -> tuple[Evidence, ...]:
    out: list[Evidence] = []
    for row in examples.head(MAX_PAIRS_QUOTED).iter_rows(named=True):
        out.append(quote(row["file"], row["line"]))
        out.append(quote(row["w_file"], row["w_line"]))
    return tuple(out)


def _summary(offset: Offset) -> str:
    direction = "ahead of" if offset.skew_ns > 0 else "behind"
    text = (
        f"DataStorage's clock is {_ms(offset.skew_ns)} {direction} the test host's: {offset.pairs} of "
        f"{offset.sampled} flushes reached DataStorage at that offset (within 2 ms), judged by same-size "
        "writes and refused batch requests."
    )
    early = offset.examples.filter(pl.col("written_at") < pl.col("tick_at"))
    if early.height:
        row = early.row(0, named=True)
        text += (
            f" {early.height} of them were committed before the tick that sent them (e.g. write "
            f"{_at(row['written_at'], row['w_precision'])} for the {_at(row['tick_at'], 'ns')} tick), "
            "which agreeing clocks cannot produce."
        )
    return text + " Correct for the offset before comparing times across the two logs."


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report the clock offset between DataStorage and the test host.

    Args:
        analysis: the analysed bundle.

    Returns:
        One finding when the offset can be estimated: low or medium above THRESHOLD_NS, info below.
    """
    offset = analysis.pipeline.offset
    if offset is None:
        return
    size = abs(offset.skew_ns)
    if size <= THRESHOLD_NS:
        summary = (
            f"DataStorage's clock and the test host's differ by {_ms(offset.skew_ns)}, below the "
            f"{THRESHOLD_NS // 1_000_000} ms that would matter ({offset.pairs} of {offset.sampled} flushes "
            "matched to a batch DataStorage logged at that offset)."
        )
        yield Finding(RULE_ID, Severity.INFO, summary, None, _evidence(offset.examples.head(1)))
        return
    severity = Severity.MEDIUM if size >= LARGE_NS else Severity.LOW
    yield Finding(RULE_ID, severity, _summary(offset), None, _evidence(offset.examples))


RULE = Rule(
    id="clock-skew",
    title="The test host and the containers disagree on the time",
    severity=Severity.LOW,
    requires=("ginkgo",),
    check=check,
    doc=__doc__ or "",
)
