"""The typed context the Markdown template reads: one dataclass per kind of row.

Fields ending in `_md` already are Markdown (built with `wording.md_escape`/`md_code`); every other
text is plain and the template escapes it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EvidenceRow:
    """A quoted line."""

    where: str
    text: str


@dataclass(frozen=True)
class FindingView:
    """A finding as the report shows it."""

    severity: str
    rule: str
    title: str
    correlation_id: str
    summary: str
    evidence: tuple[EvidenceRow, ...]
    more_evidence: int
    fix_md: str
    fix_see: int
    fingerprint: str
    history: str = ""


@dataclass(frozen=True)
class TimelineRow:
    """A row of a spec's timeline table."""

    time: str
    source: str
    what: str
    where: str


@dataclass(frozen=True)
class SpecSection:
    """A failed spec: what it is, its timeline, its diagram, its root cause."""

    heading: str
    state: str
    location: str
    duration: str
    store: str
    correlation_ids_md: str
    cause_label: str
    cause_md: str
    failure: str
    timeline: tuple[TimelineRow, ...]
    more_rows: int
    diagram: str
    history: str = ""


@dataclass(frozen=True)
class SpecRow:
    """A failed or interrupted spec in the results table."""

    state: str
    name: str
    location: str
    correlation_ids_md: str
    fingerprint: str


@dataclass(frozen=True)
class TestsView:
    """One test log's results."""

    file: str
    headline: str
    count_labels: tuple[str, ...]
    count_values: tuple[str, ...]
    specs: tuple[SpecRow, ...]


@dataclass(frozen=True)
class StoreRow:
    """An inferred audit store."""

    name: str
    specs: int
    max_total_buffered: str
    closing: str
    basis: str


@dataclass(frozen=True)
class ContainerRow:
    """One container's state and the health of its log."""

    service: str
    image: str
    state: str
    health: str
    log: str
    evidence: str


@dataclass(frozen=True)
class SourceRow:
    """Line accounting of one file."""

    file: str
    kind: str
    service: str
    lines: int
    parsed: int
    unparsed: int
    records: int
    why: str


@dataclass(frozen=True)
class ReportContext:
    """Everything report.md.j2 shows, in order."""

    title: str
    version: str
    bundle_path: str
    service: str
    collected_at: str
    verdict_md: tuple[str, ...]
    tests: tuple[TestsView, ...]
    findings: tuple[FindingView, ...]
    more_findings: int
    info: tuple[FindingView, ...]
    specs: tuple[SpecSection, ...]
    more_specs: int
    stores: tuple[StoreRow, ...]
    store_caveat_md: str
    writes: tuple[str, ...]
    write_chart: str
    write_sparkline: str
    containers: tuple[ContainerRow, ...]
    sources: tuple[SourceRow, ...]
    more_sources: int
    samples: tuple[EvidenceRow, ...]
    notes: tuple[str, ...]
    assumptions: tuple[str, ...]
    processes_named: bool
    rule_status: tuple[str, ...]
