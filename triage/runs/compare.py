"""`triage compare BEFORE AFTER`: two runs side by side, as the JSON reports of both state them.

Each side is read by runs/sides.py and its figures are judged by runs/compare_metrics.py. Findings and
failed specs are matched by fingerprint (report/fingerprint.py); containers by name. Findings at info are
listed but never counted as better or worse. runs/compare_view.py words the result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from triage.runs.compare_metrics import Metric, metrics, shown
from triage.runs.sides import SEVERITIES, Json
from triage.table.vocabulary import FAILED_STATES

MAX_SUMMARY = 200


@dataclass(frozen=True)
class FindingChange:
    """A finding matched by fingerprint across the runs (severity None on the side that lacks it)."""

    fingerprint: str
    rule: str
    correlation_id: str | None
    before: str | None
    after: str | None
    summary: str


@dataclass(frozen=True)
class SpecChange:
    """A spec that failed or was interrupted in one run: its state in both (`passed`, or `not shown`)."""

    fingerprint: str
    name: str
    location: str | None
    before: str
    after: str
    cause_before: str | None
    cause_after: str | None


@dataclass(frozen=True)
class ContainerChange:
    """A container's state in both runs, one line each (`not inspected` when absent)."""

    container: str
    before: str
    after: str
    verdict: str


@dataclass(frozen=True)
class Comparison:
    """Two runs compared: what `render_comparison` shows."""

    before: Json
    after: Json
    ran: tuple[int | None, int | None]
    per_spec: bool
    metrics: tuple[Metric, ...]
    containers: tuple[ContainerChange, ...]
    disappeared: tuple[FindingChange, ...]
    appeared: tuple[FindingChange, ...]
    stayed: tuple[FindingChange, ...]
    specs: tuple[SpecChange, ...]
    improved: tuple[str, ...]
    worse: tuple[str, ...]
    unknown: tuple[str, ...]
    caution: tuple[str, ...] = ()


def _container_line(c: Json | None) -> str:
    if c is None:
        return "not inspected"
    parts = [c.get("status") or "state unknown"]
    if c.get("exit_code") not in (None, 0):
        parts.append(f"exit code {c['exit_code']}")
    if c.get("oom_killed"):
        parts.append("OOM-killed")
    if c.get("restart_count"):
        parts.append(f"{c['restart_count']} restart(s)")
    parts.append(f"health {c.get('health') or 'not checked'}")
    return ", ".join(parts)


def _trouble(c: Json | None) -> int:
    """How many of OOM kill, failed exit and restarts a container shows (none when not inspected)."""
    if c is None:
        return 0
    return (
        int(bool(c.get("oom_killed")))
        + int(c.get("exit_code") not in (None, 0))
        + int(bool(c.get("restart_count")))
    )


def _containers(before: Json, after: Json) -> list[ContainerChange]:
    def by_name(report: Json) -> dict[str, Json]:
        return {str(c.get("service") or c.get("name") or "unknown"): c for c in report["containers"]}

    b, a = by_name(before), by_name(after)
    out = []
    for name in sorted(set(b) | set(a)):
        tb, ta = _trouble(b.get(name)), _trouble(a.get(name))
        verdict = "same"
        if name in b and name in a and tb != ta:
            verdict = "better" if ta < tb else "worse"
        elif _container_line(b.get(name)) != _container_line(a.get(name)):
            verdict = "changed"
        out.append(ContainerChange(name, _container_line(b.get(name)), _container_line(a.get(name)), verdict))
    return out


def _clip(text: str) -> str:
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 2].rstrip() + " …"


def _findings(
    before: Json, after: Json
) -> tuple[list[FindingChange], list[FindingChange], list[FindingChange]]:
    b = {f["fingerprint"]: f for f in before["findings"]}
    a = {f["fingerprint"]: f for f in after["findings"]}

    def change(fp: str) -> FindingChange:
        f = a.get(fp) or b[fp]
        sb, sa = b.get(fp), a.get(fp)
        return FindingChange(
            fp,
            f["rule"],
            f["correlation_id"],
            sb["severity"] if sb else None,
            sa["severity"] if sa else None,
            _clip(" ".join(f["summary"].split())),
        )

    gone = [change(fp) for fp in b if fp not in a]
    new = [change(fp) for fp in a if fp not in b]
    stayed = [change(fp) for fp in a if fp in b]
    return gone, new, stayed


def _spec_state(report: Json, fingerprint: str) -> tuple[str, str | None]:
    """A spec's state in a report and the rule of its cause (`passed` or `not shown` when not listed)."""
    tests = report["tests"]
    if tests is None:
        return "no test log", None
    for spec in tests["specs"]:
        if spec["fingerprint"] == fingerprint:
            cause = spec.get("cause")
            return str(spec["state"]), cause["rule"] if isinstance(cause, dict) else None
    return ("passed" if fingerprint in set(tests["passed_fingerprints"]) else "not shown"), None


