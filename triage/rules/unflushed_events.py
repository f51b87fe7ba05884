"""Events buffered but never handed to DataStorage.

## What it detects
Audit events that were still inside a store (its channel, its batch, or a batch it was still
retrying) when the evidence ends, so DataStorage never got them:

* process 1's `Audit store closed` counters with `buffered_count` above `written_count +
  dropped_count` and no failed batch to account for the difference;
* `Flush()` calls that timed out (`Flush warning …: flush timeout`, `Failed to flush audit store:
  … deadline exceeded`) or process 1's `Timeout waiting for audit store to close`, with DataStorage
  logging no batch write after the first of them while the run went on (unless the store's attempts
  were still being refused when the last flush timed out: then DataStorage was unreachable and the
  writer busy retrying, not stuck; and unless every timeout fell inside a stall that a later TIMER
  BUG line closed: then the writer was starved and moved again, which `timer-stall` reports): the
  stores stopped handing events over. Without buffered lines the number left behind is not known,
  and the finding says so. High when a spec failed after the writes stopped, info when only a
  passing run's teardown shows it;
* a store whose last captured timeline ends with its writer retrying a failed batch write
  (`Failed to write audit batch` with attempt 1 or 2 of 3, no drop line after it), with events
  buffered into or behind that batch, when the run's last line comes before the remaining retries
  (1 s and 4 s backoff) could end. Medium when even instant attempts could not have ended in
  time; low when attempts as long as this run's failing ones (read from consecutive attempt
  lines) could not, with the waiting events leaving in one batch; info when only a split into two
  batches behind the stuck one (the held tick can split them) would outlast the run.

Events buffered near the end of a timeline with no flushing tick after them, but with no sign
of a stuck writer, are listed at info level: a `Flush()` that prints nothing at Info may have
taken them.

## Why it matters
An event that never reached DataStorage is missing from every query, whatever the test waits
for. Processes other than 1 never call `Close()`, so whatever their store holds when the process
exits is lost without a log line.

## How to fix
Find why the store's writer stopped handing batches to DataStorage: the quoted lines say whether it
was retrying a failed write (`Failed to write audit batch`: connection refused or EOF means
DataStorage was down or restarting; see `dropped-events` and `container-unhealthy`) or whether
`Flush()` and `Close()` timed out with nothing written (a writer stuck in a call, or a flush request
it never serves). Make every process drain its store before it exits (`Flush()` with the
SP-AUDIT-001 channel drain, then `Close()`), and keep DataStorage up until all processes have
closed their stores.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from triage.facts.analysis import Analysis
from triage.rules._queries import spec_blocks
from triage.rules._retries import (
    MAX_ATTEMPTS,
    attempt_bound,
    full_retry_s,
    reason,
    retry_window,
    typical_attempt_s,
)
from triage.rules._store import (
    WriterEnd,
    as_dt,
    closing_counters,
    ds_skew,
    evidence,
    flush_interval,
    replay,
    run_end,
    seconds,
    store_activities,
    store_label,
    test_log_of,
)
from triage.rules._stuck import stuck_writer
from triage.rules.base import Finding, Rule, Severity
from triage.rules.wording import clock, when
from triage.table.exprs import matches
from triage.table.vocabulary import WRITER_STARTED

RULE_ID = "unflushed-events"
# The store ticks at this interval when no tick line says otherwise (the suite's FlushInterval).
DEFAULT_INTERVAL_S = 0.1


def check(analysis: Analysis) -> Iterator[Finding]:
    """Find events still inside a store when the evidence ends.

    Args:
        analysis: the analysed bundle.

    Yields:
        One finding for process 1's counters, and one per correlation ID stuck behind a writer.
    """
    yield from _counters(analysis)
    yield from _stuck_writers(analysis)
    yield from _flushes_timing_out(analysis)


def _flushes_timing_out(analysis: Analysis) -> Iterator[Finding]:
    """Flush() and Close() calls that timed out while DataStorage's writes stopped: a stuck writer.

    A `Flush()` that returns only when the writer has written what it was asked to, timing out, and
    DataStorage logging no batch write after a point while the tests ran on, both say the stores
    stopped handing events over; without the buffered lines the number left behind is not known.
    """
    events = analysis.events
    stuck = stuck_writer(analysis)
    end = run_end(analysis)
    if stuck is None or end is None:
        return
    said, closes, rows, last_write = stuck.said, stuck.closes, stuck.rows, stuck.last_write
    first = rows.row(0, named=True)
    writes = analysis.pipeline.writes.drop_nulls("ts")
    wrote = int(writes.get_column("count").sum() or 0)
    # Without any write, the writer was stuck from its start: its start line opens the period.
    started = None if last_write is not None else _writer_start(analysis)
    if last_write is not None:
        since = f"DataStorage's last batch write was at {when(last_write)} ({wrote} events written in all)"
        if stuck.stopped_at is not None and stuck.stopped_at > as_dt(last_write["ts"]) - ds_skew(analysis):
            since += f" and its last answer to a batch, a refusal, at {clock(stuck.stopped_at, None)}"
    elif events.filter(pl.col("service") == "datastorage").height:
        since = "DataStorage logged no batch write at all" + (
            f" after the store's writer started at {when(started)}" if started is not None else ""
        )
    else:
        since = "DataStorage's log is missing, so when its writes stopped is not known"
    after = stuck.stopped_at
    phases = _phase_lines_after(analysis, after)
    active = f", and the controllers logged {phases} phase line(s) after it" if phases else ""
    parts = []
    if said.height:
        parts.append(f"{said.height} Flush() call(s) timed out from {when(first)}")
    if closes.height:
        parts.append(
            f"process 1's Close() timed out at {when(closes.row(0, named=True))} (no closing counters)"
        )
    # It matters when a spec failed after the writes stopped; at a passing run's teardown it is a note.
    after_stop = [
        b
        for b in spec_blocks(analysis).values()
        if b.failed and b.fail_at is not None and (after is None or b.fail_at > after)
    ]
    yield Finding(
        rule=RULE_ID,
        severity=Severity.HIGH if after_stop else Severity.INFO,
        summary=(
            f"The audit stores stopped handing events to DataStorage: {'; '.join(parts)}; {since}, while "
            f"the run went on until {when(end)}{active}. Inferred: events emitted after that stayed in the "
            "stores' buffers; their buffered lines are below Info here, so how many cannot be counted."
        ),
        correlation_id=None,
        evidence=evidence(
            [
                *rows.head(3).iter_rows(named=True),
                *rows.tail(1).iter_rows(named=True),
                *([last_write] if last_write is not None else []),
                *([started] if started is not None else []),
                end,
            ]
        ),
    )


def _writer_start(analysis: Analysis) -> dict[str, object] | None:
    """The first `Audit background writer started` line with a time, None when none was logged."""
    events = analysis.events
    rows = events.filter(
        (pl.col("service") == "test-run") & (pl.col("msg_key") == WRITER_STARTED) & pl.col("ts").is_not_null()
    ).sort("ts", "file", "line")
    return rows.select("file", "line", "ts", "ts_precision").row(0, named=True) if rows.height else None


def _phase_lines_after(analysis: Analysis, after: datetime | None) -> int:
    """How many controller phase lines the test log holds after a moment (all of them when None)."""
    events = analysis.events
    lines = events.filter(
        (pl.col("service") == "test-run")
        & (pl.col("record") == "log")
        & matches(events, "message", r"(?i)\bphase\b")
    )
    if after is not None:
        lines = lines.filter(pl.col("ts") > after)
    return lines.height


def _counters(analysis: Analysis) -> Iterator[Finding]:
    counters = closing_counters(analysis)
    if counters is None or counters.gap <= 0 or counters.failed_batches:
        return
    yield Finding(
        rule=RULE_ID,
        severity=Severity.HIGH,
        summary=(
            f"Process 1's store closed with buffered_count {counters.buffered}, written_count "
            f"{counters.written}, dropped_count {counters.dropped} and no failed batch: {counters.gap} "
            "events were neither written nor dropped."
        ),
        correlation_id=None,
        evidence=evidence([counters.row]),
    )


def _stuck_writers(analysis: Analysis) -> Iterator[Finding]:
    end_row = run_end(analysis)
    if end_row is None:
        return
    ended = _posix(end_row["ts"])
    lasts: list[tuple[str, int | None]] = []  # each store's last timeline
    for store in sorted(analysis.stores, key=lambda s: s.name):
        if store.closed or not store.spec_indices:
            continue  # process 1's Close() drains its store; its counters speak for it
        last = store.spec_indices[-1]
        log = test_log_of(analysis, last)
        if log is not None:
            lasts.append((log, last))
    activities = store_activities(analysis, lasts)
    for timeline in lasts:
        end = replay(activities[timeline])
        if end.stuck is None or end.stuck.failure is None:
            yield from _idle_waiting(analysis, end)
            continue
        interval = flush_interval(analysis) or DEFAULT_INTERVAL_S
        failure = end.stuck.failure
        # The run is judged against retries as long as this run's failing attempts took; without
        # a batch that failed twice, against the longest a refused or timed-out attempt can take.
        observed = typical_attempt_s(analysis)
        per_attempt = observed if observed is not None else attempt_bound(failure["error"])
        earliest, expected = retry_window(
            end.stuck.attempt, as_dt(failure["ts"]), per_attempt, 0.5 if observed is not None else 1.0
        )
        behind = interval + full_retry_s(per_attempt) if end.waiting else 0.0
        # Waiting events leave in one batch, or in two when the held tick fires while the writer is
        # still moving them out of the channel (Go's select picks at random).
        if ended < earliest:
            verdict = Verdict(Severity.MEDIUM, "never reached", earliest, certain=True)
        elif ended < expected + behind:
            verdict = Verdict(Severity.LOW, "most likely never reached", expected + behind)
        elif end.waiting and ended < expected + 2 * behind:
            verdict = Verdict(Severity.INFO, "may not have reached", expected + 2 * behind)
        else:
            continue  # the retries (and the batches behind them) had time to end: written or dropped
        yield from _stuck_findings(analysis, end, end_row, verdict)


@dataclass(frozen=True)
class Verdict:
    """How sure the timing makes a stuck-writer finding, and the deadline it was judged against."""

    severity: Severity
    verb: str
    deadline: float
    certain: bool = False


def _stuck_findings(
    analysis: Analysis,
    end: WriterEnd,
    end_row: Mapping[str, object],
    verdict: Verdict,
) -> Iterator[Finding]:
    assert end.stuck is not None and end.stuck.failure is not None
    failure = end.stuck.failure
    where = store_label(analysis, _int(failure["spec_index"]))
    retrying = (
        f"its writer was still retrying a failed batch write (attempt {failure['attempt']} of "
        f"{MAX_ATTEMPTS} at {when(failure)}, "
        f"{reason(failure['error'])}) when its last captured timeline ended"
    )
    last_line = f"the run's last line ({when(end_row)})"
    if verdict.certain:
        timing = (
            f"{last_line} came before even instant retries could end "
            f"({clock(datetime.fromtimestamp(verdict.deadline, UTC), 's')} at the earliest)"
        )
    else:
        batches = "the batches" if verdict.severity == Severity.INFO else "any batch"
        timing = (
            f"{last_line} came {seconds(max(0.0, verdict.deadline - _posix(end_row['ts'])))} before the "
            f"remaining retries and {batches} behind them would end at this run's attempt times (inferred)"
        )
    severity = verdict.severity
    batch_lines = {r["line"] for r in end.stuck.events}
    rows = [*end.stuck.events, *end.waiting]
    by_cid: dict[str, list[Mapping[str, object]]] = {}
    for row in rows:
        by_cid.setdefault(str(row["correlation_id"]), []).append(row)
    if not by_cid:
        size = failure["batch_size"]
        yield Finding(
            rule=RULE_ID,
            severity=severity,
            summary=(
                f"A batch of {size} events in {where} {verdict.verb} DataStorage: {retrying}, and {timing}."
            ),
            correlation_id=None,
            evidence=evidence([failure, end_row]),
        )
        return
    for cid, cid_rows in sorted(by_cid.items()):
        first = cid_rows[0]
        in_batch = sum(1 for r in cid_rows if r["line"] in batch_lines)
        held = f"{in_batch} in the failing batch, {len(cid_rows) - in_batch} behind it"
        yield Finding(
            rule=RULE_ID,
            severity=severity,
            summary=(
                f"{len(cid_rows)} events of {cid} buffered from "
                f"{when(first)} in {where} {verdict.verb} "
                f"DataStorage ({held}): {retrying}, and {timing}."
            ),
            correlation_id=cid,
            evidence=evidence([*cid_rows[:4], *cid_rows[-1:], failure, end_row]),
        )


def _idle_waiting(analysis: Analysis, end: WriterEnd) -> Iterator[Finding]:
    """Buffered lines with nothing after them in a store's last timeline: worth a note, no more."""
    if not end.waiting:
        return
    by_cid: dict[str, list[Mapping[str, object]]] = {}
    for row in end.waiting:
        by_cid.setdefault(str(row["correlation_id"]), []).append(row)
    for cid, rows in sorted(by_cid.items()):
        first = rows[0]
        where = store_label(analysis, _int(first["spec_index"]))
        yield Finding(
            rule=RULE_ID,
            severity=Severity.INFO,
            summary=(
                f"{len(rows)} events of {cid} buffered from {when(first)} "
                f"in {where} show no flushing tick before its last captured timeline ends; an unprinted "
                "Flush() may still have written them."
            ),
            correlation_id=cid,
            evidence=evidence([*rows[:4], *rows[-1:]]),
        )


def _posix(value: object) -> float:
    return as_dt(value).timestamp()


def _int(value: object) -> int | None:
    return None if value is None else int(str(value))


RULE = Rule(
    id=RULE_ID,
    title="Events buffered but never handed to DataStorage",
    severity=Severity.HIGH,
    requires=("ginkgo",),
    check=check,
    doc=__doc__ or "",
)
