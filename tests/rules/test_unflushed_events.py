"""unflushed-events on the committed bundles and on hand-edited copies of them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.ginkgo_log import Spec, ginkgo_log, store_line, write_bundle
from triage.api import Report, analyze
from triage.rules.base import Finding, Severity
from triage.simulate import simulate

BUNDLES = Path(__file__).resolve().parents[2] / "fixtures" / "bundles"
RULE = "unflushed-events"
TEST_LOG = "integration-signalprocessing.log"


def _findings(report: Report, minimum: Severity = Severity.LOW) -> list[Finding]:
    return [f for f in report.findings if f.rule == RULE and f.severity >= minimum]


@pytest.fixture(scope="module")
def datastorage_down() -> Report:
    return analyze(BUNDLES / "07-datastorage-down", select=(RULE,))


def test_writer_retrying_when_the_run_ended_strands_the_events_of_its_last_spec(
    datastorage_down: Report,
) -> None:
    """Store A retrying attempt 2 at 22:19:47 when the run ended at 22:19:49.389 strands rr-03's 8 events."""
    (finding,) = _findings(datastorage_down)
    assert finding.correlation_id == "audit-test-rr-03"
    assert finding.severity == Severity.MEDIUM
    assert "8 events of audit-test-rr-03" in finding.summary
    assert "attempt 2 of 3 at 22:19:47 UTC, connection refused" in finding.summary
    assert "22:19:49.389 UTC" in finding.summary
    assert "22:19:51 UTC at the earliest" in finding.summary


def test_evidence_shows_the_buffered_lines_the_stuck_attempt_and_the_run_end(
    datastorage_down: Report,
) -> None:
    """The evidence runs from rr-03's first buffered line through the attempt-2 failure to the last STEP."""
    (finding,) = _findings(datastorage_down)
    lines = [e.line for e in finding.evidence]
    assert lines[0] == 1144 and 1177 in lines and lines[-1] == 1262
    assert "Event buffered successfully" in finding.evidence[0].text
    assert '"attempt":2' in next(e.text for e in finding.evidence if e.line == 1177)
    assert finding.evidence[-1].text.startswith("STEP: Cleaning up infrastructure images")
    assert all(e.file == TEST_LOG for e in finding.evidence)


@pytest.mark.parametrize("bundle", ["02-healthy", "05-flush-bug", "06-rejections-400", "08-timer-stall"])
def test_runs_where_every_event_was_written_or_dropped_get_no_finding(bundle: str) -> None:
    """Healthy, flush-bug, rejected and stalled runs leave nothing above info level."""
    assert _findings(analyze(BUNDLES / bundle, select=(RULE,))) == []


def test_closing_counters_with_a_gap_and_no_failed_batch_are_high(tmp_path: Path) -> None:
    """Process 1's counters showing 24 buffered, 22 written, nothing dropped or failed give a high finding."""
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLES / "02-healthy", bundle)
    log = bundle / TEST_LOG
    text = log.read_text(encoding="utf-8")
    closed = '"buffered_count":24,"written_count":24,'
    assert text.count(closed) == 1
    log.write_text(text.replace(closed, '"buffered_count":24,"written_count":22,'), encoding="utf-8")
    (finding,) = _findings(analyze(bundle, select=(RULE,)))
    assert finding.severity == Severity.HIGH and finding.correlation_id is None
    assert "2 events were neither written nor dropped" in finding.summary
    assert '"written_count":22' in finding.evidence[0].text


def test_events_behind_a_stuck_batch_that_a_second_batch_could_outlast_are_only_a_note(
    tmp_path: Path,
) -> None:
    """Seven events behind attempt 1 at 22:19:48 with the run ending at 22:20:01.219 stay an info note."""
    simulate("datastorage-down", tmp_path / "bundle", seed=8)
    report = analyze(tmp_path / "bundle", select=(RULE,))
    assert _findings(report) == []
    (note,) = [f for f in report.findings if f.rule == RULE]
    assert note.severity == Severity.INFO and note.correlation_id == "audit-test-rr-02"
    assert "may not have reached DataStorage (1 in the failing batch, 7 behind it)" in note.summary
    assert "attempt 1 of 3 at 22:19:48 UTC" in note.summary and "(22:20:01.219 UTC)" in note.summary


FLUSH_FAILED = "⚠️  Warning: Failed to flush audit store: flush timeout: context deadline exceeded"
FLUSH_TIMEOUT = "⚠️ Flush warning (non-fatal, Eventually will retry): flush timeout: context deadline exceeded"


def test_flushes_timing_out_with_a_spec_failing_after_are_high(tmp_path: Path) -> None:
    """A Flush() timeout in a spec that then timed out, without DataStorage's log, is high and says so."""
    spec = Spec(
        "should record the delivery",
        [FLUSH_TIMEOUT, "⏳ No events yet for notification.message.sent (correlation_id=nr-stuck-5)"],
        ["  [FAILED] Timed out after 10.001s."],
    )
    report = analyze(write_bundle(tmp_path, ginkgo_log(spec)))
    (finding,) = [f for f in report.findings if f.rule == "unflushed-events"]
    assert finding.severity == Severity.HIGH and finding.correlation_id is None
    assert finding.summary.startswith(
        "The audit stores stopped handing events to DataStorage: 1 Flush() call(s)"
    )
    assert (
        "DataStorage's log is missing" in finding.summary and "how many cannot be counted" in finding.summary
    )
    (verdict,) = report.verdicts
    assert verdict.cause == finding and verdict.basis == "evidence in its timeline"


