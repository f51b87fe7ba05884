"""The Markdown report's typed context: every value worded and formatted here, laid out by templates.

Fields ending in `_md` already are Markdown (built with `md_escape`/`md_code`); every other text is
plain and the template escapes it. Long lists are cut with a count of what was left out, so the
report stays small (GitHub's step summary takes 1 MiB) whatever the bundle's size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from triage.facts.stores import BY_PROCESS
from triage.facts.testrun import FAILED_STATES
from triage.facts.timeline import build_timelines
from triage.report.fingerprint import finding_fingerprints, short, spec_fingerprint
from triage.report.mermaid import Message, bar_chart, sequence, sparkline
from triage.report.model import Report
from triage.report.summary import verdict_lines
from triage.report.verdict import SpecVerdict
from triage.report.views import (
    ContainerRow,
    EvidenceRow,
    FindingView,
    ReportContext,
    SourceRow,
    SpecRow,
    SpecSection,
    StoreRow,
    TestsView,
    TimelineRow,
)
from triage.report.wording import (
    clip,
    fix_of,
    fmt_time,
    ids_md,
    md_escape,
    quantiles,
    seen_words,
    short_location,
    tool_version,
)
from triage.rules import get_rule
from triage.rules.base import Finding, Severity
from triage.table.normalize import format_offset

MAX_FINDINGS = 40
MAX_EVIDENCE = 8
MAX_SPEC_SECTIONS = 12
MAX_TIMELINE_ROWS = 40
MAX_DIAGRAM_MESSAGES = 30
MAX_SOURCES = 200
MAX_SAMPLES = 40
CHART_BUCKETS = 24


def _collected(local: str | None, offset: int | None) -> str:
    if local is None:
        return "unknown"
    shown = local.replace("T", " ")
    if offset is None:
        return f"{shown} test host time (zone unknown)"
    utc = datetime.fromisoformat(local) - timedelta(seconds=offset)
    return f"{shown} test host time ({format_offset(offset)}) = {utc:%Y-%m-%d %H:%M:%S} UTC"


def _finding_view(
    f: Finding, fingerprint: str, fix_shown_at: dict[str, int] | None = None, number: int = 0
) -> FindingView:
    """A finding for the template; its rule's fix is shown once, later findings refer back to it."""
    rule = get_rule(f.rule)
    shown = f.evidence[:MAX_EVIDENCE]
    see = 0
    if fix_shown_at is not None:
        see = fix_shown_at.setdefault(f.rule, number)
        see = 0 if see == number else see
    return FindingView(
        severity=f.severity.label.upper(),
        rule=f.rule,
        title=rule.title if rule else f.rule,
        correlation_id=f.correlation_id or "",
        summary=f.summary,
        evidence=tuple(EvidenceRow(e.where, clip(e.text or "")) for e in shown),
        more_evidence=len(f.evidence) - len(shown),
        fix_md="" if see else fix_of(f.rule),
        fix_see=see,
        fingerprint=short(fingerprint),
    )


def _cause_md(v: SpecVerdict, numbered: dict[Finding, int]) -> str:
    """A spec's verdict in words: its cause with how it is tied to the spec, or why none is known."""
    if v.cause is None:
        return md_escape(v.reason or "no rule explains it")
    f = v.cause
    number = f" (finding {numbered[f]})" if f in numbered else ""
    basis = v.basis or "its evidence"
    tie = basis if basis.startswith("inferred") else f"tied by {basis}"
    return f"{md_escape(f.summary)} (`{f.rule}`{number}; {md_escape(tie)})"


def _messages(rows: pl.DataFrame) -> list[Message]:
    out = []
    for row in rows.iter_rows(named=True):
        at = fmt_time(row["at"], row["precision"])
        kind, what = row["kind"], row["what"]
        if kind == "step":
            out.append(Message("T", "T", f"{at} {what}"))
        elif kind == "buffered":
            out.append(Message("C", "S", f"{at} {what}"))
        elif kind == "flush":
            out.append(Message("S", "D", f"{at} {what}"))
        elif kind == "write":
            out.append(Message("D", "S", f"{at} {what} (inferred link)", dashed=True))
        elif kind == "query":
            out.append(Message("T", "D", f"{at} {what}"))
        elif kind == "failure":
            out.append(Message("T", "T", f"{at} {what}"))
    if len(out) > MAX_DIAGRAM_MESSAGES:
        keep = MAX_DIAGRAM_MESSAGES // 2
        cut = len(out) - 2 * keep
        out = [*out[:keep], Message("T", "T", f"{cut} more steps left out"), *out[-keep:]]
    return out


