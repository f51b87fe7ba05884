"""unexpected-event-count on the committed example bundles: the count, the extra event and its evidence."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from triage.api import Report, analyze
from triage.lines import split_lines
from triage.rules.base import Finding, Severity
from triage.rules.unexpected_event_count import RULE

BUNDLES = Path(__file__).resolve().parents[2] / "fixtures" / "bundles"


@cache
def _report(name: str) -> Report:
    return analyze(BUNDLES / name, select=(RULE.id,))


def _only(name: str) -> Finding:
    findings = _report(name).findings
    assert len(findings) == 1, findings
    return findings[0]


def test_five_transitions_where_four_were_expected_is_high_and_names_the_phase() -> None:
    """The Jan 14 transition spec got 5 of 4 expected; the finding names Enriching as processed twice."""
    finding = _only("01-jan14-1025")
    assert finding.correlation_id == "audit-test-rr-04"
    assert finding.severity == Severity.HIGH
    assert "expected 4 signalprocessing.phase.transition event(s)" in finding.summary
    assert "its query found 5" in finding.summary
    assert "5 were buffered" in finding.summary
    assert "`Processing Enriching phase` 2 times" in finding.summary
    assert "line 4085" in finding.summary


def test_evidence_quotes_both_enriching_passes_the_extra_event_and_the_numbers() -> None:
    """Evidence cites both Enriching passes, the extra transition, the Found print and both numbers."""
    finding = _only("01-jan14-1025")
    cited = {e.line: e.text for e in finding.evidence}
    assert {4074, 4082, 4085, 4117, 4123, 4125, 4127} <= set(cited)
    assert "Processing Enriching phase" in cited[4074] and "Processing Enriching phase" in cited[4082]
    assert (
        cited[4117]
        == "✅ Found 5 event(s) for signalprocessing.phase.transition (correlation_id=audit-test-rr-04)"
    )
    assert cited[4125] == "<int>: 5" and cited[4127] == "<int>: 4"
    raw = split_lines((BUNDLES / "01-jan14-1025" / "integration-signalprocessing.log").read_bytes()).frame[
        "raw"
    ]
    for ev in finding.evidence:
        assert ev.text in str(raw[ev.line - 1])
    assert len(finding.evidence) <= 8


def test_a_failed_boolean_assertion_is_not_a_count_mismatch() -> None:
    """The error spec's `Expected <bool>: false to be true` failure gives no finding for its ID."""
    assert all(f.correlation_id != "audit-test-rr-05" for f in _report("01-jan14-1025").findings)


def test_timed_out_polls_are_not_count_mismatches() -> None:
    """Specs that failed because an Eventually timed out (missing events) give no finding."""
    for name in ("04-race-timeout", "06-rejections-400", "07-datastorage-down"):
        assert _report(name).findings == (), name


def test_runs_without_count_failures_have_no_finding() -> None:
    """Healthy, flush-bug and later-format runs have no count mismatch."""
    for name in ("02-healthy", "05-flush-bug", "09-later-format"):
        assert _report(name).findings == (), name
