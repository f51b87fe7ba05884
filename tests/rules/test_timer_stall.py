"""timer-stall on the committed bundles."""

from __future__ import annotations

from pathlib import Path

from tests.ginkgo_log import Spec, ginkgo_log, store_line, write_bundle
from triage.api import analyze
from triage.rules.base import Severity

BUNDLES = Path(__file__).resolve().parents[2] / "fixtures" / "bundles"
RULE = "timer-stall"


def test_timer_bug_line_gives_the_stall_length_and_multiplier() -> None:
    """The TIMER BUG line at 13:41:03 local (actual 4.005 s, drift x40) is a medium finding for process 1."""
    report = analyze(BUNDLES / "08-timer-stall", select=(RULE,))
    (finding,) = report.findings
    assert finding.severity == Severity.MEDIUM and finding.correlation_id is None
    assert finding.summary.startswith(
        "TIMER BUG DETECTED: the writer of process 1's store received no tick for 4.0 s "
        "(expected 100 ms, x40) until 18:41:03 UTC"
    )


def test_evidence_is_the_last_tick_the_late_tick_and_the_timer_bug_line() -> None:
    """Evidence quotes tick 14 before the gap, tick 15 after it and the TIMER BUG line, in that order."""
    (finding,) = analyze(BUNDLES / "08-timer-stall", select=(RULE,)).findings
    assert [e.line for e in finding.evidence] == [861, 886, 887]
    assert '"tick_number":14' in finding.evidence[0].text
    assert (
        '"tick_number":15' in finding.evidence[1].text
        and '"actual_interval":4.005' in finding.evidence[1].text
    )
    assert "TIMER BUG DETECTED" in finding.evidence[2].text


def test_a_tick_printed_long_after_it_fired_without_timer_bug_is_only_a_note() -> None:
    """Tick 32 fired at 16:23:38.276 and printed at 16:24:13 with no TIMER BUG line is an info note."""
    report = analyze(BUNDLES / "04-race-timeout", select=(RULE,))
    (note,) = report.findings
    assert note.severity == Severity.INFO
    assert "fired at 16:23:38.276 UTC was printed at 16:24:13 UTC, at least 35 s later" in note.summary
    assert [e.line for e in note.evidence] == [997]


def test_healthy_run_has_no_stall() -> None:
    """A healthy run's ticks arrive on time: no timer-stall finding at all."""
    assert analyze(BUNDLES / "02-healthy", select=(RULE,)).findings == ()


def test_a_stall_logged_after_a_spec_failed_inside_it_is_high(tmp_path: Path) -> None:
    """A TIMER BUG line in a passing spec whose 8 s stall covers another spec's failure is high."""
    waiting = Spec(
        "should record the delivery",
        ["⏳ No events yet for notification.message.sent (correlation_id=nr-wait-1)"] * 2,
        ["  [FAILED] Timed out after 10.001s."],
    )
    bug = store_line(
        "2026-03-02T09:15:17-05:00",
        "🚨 TIMER BUG DETECTED: Tick interval significantly exceeded expected",
        expected_interval=0.1,
        actual_interval=8.2,
        drift=8.1,
        drift_multiplier=82.0,
    )
    report = analyze(write_bundle(tmp_path, ginkgo_log(waiting, Spec("should clean up", [bug]))))
    (finding,) = [f for f in report.findings if f.rule == RULE]
    assert finding.severity == Severity.HIGH
    assert finding.summary.endswith(
        "1 spec(s) failed while it received no tick, the first at 14:15:13.104 UTC."
    )


def test_a_stall_that_ended_before_any_spec_failed_stays_medium(tmp_path: Path) -> None:
    """A long stall that ended a minute before the only failure keeps the medium severity of its length."""
    waiting = Spec("should record it", ["⏳ No events yet (correlation_id=nr-wait-2)"], ["  [FAILED] x"])
    bug = store_line(
        "2026-03-02T09:14:15-05:00",
        "🚨 TIMER BUG DETECTED: Tick interval significantly exceeded expected",
        expected_interval=0.1,
        actual_interval=8.2,
        drift=8.1,
        drift_multiplier=82.0,
    )
    report = analyze(write_bundle(tmp_path, ginkgo_log(Spec("should start", [bug], minute=14), waiting)))
    (finding,) = [f for f in report.findings if f.rule == RULE]
    assert finding.severity == Severity.MEDIUM
