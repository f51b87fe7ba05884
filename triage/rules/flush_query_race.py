"""A test queried while an event was still buffered.

## What it detects
A test query for a correlation ID that returned fewer events than its audit store had already
buffered for it (`✅ Event buffered successfully` lines before the query's print in the same spec
timeline), where the missing event was not dropped by the store: it was still waiting for the
timer flush, or its batch was still on its way to DataStorage. The strongest evidence is file
order: the buffered line, no `⏰ Timer tick received` with `batch_size_before_flush > 0` after it,
then the query's `⏳ No events yet…` print. A `✅ Audit store flushed successfully` print in between
does not clear the event when the next flushing tick still counts it (`batch_size_before_flush +
buffer_utilization`): Flush() did not write it. When a tick did flush it before the query, the
DataStorage write linked to that flush (by batch size and time: an inference) shows when it became
queryable.

When the spec's timeline holds no store line at all (the store's per-event lines are below Info in
later log formats), the query prints stand alone: a query that found fewer events than a later query
of the same type and ID is a race the logs show (low when the test had flushed before it or the
controller had logged the phase that emits the type, so the event already existed; info when nothing
shows that); a spec that failed while every query for a type found too few, after the controller had
logged the phase that emits it, is a high finding, inferred; one that queried once right after its
`Flush()` returned and failed on that answer, after that phase line, is a medium one (without it the
event was more likely not yet emitted: a count), and so is one that failed without finding
the type after the controller logged a step while the writers were stuck (DataStorage's last batch
write before the miss, a `Flush()` or `Close()` timing out later). A spec whose count the
`unexpected-event-count` rule found never emitted (DataStorage kept committing batches through the
wait with no stall: an event buffered before it would have been written and found) is not a race,
whatever phase the controller logged.

It also catches a poll that printed nothing (a `STEP: … Poll …` or `STEP: Querying …` with no query
print inside, as in "poll for any event, then assert a specific one"): when events of the ID were
still unflushed at the next step, that poll could not have seen them. The ID is the one the next
query print names; in a failed spec that printed none, the one ID its buffered lines carry.

The finding says how long the event waited in the buffer and how long the test waited: from the
first query that missed it to the first that found it, or to the spec's failure. Severity is high
when the spec then failed without any query finding the event (a one-shot assertion, or an
`Eventually` that timed out), low when a later query found it, info when DataStorage refused the
spec's requests after the miss (its outage, which `container-unhealthy` reports, then decided whether
the event was ever written), or, for a poll that printed nothing, when DataStorage's inspected
container had stopped for good before the poll began (its queries were refused: it raced nothing).

## Why it matters
DataStorage only returns committed events. The store writes every 100 ms in the SP suite (1 s by
default), and the write itself takes tens of milliseconds, so a query issued right after the
controller acted races the flush. Retrying specs just lose time; a spec that asserts once fails
for a reason that is not in the code under test.

## How to fix
Query inside `Eventually` for the specific event type you assert on, not for "any event" followed
by a one-shot `Expect`. Call `Flush()` after the controller has emitted the event you need (wait
for the phase that emits it first), and make sure `Flush()` drains the channel (SP-AUDIT-001).
Give the `Eventually` a timeout well above the flush interval plus DataStorage's write latency.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl

from triage.facts.analysis import Analysis
from triage.facts.containers import ContainerState
from triage.rules._queries import (
    clock,
    flush_prints,
    ns_between,
    seconds,
    span,
)
from triage.rules._races import Race, find_races
from triage.rules._unlogged import describe, unlogged_races
from triage.rules.base import Finding, Rule, Severity, quote
from triage.rules.unexpected_event_count import check as count_findings
from triage.rules.unexpected_event_count import never_emitted
from triage.table.vocabulary import QUERY_FAILED, UNREACHABLE

MAX_EVIDENCE = 8
REFUSED_NOTE = (
    " DataStorage then refused its requests (line {line}), so the outage, not the flush timing, decided"
    " whether the event would ever be written."
)


def _wait(lo_ns: int | None, hi_ns: int | None) -> str:
    """A wait known to lie in [lo, hi]: `about 480 ms`, `at most 11 ms`, `between 1.0 s and 3.0 s`."""
    if hi_ns is None:
        return "at least " + seconds(lo_ns or 0) if lo_ns else "an unknown time"
    lo = max(lo_ns or 0, 0)
    if lo == 0:
        return f"at most {seconds(hi_ns)}"
    if hi_ns - lo <= max(20_000_000, hi_ns // 5):
        return f"about {seconds((lo + hi_ns) // 2)}"
    return f"between {seconds(lo)} and {seconds(hi_ns)}"


def _row_at(frame: pl.DataFrame, file: str, line: int | None) -> dict[str, Any] | None:
    if line is None:
        return None
    rows = frame.filter((pl.col("file") == file) & (pl.col("line") == line))
    return rows.row(0, named=True) if rows.height else None


def _tick_before(analysis: Analysis, e: dict[str, Any]) -> dict[str, Any] | None:
    ticks = analysis.pipeline.ticks.filter(
        (pl.col("file") == e["file"])
        & (pl.col("spec_index") == e["spec_index"])
        & (pl.col("line") < e["line"])
    )
    return ticks.sort("line").row(-1, named=True) if ticks.height else None


def _write(analysis: Analysis, e: dict[str, Any]) -> dict[str, Any] | None:
    if e["write_file"] is None or e["link"] != 1:
        return None
    return _row_at(analysis.pipeline.writes, e["write_file"], e["write_line"])


@dataclass(frozen=True)
class Story:
    """What the logs show of the missed event, in words and lines."""

    text: str
    buffer_wait: str
    rows: tuple[dict[str, Any], ...]
    context: tuple[dict[str, Any], ...] = ()


def _story(analysis: Analysis, race: Race) -> Story:
    q, e = race.query, race.missed
    noun = "poll" if q["helper"] == "silent_poll" else "query"
    before = _tick_before(analysis, e)
    parts = [f"{e['event_type'] or 'an event'} was buffered at {clock(e['ts'], precise=False)}"]
    if before is not None and before["tick_at"] is not None:
        parts[0] += f", after the tick at {clock(before['tick_at'])}"
    rows: list[dict[str, Any]] = [e]
    flush = _row_at(analysis.pipeline.ticks, e["file"], e["flush_line"])
    tick_first = flush is not None and flush["line"] < q["line"]
    print_first = e["next_print"] is not None and e["next_print"] < q["line"]
    wait = "No tick flushed it later in the spec's timeline."
    if flush is not None and before is not None and before["tick_at"] is not None:
        held = ns_between(before["tick_at"], flush["tick_at"])
        until = clock(flush["tick_at"])
        wait = f"It waited up to {seconds(held or 0)} in the buffer (until the tick at {until})."
    if print_first and (flush is None or e["next_print"] < flush["line"]):
        rows.extend(
            r for r in (_row_at(flush_prints(analysis), e["file"], e["next_print"]),) if r is not None
        )
        if e["held"] and flush is not None:
            parts.append(
                "`Audit store flushed successfully` was printed after it, yet the tick at "
                f"{clock(flush['tick_at'])} still held it (its batch_size_before_flush + buffer_utilization "
                "count it), so Flush() had not written it"
            )
        else:
            parts.append(
                f"`Audit store flushed successfully` was printed after it, yet the {noun} did not see it"
            )
    elif not tick_first:
        parts.append(f"no flushing tick was logged between it and the {noun} (file order)")
        rows.extend(r for r in (flush,) if r is not None)  # the tick that flushed it later
    if flush is not None and tick_first:
        rows.append(flush)
        parts.append(
            f"it left the buffer with the tick at {clock(flush['tick_at'])} (batch of {flush['batch']})"
        )
        write = _write(analysis, e)
        if write is None:
            parts.append("no DataStorage write could be linked to that flush")
        else:
            rows.append(write)
            gap = ns_between(q["ts_hi"], write["ts"])
            after = gap is not None and gap - (analysis.pipeline.skew_ns or 0) > 0
            parts.append(
                f"DataStorage logged the linked write at {clock(write['ts'])} (its clock"
                + (f", after the {noun}" if after else "")
                + "; link inferred from batch size and time)"
            )
    return Story("; ".join(parts), wait, tuple(rows), (before,) if before is not None else ())


def _outcome(race: Race) -> tuple[str, Severity, tuple[dict[str, Any], ...]]:
    """How the test fared after the miss: its wait, the severity and the lines that show it."""
    q, block = race.query, race.block
    if race.later is not None:
        later = race.later
        lo, hi = ns_between(q["ts_hi"], later["ts_lo"]), ns_between(q["ts_lo"], later["ts_hi"])
        where = span(later["ts_lo"], later["ts_hi"])
        waited = f"waited {_wait(lo, hi)}" if hi is not None or (lo or 0) > 0 else "kept polling"
        return f"The test {waited} until a query {where} found it.", Severity.LOW, (later,)
    rows: tuple[dict[str, Any], ...] = (race.assertion,) if race.assertion is not None else ()
    if block is not None and block.failed and block.fail_line is not None and block.fail_at is not None:
        lo, hi = ns_between(q["ts_hi"], block.fail_at), ns_between(q["ts_lo"], block.fail_at)
        marker = {"file": block.file, "line": block.fail_line}
        lead = "No query found it; the spec"
        if race.assertion is not None:
            a = race.assertion
            got = a["count"] if a["count"] is not None else "an error"
            what = a["event_type"] or "its events"
            lead = f"The spec then queried {what} once, without retrying, got {got}, and"
        elif race.retries:
            lead = f"{race.retries} later queries did not find it either; the spec"
        elif race.poll is not None and race.first_try:
            poll = race.poll
            lead = (
                "It came right after a poll that accepted any event of the ID "
                f"(STEP at {clock(poll['ts_lo'])}, nothing printed) and was not retried: the spec"
            )
        else:
            lead = "The spec did not query again: it"
        return (
            f"{lead} {block.state} at {clock(block.fail_at)}, {_wait(lo, hi)} after the miss.",
            Severity.HIGH,
            (*rows, marker),
        )
    state = block.state if block is not None else "unknown"
    return f"No later query found it before the spec ended ({state}).", Severity.LOW, rows


def _refused_after(analysis: Analysis, q: dict[str, Any]) -> dict[str, Any] | None:
    """The test's last print of a request DataStorage refused, after a query in its spec; None if none."""
    events = analysis.events
    refused = events.filter(
        (pl.col("file") == q["file"])
        & (pl.col("spec_index") == q["spec_index"])
        & (pl.col("line") > q["line"])
        & (pl.col("service") == "test-run")
        & pl.col("record").is_in(["helper", "output"])
    )
    message = pl.col("message").cast(pl.String)
    refused = refused.filter(message.str.contains(QUERY_FAILED) & message.str.contains(UNREACHABLE))
    return refused.sort("line").row(-1, named=True) if refused.height else None


