"""A spec saw a different number of events than it expected.

## What it detects
A spec that failed an exact-count assertion on audit events, wherever Gomega printed it: e.g.
`Expected <int>: 5 to equal <int>: 4` under `MUST emit exactly 4 phase transitions`, or `to have
length 4` on a list of events, also when an `Eventually` compared it until it timed out, and a
timed-out wait for any event (`Expected <bool>: false to be true`) whose queries for one correlation
ID found none to the end, or whose message names the awaited type while its queries printed no
correlation ID (then the finding has none either); but not when the store had buffered every
awaited event or failed a write meanwhile, or a slow write it logged or a flush-timer stall could
still hold events back when the spec gave up (then they were late or lost, which
`flush-query-race`, `timer-stall`, `dropped-events` and `write-rate-gap` explain). The finding ties
the numbers to the logs: the query print `✅ Found 5 event(s) for <type>
(correlation_id=X)` (or the one correlation ID the spec owns), the `✅ Event buffered successfully`
lines the store logged for X, and says what explains the difference:

* events emitted twice in the spec (for phase transitions, the controller's `Processing <Phase>
  phase` lines show the phase processed twice);
* a correlation ID that other specs used too: their events are counted in;
* events missing (never buffered) or late (buffered, not yet written when the spec counted);
* without the store's buffered lines, events never emitted (inferred) when DataStorage kept committing
  batches through the second half of a timed-out wait and no flush timer stalled then: anything
  buffered before the wait would have been written and found;
* when the store's lines are below Info, that the logs cannot tell these apart, and what they do show.

## Why it matters
The store wrote what the controller emitted; the count is wrong at the source. A duplicated
transition usually means a reconcile ran the same phase twice (a status update that did not stick,
or a requeue that re-entered the phase), so an audit consumer sees a phase change that never happened.
A missing one means a phase was skipped or its audit call failed.

## How to fix
Make each audited change emit its event once, under a correlation ID no other spec uses; the finding
says which failed. Events emitted twice: make the status update and the audit call happen once per
real transition (emit the audit event only after the status update succeeded, or guard it with the
observed generation / previous phase). A correlation ID other specs used too: give each spec its own
ID, so their events are not counted in. Missing or late events: see `flush-query-race`,
`dropped-events` and `write-rate-gap`, and count inside an `Eventually` after `Flush()`. If the test's
expectation is what changed, update the expected count together with the list in the assertion
message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import polars as pl

from triage.facts.analysis import Analysis, per_analysis
from triage.rules._assertions import (
    EVENT_TYPE,
    Mismatch,
    failure_lines,
    read_mismatches,
)
from triage.rules._count_wait import (
    pipeline_failed,
    stalled,
    step_logged,
    still_arriving,
    store_logged,
    writer_alive,
    writes_stopped,
)
from triage.rules._unlogged import stall_over
from triage.rules.base import Finding, Rule, Severity, quote
from triage.table.exprs import matches

AUDIT_WORDS = re.compile(r"(?i)\baudit\b|\bevents?\b|\bevent\(s\)")
PHASE_LINE = r"^Processing (\w+) phase$"
# A phase-change event of any service (`signalprocessing.phase.transition`,
# `orchestrator.lifecycle.transitioned`).
TRANSITION = re.compile(r"\.transition(?:ed)?$")
MAX_EVIDENCE = 8
NEVER_EMITTED = "were never emitted"  # a summary that rules out late or lost events
UNDECIDED = "observed: only the count"  # ends a summary whose logs cannot tell why the count differs
TIMED_OUT = re.compile(r"Timed out after (\d+(?:\.\d+)?)s")
# After a logged slow write: the next write (up to the 2 s a write may take unlogged), a flush
# interval (1 s by default) and the store line's one-second time precision.
SLOW_RECOVERY = timedelta(seconds=4)


def _buffered(analysis: Analysis, m: Mismatch, cid: str, event_type: str | None) -> pl.DataFrame:
    f = m.failure
    rows = analysis.pipeline.buffered.filter(
        (pl.col("file") == f["file"])
        & (pl.col("spec_index") == f["spec_index"])
        & (pl.col("correlation_id") == cid)
        & (pl.col("line") < f["line"])
    )
    if event_type is not None:
        rows = rows.filter(pl.col("event_type") == event_type)
    return rows.sort("line")


def _phases(analysis: Analysis, m: Mismatch, transitions: pl.DataFrame) -> pl.DataFrame:
    """Each buffered transition with the controller's `Processing <Phase> phase` line before it."""
    f = m.failure
    processing = analysis.events.filter(
        (pl.col("file") == f["file"])
        & (pl.col("spec_index") == f["spec_index"])
        & (pl.col("record") == "log")
        & matches(analysis.events, "msg_key", PHASE_LINE)
    ).select(
        pl.col("line").alias("p_line"),
        pl.col("msg_key").cast(pl.String).str.extract(PHASE_LINE, 1).alias("phase"),
    )
    if processing.is_empty() or transitions.is_empty():
        return pl.DataFrame()
    return (
        transitions.select("file", "line", "ts")
        .sort("line")
        .join_asof(
            processing.sort("p_line"),
            left_on="line",
            right_on="p_line",
            strategy="backward",
            check_sortedness=False,  # both sides sorted by line above
        )
        .drop_nulls("phase")
    )


