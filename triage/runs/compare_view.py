"""`triage compare` worded: the JSON comparison and the Markdown template's typed context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from triage.report.fingerprint import relative_location
from triage.runs.compare import Comparison, FindingChange
from triage.runs.compare_metrics import Metric, shown
from triage.runs.sides import Json


def _side(report: Json) -> Json:
    bundle = report["bundle"]
    return {key: bundle.get(key) for key in ("path", "service", "run_dir", "collected_at")}


def comparison_json(c: Comparison, version: str) -> Json:
    """The machine-readable comparison (documented in README.md under Comparing two runs).

    Args:
        c: the comparison.
        version: triage's version.

    Returns:
        A JSON-able dict.
    """
    return {
        "schema_version": 1,
        "tool_version": version,
        "before": _side(c.before),
        "after": _side(c.after),
        "ran": {"before": c.ran[0], "after": c.ran[1], "per_spec": c.per_spec},
        "improved": list(c.improved),
        "worse": list(c.worse),
        "not_comparable": list(c.unknown),
        "metrics": [asdict(m) for m in c.metrics],
        "containers": [asdict(x) for x in c.containers],
        "findings": {
            "gone": [asdict(f) for f in c.disappeared],
            "new": [asdict(f) for f in c.appeared],
            "stayed": [asdict(f) for f in c.stayed],
        },
        "specs": [asdict(s) for s in c.specs],
    }


@dataclass(frozen=True)
class Row:
    """A line of a before/after table, every cell plain text."""

    label: str
    before: str
    after: str
    change: str


@dataclass(frozen=True)
class FindingRow:
    """A finding in the Markdown: short id, severity (before → after), rule, correlation ID, summary."""

    fingerprint: str
    severity: str
    rule: str
    correlation_id: str
    summary: str


@dataclass(frozen=True)
class SpecRow:
    """A spec that failed or was interrupted in either run."""

    name: str
    location: str
    before: str
    after: str
    fingerprint: str


@dataclass(frozen=True)
class CompareContext:
    """Everything compare.md.j2 shows, in order; cells are plain text the template escapes."""

    title: str
    before: str
    after: str
    version: str
    improved: tuple[str, ...]
    worse: tuple[str, ...]
    unknown: tuple[str, ...]
    size_note: str
    caution: tuple[str, ...]
    neither: tuple[str, ...]
    tests: tuple[Row, ...]
    specs: tuple[SpecRow, ...]
    audit: tuple[Row, ...]
    latency: tuple[Row, ...]
    containers: tuple[Row, ...]
    gone: tuple[FindingRow, ...]
    new: tuple[FindingRow, ...]
    stayed: tuple[FindingRow, ...]


def _row(m: Metric) -> Row:
    change = (
        m.change if m.verdict in ("unknown", "shown") or m.change == "same" else f"{m.change}, {m.verdict}"
    )
    if m.verdict == "same" and m.change != "same":
        change = f"{m.change}, about the same"
    return Row(m.label, shown(m.before, m.unit), shown(m.after, m.unit), change)


def _finding_row(f: FindingChange, short: Callable[[str], str]) -> FindingRow:
    severity = (
        f.before if f.after is None else f.after if f.before in (None, f.after) else f"{f.before} → {f.after}"
    )
    return FindingRow(short(f.fingerprint), severity or "", f.rule, f.correlation_id or "", f.summary)


def _state(state: str, cause: str | None) -> str:
    return f"{state}, cause {cause}" if cause else state


def _describe(report: Json) -> str:
    side = _side(report)
    what = ", ".join(str(side[k]) for k in ("run_dir", "service") if side[k])
    return f"{side['path']}" + (f" ({what})" if what else "")


def _size_note(c: Comparison) -> str:
    before, after = c.ran
    if before is None or after is None:
        missing = " and ".join(n for n, v in (("BEFORE", before), ("AFTER", after)) if v is None)
        return (
            f"How many specs ran is unknown for {missing} (no test log, or one cut before Ginkgo's "
            "summary): counts are shown but not judged, as the runs' sizes cannot be told apart; rates "
            "are compared where both runs have them."
        )
    if c.per_spec:
        return (
            f"The runs differ in size (BEFORE ran {before} specs, AFTER {after}): counts that grow with "
            "the run are judged per spec ran, as their Change column shows; rates are compared as they are."
        )
    return f"Both runs ran {before} specs, so counts are compared as they are."


def comparison_context(c: Comparison, version: str, short: Callable[[str], str]) -> CompareContext:
    """Word the comparison for the Markdown template.

    Args:
        c: the comparison.
        version: triage's version.
        short: shortens a fingerprint for display.

    Returns:
        The template context.
    """
    service = _side(c.after)["service"] or _side(c.before)["service"] or "integration"
    both = [m for m in c.metrics if (m.before, m.after) != (None, None)]
    rows = [_row(m) for m in both]
    return CompareContext(
        title=f"Compare: {service} runs, before and after",
        before=_describe(c.before),
        after=_describe(c.after),
        version=version,
        improved=c.improved,
        worse=c.worse,
        unknown=c.unknown,
        size_note=_size_note(c),
        tests=tuple(r for r, m in zip(rows, both, strict=True) if m.section == "tests"),
        specs=tuple(
            SpecRow(
                s.name,
                relative_location(s.location),
                _state(s.before, s.cause_before),
                _state(s.after, s.cause_after),
                short(s.fingerprint),
            )
            for s in c.specs
        ),
        audit=tuple(r for r, m in zip(rows, both, strict=True) if m.section == "audit"),
        latency=tuple(r for r, m in zip(rows, both, strict=True) if m.section == "latency"),
        neither=tuple(m.label for m in c.metrics if (m.before, m.after) == (None, None)),
        caution=c.caution,
        containers=tuple(Row(x.container, x.before, x.after, x.verdict) for x in c.containers),
        gone=tuple(_finding_row(f, short) for f in c.disappeared),
        new=tuple(_finding_row(f, short) for f in c.appeared),
        stayed=tuple(_finding_row(f, short) for f in c.stayed),
    )
