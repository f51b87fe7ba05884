"""The clock-skew rule on a real bundle, and on the same events with DataStorage's times shifted.

The simulator logs the test host and DataStorage from one clock, so it cannot produce skew; these
tests shift the DataStorage rows of a real bundle's event table and rebuild the analysis from it.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from triage.api import Report, analyze
from triage.facts.analysis import Analysis, build_analysis
from triage.rules import clock_skew, run_rules
from triage.rules.base import Finding, Severity

BUNDLE = Path(__file__).resolve().parents[2] / "fixtures" / "bundles" / "02-healthy"


@pytest.fixture(scope="module")
def healthy() -> Report:
    return analyze(BUNDLE, select=("clock-skew",))


def _shifted(report: Report, ms: int) -> Analysis:
    """The bundle's analysis with every DataStorage record `ms` milliseconds later."""
    shift = pl.duration(milliseconds=ms, time_unit="ns")
    events = report.events.with_columns(
        pl.when(pl.col("service") == "datastorage")
        .then(pl.col("ts") + shift)
        .otherwise(pl.col("ts"))
        .alias("ts")
    )
    a = report.analysis
    return build_analysis(
        events, report.tests, report.containers, report.log_health, a.kinds, a.texts, a.attrs
    )


def _only(analysis: Analysis) -> Finding:
    findings = [f for outcome in run_rules(analysis, (clock_skew.RULE,)) for f in outcome.findings]
    assert len(findings) == 1
    return findings[0]


def _reported_ms(summary: str) -> float:
    found = re.search(r"(\d+\.\d) ms", summary)
    assert found is not None
    return float(found.group(1))


def test_agreeing_clocks_give_one_info_finding_quoting_a_tick_and_its_write(healthy: Report) -> None:
    """Unshifted clocks give an info finding whose evidence is a flushing tick and its DataStorage write."""
    findings = list(healthy.findings)
    assert len(findings) == 1
    finding = findings[0]
    assert finding.severity == Severity.INFO
    assert "differ by 0.1 ms, below the 50 ms" in finding.summary
    assert "47 of 48 flushes" in finding.summary
    tick, write = finding.evidence
    assert tick.file == "integration-signalprocessing.log" and "Timer tick received" in tick.text
    assert '"batch_size_before_flush":' in tick.text
    assert "Batch audit events created successfully" in write.text


def test_datastorage_behind_by_300_ms_is_low_and_shows_writes_before_their_tick(healthy: Report) -> None:
    """DataStorage 300 ms behind gives a low finding that names writes committed before their tick."""
    finding = _only(_shifted(healthy, -300))
    assert finding.severity == Severity.LOW
    assert abs(_reported_ms(finding.summary) - 300.0) <= 2.0
    assert "behind the test host's" in finding.summary
    assert "committed before the tick that sent them" in finding.summary
    assert len(finding.evidence) == 6
    assert all("Timer tick received" in e.text for e in finding.evidence[::2])
    assert all("Batch audit events created successfully" in e.text for e in finding.evidence[1::2])


def test_datastorage_ahead_by_seconds_is_medium(healthy: Report) -> None:
    """DataStorage 3 s ahead is found at its size and is medium."""
    finding = _only(_shifted(healthy, 3000))
    assert finding.severity == Severity.MEDIUM
    assert abs(_reported_ms(finding.summary) - 3000.0) <= 2.0
    assert "ahead of the test host's" in finding.summary
    assert "committed before" not in finding.summary


def test_offset_below_threshold_stays_info(healthy: Report) -> None:
    """A 40 ms offset, below the 50 ms threshold, is reported as info with its size."""
    finding = _only(_shifted(healthy, -40))
    assert finding.severity == Severity.INFO
    assert abs(_reported_ms(finding.summary) - 40.0) <= 2.0


def test_just_above_threshold_fires(healthy: Report) -> None:
    """A 60 ms offset is above the 50 ms threshold and gives a low finding."""
    assert _only(_shifted(healthy, 60)).severity == Severity.LOW


def test_no_datastorage_writes_gives_no_finding(healthy: Report) -> None:
    """Without DataStorage write records the clocks cannot be compared, so nothing is reported."""
    events = healthy.events.filter(pl.col("service") != "datastorage")
    analysis = build_analysis(
        events,
        healthy.tests,
        healthy.containers,
        healthy.log_health,
        healthy.analysis.kinds,
        attrs=healthy.analysis.attrs,
    )
    assert list(clock_skew.check(analysis)) == []


def test_estimate_matches_the_shift_on_both_sides(healthy: Report) -> None:
    """The pipeline's offset estimate follows a shift in either direction to within 2 ms."""
    base = healthy.analysis.pipeline.offset
    assert base is not None and abs(base.skew_ns) < 1_000_000
    for ms in (-30_000, -120, 120, 30_000):
        offset = _shifted(healthy, ms).pipeline.offset
        assert offset is not None
        assert abs(offset.skew_ns - base.skew_ns - ms * 1_000_000) <= 2_000_000, ms
