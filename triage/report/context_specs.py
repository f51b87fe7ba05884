"""The Markdown context's sections of the failed specs: each one's cause, its timeline across the test
log and DataStorage, and the Mermaid sequence diagram drawn from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from triage.facts.testrun import FAILED_STATES
from triage.facts.timeline import build_timelines
from triage.report.fingerprint import spec_fingerprint
from triage.report.mermaid import Message, sequence
from triage.report.model import Report
from triage.report.verdict import SpecVerdict
from triage.report.views import SpecSection, TimelineRow
from triage.report.wording import fmt_time, ids_md, md_escape, seen_words, short_location
from triage.rules.base import Finding

MAX_SPEC_SECTIONS = 12
MAX_TIMELINE_ROWS = 40
MAX_DIAGRAM_MESSAGES = 30


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
    """The sequence diagram's messages of a timeline, its middle cut when it is long."""
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


def spec_sections(
    report: Report, numbered: dict[Finding, int], seen: Mapping[str, Mapping[str, Any]] | None = None
) -> tuple[list[SpecSection], int]:
    """A section for each failed spec, up to `MAX_SPEC_SECTIONS`, in the verdicts' order.

    Args:
        report: the analysis result.
        numbered: the findings the report numbers, with their numbers.
        seen: the specs of `history.seen_in`, by fingerprint; None without a history.

    Returns:
        (the sections, how many failed specs were left out).
    """
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