def _explain(
    analysis: Analysis, m: Mismatch, cid: str, event_type: str | None
) -> tuple[str, list[dict[str, Any]]]:
    """Name the extra or missing events, with the lines that show them."""
    buffered = _buffered(analysis, m, cid, event_type)
    what = event_type or "audit"
    if m.found > m.expected and event_type is not None and TRANSITION.search(event_type):
        phases = _phases(analysis, m, buffered)
        if not phases.is_empty():
            counts = phases.group_by("phase").agg(pl.len().alias("n"), pl.col("line").min().alias("first"))
            twice = counts.filter(pl.col("n") > 1).sort("first")
            if twice.height:
                extra = phases.filter(pl.col("phase").is_in(twice["phase"].implode())).sort("line")
                repeats = extra.filter(pl.col("line") > pl.col("line").min().over("phase"))
                passes = "; ".join(
                    f"`Processing {phase} phase` {n} times (lines "
                    + ", ".join(str(v) for v in extra.filter(pl.col("phase") == phase)["p_line"].to_list())
                    + ")"
                    for phase, n in zip(twice["phase"], twice["n"], strict=True)
                )
                rows = [
                    *({"file": r["file"], "line": r["p_line"]} for r in extra.iter_rows(named=True)),
                    *repeats.iter_rows(named=True),
                ]
                lines = ", ".join(str(v) for v in repeats["line"].to_list())
                text = (
                    f"the controller logged {passes} and each pass buffered a transition; "
                    f"the extra transition is the one buffered at line {lines}"
                )
                return text, rows
    if m.found > m.expected and buffered.height > m.expected:
        extra = buffered.tail(buffered.height - m.expected)
        lines = ", ".join(str(v) for v in extra["line"].to_list())
        return f"the {what} event(s) beyond the expected {m.expected} were buffered at line(s) {lines}", list(
            extra.iter_rows(named=True)
        )
    shared = _shared(analysis, m, cid)
    if m.found > m.expected and shared.height:
        names = sorted({str(n) for n in shared["spec"].drop_nulls().to_list()})
        lines = ", ".join(f"{r['file']}:{r['line']}" for r in shared.head(3).iter_rows(named=True))
        return (
            f"correlation_id={cid} was used by {len(names) or 'another'} other spec(s) too "
            f"({'; '.join(names[:2]) or 'unnamed blocks'}; e.g. {lines}): their events share the ID and are "
            "counted in (inferred from the shared ID)",
            list(shared.head(2).iter_rows(named=True)),
        )
    if m.found < m.expected and event_type is not None and buffered.height >= m.expected:
        unwritten = buffered.filter(pl.col("written_at").is_null())
        return (
            f"all {m.expected} were buffered before it counted, so the missing ones were late, not absent: "
            f"{unwritten.height} of them show no linked DataStorage write (a buffered event is queryable "
            "only once its batch is written)",
            list(buffered.tail(2).iter_rows(named=True)),
        )
    if m.found < m.expected and buffered.height < m.expected and store_logged(analysis, m):
        return (
            f"the store buffered only {buffered.height} {what} event(s) for it, so "
            f"{m.expected - buffered.height} {NEVER_EMITTED}",
            list(buffered.tail(2).iter_rows(named=True)),
        )
    text = str(json.loads(m.failure["attrs"]).get("text") or "")
    alive = writer_alive(analysis, m, text)
    if m.found < m.expected and not store_logged(analysis, m) and alive and not stalled(analysis, m, text):
        return (
            f"{alive} and the spec's timeline shows no store fault, so an event buffered before it counted "
            f"would have been written and found: the missing one(s) {NEVER_EMITTED} (inferred; the store's "
            "buffered lines, which would show it, are below Info in this log format)",
            [],
        )
    if not store_logged(analysis, m):
        side = "fewer" if m.found < m.expected else "more"
        other = "late" if side == "fewer" else "counted twice"
        return (
            "its timeline holds no audit-store line (below Info in this log format), so the logs cannot "
            f"tell whether {side} events were emitted or they were {other}; {UNDECIDED}",
            [],
        )
    return f"the store buffered {buffered.height} {what} event(s) for it", list(
        buffered.tail(2).iter_rows(named=True)
    )