def _specs(before: Json, after: Json) -> list[SpecChange]:
    seen: dict[str, SpecChange] = {}
    for report in (before, after):
        for spec in (report["tests"] or {}).get("specs", []):
            fp = spec["fingerprint"]
            if fp not in seen:
                (state_b, cause_b), (state_a, cause_a) = _spec_state(before, fp), _spec_state(after, fp)
                seen[fp] = SpecChange(fp, spec["name"], spec["location"], state_b, state_a, cause_b, cause_a)
    return sorted(seen.values(), key=lambda s: (_spec_order(s), s.location or "", s.name))


def _spec_order(s: SpecChange) -> int:
    """Fixed first, then newly failed, then still failing, then the rest."""
    if s.before in FAILED_STATES and s.after == "passed":
        return 0
    if s.before == "passed" and s.after in FAILED_STATES:
        return 1
    if s.before in FAILED_STATES and s.after in FAILED_STATES:
        return 2
    return 3


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _summary(
    metrics: Sequence[Metric],
    containers: Sequence[ContainerChange],
    findings: tuple[Sequence[FindingChange], Sequence[FindingChange], Sequence[FindingChange]],
    specs: Sequence[SpecChange],
) -> tuple[list[str], list[str], list[str]]:
    """What improved, what got worse, and what could not be compared, each item in words."""
    improved: list[str] = []
    worse: list[str] = []
    unknown: list[str] = []
    for m in metrics:
        if m.verdict in ("better", "worse"):
            said = f"{m.label}: {shown(m.before, m.unit)} → {shown(m.after, m.unit)}"
            if m.per_spec:
                said += f" ({m.change})"
            (improved if m.verdict == "better" else worse).append(said)
        elif m.verdict == "unknown" and m.better is not None and (m.before, m.after) != (None, None):
            missing = " and ".join(n for n, v in (("BEFORE", m.before), ("AFTER", m.after)) if v is None)
            unknown.append(f"{m.label}, not in {missing}")
    for c in containers:
        if c.verdict in ("better", "worse"):
            (improved if c.verdict == "better" else worse).append(
                f"container {c.container}: {c.before} → {c.after}"
            )
    gone, new, stayed = findings
    for items, bucket, what in ((gone, improved, "gone"), (new, worse, "new")):
        serious = [f for f in items if (f.before or f.after) != "info"]
        if serious:
            counts = Counter(f"{f.rule} ({f.before or f.after})" for f in serious)
            rules = ", ".join(name if n == 1 else f"{n} x {name}" for name, n in counts.items())
            bucket.append(f"{_plural(len(serious), 'finding')} above info {what}: {rules}")
    for f in stayed:
        rank_b, rank_a = SEVERITIES.index(f.before or "info"), SEVERITIES.index(f.after or "info")
        if rank_b != rank_a:
            (improved if rank_a < rank_b else worse).append(f"{f.rule} stayed, {f.before} → {f.after}")
    fixed = [s for s in specs if s.before in FAILED_STATES and s.after == "passed"]
    broke = [s for s in specs if s.before == "passed" and s.after in FAILED_STATES]
    if fixed:
        improved.append(f"{_plural(len(fixed), 'spec')} failed before and passed after")
    if broke:
        worse.append(f"{_plural(len(broke), 'spec')} passed before and failed after")
    return improved, worse, unknown


def compare(before: Json, after: Json) -> Comparison:
    """Compare two checked JSON reports (see `load_side`).

    Args:
        before: the report of the earlier run (before a fix).
        after: the report of the later run.

    Returns:
        The comparison.
    """
    ran = ((before["tests"] or {}).get("ran"), (after["tests"] or {}).get("ran"))
    sizes = (ran[0], ran[1]) if ran[0] and ran[1] and ran[0] != ran[1] else None
    figures = metrics(before, after, sizes, sized=ran[0] is not None and ran[1] is not None)
    containers = _containers(before, after)
    findings = _findings(before, after)
    specs = _specs(before, after)
    improved, worse, unknown = _summary(figures, containers, findings, specs)
    return Comparison(
        before=before,
        after=after,
        ran=ran,
        per_spec=sizes is not None,
        metrics=tuple(figures),
        containers=tuple(containers),
        disappeared=tuple(findings[0]),
        appeared=tuple(findings[1]),
        stayed=tuple(findings[2]),
        specs=tuple(specs),
        improved=tuple(improved),
        worse=tuple(worse),
        unknown=tuple(unknown),
        caution=_caution(before, after),
    )


def _caution(before: Json, after: Json) -> tuple[str, ...]:
    """What makes the two runs hard to compare at all: different suites."""
    services = (before["bundle"].get("service"), after["bundle"].get("service"))
    if None not in services and services[0] != services[1]:
        return (
            f"BEFORE is a {services[0]} run and AFTER a {services[1]} run: different suites, so their specs "
            "and most findings cannot match",
        )
    return ()
