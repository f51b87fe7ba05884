"""`triage compare BEFORE AFTER`: two runs side by side, as the JSON reports of both state them.

Each side is a bundle (analysed now) or a saved `--format json` report (checked field by field), so
the comparison reads only what the JSON report documents. Counts that grow with the run (specs,
events, batches, drops) are judged per spec ran when the two runs ran different numbers of specs;
rates are judged as they are. Findings and failed specs are matched by fingerprint
(triage/fingerprint.py). Findings at info are listed but never counted as better or worse.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from triage.errors import TriageError
from triage.fingerprint import relative_location

MAX_REPORT_BYTES = 256 * 1024 * 1024
SEVERITIES = ("info", "low", "medium", "high", "critical")
NOT_PASSED = ("failed", "panicked", "timedout", "aborted", "interrupted")
FAILED = ("failed", "panicked", "timedout", "aborted")
# A latency is judged changed only past this share of the before value: single runs are noisy.
LATENCY_SHARE = 0.25
MAX_SUMMARY = 200


class CompareError(TriageError):
    """A side of a comparison is not a usable report; the message is one line naming the file."""


Json = dict[str, Any]


# ---------------------------------------------------------------------------------------- loading


def load_side(path: str | os.PathLike[str], analyze: Callable[[Path], Json]) -> Json:
    """One side of a comparison as a JSON report.

    A file whose content is a JSON object holding `schema_version` (pretty or on one line) is a saved
    report; a file that starts with `{` but is not such an object is refused. Anything else (a bundle
    directory, an archive, a log) is given to `analyze`.

    Args:
        path: a bundle directory, an archive, a log file, or a saved `--format json` report.
        analyze: turns a bundle path into its JSON report (the CLI passes analyze + to_json).

    Returns:
        The report, checked: the fields the comparison reads are there with the right types.

    Raises:
        CompareError: a saved report that is not valid JSON, not a triage report, of another
            schema version, or missing a field.
    """
    path = Path(path)
    saved = _saved_report(path)
    report = analyze(path) if saved is None else saved
    return check_report(report, str(path))


def _saved_report(path: Path) -> Json | None:
    """The JSON report `path` holds, or None when it is not a JSON object (a bundle, a log)."""
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            head = handle.read(65536)
    except OSError as exc:
        raise CompareError(f"{path}: cannot read: {exc.strerror}") from None
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if not text.startswith("{"):
        return None
    first = text.split("\n", 1)[0]
    try:
        line = json.loads(first)
    except ValueError:
        line = None
    if isinstance(line, dict) and "schema_version" not in line:
        return None  # a whole JSON object on the first line without a schema version: a zap log
    if path.stat().st_size > MAX_REPORT_BYTES:
        raise CompareError(f"{path}: a JSON report over {MAX_REPORT_BYTES // 2**20} MiB is refused")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise CompareError(f"{path}: not a triage JSON report: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise CompareError(f"{path}: not a triage JSON report: JSON error at line {exc.lineno}") from None
    except (OSError, RecursionError) as exc:
        raise CompareError(f"{path}: cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise CompareError(f"{path}: not a triage JSON report: not a JSON object")
    return data


def _need(value: Any, where: str, name: str, *kinds: type | None) -> Any:
    ok = any(value is None if kind is None else _is(value, kind) for kind in kinds)
    if not ok:
        wanted = " or ".join("null" if k is None else _KIND_NAMES.get(k, k.__name__) for k in kinds)
        raise CompareError(f"{name}: field {where} is missing or not {wanted}")
    return value


_KIND_NAMES: dict[type, str] = {dict: "an object", list: "a list", str: "text", int: "an integer"}


def _is(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, kind)


def _field(obj: Json, key: str, where: str, name: str, *kinds: type | None) -> Any:
    if key in ("fingerprint", "passed_fingerprints") and key not in obj:
        raise CompareError(
            f"{name}: {where}{key} is missing: the report was written by an older triage; "
            "analyse the bundle again"
        )
    return _need(obj.get(key), f"{where}{key}", name, *kinds)


def check_report(data: Json, name: str) -> Json:
    """Check that a JSON report holds every field the comparison reads, with its type.

    Args:
        data: the parsed report.
        name: the file it came from, for messages.

    Returns:
        The same report.

    Raises:
        CompareError: a one-line message naming the file and the first field at fault.
    """
    if "schema_version" not in data:
        raise CompareError(f"{name}: not a triage JSON report (no schema_version)")
    if data["schema_version"] != 1:
        raise CompareError(f"{name}: report schema_version {data['schema_version']!r}; this triage reads 1")
    bundle = _field(data, "bundle", "", name, dict)
    _field(bundle, "path", "bundle.", name, str)
    for key in ("service", "run_dir"):
        _field(bundle, key, "bundle.", name, str, None)
    tests = _field(data, "tests", "", name, dict, None)
    if tests is not None:
        for key in ("ran", "total", "passed", "failed", "interrupted"):
            _field(tests, key, "tests.", name, int, None)
        for i, spec in enumerate(_field(tests, "specs", "tests.", name, list)):
            where = f"tests.specs[{i}]."
            _need(spec, where[:-1], name, dict)
            _field(spec, "name", where, name, str)
            _field(spec, "state", where, name, str)
            _field(spec, "location", where, name, str, None)
            _field(spec, "fingerprint", where, name, str)
            if _field(spec, "cause", where, name, dict, None) is not None:
                _field(spec["cause"], "rule", f"{where}cause.", name, str)
        for i, fingerprint in enumerate(_field(tests, "passed_fingerprints", "tests.", name, list)):
            _need(fingerprint, f"tests.passed_fingerprints[{i}]", name, str)
    audit = _field(data, "audit", "", name, dict)
    for key in (
        "buffered",
        "written",
        "dropped",
        "failed_batches",
        "ds_batch_writes",
        "ds_events_written",
        "buffered_lines",
        "store_dropped_events",
        "ds_failed_batches",
        "timer_bug_ticks",
    ):
        _field(audit, key, "audit.", name, int, None)
    for key in ("write_ms", "query_ms"):
        stats = _field(audit, key, "audit.", name, dict, None)
        for stat in ("p50", "p95", "max") if stats is not None else ():
            _field(stats, stat, f"audit.{key}.", name, float)
    for i, finding in enumerate(_field(data, "findings", "", name, list)):
        where = f"findings[{i}]."
        _need(finding, where[:-1], name, dict)
        for key in ("rule", "summary", "fingerprint"):
            _field(finding, key, where, name, str)
        _field(finding, "correlation_id", where, name, str, None)
        if _field(finding, "severity", where, name, str) not in SEVERITIES:
            raise CompareError(f"{name}: field {where}severity is not one of {', '.join(SEVERITIES)}")
    for i, container in enumerate(_field(data, "containers", "", name, list)):
        where = f"containers[{i}]."
        _need(container, where[:-1], name, dict)
        for key in ("service", "name", "status", "health"):
            _field(container, key, where, name, str, None)
        _field(container, "exit_code", where, name, int, None)
        _field(container, "restart_count", where, name, int, None)
        _field(container, "oom_killed", where, name, bool, None)
    return data


# ------------------------------------------------------------------------------------- comparing


@dataclass(frozen=True)
class Metric:
    """One figure of both runs and how it changed.

    Attributes:
        section: `tests` or `audit`.
        key: a stable name (`pass_rate`, `ds_events_written`, …).
        label: what the Markdown calls it.
        unit: `count`, `percent` or `ms`.
        before, after: the figures; None when a run's report does not have them.
        better: `higher`, `lower`, or None when the figure is shown but not judged.
        per_spec: the figure grows with the run and the runs differ in size, so it is judged per spec ran.
        verdict: `better`, `worse`, `same`, `unknown` (a side lacks it) or `shown` (not judged).
        change: the change in words, e.g. `+217 (5.2x)` or `1.86 → 9.61 per spec ran`.
    """

    section: str
    key: str
    label: str
    unit: str
    before: float | None
    after: float | None
    better: str | None
    per_spec: bool
    verdict: str
    change: str


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


def _rate(part: Any, whole: Any) -> float | None:
    if not isinstance(part, int) or not isinstance(whole, int) or whole <= 0:
        return None
    return 100.0 * part / whole


def _number(value: float, unit: str) -> str:
    if unit == "percent":
        return f"{value:.1f} %"
    if unit == "ms":
        return f"{value:.1f} ms"
    return f"{value:g}" if value == int(value) else f"{value:.2f}"


def _judge(
    section: str,
    key: str,
    label: str,
    values: tuple[float | None, float | None],
    unit: str,
    better: str | None,
    sizes: tuple[int, int] | None,
) -> Metric:
    """A metric with its verdict; `sizes` (specs ran) when the figure is to be judged per spec."""
    before, after = values
    if before is None or after is None:
        return Metric(section, key, label, unit, before, after, better, False, "unknown", "unknown")
    b, a = before, after
    change = _delta(b, a, unit)
    if sizes is not None:
        b, a = before / sizes[0], after / sizes[1]
        change = f"{b:.2f} → {a:.2f} per spec ran"
    if better is None:
        verdict = "shown"
    elif abs(a - b) < 1e-9 or (unit == "ms" and abs(a - b) <= LATENCY_SHARE * max(b, 1.0)):
        verdict = "same"
    else:
        verdict = "better" if (a > b) == (better == "higher") else "worse"
    if verdict == "same" and b == a:
        change = "same"
    return Metric(section, key, label, unit, before, after, better, sizes is not None, verdict, change)


def _delta(before: float, after: float, unit: str) -> str:
    diff = after - before
    if diff == 0:
        return "same"
    if unit == "percent":
        return f"{diff:+.1f} pts"
    if unit == "ms":
        shown = round(after, 1) - round(before, 1)  # as the rounded figures beside it show it
        share = f" ({diff / before:+.0%})" if before else ""
        return f"{shown:+.1f} ms{share}"
    text = _number(diff, unit)
    text = text if diff < 0 else "+" + text
    if before > 0 and after > 0 and (after / before >= 2 or before / after >= 2):
        text += f" ({after / before:.2g}x)"
    return text


_P1 = "process 1's closing counters"
# (section, key, label, better): counts of the JSON report's `tests` and `audit`; None: shown, not judged.
COUNTS: tuple[tuple[str, str, str, str | None], ...] = (
    ("tests", "ran", "Specs ran", None),
    ("tests", "passed", "Passed", "higher"),
    ("tests", "failed", "Failed", "lower"),
    ("tests", "interrupted", "Interrupted", "lower"),
    ("audit", "buffered", f"Events buffered ({_P1})", None),
    ("audit", "written", f"Events written ({_P1})", None),
    ("audit", "buffered_lines", "Events buffered (buffered lines, all stores)", None),
    ("audit", "ds_batch_writes", "DataStorage batch writes", "higher"),
    ("audit", "ds_events_written", "Events DataStorage wrote", "higher"),
    ("audit", "dropped", f"Dropped events ({_P1})", "lower"),
    ("audit", "store_dropped_events", "Dropped events (the stores' drop lines)", "lower"),
    ("audit", "failed_batches", f"Failed batches ({_P1})", "lower"),
    ("audit", "ds_failed_batches", "Batch requests DataStorage refused or failed", "lower"),
    ("audit", "timer_bug_ticks", "TIMER BUG ticks", "lower"),
)
# (key, label, part, whole): rates in percent, higher is better.
RATES = (
    ("pass_rate", "Pass rate (passed / ran)", ("tests", "passed"), ("tests", "ran")),
    ("write_rate", f"Write rate ({_P1})", ("audit", "written"), ("audit", "buffered")),
    (
        "ds_write_rate",
        "Write rate (events DataStorage wrote / buffered lines)",
        ("audit", "ds_events_written"),
        ("audit", "buffered_lines"),
    ),
)


ORDER = (
    "ran",
    "passed",
    "failed",
    "interrupted",
    "pass_rate",
    "buffered",
    "written",
    "write_rate",
    "buffered_lines",
    "ds_batch_writes",
    "ds_events_written",
    "ds_write_rate",
)


def _get(report: Json, where: tuple[str, str]) -> Any:
    return (report[where[0]] or {}).get(where[1])


def _metrics(before: Json, after: Json, sizes: tuple[int, int] | None) -> list[Metric]:
    """Every figure of both reports, rates beside their counts; what neither report has is left out."""
    out = []
    for section, key, label, better in COUNTS:
        pair = (_get(before, (section, key)), _get(after, (section, key)))
        if pair != (None, None) or key != "buffered_lines":
            scaled = sizes if key != "ran" else None
            out.append(_judge(section, key, label, pair, "count", better, scaled))
    for key, label, part, whole in RATES:
        pair = (_rate(_get(before, part), _get(before, whole)), _rate(_get(after, part), _get(after, whole)))
        if pair != (None, None) or key != "ds_write_rate":
            out.append(_judge(part[0], key, label, pair, "percent", "higher", None))
    for key, what in (("write_ms", "Batch write time"), ("query_ms", "Query time")):
        for stat in ("p50", "p95", "max"):
            b, a = ((report["audit"].get(key) or {}).get(stat) for report in (before, after))
            out.append(_judge("latency", f"{key}_{stat}", f"{what} {stat}", (b, a), "ms", "lower", None))
    if before["tests"] is None and after["tests"] is None:
        out = [m for m in out if m.section != "tests"]
    return sorted(out, key=lambda m: ORDER.index(m.key) if m.key in ORDER else len(ORDER))


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
    if s.before in FAILED and s.after == "passed":
        return 0
    if s.before == "passed" and s.after in FAILED:
        return 1
    if s.before in FAILED and s.after in FAILED:
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
            shown = f"{m.label}: {_shown(m.before, m.unit)} → {_shown(m.after, m.unit)}"
            if m.per_spec:
                shown += f" ({m.change})"
            (improved if m.verdict == "better" else worse).append(shown)
        elif m.verdict == "unknown" and m.better is not None:
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
            rules = ", ".join(f"{f.rule} ({f.before or f.after})" for f in serious)
            bucket.append(f"{_plural(len(serious), 'finding')} above info {what}: {rules}")
    for f in stayed:
        rank_b, rank_a = SEVERITIES.index(f.before or "info"), SEVERITIES.index(f.after or "info")
        if rank_b != rank_a:
            (improved if rank_a < rank_b else worse).append(f"{f.rule} stayed, {f.before} → {f.after}")
    fixed = [s for s in specs if s.before in FAILED and s.after == "passed"]
    broke = [s for s in specs if s.before == "passed" and s.after in FAILED]
    if fixed:
        improved.append(f"{_plural(len(fixed), 'spec')} failed before and passed after")
    if broke:
        worse.append(f"{_plural(len(broke), 'spec')} passed before and failed after")
    return improved, worse, unknown


def _shown(value: float | None, unit: str) -> str:
    return "unknown" if value is None else _number(value, unit)


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
    metrics = _metrics(before, after, sizes)
    containers = _containers(before, after)
    findings = _findings(before, after)
    specs = _specs(before, after)
    improved, worse, unknown = _summary(metrics, containers, findings, specs)
    return Comparison(
        before=before,
        after=after,
        ran=ran,
        per_spec=sizes is not None,
        metrics=tuple(metrics),
        containers=tuple(containers),
        disappeared=tuple(findings[0]),
        appeared=tuple(findings[1]),
        stayed=tuple(findings[2]),
        specs=tuple(specs),
        improved=tuple(improved),
        worse=tuple(worse),
        unknown=tuple(unknown),
    )


# --------------------------------------------------------------------------------------- output


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
    return Row(m.label, _shown(m.before, m.unit), _shown(m.after, m.unit), change)


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
            "summary): counts are compared as they are."
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
    rows = [_row(m) for m in c.metrics]
    return CompareContext(
        title=f"Compare: {service} runs, before and after",
        before=_describe(c.before),
        after=_describe(c.after),
        version=version,
        improved=c.improved,
        worse=c.worse,
        unknown=c.unknown,
        size_note=_size_note(c),
        tests=tuple(r for r, m in zip(rows, c.metrics, strict=True) if m.section == "tests"),
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
        audit=tuple(r for r, m in zip(rows, c.metrics, strict=True) if m.section == "audit"),
        latency=tuple(r for r, m in zip(rows, c.metrics, strict=True) if m.section == "latency"),
        containers=tuple(Row(x.container, x.before, x.after, x.verdict) for x in c.containers),
        gone=tuple(_finding_row(f, short) for f in c.disappeared),
        new=tuple(_finding_row(f, short) for f in c.appeared),
        stayed=tuple(_finding_row(f, short) for f in c.stayed),
    )