def _spec_sections(
    report: Report, numbered: dict[Finding, int], seen: Mapping[str, Mapping[str, Any]] | None = None
) -> tuple[list[SpecSection], int]:
    failed = [v for v in report.verdicts if v.spec.state in FAILED_STATES]
    picked = failed[:MAX_SPEC_SECTIONS]
    timelines = build_timelines(report.analysis, {i for v in picked for i in v.correlation_ids})
    sections = []
    for v in picked:
        spec, ids, index = v.spec, v.correlation_ids, v.spec_index
        store = report.analysis.store_of_spec.get(index) if index is not None else None
        rows = timelines.filter(pl.col("correlation_id").is_in(list(ids)))
        shown = rows.head(MAX_TIMELINE_ROWS)
        timeline = tuple(
            TimelineRow(
                time=fmt_time(r["at"], r["precision"]),
                source=r["source"],
                what=r["what"] + ("" if r["basis"].startswith("observed") else f" ({r['basis']})"),
                where=f"{r['file']}:{r['line']}",
            )
            for r in shown.iter_rows(named=True)
        )
        sections.append(
            SpecSection(
                heading=spec.name,
                state=spec.state.upper(),
                location=short_location(spec.location),
                duration=f"{spec.duration_s:.3f} s" if spec.duration_s is not None else "unknown",
                store=store.name if store else "unknown (no audit-store lines in its timeline)",
                correlation_ids_md=ids_md(ids),
                cause_label="Root cause" if v.cause is not None else "Not explained",
                cause_md=_cause_md(v, numbered),
                failure=spec.failure_message or "",
                timeline=timeline,
                more_rows=rows.height - shown.height,
                diagram=sequence(_messages(rows), store.name if store else "unknown") if rows.height else "",
                history=seen_words((seen or {}).get(spec_fingerprint(spec.name, spec.location))),
            )
        )
    return sections, max(0, len(failed) - MAX_SPEC_SECTIONS)


def _tests_views(report: Report) -> tuple[TestsView, ...]:
    views = []
    for run in report.tests:
        if run.ran is not None:
            parts = [f"Ran {run.ran} of {run.total} specs"]
        else:
            parts = ["How many specs ran is unknown: the log ends before Ginkgo's summary"]
            if run.will_run is not None:
                parts[0] += (
                    f"; it was to run {run.will_run} of {run.total} specs, the counts are those it shows"
                )
        if run.duration_s is not None:
            parts.append(f"in {run.duration_s:.1f} s")
        if run.processes and run.processes > 1:
            parts.append(f"on {run.processes} parallel processes")
        why = f": {run.reason}" if run.reason else ""
        headline = " ".join(parts) + f" (run {run.status}{why})"
        if run.flags:
            headline += f"; run with ginkgo {' '.join(run.flags)}"
        if run.unfinished:
            headline += f". The log ends while this spec runs: {run.unfinished[-1]}"
        counts = [
            (label.capitalize(), str(value))
            for label, value in (
                ("passed", run.passed),
                ("failed", run.failed),
                ("interrupted", run.interrupted),
                ("pending", run.pending),
                ("skipped", run.skipped),
            )
            if value is not None
        ]
        ids = {(v.spec.file, v.spec.line): v.correlation_ids for v in report.verdicts}
        specs = tuple(
            SpecRow(
                s.state.upper(),
                s.name,
                short_location(s.location),
                ids_md(ids[s.file, s.line]),
                short(spec_fingerprint(s.name, s.location)),
            )
            for s in run.specs
        )
        views.append(
            TestsView(run.file, headline, tuple(c[0] for c in counts), tuple(c[1] for c in counts), specs)
        )
    return tuple(views)


