"""Audit events or batches the store threw away.

## What it detects
* `Dropping audit batch due to non-retryable error (invalid data)` (`is_4xx_error:true`): DataStorage
  answered 4xx and the store dropped the batch without retrying. The DataStorage side
  (`Request validation failed` and a 400 `HTTP request` for `/api/v1/audit/events/batch`) is linked
  to the drop by time once the clock offset is removed; DataStorage logs no correlation ID, so the
  link is inferred and said so.
* `AUDIT DATA LOSS: Dropping batch after max retries (infrastructure unavailable)`: three attempts
  failed (connection refused, EOF, 5xx) and the batch was dropped.
* `Audit buffer full, event dropped`: the channel was full and StoreAudit gave the event up.
* DataStorage 400s on the batch endpoint whose drop lines fell outside the captured timelines.
* Process 1's `Audit store closed` counters with `dropped_count` or `failed_batch_count` above 0.
* A batch whose third and last attempt failed with no drop line after it: the store drops it then,
  so it is lost (inferred).

Where the test log kept the lines, the events of each dropped batch are named from the buffered
lines before it. DataStorage `Batch database write failed` (500) is retried by the store and only
noted at info level.

Reported at info, because they are expected rather than faults:
* a loss the table of expected errors (`triage/expected.toml`) describes, in a spec that passed,
  e.g. a spec that points its store at an unreachable `localhost:9999` on purpose;
* a loss at teardown (in an `AfterSuite` block, or outside any spec block) because DataStorage
  refused connections, while no failed spec was running and no inspected DataStorage container had
  died (OOM-killed or a failure exit code): the containers are stopped after the specs, and a store
  still flushing then loses its last batch.
A rejected (4xx) batch, a full buffer, and any loss while a failed spec was running stay high.

## Why it matters
A dropped batch is gone: no retry, no dead-letter queue on the batch endpoint. Queries for those
events wait until they time out, and audit completeness is broken.

## How to fix
For 400s, read the `Request validation failed` error: the events do not match DataStorage's
OpenAPI schema (e.g. a severity outside the enum); fix the producer or the schema so both agree.
For retries exhausted, find out why DataStorage was unreachable (`container-unhealthy`). For a full
buffer, raise the store's BufferSize or find what stalls its writer (`timer-stall`, `slow-write`).
An expected loss needs no fix (`triage/expected.toml` lists those provoked on purpose).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import cached_property

import polars as pl

from triage.facts.analysis import Analysis
from triage.facts.audit_pipeline import UNFRAMED
from triage.facts.expected import SpecWindow, first_match, for_kinds, judge, spec_windows
from triage.rules._rejections import Rejection, Rejections, find_rejections, link
from triage.rules._retries import MAX_ATTEMPTS, reason
from triage.rules._store import (
    Write,
    closing_counters,
    evidence,
    replay,
    seconds,
    spec_label,
    spec_states,
    store_activities,
    store_label,
)
from triage.rules.base import Finding, Rule, Severity
from triage.rules.wording import plural, when
from triage.table.exprs import attr
from triage.table.rows import as_int
from triage.table.vocabulary import (
    BUFFER_FULL,
    DB_WRITE_FAILED,
    DROP_4XX,
    DROP_4XX_LATER,
    DROP_RETRIES,
    FAILED_WRITE,
)

RULE_ID = "dropped-events"
SKEW_NOTE_NS = 50_000_000  # below this the two clocks agree within a log line's precision
TEARDOWN = re.compile(r"^\[(?:Synchronized|Report)?AfterSuite\]")
REJECTED = "rejected with a non-retryable 4xx (invalid data)"
# The source kinds that hold the test process's store lines.
STORE_KINDS = ("ginkgo", "zap_json", "zap_console")
# Exit codes of a container that was stopped rather than died: 0, or 143 after podman's SIGTERM.
STOPPED_CODES = (0, 143)


def check(analysis: Analysis) -> Iterator[Finding]:
    """Find dropped batches and events.

    Args:
        analysis: the analysed bundle.

    Yields:
        One finding per timeline and cause, one for DataStorage rejections no drop line explains,
        one for process 1's counters, and an info note for retried 500s.
    """
    rejections = find_rejections(analysis)
    linked: set[tuple[str, int]] = set()
    context = _Context(analysis)
    timelines = _timelines_with_drops(analysis)
    activities = store_activities(analysis, timelines)
    for timeline in timelines:
        yield from _timeline_drops(analysis, timeline, activities[timeline], rejections, linked, context)
    yield from _buffer_full(analysis)
    unlinked = [r for r in rejections.items if (str(r.http["file"]), as_int(r.http["line"])) not in linked]
    if unlinked:
        yield _unlinked(unlinked)
    yield from _counters(analysis, context)
    yield from _db_failures(analysis)


def _timelines_with_drops(analysis: Analysis) -> list[tuple[str, int | None]]:
    """Timelines (and, per test log, the store lines outside any block) with a drop or a last attempt."""
    errors = analysis.pipeline.store_errors
    drops = errors.filter(
        pl.col("msg_key").is_in([DROP_4XX, DROP_4XX_LATER, DROP_RETRIES])
        | ((pl.col("msg_key") == FAILED_WRITE) & (attr("attempt", pl.Int64()) >= MAX_ATTEMPTS))
    )
    found = {
        (str(f), None if i is None else int(i)) for f, i in drops.select("file", "spec_index").iter_rows()
    }
    return sorted(found, key=lambda t: (t[0], -1 if t[1] is None else t[1]))


class _Context:
    """What deciding whether a loss is expected reads, worked out once per run when first needed."""

    def __init__(self, analysis: Analysis) -> None:
        self._analysis = analysis
        self.expected_batches = 0  # lost batches judged expected, and the others, as they are found
        self.other_batches = 0

    @cached_property
    def windows(self) -> tuple[SpecWindow, ...]:
        """The run's spec windows."""
        return spec_windows(self._analysis.events, spec_states(self._analysis))

    @cached_property
    def datastorage_crashed(self) -> bool:
        """True when an inspected DataStorage container had died: OOM-killed or exited with a failure code."""
        return any(
            c.service == "datastorage"
            and (c.running is False or (c.status or "running") != "running")
            and (bool(c.oom_killed) or c.exit_code not in STOPPED_CODES)
            for c in self._analysis.containers
        )


