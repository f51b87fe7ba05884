"""write-rate-gap on the committed bundles and a hand-edited copy."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import polars as pl

from triage.api import analyze
from triage.rules import write_rate_gap
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


def test_a_tick_printed_late_makes_the_events_it_flushed_wait_until_it_printed() -> None:
    """A flushing tick whose line printed 30 s after its tick_time: its events waited about that long."""
    analysis = analyze(BUNDLES / "02-healthy", select=()).analysis
    pipeline = analysis.pipeline
    assert not [f for f in write_rate_gap.check(analysis) if "waited at least" in f.summary]
    flushed = pipeline.buffered.filter(
        pl.col("flush_line").is_not_null() & pl.col("spec_index").is_not_null()
    )
    event = flushed.row(0, named=True)
    tick = (pl.col("file") == event["file"]) & (pl.col("line") == event["flush_line"])
    late = pipeline.ticks.with_columns(
        pl.when(tick).then(pl.col("tick_at") + pl.duration(seconds=30)).otherwise(pl.col("ts")).alias("ts")
    )
    edited = dataclasses.replace(analysis, pipeline=dataclasses.replace(pipeline, ticks=late))
    (finding,) = [f for f in write_rate_gap.check(edited) if "waited at least" in f.summary]
    carried = flushed.filter(
        (pl.col("file") == event["file"]) & (pl.col("flush_line") == event["flush_line"])
    )
    assert finding.summary.startswith(f"{carried.height} events buffered from")
    # 30 s after the tick fired, less the second the buffered lines printed (whole seconds).
    waited = re.search(r"waited at least ([0-9.]+) s", finding.summary)
    assert waited is not None and 29 <= float(waited.group(1)) <= 30
    assert event["line"] in [e.line for e in finding.evidence]


def _keep_first_writes(bundle: Path, keep: int) -> None:
    """Cut DataStorage's log after its first `keep` batch-write lines, as when its writes stop arriving."""
    (log,) = bundle.glob("*/*_datastorage_test.log")
    kept, seen = [], 0
    for line in log.read_text(encoding="utf-8").splitlines(keepends=True):
        if "/api/v1/audit/events/batch" in line or "Batch audit events created" in line:
            seen += 1
            if seen > keep:
                continue
        kept.append(line)
    log.write_text("".join(kept), encoding="utf-8")


def test_stores_buffering_far_more_than_datastorage_wrote_is_critical(tmp_path: Path) -> None:
    """677 buffered lines over twelve stores against 53 events written is one critical, run-wide finding."""
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLES / "01-jan14-1025", bundle)
    _keep_first_writes(bundle, 60)
    report = analyze(bundle)
    (headline,) = [f for f in report.findings if f.rule == RULE and f.severity > Severity.INFO]
    written = int(report.analysis.pipeline.writes["count"].sum() or 0)
    assert headline.severity == Severity.CRITICAL and headline.correlation_id is None
    assert headline.summary.startswith("The audit pipeline stopped writing: the stores logged 677 buffered")
    assert f"DataStorage wrote {written} (" in headline.summary and written < 677 // 2
    assert "store H 121" in headline.summary and "process 1 64" in headline.summary
    verdicts = {v.spec.name.rsplit("] ", 1)[-1]: v for v in report.verdicts if v.cause is not None}
    raced = verdicts["should create 'error.occurred' audit event with error details"]
    assert raced.cause == headline and raced.basis is not None and raced.basis.startswith("inferred")
    # Extra events are not explained by missing writes.
    counted = verdicts["should create 'phase.transition' audit events for each phase change"]
    assert counted.cause is not None and counted.cause.rule == "unexpected-event-count"


def test_without_datastorage_log_the_flushes_stand_in(tmp_path: Path) -> None:
    """Without DataStorage's log, stores whose ticks flushed few of their events still give the finding."""
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLES / "02-healthy", bundle)
    for path in bundle.glob("*/*_datastorage_test*"):
        path.unlink()
    log = bundle / TEST_LOG
    text = re.sub(
        r'"batch_size_before_flush":[1-9]\d*', '"batch_size_before_flush":0', log.read_text("utf-8")
    )
    log.write_text(text, encoding="utf-8")
    (headline,) = [f for f in analyze(bundle, select=(RULE,)).findings if f.severity > Severity.INFO]
    assert "the stores' ticks flushed (DataStorage's log is missing) 0 (0 %)" in headline.summary


def test_healthy_runs_conserve_their_events() -> None:
    """Bundles whose DataStorage wrote what the stores buffered give no conservation finding."""
    for name in ("02-healthy", "04-race-timeout", "05-flush-bug", "06-rejections-400", "09-later-format"):
        found = analyze(BUNDLES / name, select=(RULE,)).findings
        assert not [f for f in found if f.summary.startswith("The audit pipeline stopped writing")], name
