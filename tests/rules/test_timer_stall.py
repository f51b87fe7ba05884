"""timer-stall on the committed bundles."""

from __future__ import annotations

from pathlib import Path

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