def _timeline_drops(
    analysis: Analysis,
    timeline: tuple[str, int | None],
    activity: pl.DataFrame,
    rejections: Rejections,
    linked: set[tuple[str, int]],
    context: _Context,
) -> Iterator[Finding]:
    spec_index = timeline[1]
    end = replay(activity)
    drops_seen = list(end.dropped)
    if end.exhausted is not None and end.exhausted.failure is not None:
        drops_seen.append((end.exhausted, end.exhausted.failure))
    by_cause: dict[tuple[str, Severity, str], list[tuple[Write, Mapping[str, object]]]] = {}
    for write, row in drops_seen:
        text = analysis.texts.text(str(row["file"]), as_int(row["line"]))
        cause = _cause(row, text, write)
        severity, note = _weigh(analysis, context, cause, write, row)
        by_cause.setdefault((cause, severity, note), []).append((write, row))
    framed = spec_index not in (None, UNFRAMED)
    where = store_label(analysis, spec_index) if framed else "a store outside any spec block"
    for (_, severity, _), drops in by_cause.items():
        if severity == Severity.INFO:
            context.expected_batches += len(drops)
        else:
            context.other_batches += len(drops)
    for (cause, severity, note), drops in sorted(
        by_cause.items(), key=lambda item: (item[0][0], -item[0][1])
    ):
        sizes = [as_int(row["batch_size"], 0) for _, row in drops]
        rows: list[Mapping[str, object]] = []
        links: list[str] = []
        cids: set[str] = set()
        for write, row in drops:
            rows.append(row)
            if write.failure is not None:
                rows.append(write.failure)
            if row["kind"] == "failed":  # no drop line: the earlier attempts show the batch failing
                rows.extend(_earlier_attempts(activity, row))
            cids.update(str(e["correlation_id"]) for e in write.events)
            if cause == REJECTED:
                match = link(row, rejections, linked)
                if match is not None:
                    rows.extend(r for r in (match.validation, match.http) if r is not None)
                    links.append(when(match.http))
        first = drops[0][1]
        named = _named(cids)
        in_spec = f" in spec {spec_label(first)}" if framed else ""
        summary = (
            f"{plural(len(drops), 'batch', 'batches')} ({sum(sizes)} events{named}) dropped in {where}, "
            f"{cause}, from {when(first)}{in_spec}."
        )
        if any(row["kind"] == "failed" for _, row in drops):
            summary += (
                f" Its attempt {MAX_ATTEMPTS} was its last: the store drops a batch then, so it is lost "
                "(inferred; no drop line the store is known to print follows)."
            )
        if links:
            summary += (
                f" DataStorage answered 400 (Request validation failed) at {', '.join(links[:3])}"
                f"{' …' if len(links) > 3 else ''}{_clock_note(analysis)}; linked to the drops by time, "
                "inferred."
            )
        yield Finding(
            rule=RULE_ID,
            severity=severity,
            summary=summary + note,
            correlation_id=next(iter(cids)) if len(cids) == 1 else None,
            evidence=evidence(rows),
        )


