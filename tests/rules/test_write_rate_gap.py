"""write-rate-gap on the committed bundles and a hand-edited copy."""

from __future__ import annotations

import shutil
from pathlib import Path

from triage.api import analyze
from triage.rules.base import Severity

BUNDLES = Path(__file__).resolve().parents[2] / "fixtures" / "bundles"
RULE = "write-rate-gap"
TEST_LOG = "integration-signalprocessing.log"


def test_closing_counters_below_buffered_with_failed_batches_are_medium() -> None:
    """Process 1 wrote 25 of 33 with 3 failed batches: a medium finding that points at the dropped batches."""
    report = analyze(BUNDLES / "06-rejections-400", select=(RULE,))
    (finding,) = [f for f in report.findings if f.severity > Severity.INFO]
    assert finding.severity == Severity.MEDIUM and finding.correlation_id is None
    assert finding.summary.startswith(
        "Process 1's store wrote 25 of 33 buffered events (76 %, dropped_count 0): 8 never written"
    )
    assert "failed_batch_count 3" in finding.summary
    assert [e.line for e in finding.evidence] == [1279]


def test_other_processes_counting_more_events_is_not_a_gap() -> None:
    """Twelve processes whose total_buffered exceed process 1's closed counters give no finding above info."""
    report = analyze(BUNDLES / "01-jan14-1025", select=(RULE,))
    assert report.analysis.stores and max(s.max_total_buffered or 0 for s in report.analysis.stores) > 64
    assert [f for f in report.findings if f.severity > Severity.INFO] == []


def test_gap_without_failed_batches_is_high(tmp_path: Path) -> None:
    """24 buffered and 22 written with nothing dropped or failed is a high finding."""
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLES / "02-healthy", bundle)
    log = bundle / TEST_LOG
    text = log.read_text(encoding="utf-8")
    log.write_text(
        text.replace('"buffered_count":24,"written_count":24,', '"buffered_count":24,"written_count":22,'),
        encoding="utf-8",
    )
    (finding,) = [f for f in analyze(bundle, select=(RULE,)).findings if f.severity > Severity.INFO]
    assert finding.severity == Severity.HIGH
    assert "wrote 22 of 24 buffered events (92 %, dropped_count 0): 2 never written" in finding.summary


def test_events_held_through_a_stall_are_an_info_note_when_counters_exist() -> None:
    """Five events buffered at 18:40:59 and flushed by the tick printed at 18:41:03 are an info note."""
    report = analyze(BUNDLES / "08-timer-stall", select=(RULE,))
    (note,) = [f for f in report.findings if f.rule == RULE]
    assert note.severity == Severity.INFO
    assert note.summary.startswith(
        "5 events buffered from 18:40:59 UTC in process 1's store waited at least 3.0 s"
    )
    assert note.evidence[-1].line == 886 and "Timer tick received" in note.evidence[-1].text
