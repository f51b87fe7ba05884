"""dropped-events on the committed bundles, a rule fixture and a hand-edited copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from triage.api import Report, analyze
from triage.rules.base import Finding, Severity

ROOT = Path(__file__).resolve().parents[2] / "fixtures"
BUNDLES = ROOT / "bundles"
RULE = "dropped-events"
TEST_LOG = "integration-signalprocessing.log"


def _findings(report: Report, minimum: Severity = Severity.LOW) -> list[Finding]:
    return [f for f in report.findings if f.rule == RULE and f.severity >= minimum]


@pytest.fixture(scope="module")
def rejections() -> Report:
    return analyze(BUNDLES / "06-rejections-400", select=(RULE,))


def test_rejected_batches_are_named_by_the_events_buffered_before_them(rejections: Report) -> None:
    """Store A's three 4xx drops at 02:04:25 carry sev-audit-rr-005's 8 events (1 + 4 + 3)."""
    finding = next(f for f in _findings(rejections) if f.correlation_id == "sev-audit-rr-005")
    assert finding.severity == Severity.HIGH
    assert finding.summary.startswith("3 batches (8 events of sev-audit-rr-005) dropped in store A")
    assert "non-retryable 4xx" in finding.summary and "from 02:04:25 UTC" in finding.summary


def test_datastorage_side_is_linked_by_time_and_said_to_be_inferred(rejections: Report) -> None:
    """DataStorage's 400s at 02:04:25.416/.715/.914 are quoted beside the drops as an inferred link."""
    finding = next(f for f in _findings(rejections) if f.correlation_id == "sev-audit-rr-005")
    assert (
        "at 02:04:25.416 UTC, 02:04:25.715 UTC, 02:04:25.914 UTC; linked to the drops by time, inferred"
        in (finding.summary)
    )
    ds = [e for e in finding.evidence if e.file.endswith("_datastorage_test.log")]
    assert ds and all("Request validation failed" in e.text or '"status": 400' in e.text for e in ds)
    drops = [e.line for e in finding.evidence if e.file == TEST_LOG]
    assert drops == sorted(drops) and 356 in drops


def test_closing_counters_report_process_1s_failed_batches(rejections: Report) -> None:
    """Process 1's `Audit store closed` line with failed_batch_count 3 is its own store-level finding."""
    finding = next(f for f in _findings(rejections) if f.correlation_id is None)
    assert finding.summary == "Process 1's store closed with 3 failed batches (dropped)."
    assert [e.line for e in finding.evidence] == [1279]


def test_retries_exhausted_name_the_error() -> None:
    """AUDIT DATA LOSS drops in the DataStorage-down run say the attempts failed with connection refused."""
    report = analyze(BUNDLES / "07-datastorage-down", select=(RULE,))
    lost = [f for f in _findings(report) if "after 3 failed attempts (connection refused)" in f.summary]
    assert {f.correlation_id for f in lost} == {"audit-test-rr-01", "audit-test-rr-02", "sev-audit-rr-006"}
    assert all(any("AUDIT DATA LOSS" in e.text for e in f.evidence) for f in lost)


def test_retried_database_errors_are_only_a_note() -> None:
    """DataStorage 500s that the store retried successfully are an info note, not a drop."""
    report = analyze(ROOT / "rules" / RULE / "db-errors-retried", select=(RULE,))
    assert _findings(report) == []
    (note,) = [f for f in report.findings if f.rule == RULE]
    assert note.severity == Severity.INFO and "2 batch database writes with 500" in note.summary


def test_datastorage_rejections_without_captured_drop_lines_are_still_reported(tmp_path: Path) -> None:
    """With the store's drop lines cut from the test log, DataStorage's six 400s alone give a high finding."""
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLES / "06-rejections-400", bundle)
    log = bundle / TEST_LOG
    kept = [
        line
        for line in log.read_text(encoding="utf-8").splitlines(keepends=True)
        if "Dropping audit" not in line
    ]
    log.write_text("".join(kept), encoding="utf-8")
    report = analyze(bundle, select=(RULE,))
    finding = next(f for f in _findings(report) if "no captured drop line" in f.summary)
    assert finding.severity == Severity.HIGH
    assert finding.summary.startswith(
        "DataStorage rejected 6 batch requests with 400 (from 02:04:25.416 UTC)"
    )
    assert "(inferred)" in finding.summary


def test_healthy_run_has_no_drop() -> None:
    """A run where every batch was written has no dropped-events finding at all."""
    assert [f for f in analyze(BUNDLES / "02-healthy", select=(RULE,)).findings if f.rule == RULE] == []
