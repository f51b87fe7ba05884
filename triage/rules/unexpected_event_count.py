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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from triage.facts.analysis import Analysis
from triage.facts.audit_pipeline import UNFRAMED
from triage.rules._queries import flush_prints, query_prints
from triage.rules._store import ds_skew
from triage.rules._stuck import stuck_writer
from triage.rules._unlogged import emitted_before, stall_over
from triage.rules.base import Evidence, Finding, Rule, Severity, quote
from triage.table.exprs import matches
from triage.table.vocabulary import FAILED_STATES, FLUSH_TIMED_OUT, TIMER_BUG

COUNT_MISMATCH = re.compile(r"Expected\s*\n\s*<int>: (-?\d+)\s*\n\s*to equal\s*\n\s*<int>: (-?\d+)")
# `Eventually(func() bool { return len(events) > 0 }).Should(BeTrue())`: at least one awaited.
ANY_FOUND = re.compile(
    r"Timed out after [^\n]*\n(?:.*\n)*?\s*Expected\s*\n\s*<bool>: false\s*\n\s*to be true"
)
# `Expect(found).To(BeTrue(), "MUST emit error event")` evaluated once, on the last query's answer.
ONE_SHOT_TRUE = re.compile(r"Expected\s*\n\s*<bool>: false\s*\n\s*to be true")
HAVE_LENGTH = re.compile(
    r"Expected\s*\n\s*<[^>\n]*\blen:(\d+)[^>\n]*>:.*?\n\s*to have length (\d+)", re.DOTALL
)
AUDIT_WORDS = re.compile(r"(?i)\baudit\b|\bevents?\b|\bevent\(s\)")
EVENT_TYPE = re.compile(r"\b[a-z][a-z_]*(?:\.[a-z][a-z_]*){2,3}\b")  # an audit event type
PHASE_LINE = r"^Processing (\w+) phase$"
TRANSITION = "signalprocessing.phase.transition"
MAX_EVIDENCE = 8
NEVER_EMITTED = "were never emitted"  # a summary that rules out late or lost events
UNDECIDED = "observed: only the count"  # ends a summary whose logs cannot tell why the count differs
TIMED_OUT = re.compile(r"Timed out after (\d+(?:\.\d+)?)s")
# After a logged slow write: the next write (up to the 2 s a write may take unlogged), a flush
# interval (1 s by default) and the store line's one-second time precision.
SLOW_RECOVERY = timedelta(seconds=4)


@dataclass(frozen=True)
class Mismatch:
    """A failed exact-count assertion and the query print that produced the count.

    Attributes:
        failure: the failure record (file, line, spec_index, attrs, n_lines).
        found: the count the spec got.
        expected: the count it wanted.
        query: the query print whose count matches `found`, None when no print matched.
        last: the last query print before the failure in the spec's timeline, None when none.
    """

    failure: dict[str, Any]
    found: int
    expected: int
    query: dict[str, Any] | None
    last: dict[str, Any] | None = None
    at_least: bool = False


def _mismatches(analysis: Analysis) -> list[Mismatch]:
    events = analysis.events
    # Cheap columns first: a predicate is computed for every row it is given, and few are failures.
    failures = (
        analysis.attrs.attach(
            events.filter((pl.col("source_kind") == "ginkgo") & (pl.col("record") == "failure"))
        )
        .with_columns(pl.col("spec_index").fill_null(UNFRAMED))  # an assertion printed outside any spec
        .filter(
            (pl.col("attrs").str.json_path_match("$.marker") == "false")
            & pl.col("attrs").str.json_path_match("$.state").is_in(list(FAILED_STATES))
            & pl.col("attrs").str.contains("to equal|to have length|to be true")
        )
        .sort("file", "line")
    )
    if failures.is_empty():
        return []
    queries = query_prints(analysis).filter(pl.col("count").is_not_null())
    found: list[Mismatch] = []
    for row in failures.iter_rows(named=True):
        text = str(json.loads(row["attrs"]).get("text") or "")
        before = queries.filter(
            (pl.col("file") == row["file"])
            & (pl.col("spec_index") == row["spec_index"])
            & (pl.col("line") < row["line"])
        )
        match = COUNT_MISMATCH.search(text) or HAVE_LENGTH.search(text)
        if match is not None:
            got, want = int(match.group(1)), int(match.group(2))
        elif (ANY_FOUND.search(text) or ("Timed out" not in text and ONE_SHOT_TRUE.search(text))) and (
            _awaited_none(before)
        ):
            got, want = 0, 1  # it waited for (or checked once) any event and its last query found none
        elif (
            ANY_FOUND.search(text)
            and _names_type(text)
            and before.get_column("correlation_id").is_null().all()
        ):
            got, want = 0, 1  # it waited in vain for the type its message names, its queries printing nothing
        else:
            continue
        prints = before.filter(pl.col("count") == got)
        query = prints.row(-1, named=True) if prints.height else None
        last = before.filter(pl.col("correlation_id").is_not_null())
        found.append(
            Mismatch(row, got, want, query, last.row(-1, named=True) if last.height else None, match is None)
        )
    return found


