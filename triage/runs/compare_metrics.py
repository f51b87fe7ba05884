"""The figures `triage compare` sets side by side: counts, rates and latencies of both JSON reports.

Counts that grow with the run (specs, events, batches, drops) are judged per spec ran when the two runs
ran different numbers of specs; rates are judged as they are; a latency only past a share of its before
value, as single runs are noisy. DataStorage's figures are unknown for a report that read no DataStorage
log, since zero would then mean nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from triage.runs.sides import Json

# A latency is judged changed only past this share of the before value: single runs are noisy.
LATENCY_SHARE = 0.25


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
    judged: bool = True,
) -> Metric:
    """A metric with its verdict; `sizes` (specs ran) when the figure is to be judged per spec, `judged`
    False when it is only shown (a count of runs whose sizes are unknown)."""
    before, after = values
    if before is None or after is None:
        return Metric(section, key, label, unit, before, after, better, False, "unknown", "unknown")
    b, a = before, after
    change = _delta(b, a, unit)
    if sizes is not None:
        b, a = before / sizes[0], after / sizes[1]
        change = f"{b:.2f} → {a:.2f} per spec ran"
    if better is None or not judged:
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


# DataStorage's figures: zero means nothing when its log was not collected.
DATASTORAGE_KEYS = frozenset(
    {"ds_batch_writes", "ds_events_written", "ds_failed_batches", "write_ms", "query_ms"}
)
LOG_KINDS = frozenset({"zap_json", "zap_console"})


def _get(report: Json, where: tuple[str, str]) -> Any:
    """A figure of a report; None for DataStorage's when the report read no DataStorage log."""
    if where[1] in DATASTORAGE_KEYS and not _has_datastorage_log(report):
        return None
    return (report[where[0]] or {}).get(where[1])


def _has_datastorage_log(report: Json) -> bool:
    return any(s["service"] == "datastorage" and s["kind"] in LOG_KINDS for s in report["sources"])


def metrics(before: Json, after: Json, sizes: tuple[int, int] | None, sized: bool) -> list[Metric]:
    """Every figure of both reports, rates beside their counts; what neither report has is left out.

    Args:
        before: the earlier run's JSON report.
        after: the later run's JSON report.
        sizes: the specs each ran, when they differ (counts are then judged per spec ran).
        sized: both reports say how many specs ran.

    Returns:
        The figures in the order the tables show them.
    """
    out = []
    for section, key, label, better in COUNTS:
        pair = (_get(before, (section, key)), _get(after, (section, key)))
        if pair != (None, None) or key != "buffered_lines":
            scaled = sizes if key != "ran" else None
            out.append(_judge(section, key, label, pair, "count", better, scaled, sized))
    for key, label, part, whole in RATES:
        pair = (_rate(_get(before, part), _get(before, whole)), _rate(_get(after, part), _get(after, whole)))
        if pair != (None, None) or key != "ds_write_rate":
            out.append(_judge(part[0], key, label, pair, "percent", "higher", None))
    for key, what in (("write_ms", "Batch write time"), ("query_ms", "Query time")):
        for stat in ("p50", "p95", "max"):
            b, a = ((_get(report, ("audit", key)) or {}).get(stat) for report in (before, after))
            out.append(_judge("latency", f"{key}_{stat}", f"{what} {stat}", (b, a), "ms", "lower", None))
    if before["tests"] is None and after["tests"] is None:
        out = [m for m in out if m.section != "tests"]
    return sorted(out, key=lambda m: ORDER.index(m.key) if m.key in ORDER else len(ORDER))


def shown(value: float | None, unit: str) -> str:
    """A figure as the tables show it.

    Args:
        value: the figure, None when a report lacks it.
        unit: `count`, `percent` or `ms`.

    Returns:
        E.g. `269`, `89.3 %`, `56.7 ms`, or `unknown`.
    """
    return "unknown" if value is None else _number(value, unit)
