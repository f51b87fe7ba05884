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

from triage.facts.stores import BY_PROCESS
from triage.report.context_pipeline import container_rows, store_rows, write_lines
from triage.report.context_specs import spec_sections
from triage.report.fingerprint import finding_fingerprints, short, spec_fingerprint
from triage.report.model import Report
from triage.report.summary import verdict_lines
from triage.report.views import (
    EvidenceRow,
    FindingView,
    ReportContext,
    SourceRow,
    SpecRow,
    TestsView,
)
from triage.report.wording import (
    MAX_EVIDENCE,
    clip,
    fix_of,
    ids_md,
    seen_words,
    short_location,
    tool_version,
)
from triage.rules import get_rule
from triage.rules.base import Finding, Severity
from triage.table.normalize import format_offset

MAX_FINDINGS = 40
MAX_SOURCES = 200
MAX_SAMPLES = 40


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
    sections, more_specs = spec_sections(report, numbered, seen and seen["specs"])
    fix_shown_at: dict[str, int] = {}
    writes, chart, spark = write_lines(report)
    stores, caveat = store_rows(report)
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
        containers=container_rows(report),
        sources=tuple(sources[:MAX_SOURCES]),
        more_sources=max(0, len(sources) - MAX_SOURCES),
        samples=tuple(samples[:MAX_SAMPLES]),
        notes=tuple(notes),
        assumptions=report.assumptions,
        processes_named=bool(report.analysis.stores)
        and all(s.basis == BY_PROCESS for s in report.analysis.stores),
        rule_status=status,
    )