def _earlier_attempts(activity: pl.DataFrame, last: Mapping[str, object]) -> list[Mapping[str, object]]:
    """The failed attempts of the same batch before its last one, counting down to attempt 1."""
    failed = activity.filter((pl.col("kind") == "failed") & (pl.col("line") < last["line"]))
    out: list[Mapping[str, object]] = []
    attempt = as_int(last["attempt"])
    for row in reversed(failed.to_dicts()):
        if row["attempt"] != attempt - 1 or row["batch_size"] != last["batch_size"]:
            break
        out.append(row)
        attempt -= 1
    return out


def _weigh(
    analysis: Analysis, context: _Context, cause: str, write: Write, row: Mapping[str, object]
) -> tuple[Severity, str]:
    """How much a lost batch matters, and why when it does not: (severity, sentence to add).

    A rejected batch is a fault wherever it happens. A batch lost because DataStorage was unreachable
    is expected when the table of expected errors describes its attempts and the spec that printed
    them passed, or when it happened at teardown while no failed spec was running and no inspected
    DataStorage container had died.
    """
    if cause == REJECTED:
        return Severity.HIGH, ""
    at = row["ts"] if isinstance(row["ts"], datetime) else None
    spec_index = None if row.get("spec_index") in (None, UNFRAMED) else row.get("spec_index")
    block = None if spec_index is None else (str(row["file"]), as_int(spec_index))
    lines = [r for r in (write.failure, row) if r is not None]
    entries = [e for e in for_kinds(*STORE_KINDS) if e.provoked]
    for line in lines:
        text = analysis.texts.text(str(line["file"]), as_int(line["line"]))
        entry = first_match(entries, text, text)  # a store line's text holds its message
        if entry is None:
            continue
        verdict = judge(entry, at, context.windows, block)
        own = verdict.spec is not None and (verdict.spec.file, verdict.spec.spec_index) == block
        spec = "the spec" if own or verdict.spec is None else f"spec `{verdict.spec.spec}`"
        if verdict.expected:
            by = f"{spec} passed" if verdict.spec else f"provoked by {entry.provoked_by or 'a spec'}"
            return Severity.INFO, f" Expected, not a DataStorage fault: {entry.why} ({by})."
        return Severity.HIGH, f" It looks like a loss a spec provokes on purpose, but {spec} failed."
    running = [w for w in context.windows if at is not None and w.holds(at) and not w.passed]
    teardown = spec_index is None or TEARDOWN.match(str(row.get("spec") or "")) is not None
    if not teardown or running or context.datastorage_crashed or "connection refused" not in cause:
        return Severity.HIGH, ""
    return Severity.INFO, (
        " At teardown, while no failed spec was running: DataStorage refused the connection, so it had "
        "stopped; an audit loss of the test process's store, not a container fault."
    )


def _clock_note(analysis: Analysis) -> str:
    """Say whose clock DataStorage's times are on when it is visibly off the test host's."""
    skew = analysis.pipeline.skew_ns
    if skew is None or abs(skew) < SKEW_NOTE_NS:
        return ""
    side = "ahead of" if skew > 0 else "behind"
    return f" by its own clock, about {seconds(abs(skew) / 1e9)} {side} the test host's"