def _names_type(text: str) -> bool:
    """True when a failure's own message (before Gomega's `Expected`) names an audit event type."""
    return EVENT_TYPE.search(text.split("Expected", 1)[0]) is not None


def _awaited_none(prints: pl.DataFrame) -> bool:
    """True when the spec printed queries for one correlation ID and the last of them found no event."""
    named = prints.filter(pl.col("correlation_id").is_not_null())
    return named.height > 0 and named.get_column("correlation_id").n_unique() == 1 and named["count"][-1] == 0


def _failure_lines(failure: dict[str, Any]) -> list[Evidence]:
    """The failure record's lines that carry the message and the two numbers."""
    text = str(json.loads(failure["attrs"]).get("text") or "")
    parts = text.split("\n")
    first = quote(failure["file"], failure["line"])
    if len(parts) != int(failure["n_lines"]):  # cannot map text lines to file lines safely
        return [first]
    numbers = ("<int>:", "<bool>:", "to have length", "to be true")
    wanted = [
        i for i, part in enumerate(parts) if i > 0 and (part.strip().startswith(numbers) or " len:" in part)
    ]
    return [first, *(quote(failure["file"], failure["line"] + i, parts[i]) for i in wanted)]


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
    if m.found > m.expected and event_type == TRANSITION:
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
    if m.found < m.expected and buffered.height < m.expected and _store_logged(analysis, m):
        return (
            f"the store buffered only {buffered.height} {what} event(s) for it, so "
            f"{m.expected - buffered.height} {NEVER_EMITTED}",
            list(buffered.tail(2).iter_rows(named=True)),
        )
    text = str(json.loads(m.failure["attrs"]).get("text") or "")
    alive = _writer_alive(analysis, m, text)
    if m.found < m.expected and not _store_logged(analysis, m) and alive and not _stalled(analysis, m, text):
        return (
            f"{alive} and the spec's timeline shows no store fault, so an event buffered before it counted "
            f"would have been written and found: the missing one(s) {NEVER_EMITTED} (inferred; the store's "
            "buffered lines, which would show it, are below Info in this log format)",
            [],
        )
    if not _store_logged(analysis, m):
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


def _store_logged(analysis: Analysis, m: Mismatch) -> bool:
    """True when the spec's timeline holds any audit-store line (buffered or tick) before the failure."""
    f = m.failure
    where = (pl.col("file") == f["file"]) & (pl.col("spec_index") == f["spec_index"])
    pipe = analysis.pipeline
    return bool(pipe.buffered.filter(where).height or pipe.ticks.filter(where).height)


def _wait_writes(analysis: Analysis, m: Mismatch, text: str) -> tuple[int, int] | None:
    """DataStorage's batch writes while a timed-out `Eventually` waited: in all, and in its second half.

    None when the spec did not time out, its failure has no time, or DataStorage's log is absent.
    """
    waited = TIMED_OUT.search(text)
    at = m.failure.get("ts")
    if (
        waited is None
        or not isinstance(at, datetime)
        or not analysis.events.filter(pl.col("service") == "datastorage").height
    ):
        return None
    writes = analysis.pipeline.writes
    skew = ds_skew(analysis)
    span = timedelta(seconds=float(waited.group(1)))
    start, middle = at - span + skew, at - span / 2 + skew
    return (
        writes.filter(pl.col("ts").is_between(start, at + skew)).height,
        writes.filter(pl.col("ts").is_between(middle, at + skew)).height,
    )