def _writes(report: Report) -> tuple[tuple[str, ...], str, str]:
    pipe = report.analysis.pipeline
    requests = pipe.requests
    lines = []
    batch = requests.filter(pl.col("path") == "/api/v1/audit/events/batch")
    if pipe.writes.height or batch.height:
        events = int(pipe.writes["count"].sum() or 0)
        statuses = ", ".join(
            f"{n} x {s}"
            for s, n in batch.group_by("status").len().sort("status").iter_rows()
            if s is not None
        )
        latency = quantiles(pipe.writes["duration_seconds"] * 1000)
        lines.append(
            f"Batch writes: {pipe.writes.height} succeeded carrying {events} events; "
            f"write time {latency}; HTTP statuses: {statuses or 'none logged'}."
        )
    else:
        lines.append("No DataStorage batch write was logged.")
    queries = requests.filter((pl.col("method") == "GET") & (pl.col("path") == "/api/v1/audit/events"))
    if queries.height:
        lines.append(f"Queries: {queries.height}, {quantiles(queries['duration_ms'])}.")
    if pipe.rejects.height:
        lines.append(f"Failed batch requests or write failures logged: {pipe.rejects.height}.")
    if pipe.skew_ns is not None:
        lines.append(
            f"Clock offset DataStorage minus test host, estimated from flush/write pairs: "
            f"{pipe.skew_ns / 1e6:+.1f} ms."
        )
    chart, spark = "", ""
    if pipe.writes.height:
        ts = pipe.writes.filter(pl.col("ts").is_not_null())
        start, end = ts["ts"].min(), ts["ts"].max()
        assert isinstance(start, datetime) and isinstance(end, datetime)
        span = max(1, int((end - start).total_seconds()) + 1)
        width = max(1, -(-span // CHART_BUCKETS))
        buckets = ts.with_columns(
            ((pl.col("ts") - pl.lit(start)).dt.total_seconds() // width).cast(pl.Int64).alias("b")
        )
        per = dict(buckets.group_by("b").agg(pl.col("count").sum()).iter_rows())
        n = span // width + (1 if span % width else 0)
        values = [int(per.get(i, 0)) for i in range(n)]
        labels = [(start + timedelta(seconds=i * width)).strftime("%H:%M:%S") for i in range(n)]
        chart = bar_chart(f"Events written per {width} s (UTC)", labels, values, "events")
        spark = f"{labels[0]} {sparkline(values)} {labels[-1]} UTC, peak {max(values)} events per {width} s"
    return tuple(lines), chart, spark


def _stores(report: Report) -> tuple[tuple[StoreRow, ...], str]:
    pipe = report.analysis.pipeline
    closed = pipe.closed.row(-1, named=True) if pipe.closed.height else None
    rows = []
    for s in report.analysis.stores:
        closing = "not logged (only process 1 calls Close())"
        if s.closed and closed:
            closing = (
                f"buffered {closed['buffered_count']}, written {closed['written_count']}, "
                f"dropped {closed['dropped_count']}, failed batches {closed['failed_batch_count']}"
            )
        rows.append(
            StoreRow(
                s.name, len(s.spec_indices), str(s.max_total_buffered or "none logged"), closing, s.basis
            )
        )
    caveat = ""
    if closed and len(report.analysis.stores) > 1:
        caveat = (
            "The `Audit store closed` counters describe process 1's store only. Each Ginkgo process has its "
            "own store, so they say nothing about the other stores and must not be compared with their "
            "`total_buffered` values."
        )
    elif not report.analysis.stores:
        caveat = (
            "No buffered or timer-tick lines of an audit store were logged (current formats log them below "
            "Info), so stores could not be reconstructed."
        )
    return tuple(rows), caveat


def _containers(report: Report) -> tuple[ContainerRow, ...]:
    rows = []
    for c in report.containers:
        logs = [h for h in report.log_health if h.service == c.service]
        log = "; ".join(f"{h.errors} error(s), {h.warnings} warning(s), {h.noise} known noise" for h in logs)
        state = c.status or "unknown"
        if c.exit_code not in (None, 0):
            state += f", exit code {c.exit_code}"
        if c.oom_killed:
            state += ", OOM-killed"
        if c.restart_count:
            state += f", {c.restart_count} restart(s)"
        health = c.health or "no health check"
        if c.failing_streak:
            health += f" (failing streak {c.failing_streak})"
        rows.append(
            ContainerRow(
                service=c.service or "unknown",
                image=c.image or "unknown",
                state=state,
                health=health,
                log=log or "no log collected",
                evidence=f"{c.file}:{c.line}",
            )
        )
    return tuple(rows) + _unreadable_inspects(report)


def _unreadable_inspects(report: Report) -> tuple[ContainerRow, ...]:
    """Inspect documents that are present but could not be read: never shown as absent."""
    read = {c.file for c in report.containers}
    return tuple(
        ContainerRow(
            service=a.source.service or a.source.container or "unknown",
            image="unknown",
            state=note.removeprefix("present but "),
            health="unknown",
            log="unknown",
            evidence=f"{a.source.name}:1",
        )
        for a in report.accounts
        if a.source.kind == "podman_inspect" and a.source.name not in read
        for note in a.notes[:1]
        if note.startswith("present but unreadable")
    )


def build_context(report: Report, seen: Mapping[str, Mapping[str, Any]] | None = None) -> ReportContext:
    """Word and format everything the Markdown report shows.

    Args:
        report: the analysis result.
        seen: `history.seen_in` of the run, to say how often each problem was seen before; None without.

    Returns:
        The template context.
    """
    bundle = report.bundle
    findings = [f for f in report.findings if f.severity > Severity.INFO]
    info = [f for f in report.findings if f.severity == Severity.INFO]
    numbered = {f: i for i, f in enumerate(findings[:MAX_FINDINGS], 1)}
    prints = dict(zip(report.findings, finding_fingerprints(report), strict=True))
    sections, more_specs = _spec_sections(report, numbered, seen and seen["specs"])
    fix_shown_at: dict[str, int] = {}
    writes, chart, spark = _writes(report)
    stores, caveat = _stores(report)
    sources = [
        SourceRow(
            a.source.name,
            a.source.kind,
            a.source.service or "unknown",
            a.lines,
            a.parsed_lines,
            a.unparsed_lines,
            a.records,
            a.source.why,
        )
        for a in report.accounts
    ]
    samples = [EvidenceRow(f"{a.source.name}:{s.line}", s.text) for a in report.accounts for s in a.samples]
    notes = [*bundle.notes, *(f"{a.source.name}: {n}" for a in report.accounts for n in a.notes)]
    status = tuple(
        f"{o.rule.id}: {o.status}" + (f" ({o.reason})" if o.reason else "")
        for o in report.outcomes
        if o.status != "ran"
    )
    what = bundle.service or "integration"
    title = f"Triage: {what} run {bundle.run_dir}" if bundle.run_dir else f"Triage: {bundle.display_path}"
    return ReportContext(
        title=title,
        version=tool_version(),
        bundle_path=bundle.display_path,
        service=bundle.service or "unknown",
        collected_at=_collected(bundle.collected_at, report.host_offset),
        verdict_md=verdict_lines(report, numbered),
        tests=_tests_views(report),
        findings=tuple(
            replace(
                _finding_view(f, prints[f], fix_shown_at, n),
                history=seen_words(seen and seen["findings"].get(prints[f])),
            )
            for f, n in numbered.items()
        ),
        more_findings=max(0, len(findings) - MAX_FINDINGS),
        info=tuple(_finding_view(f, prints[f]) for f in info[:MAX_FINDINGS]),
        specs=tuple(sections),
        more_specs=more_specs,
        stores=stores,
        store_caveat_md=caveat,
        writes=writes,
        write_chart=chart,
        write_sparkline=spark,
        containers=_containers(report),
        sources=tuple(sources[:MAX_SOURCES]),
        more_sources=max(0, len(sources) - MAX_SOURCES),
        samples=tuple(samples[:MAX_SAMPLES]),
        notes=tuple(notes),
        assumptions=report.assumptions,
        processes_named=bool(report.analysis.stores)
        and all(s.basis == BY_PROCESS for s in report.analysis.stores),
        rule_status=status,
    )