def _datastorage_stopped_before(analysis: Analysis, at: object) -> ContainerState | None:
    """DataStorage's inspected container when it had stopped, not to run again, before a moment.

    Args:
        analysis: the analysed bundle.
        at: the moment (a datetime on the test host's clock; None gives None).

    Returns:
        The container, None when none had stopped by then (or the moment is unknown).
    """
    if not isinstance(at, datetime):
        return None
    for c in analysis.containers:
        if c.service != "datastorage" or c.running is not False or not c.finished_at:
            continue
        finished = datetime.fromisoformat(c.finished_at.replace("Z", "+00:00"))
        moment = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
        if finished.tzinfo is not None and finished <= moment:
            return c
    return None


def _finding(analysis: Analysis, race: Race) -> Finding:
    q = race.query
    story = _story(analysis, race)
    outcome, severity, tail = _outcome(race)
    refused = _refused_after(analysis, q) if race.later is None and severity == Severity.HIGH else None
    if refused is not None:
        # DataStorage refused the spec's later queries, so it was refusing the store's writes too: the
        # outage, not the flush timing, decided whether the event was ever written (container-unhealthy).
        severity = Severity.INFO
        outcome += REFUSED_NOTE.format(line=refused["line"])
        tail = (*tail, refused)
    if q["helper"] == "silent_poll" and severity > Severity.INFO:
        stopped = _datastorage_stopped_before(analysis, q["ts_lo"])
        if stopped is not None:
            # A poll that began after DataStorage's container had stopped for good was refused: it raced
            # nothing, whatever the store held (container-unhealthy reports the outage).
            severity = Severity.INFO
            outcome += (
                f" DataStorage's container {stopped.name} had stopped at {stopped.finished_at} "
                f"({'OOM-killed' if stopped.oom_killed else 'exited'}) before the poll began, so its "
                "queries were refused: the outage, not the flush timing, decided what it saw."
            )
            tail = (*tail, {"file": stopped.file, "line": stopped.line})
    if q["helper"] == "silent_poll":
        unseen = (
            f"{q['unflushed']} had not been flushed"
            if q["unflushed"]
            else (f"{q['late']} were written only after it (inferred)")
        )
        head = (
            f"The spec polled for any event of correlation_id={q['correlation_id']} without printing "
            f"({span(q['ts_lo'], q['ts_hi'])}, until the next step); of the {q['eligible']} event(s) "
            f"buffered for it by then, {unseen}: {story.text}."
        )
        shown = [*story.rows, q]
        optional = [{"file": q["file"], "line": q["poll_line"]}, *story.context]
    else:
        head = (
            f"A query for {q['event_type']} (correlation_id={q['correlation_id']}) "
            f"{span(q['ts_lo'], q['ts_hi'])} returned {q['count']} while {q['eligible']} matching "
            f"event(s) had been buffered before it: {story.text}."
        )
        shown = [*story.rows, q]
        optional = list(story.context)
        if race.poll is not None and race.first_try:
            optional.insert(0, {"file": race.poll["file"], "line": race.poll["poll_line"]})
    # Context lines (the tick before the event, the poll's step) go first when space runs out.
    room = max(0, MAX_EVIDENCE - len(shown) - len(tail))
    shown += optional[:room]
    # The write line lives in another file; keep the test-log lines in file order, then the write.
    lines = sorted((r for r in shown if r["file"] == q["file"]), key=lambda r: int(r["line"]))
    others = [r for r in shown if r["file"] != q["file"]]
    rows = [*lines, *others, *tail][:MAX_EVIDENCE]
    evidence = tuple(quote(r["file"], r["line"]) for r in rows)
    return Finding(
        rule=RULE.id,
        severity=severity,
        summary=f"{head} {story.buffer_wait} {outcome}",
        correlation_id=q["correlation_id"],
        evidence=evidence,
    )


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report each correlation ID whose test query ran while a matching event was buffered but unwritten.

    Args:
        analysis: the analysed bundle.

    Returns:
        One finding per raced correlation ID.
    """
    for race in find_races(analysis):
        yield _finding(analysis, race)
    # Where the count rule showed the writer kept writing through the wait, the events were never emitted.
    absent = {f.correlation_id for f in count_findings(analysis) if never_emitted(f)}
    for unlogged in unlogged_races(analysis):
        if unlogged.found is None and unlogged.stopped is None and unlogged.miss["correlation_id"] in absent:
            continue
        summary, evidence = describe(unlogged)
        refused = _refused_after(analysis, unlogged.miss) if unlogged.found is None else None
        if refused is not None:
            summary += REFUSED_NOTE.format(line=refused["line"])
            evidence = (*evidence[: MAX_EVIDENCE - 1], quote(refused["file"], refused["line"]))
            severity = Severity.INFO  # DataStorage's outage, not the flush timing, decided the spec
        elif unlogged.found is None:
            # The spec failed after the controller reached the event's phase; one query after Flush() is
            # medium: a Flush() writes what was buffered before it, unless it failed to drain the buffer.
            high = unlogged.phase is not None and not unlogged.one_shot
            severity = Severity.HIGH if high else Severity.MEDIUM
        else:
            severity = Severity.LOW if unlogged.emitted else Severity.INFO
        yield Finding(RULE.id, severity, summary, unlogged.miss["correlation_id"], evidence[:MAX_EVIDENCE])


RULE = Rule(
    id="flush-query-race",
    title="A test queried while an event was still buffered",
    severity=Severity.HIGH,
    requires=("ginkgo",),
    check=check,
    doc=__doc__ or "",
)