def _step_logged(analysis: Analysis, m: Mismatch, event_type: str | None) -> bool:
    """True when the spec's lines show the awaited type possibly emitted and unwritten at the last query."""
    if event_type is None or m.last is None:
        return False
    f = m.failure
    return emitted_before(analysis, str(f["file"]), int(f["spec_index"]), int(m.last["line"]), event_type)


def _writer_alive(analysis: Analysis, m: Mismatch, text: str) -> str:
    """What shows the store's writer working while a timed-out `Eventually` waited, "" when nothing does.

    A `✅ Audit store flushed successfully` print in the spec before the failure: the writer took the
    Flush() and returned, writing everything buffered before it; this holds for an assertion checked
    once too. Else DataStorage's batch writes in the second half of the wait.
    """
    one_shot = m.at_least and TIMED_OUT.search(text) is None
    if TIMED_OUT.search(text) is None and not one_shot:
        return ""
    f = m.failure
    flushed = flush_prints(analysis).filter(
        (pl.col("file") == f["file"])
        & (pl.col("spec_index") == f["spec_index"])
        & (pl.col("line") < f["line"])
    )
    if flushed.height:
        waited = "checked" if one_shot else "waited"
        return f"the spec's Flush() returned successfully (line {flushed['line'][-1]}) before it {waited}"
    writes = _wait_writes(analysis, m, text)
    if writes is not None and writes[1]:
        return f"DataStorage committed {writes[1]} batch write(s) in the second half of the wait"
    return ""


def _stalled(analysis: Analysis, m: Mismatch, text: str) -> bool:
    """True when a store's flush timer stalled in the second half of a timed-out wait, or its time is unknown.

    A `TIMER BUG DETECTED` line is logged when a stall ends, `actual_interval` after it began; a stall
    still on when the spec failed is logged later, so any stall that ended after the wait's middle counts.
    """
    waited = TIMED_OUT.search(text)
    at = m.failure.get("ts")
    stalls = analysis.pipeline.store_errors.filter(pl.col("msg_key").str.starts_with(TIMER_BUG))
    if waited is None or not isinstance(at, datetime) or stalls.is_empty():
        return not stalls.is_empty()
    middle = at - timedelta(seconds=float(waited.group(1)) / 2)
    held = pl.col("attrs").str.json_path_match("$.actual_interval").cast(pl.Float64, strict=False)
    began = pl.col("ts") - pl.duration(microseconds=(held.fill_null(0.0) * 1e6).cast(pl.Int64))
    return bool(stalls.filter(pl.col("ts").is_null() | ((pl.col("ts") >= middle) & (began <= at))).height)


def _writes_stopped(analysis: Analysis, m: Mismatch, text: str) -> bool:
    """True when DataStorage logged no batch write while a timed-out `Eventually` waited (its log present)
    and the run shows a writer stuck (a Flush() or Close() timed out after DataStorage's last write).

    A query sees an event only after its batch committed: with no commit at all during the wait, the
    count says nothing about what was emitted, unless the writer was moving. A writer that is not
    stuck hands every buffered event over at the next tick; a stall, a slow or failed write, or a
    refused one logs a line of its own (weighed apart), so with none of them and no stuck writer, no
    write during the whole wait means there was nothing buffered to write.
    """
    writes = _wait_writes(analysis, m, text)
    return writes is not None and writes[0] == 0 and stuck_writer(analysis) is not None


def _still_arriving(analysis: Analysis, m: Mismatch, cid: str, event_type: str | None) -> bool:
    """True when the spec's queries for the ID found more events as it waited: they were arriving late."""
    f = m.failure
    prints = query_prints(analysis).filter(
        (pl.col("file") == f["file"])
        & (pl.col("spec_index") == f["spec_index"])
        & (pl.col("correlation_id") == cid)
        & pl.col("count").is_not_null()
    )
    if event_type is not None:
        prints = prints.filter(pl.col("event_type") == event_type)
    counts = prints.get_column("count").to_list()
    return len(counts) > 1 and max(counts) > min(counts)