def test_flush_timeouts_in_a_passing_run_are_a_note(tmp_path: Path) -> None:
    """A Flush() timeout in a run whose specs all passed is an info note, not a problem."""
    spec = Spec(
        "should record the delivery",
        [FLUSH_TIMEOUT, "✅ Found 1 event(s) for n.m.sent (correlation_id=nr-6)"],
    )
    (finding,) = [
        f for f in analyze(write_bundle(tmp_path, ginkgo_log(spec))).findings if f.rule == "unflushed-events"
    ]
    assert finding.severity == Severity.INFO


def _stalled_run(tmp_path: Path, stall_s: float) -> Report:
    """A spec whose Flush() timed out and failed, then a TIMER BUG line a stall of `stall_s` ended."""
    timed_out = Spec(
        "should record the delivery",
        [FLUSH_TIMEOUT, "⏳ No events yet for notification.message.sent (correlation_id=nr-stall-3)"],
        ["  [FAILED] Timed out after 10.001s."],
    )
    bug = store_line(
        "2026-03-02T09:16:02-05:00",
        "🚨 TIMER BUG DETECTED: Tick interval significantly exceeded expected",
        expected_interval=0.1,
        actual_interval=stall_s,
        drift=stall_s - 0.1,
    )
    found = "✅ Found 1 event(s) for n.m.sent (correlation_id=nr-7)"
    later = Spec("should clean up", [bug, found], minute=16)
    return analyze(write_bundle(tmp_path, ginkgo_log(timed_out, later)))


def test_flush_timeouts_inside_a_stall_a_later_timer_bug_line_ended_are_no_stuck_writer(
    tmp_path: Path,
) -> None:
    """A Flush() that timed out inside the stall a later TIMER BUG line reports is a starved writer that moved
    again, not a stuck one: no unflushed-events finding, and timer-stall reports the stall."""
    report = _stalled_run(tmp_path, 75.0)
    assert not [f for f in report.findings if f.rule == RULE]
    assert any(f.rule == "timer-stall" and f.severity >= Severity.MEDIUM for f in report.findings)


def test_flush_timeouts_before_the_stall_a_timer_bug_line_reports_still_show_a_stuck_writer(
    tmp_path: Path,
) -> None:
    """A Flush() that timed out before the stall a TIMER BUG line reports began is still a stuck writer."""
    (finding,) = [f for f in _stalled_run(tmp_path, 30.0).findings if f.rule == RULE]
    assert finding.severity == Severity.HIGH


def test_a_silent_spec_that_failed_while_the_writer_never_wrote_is_explained_by_the_stuck_writer(
    tmp_path: Path,
) -> None:
    """A spec that printed no query but failed on a DataStorage assertion after the writer started and before
    the Flush() timeouts, with no write in between, gets the stuck writer as its cause."""
    started = store_line(
        "2026-03-02T09:14:01-05:00", "🚀 Audit background writer started", level="info", flush_interval=0.1
    )
    silent = Spec(
        "should record the console delivery",
        ["STEP: Querying DataStorage for the audit events @ 03/02/26 09:15:02.100"],
        [
            "  [FAILED] Timed out after 10.008s.",
            "  Notification should record notification.message.sent in DataStorage",
            "  Expected",
            "      <bool>: false",
            "  to be true",
        ],
    )
    log = ginkgo_log(
        Spec("should start the store", [started, "✅ Created test namespace: notif-audit-1"], minute=14),
        silent,
        Spec("should clean up", [FLUSH_FAILED], minute=16),
    )
    report = analyze(write_bundle(tmp_path, log))
    (finding,) = [f for f in report.findings if f.rule == "unflushed-events"]
    assert finding.severity == Severity.HIGH
    assert any("Audit background writer started" in e.text for e in finding.evidence)
    (verdict,) = [v for v in report.verdicts if v.spec.state == "failed"]
    assert verdict.cause == finding and verdict.basis is not None and verdict.basis.startswith("inferred")


KNOBS = {
    "ds_latency_ms": 20.0,
    "fail_fast": True,
    "test_log": "ci",
    "missing_container": "",
    "era": "current",
}
HANDED_OVER = [
    # DataStorage wrote, then was OOM-killed: the writer retries refused batches until it drops them.
    (
        "jan14-1025",
        5050,
        KNOBS
        | {
            "processes": 1,
            "specs": 6,
            "faults": ("datastorage-oom", "duplicate-transition", "poll-any-then-assert"),
            "flush_interval": 1.0,
            "naming": "double",
            "service": "remediationorchestrator",
            "clock_skew_ms": 0.0,
        },
    ),
]


@pytest.mark.parametrize(("scenario", "seed", "knobs"), HANDED_OVER)
def test_flushes_timing_out_after_every_event_was_handed_over_are_no_problem(
    tmp_path: Path, scenario: str, seed: int, knobs: dict[str, object]
) -> None:
    """Flush() timeouts while the writer retried batches DataStorage refused leave no event behind (each
    batch ends written or dropped), so no finding above info."""
    truth = simulate(scenario, tmp_path / "run", seed=seed, **knobs).read_text(encoding="utf-8")
    assert '"outcome": "unflushed"' not in truth
    log = (tmp_path / "run" / "integration-remediationorchestrator.log").read_text(encoding="utf-8")
    assert "flush timeout" in log
    report = analyze(tmp_path / "run")
    assert any(f.rule == "dropped-events" and f.severity == Severity.HIGH for f in report.findings)
    assert not _findings(report)
