"""Ground truth of a simulated run, written beside the bundle as `<bundle>.expected.json`.

Everything comes from the model, never from the written logs. Times are UTC ISO 8601 with
microseconds and `Z`, on the test host's clock even when the containers' clock is skewed (knob
`clock_skew_ms`). Lists are sorted: specs by (location, name), stores by process, events by
(buffered_at, process, sequence), queries by (at, correlation_id), findings by (rule, correlation_id).

`findings.must` lists what a correct analysis reports; `findings.must_not` what it must not report.
A rule id with `correlation_id: null` is about the run as a whole. Entries:

* `flush-query-race(X)`: must when some test query for X was *raced*: it ran while an event of X
  matching its filter had been buffered (StoreAudit done) but not yet committed by DataStorage, and
  that event was later written or was still unflushed at the end, so the query found fewer events than
  had been buffered, and the test log shows it: the `Event buffered successfully` line of such an
  event is in it (January era, kept by the sampler, inside a spec's captured timeline), or the test
  helper printed the query's count with its correlation ID (`⏳ No events yet`, `✅ Found N`,
  `✅ Query successful: found N`) and the controller's line of the step that emitted such an event is
  in the log before it (any era). A query DataStorage refused returned nothing and raced nothing. A
  query that ran after Ginkgo reported its spec interrupted is in no captured timeline, so nothing
  shows its race. A race no line shows cannot be asked of an analysis, so such an ID is in neither
  list. must_not for every queried correlation ID whose queries never raced.
* `unexpected-event-count(X)`: must when a spec for X failed its count assertion with a count other
  than expected (e.g. 5 phase transitions where 4 were expected) at once, or failed any assertion
  about its events whose true cause is extra or missing events (`duplicate-events`, `shared-correlation-id`,
  `missing-events`, below). must_not for every other queried ID whose spec did not fail that way.
  The ID must be one the test log names (a query print with it, or a buffered line of its events):
  for a failed count whose ID no line names, the entry is about the run (`correlation_id: null`,
  any finding of the rule), as an analysis can report the count but not whose it was.
* `unflushed-events` (null): must when some event was never handed to DataStorage (still in a store's
  channel or batch when the run ended, or ignored by the SP-AUDIT-001 Flush) and the logs can show
  it: the buffered line of such an event is in the test log, process 1's closing counters show a
  gap no failed batch accounts for and process 1 held such an event (a gap beside failed batches is
  their dropped events as far as the counters tell, and another process's events never reach them),
  or a timed-out Flush() or Close() is printed in the test log; in neither list when no line
  shows it; must_not when every event was handed over.

Each failed spec (`tests.specs[].cause`, null for the others) carries its true cause, read from what
the model did to the events its failed assertion counted (matching correlation ID and type):

* `datastorage-unavailable`: the counted query itself failed (connection refused).
* `duplicate-events`: more events than expected, all from the spec's own resources.
* `shared-correlation-id`: more events than expected, some from another spec's resource.
* `missing-events`: fewer than expected had been emitted (buffered) when the counted query ran: the
  controller never emitted them, or emitted them only after the test had counted.
* `dropped-events`: enough were emitted, but one the query missed was dropped by the store.
* `unflushed-events`: one the query missed was never handed to DataStorage.
* `flush-query-race`: one the query missed was written later, and the count was taken once (an
  immediate Expect, or Eventually given a value) rather than retried.
* `write-delayed`: one the query missed was written later, after an Eventually retried until its
  timeout: the writer was stalled or slow.
* `other`: a failure that is not about audit events (none of the above).
* `dropped-events` (null): must when some event was dropped (4xx, retries exhausted, buffer full)
  and a log shows it: the store's drop lines are in the collected test log, or DataStorage logged the
  400 that made the store drop the batch; in neither list when no log shows it; else must_not.
* `write-rate-gap` (null): must when the store that logged `Audit store closed` reports
  written_count < buffered_count - dropped_count; must_not when it logged it without a gap. A process
  that never closed (all but process 1) never counts: comparing its total_buffered with process 1's
  counters is the trap this entry guards.
* `container-unhealthy` (null): must when a collected container exited (DataStorage OOM-killed or
  never started) or a container's logs are missing from the bundle; else must_not. DataStorage's
  malformed HEALTHCHECK (Health.Status "unhealthy" with `[/usr/bin/curl,: No such file or directory`)
  is known noise and does not count.
* `timer-stall` (null): must when a `TIMER BUG DETECTED` line was logged inside a captured window of
  the test log and the test log is in the bundle; must_not when none was logged at all.
* `slow-write` (null): must when a `Slow audit batch write detected` line was logged inside a captured
  window and the test log is in the bundle; must_not when none was logged at all.
* `log-sampling-gap` (null): must when the sampler hid some `Event buffered successfully` line whose
  neighbours were captured and the test log is in the bundle; must_not when no line was sampled away.
* `clock-skew` (null): must when the containers' clock is off the test host's by more than 50 ms
  (|clock_skew_ms| > 50: half the suite's 100 ms flush interval, where a write can land on the wrong
  side of a query) and the test log holds the store's tick lines (January era, test log collected)
  and DataStorage's log was collected with at least three batch requests answered: ticks and requests
  are what the offset is measured between; must_not when it is off by at most 10 ms. Neither
  list names it in between, where an estimate from millisecond log times may land on either side of
  the 50 ms line, nor when the offset cannot be seen.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from triage.simulate.reports import QueryRecord, Report
from triage.simulate.store import AuditEvent
from triage.simulate.timefmt import utc_iso_micros

FAILED_STATES = ("failed", "timedout", "panicked")
CLOCK_SKEW_MUST_MS = 50.0
CLOCK_SKEW_CLEAR_MS = 10.0


@dataclass
class EventSpill:
    """Per-process files of finalized events, each already in buffering order."""

    directory: Path
    handles: dict[int, IO[str]] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    sampled: int = 0
    unflushed_seen: int = 0
    unflushed_processes: set[int] = field(default_factory=set)

    def add(self, e: AuditEvent) -> None:
        handle = self.handles.get(e.process)
        if handle is None:
            handle = (self.directory / f"events-{e.process:03d}.jsonl").open("w", encoding="utf-8")
            self.handles[e.process] = handle
        self.outcomes[e.outcome] = self.outcomes.get(e.outcome, 0) + 1
        if e.outcome == "unflushed":
            self.unflushed_processes.add(e.process)
            self.unflushed_seen += 1 if e.seen else 0
        if not e.logged:
            self.sampled += 1
        row = {
            "buffered_at": utc_iso_micros(e.buffered_at),
            "correlation_id": e.correlation_id,
            "event_type": e.event_type,
            "flushed_at": None if e.flushed_at is None else utc_iso_micros(e.flushed_at),
            "logged": e.logged,
            "outcome": e.outcome,
            "process": e.process,
            "written_at": None if e.written_at is None else utc_iso_micros(e.written_at),
        }
        handle.write(f"{e.buffered_at} {e.eid} {json.dumps(row, sort_keys=True, ensure_ascii=False)}\n")

    def merged(self) -> Iterator[str]:
        for handle in self.handles.values():
            handle.close()
        streams = [_rows(self.directory / f"events-{p:03d}.jsonl", p) for p in sorted(self.handles)]
        for _, _, _, text in heapq.merge(*streams):
            yield text

    def cleanup(self) -> None:
        for p in self.handles:
            (self.directory / f"events-{p:03d}.jsonl").unlink(missing_ok=True)


def _rows(path: Path, process: int) -> Iterator[tuple[int, int, int, str]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            t, eid, text = line.rstrip("\n").split(" ", 2)
            yield int(t), process, int(eid), text


def mark_races(reports: Iterable[Report], watched: dict[str, list[AuditEvent]]) -> None:
    """Fill in `raced`, `buffered_before` and `observable` for each query from the final event outcomes.

    A query DataStorage refused (`found` None) saw nothing and raced nothing. A query that ran after
    Ginkgo reported its spec interrupted is in no captured timeline, so no line shows its race.

    Args:
        reports: The spec reports, whose `queries` are marked.
        watched: Events per queried correlation ID.
    """
    for report in reports:
        interrupted_at = report.failure.at if report.cancelled and report.failure is not None else None
        for q in report.queries:
            events = [e for e in watched.get(q.correlation_id, []) if q.event_type in (None, e.event_type)]
            before = [e for e in events if e.buffered_at <= q.at and e.outcome != "dropped_buffer_full"]
            q.buffered_before = len(before)
            pending = [
                e
                for e in before
                if (e.written_at is None or e.written_at > q.at) and e.outcome in ("written", "unflushed")
            ]
            q.raced = q.found is not None and q.found < len(before) and bool(pending)
            shown = interrupted_at is None or q.at < interrupted_at
            q.observable = shown and (
                any(e.seen for e in pending) or (q.printed and any(e.phase_seen for e in pending))
            )


COUNT_CAUSES = ("duplicate-events", "shared-correlation-id", "missing-events")


def spec_cause(report: Report, watched: dict[str, list[AuditEvent]]) -> str | None:
    """The true cause of a failed spec (see the module docstring), None when it did not fail.

    Args:
        report: The spec's report, after the run (event outcomes final).
        watched: Events per queried correlation ID.

    Returns:
        The cause name, or None.
    """
    if report.state not in FAILED_STATES:
        return None
    check = report.check
    if check is None:
        return "other"
    if check.got is None:
        return "datastorage-unavailable"
    events = [e for e in watched.get(check.correlation_id, []) if check.event_type in (None, e.event_type)]
    if check.got > check.expected:
        own = set(report.resources)
        return "shared-correlation-id" if any(e.resource not in own for e in events) else "duplicate-events"
    if sum(1 for e in events if e.buffered_at <= check.at) < check.expected:
        return "missing-events"
    missed = [e for e in events if e.written_at is None or e.written_at > check.at]
    if any(e.outcome.startswith("dropped") for e in missed):
        return "dropped-events"
    if any(e.outcome == "unflushed" for e in missed):
        return "unflushed-events"
    if missed:
        return "write-delayed" if check.retried else "flush-query-race"
    return "other"


def findings(
    reports: list[Report],
    queries: list[QueryRecord],
    outcomes: dict[str, int],
    closed_gap: bool | None,
    unhealthy: bool,
    captured: dict[str, tuple[int, int]],
    sampled: int,
    clock_skew_ms: float = 0.0,
    skew_observable: bool = True,
    unflushed_seen: int = 0,
    test_log_collected: bool = True,
    causes: dict[str, str] | None = None,
    flush_failures_seen: int = 0,
    named: set[str] | None = None,
    counters_unflushed: bool | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Derive must/must_not findings (see the module docstring for their meaning).

    Args:
        reports: All spec reports.
        queries: All test queries (with races marked).
        outcomes: Event outcome counts.
        closed_gap: Whether the closed store showed a write gap (None when no store closed).
        unhealthy: Whether a container exited or is missing.
        captured: For `timer-stall` and `slow-write`: (logged, logged inside a captured window).
        sampled: Events whose buffered line the sampler hid.
        clock_skew_ms: The containers' clock minus the test host's, in ms.
        skew_observable: Whether the test log holds the store's tick lines that show the offset.
        unflushed_seen: Unflushed events whose buffered line is in the test log.
        test_log_collected: Whether the bundle holds the test log (the store's drop lines are there).
        causes: True cause per failed spec's full text (see spec_cause).
        flush_failures_seen: Timed-out Flush() or Close() calls printed in the test log.
        named: Correlation IDs a line of the test log names (None: all of them).
        counters_unflushed: Whether the closed store's counters show unflushed events: it held some
            when it closed and no failed batch accounts for its gap (None: `closed_gap`).

    Returns:
        {"must": [...], "must_not": [...]} sorted.
    """
    must: set[tuple[str, str | None]] = set()
    must_not: set[tuple[str, str | None]] = set()
    queried = {q.correlation_id for q in queries}
    raced = {q.correlation_id for q in queries if q.raced}
    shown = {q.correlation_id for q in queries if q.raced and q.observable}
    for cid in queried:
        if cid in shown:
            must.add(("flush-query-race", cid))
        elif cid not in raced:
            must_not.add(("flush-query-race", cid))
    miscounted = {
        cid
        for r in reports
        if r.state in FAILED_STATES
        and r.failure is not None
        and (
            ("to equal" in r.failure.message and "Timed out" not in r.failure.message)
            or (causes or {}).get(r.spec.full_text if r.spec else "") in COUNT_CAUSES
        )
        for cid in r.correlation_ids
    }
    for cid in queried:
        if cid in miscounted and named is not None and cid not in named:
            must.add(("unexpected-event-count", None))  # the count shows, not whose it was
            continue
        (must if cid in miscounted else must_not).add(("unexpected-event-count", cid))
    if not outcomes.get("unflushed"):
        must_not.add(("unflushed-events", None))
    elif (
        unflushed_seen
        or (closed_gap if counters_unflushed is None else counters_unflushed)
        or (flush_failures_seen and test_log_collected)
    ):
        must.add(("unflushed-events", None))
    dropped = sum(outcomes.get(k, 0) for k in ("dropped_4xx", "dropped_retries", "dropped_buffer_full"))
    if not dropped:
        must_not.add(("dropped-events", None))
    elif test_log_collected or outcomes.get("dropped_4xx"):
        must.add(("dropped-events", None))
    if closed_gap is not None:
        (must if closed_gap else must_not).add(("write-rate-gap", None))
    (must if unhealthy else must_not).add(("container-unhealthy", None))
    # These lines live only in the test log: without it they can be neither required nor ruled out
    # beyond "nothing of the kind happened".
    for rule, (logged, kept) in sorted(captured.items()):
        if kept and test_log_collected:
            must.add((rule, None))
        elif not logged:
            must_not.add((rule, None))
    if not sampled:
        must_not.add(("log-sampling-gap", None))
    elif test_log_collected:
        must.add(("log-sampling-gap", None))
    if abs(clock_skew_ms) > CLOCK_SKEW_MUST_MS:
        if skew_observable:
            must.add(("clock-skew", None))
    elif abs(clock_skew_ms) <= CLOCK_SKEW_CLEAR_MS:
        must_not.add(("clock-skew", None))
    return {"must": _entries(must), "must_not": _entries(must_not)}


def _entries(items: set[tuple[str, str | None]]) -> list[dict[str, Any]]:
    return [
        {"correlation_id": cid, "rule": rule} for rule, cid in sorted(items, key=lambda x: (x[0], x[1] or ""))
    ]


def write_truth(path: Path, head: dict[str, Any], events: Iterator[str], tail: dict[str, Any]) -> None:
    """Write the truth JSON: `head` keys, then `events` one per line, then `tail` keys.

    Args:
        path: The `.expected.json` path.
        head: Keys before `events` (already sorted as wanted).
        events: Compact JSON objects, one per event, in order.
        tail: Keys after `events`.
    """
    with path.open("w", encoding="utf-8") as out:
        out.write("{\n")
        for key, value in head.items():
            out.write(
                f"  {json.dumps(key)}: {json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)},\n"
            )
        out.write('  "events": [')
        first = True
        for text in events:
            out.write(("\n    " if first else ",\n    ") + text)
            first = False
        out.write("\n  ]" if not first else "]")
        for key, value in tail.items():
            out.write(
                f",\n  {json.dumps(key)}: {json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)}"
            )
        out.write("\n}\n")