def _pipeline_failed(analysis: Analysis, m: Mismatch) -> bool:
    """True when the spec's timeline shows its store failing or dropping a batch, or a Flush() timing out."""
    f = m.failure
    before = (
        (pl.col("file") == f["file"])
        & (pl.col("spec_index") == f["spec_index"])
        & (pl.col("line") < f["line"])
    )
    errors = analysis.pipeline.store_errors.filter(before)
    if errors.filter(pl.col("msg_key").str.contains("(?i)drop|failed to write|data loss")).height:
        return True
    if _slow_until(errors, f.get("ts")):
        return True
    prints = analysis.events.filter(before & pl.col("record").is_in(["helper", "output"]))
    return bool(prints.get_column("message").cast(pl.String).str.contains(FLUSH_TIMED_OUT).any())


def _slow_until(errors: pl.DataFrame, at: Any) -> bool:
    """True when a slow batch write the store logged could still hold events back when the spec failed.

    The store logs a slow write when it returns, and writes the next batch (everything buffered
    meanwhile) right after: once that next write had time to finish (a write not slow enough to be
    logged, a flush interval, the line's one-second time precision), the delay was over.
    """
    slow = errors.filter(pl.col("msg_key").str.contains("(?i)slow audit batch write"))
    times = slow.get_column("ts").drop_nulls()
    if not isinstance(at, datetime) or times.len() < slow.height:  # a line without a time: assume late
        return slow.height > 0
    return bool(times.len()) and at - times.max() <= SLOW_RECOVERY  # type: ignore[operator]


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
        or _pipeline_failed(analysis, m)
        or _writes_stopped(analysis, m, text)
        or _still_arriving(analysis, m, cid, event_type)
        # A stalled flush timer held back what was buffered; the store's buffered lines, if logged, tell.
        or (
            m.query is not None
            and not _store_logged(analysis, m)
            and stall_over(analysis, m.query) is not None
        )
    )
    if "Timed out" in text and m.found < m.expected and lost:
        return None
    store_lines = _store_logged(analysis, m)  # the buffered lines tell; else the controller's lines may
    if (
        m.at_least
        and "Timed out" not in text
        and (lost or (not store_lines and _step_logged(analysis, m, event_type)))
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
        if _store_logged(analysis, m)
        else "no buffered line was logged"
    )
    wanted = f"at least {m.expected}" if m.at_least else str(m.expected)
    summary = (
        f"The spec expected {wanted} {what} event(s) for correlation_id={cid}; {seen}{waited} "
        f"({diff} {'extra' if m.found > m.expected else 'missing'}) and {logged}: {why}."
    )
    shown = sorted(rows + ([q] if q is not None else []), key=lambda r: (str(r["file"]), int(r["line"])))
    evidence = [quote(r["file"], r["line"]) for r in shown]
    tail = _failure_lines(m.failure)
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
    lost = _pipeline_failed(analysis, m) or _writes_stopped(analysis, m, text)
    if "Timed out" in text and m.found < m.expected and lost:
        return None  # lost on the way: the loss rules' matter
    what = kind.group(0) if kind else "audit"
    waited = " after its Eventually timed out" if "Timed out" in text else ""
    diff = abs(m.found - m.expected)
    side = "extra" if m.found > m.expected else "missing"
    logged = "its timeline holds no audit-store line" if not _store_logged(analysis, m) else "no store line"
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
    return Finding(RULE.id, Severity.HIGH, summary, None, tuple(_failure_lines(m.failure)))


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
    for m in _mismatches(analysis):
        finding = _finding(analysis, m)
        if finding is not None:
            yield finding


RULE = Rule(
    id="unexpected-event-count",
    title="A spec saw a different number of events than it expected",
    severity=Severity.HIGH,
    requires=("ginkgo",),
    check=check,
    doc=__doc__ or "",
)