def _shared(analysis: Analysis, m: Mismatch, cid: str) -> pl.DataFrame:
    """Lines of other spec blocks that buffered or queried the same correlation ID."""
    f = m.failure
    other = (pl.col("correlation_id") == cid) & ~(
        (pl.col("file") == f["file"]) & (pl.col("spec_index") == f["spec_index"])
    )
    columns = ["file", "line", "spec", "spec_index"]
    buffered = analysis.pipeline.buffered.filter(other & pl.col("spec_index").is_not_null()).select(columns)
    queried = analysis.pipeline.queries.filter(other & pl.col("spec_index").is_not_null()).select(columns)
    return pl.concat([buffered, queried.cast(buffered.schema)]).unique(["file", "line"]).sort("file", "line")


def _block_cid(analysis: Analysis, m: Mismatch) -> str | None:
    """The one correlation ID the spec's timeline buffered, else the one its last query print named."""
    f = m.failure
    ids = (
        analysis.pipeline.buffered.filter(
            (pl.col("file") == f["file"]) & (pl.col("spec_index") == f["spec_index"])
        )["correlation_id"]
        .drop_nulls()
        .unique()
        .sort()
        .to_list()
    )
    if len(ids) == 1:
        return str(ids[0])
    return None if m.last is None else str(m.last["correlation_id"])


def _finding(analysis: Analysis, m: Mismatch) -> Finding | None:
    q = m.query
    cid = q["correlation_id"] if q is not None else _block_cid(analysis, m)
    if cid is None:
        return _anonymous(analysis, m)
    event_type = q["event_type"] if q is not None else (m.last["event_type"] if m.last is not None else None)
    buffered = _buffered(analysis, m, cid, event_type)
    text = str(json.loads(m.failure["attrs"]).get("text") or "")
    # The awaited events were buffered, or batches failed meanwhile: late or lost, the race and loss rules'.
    lost = (
        buffered.height >= m.expected
        or pipeline_failed(analysis, m)
        or writes_stopped(analysis, m, text)
        or still_arriving(analysis, m, cid, event_type)
        # A stalled flush timer held back what was buffered; the store's buffered lines, if logged, tell.
        or (
            m.query is not None
            and not store_logged(analysis, m)
            and stall_over(analysis, m.query) is not None
        )
    )
    if "Timed out" in text and m.found < m.expected and lost:
        return None
    store_lines = store_logged(analysis, m)  # the buffered lines tell; else the controller's lines may
    if (
        m.at_least
        and "Timed out" not in text
        and (lost or (not store_lines and step_logged(analysis, m, event_type)))
    ):
        return None  # checked once: buffered or emitted before the query, so late (the race rule's) or lost
    why, rows = _explain(analysis, m, cid, event_type)
    if m.at_least and UNDECIDED in why:
        return None  # a wait for any event that found none, and nothing tells absent from late
    what = event_type or "audit"
    seen = f"its query found {m.found}" if q is not None else f"it counted {m.found}"
    diff = abs(m.found - m.expected)
    waited = " after its Eventually timed out" if "Timed out" in text else ""
    logged = (
        f"{buffered.height} were buffered before the failure"
        if store_logged(analysis, m)
        else "no buffered line was logged"
    )
    wanted = f"at least {m.expected}" if m.at_least else str(m.expected)
    summary = (
        f"The spec expected {wanted} {what} event(s) for correlation_id={cid}; {seen}{waited} "
        f"({diff} {'extra' if m.found > m.expected else 'missing'}) and {logged}: {why}."
    )
    shown = sorted(rows + ([q] if q is not None else []), key=lambda r: (str(r["file"]), int(r["line"])))
    evidence = [quote(r["file"], r["line"]) for r in shown]
    tail = failure_lines(m.failure)
    evidence = evidence[: MAX_EVIDENCE - len(tail)] + tail
    unique = tuple(dict.fromkeys(evidence))
    return Finding(rule=RULE.id, severity=Severity.HIGH, summary=summary, correlation_id=cid, evidence=unique)


