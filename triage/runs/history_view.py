"""`triage history`'s Markdown: the JSON document (`history.summarize`) worded for people."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from triage.report.fingerprint import short
from triage.report.wording import clip, short_location

MAX_ROWS = 50  # causes and specs shown in Markdown; the JSON has them all


@dataclass(frozen=True)
class CauseRow:
    """A cause in the Markdown table."""

    label: str
    rule: str
    severity: str
    seen: str
    rate: str
    first: str
    last: str
    summary: str
    fingerprint: str


@dataclass(frozen=True)
class SpecRow:
    """A spec that failed, in the Markdown table."""

    label: str
    name: str
    location: str
    failed: int
    passed: int
    rate: str
    first: str
    last: str
    fingerprint: str


@dataclass(frozen=True)
class ServiceRow:
    """A service's runs."""

    service: str
    runs: int
    first: str
    last: str


@dataclass(frozen=True)
class HistoryContext:
    """What the history template shows."""

    version: str
    runs: int
    fixed_after: int
    services: tuple[ServiceRow, ...]
    causes: tuple[CauseRow, ...]
    more_causes: int
    specs: tuple[SpecRow, ...]
    more_specs: int
    warnings: tuple[str, ...]


def _percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.0%}"


def history_context(doc: dict[str, Any], version: str) -> HistoryContext:
    """Word the history document for the template.

    Args:
        doc: `history.summarize`'s output.
        version: the tool's version.

    Returns:
        The template context; at most MAX_ROWS causes and specs.
    """
    causes = tuple(
        CauseRow(
            c["label"],
            c["rule"],
            c["severity"],
            f"{c['runs_seen']} of {c['runs']}",
            _percent(c["failure_rate"]),
            c["first_seen"],
            c["last_seen"],
            clip(c["summary"] or "", 160),
            short(c["fingerprint"]),
        )
        for c in doc["causes"][:MAX_ROWS]
    )
    specs = tuple(
        SpecRow(
            s["label"],
            s["name"] or "(name not saved)",
            short_location(s["location"]),
            s["failed_runs"],
            s["passed_runs"],
            _percent(s["failure_rate"]),
            s["first_seen"],
            s["last_seen"],
            short(s["fingerprint"]),
        )
        for s in doc["specs"][:MAX_ROWS]
    )
    services = tuple(
        ServiceRow(
            s["service"], s["runs"], s["first_collected_at"] or "unknown", s["last_collected_at"] or "unknown"
        )
        for s in doc["services"]
    )
    return HistoryContext(
        version=version,
        runs=doc["runs"],
        fixed_after=doc["fixed_after"],
        services=services,
        causes=causes,
        more_causes=max(0, len(doc["causes"]) - MAX_ROWS),
        specs=specs,
        more_specs=max(0, len(doc["specs"]) - MAX_ROWS),
        warnings=tuple(doc["warnings"]),
    )