def _cause(row: Mapping[str, object], text: str, write: Write) -> str:
    """Why a drop line's batch was dropped; `text` is the line, `write` the attempts before it."""
    failure = write.failure or {}
    error = failure.get("error") or row.get("error") or _error(text)
    if row.get("kind") == "failed" or row.get("msg_key") == DROP_RETRIES or "max retries" in text:
        return f"after {MAX_ATTEMPTS} failed attempts ({reason(error)})"
    return REJECTED


def _error(text: str) -> str:
    match = re.search(r'"error":"((?:[^"\\]|\\.)*)"', text)
    return match.group(1) if match else ""


def _named(cids: set[str]) -> str:
    if not cids:
        return ""
    names = sorted(cids)
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f" of {shown}"


def _buffer_full(analysis: Analysis) -> Iterator[Finding]:
    full = analysis.pipeline.store_errors.filter(pl.col("msg_key") == BUFFER_FULL).with_columns(
        attr("correlation_id", pl.String()), attr("dropped_count", pl.Int64())
    )
    if full.is_empty():
        return
    for (cid,), group in sorted(full.group_by("correlation_id"), key=lambda g: str(g[0][0])):
        rows = list(group.sort("file", "line").iter_rows(named=True))
        first = rows[0]
        yield Finding(
            rule=RULE_ID,
            severity=Severity.HIGH,
            summary=(
                f"{plural(len(rows), 'event')} of {cid or 'an unknown correlation ID'} dropped "
                f"because the store's buffer was full (first at {when(first)}, "
                f"{store_label(analysis, first['spec_index'])})."
            ),
            correlation_id=None if cid is None else str(cid),
            evidence=evidence(rows),
        )


def _unlinked(unlinked: list[Rejection]) -> Finding:
    rows: list[Mapping[str, object]] = []
    for rej in unlinked:
        rows.extend(r for r in (rej.validation, rej.http) if r is not None)
    first = unlinked[0].http
    return Finding(
        rule=RULE_ID,
        severity=Severity.HIGH,
        summary=(
            f"DataStorage rejected {plural(len(unlinked), 'batch request')} with 400 "
            f"(from {when(first)}) that no captured drop line accounts for; "
            "the store drops 4xx batches without retrying, so those events are lost (inferred)."
        ),
        correlation_id=None,
        evidence=evidence(rows),
    )


def _counters(analysis: Analysis, context: _Context) -> Iterator[Finding]:
    """Process 1's closing counters; info when every failed batch is one of the expected losses found."""
    counters = closing_counters(analysis)
    if counters is None or not (counters.dropped or counters.failed_batches):
        return
    explained = (
        not counters.dropped
        and not context.other_batches
        and counters.failed_batches <= context.expected_batches
    )
    parts = []
    if counters.failed_batches:
        parts.append(
            f"{counters.failed_batches} failed batch{'es' if counters.failed_batches > 1 else ''} (dropped)"
        )
    if counters.dropped:
        parts.append(f"{counters.dropped} events dropped on a full buffer")
    summary = f"Process 1's store closed with {' and '.join(parts)}."
    if explained:
        summary += " They are the expected losses reported above."
    yield Finding(
        rule=RULE_ID,
        severity=Severity.INFO if explained else Severity.HIGH,
        summary=summary,
        correlation_id=None,
        evidence=evidence([counters.row]),
    )


def _db_failures(analysis: Analysis) -> Iterator[Finding]:
    failed = analysis.pipeline.rejects.filter(pl.col("msg_key") == DB_WRITE_FAILED).sort("file", "line")
    if failed.is_empty():
        return
    rows = list(failed.iter_rows(named=True))
    first = rows[0]
    yield Finding(
        rule=RULE_ID,
        severity=Severity.INFO,
        summary=(
            f"DataStorage failed {plural(len(rows), 'batch database write')} with 500 from "
            f"{when(first)}; the store retries those, so they are lost only "
            "if an AUDIT DATA LOSS line follows."
        ),
        correlation_id=None,
        evidence=evidence(rows),
    )


RULE = Rule(
    id=RULE_ID,
    title="Audit events or batches dropped",
    severity=Severity.HIGH,
    requires=("ginkgo", "zap_console", "zap_json"),
    check=check,
    doc=__doc__ or "",
)