def _anonymous(analysis: Analysis, m: Mismatch) -> Finding | None:
    """A count of audit events whose correlation ID no line of the spec prints: the numbers and the unknowns.

    Only an assertion whose own message speaks of events or names an event type (`should record
    exactly 2 notification.message.sent event(s)`) is taken for an audit count.
    """
    text = str(json.loads(m.failure["attrs"]).get("text") or "")
    message = text.split("Expected", 1)[0]
    kind = EVENT_TYPE.search(message)
    if not AUDIT_WORDS.search(message) and kind is None:
        return None
    lost = pipeline_failed(analysis, m) or writes_stopped(analysis, m, text)
    if "Timed out" in text and m.found < m.expected and lost:
        return None  # lost on the way: the loss rules' matter
    what = kind.group(0) if kind else "audit"
    waited = " after its Eventually timed out" if "Timed out" in text else ""
    diff = abs(m.found - m.expected)
    side = "extra" if m.found > m.expected else "missing"
    logged = "its timeline holds no audit-store line" if not store_logged(analysis, m) else "no store line"
    unknown = (
        "events emitted twice from events of another spec sharing the ID"
        if side == "extra"
        else "events never emitted from events still on their way"
    )
    summary = (
        f"The spec expected {'at least ' if m.at_least else ''}{m.expected} {what} event(s) and counted "
        f"{m.found}{waited} ({diff} {side}); "
        f"no line of the spec names the correlation ID it counted and {logged} for it, so the logs cannot "
        f"tell {unknown}; {UNDECIDED}."
    )
    return Finding(RULE.id, Severity.HIGH, summary, None, tuple(failure_lines(m.failure)))


def undecided(finding: Finding) -> bool:
    """Whether a finding of this rule leaves open why the count differs (only the numbers are observed).

    Args:
        finding: a finding of any rule.

    Returns:
        True for a count finding whose logs cannot tell missing from late or extra from shared events.
    """
    return finding.rule == RULE.id and UNDECIDED in finding.summary


def never_emitted(finding: Finding) -> bool:
    """Whether a finding of this rule found the missing events never emitted (not late, not lost).

    Args:
        finding: a finding of any rule.

    Returns:
        True for a count finding whose logs rule out late or lost events.
    """
    return finding.rule == RULE.id and NEVER_EMITTED in finding.summary


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report each spec that failed an exact event-count assertion, naming the extra or missing events.

    Args:
        analysis: the analysed bundle.

    Returns:
        One finding per failed count assertion whose correlation ID is known.
    """
    return iter(_findings(analysis))


@per_analysis
def _findings(analysis: Analysis) -> tuple[Finding, ...]:
    """The rule's findings, worked out once: flush-query-race reads them too."""
    found = (_finding(analysis, m) for m in read_mismatches(analysis))
    return tuple(f for f in found if f is not None)


RULE = Rule(
    id="unexpected-event-count",
    title="A spec saw a different number of events than it expected",
    severity=Severity.HIGH,
    requires=("ginkgo",),
    check=check,
    doc=__doc__ or "",
)
