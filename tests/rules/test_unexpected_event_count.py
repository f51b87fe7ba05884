"""unexpected-event-count on the committed example bundles: the count, the extra event and its evidence."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from tests.ginkgo_log import Spec, buffered_line, ginkgo_log, store_line, write_bundle
from triage.api import Report, analyze
from triage.bundle.lines import split_lines
from triage.rules.base import Finding, Severity
from triage.rules.unexpected_event_count import RULE
from triage.simulate import simulate

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


def _counted(tmp_path: Path, *specs: Spec) -> Report:
    return analyze(write_bundle(tmp_path, ginkgo_log(*specs)))


def _equal(got: int, want: int, lead: str = "  [FAILED] MUST record every delivery attempt") -> list[str]:
    return [lead, "  Expected", f"      <int>: {got}", "  to equal", f"      <int>: {want}"]


def test_a_correlation_id_shared_with_another_spec_explains_extra_events(tmp_path: Path) -> None:
    """Four counted where two were expected, with the same ID queried by another spec, names that spec."""
    found = "✅ Found {} event(s) for notification.message.sent (correlation_id=nr-shared-1)"
    report = _counted(
        tmp_path,
        Spec("should record a first delivery", [found.format(2)], minute=14),
        Spec("should record a retried delivery", [found.format(4)], _equal(4, 2)),
    )
    (finding,) = [f for f in report.findings if f.rule == RULE.id]
    assert finding.severity == Severity.HIGH and finding.correlation_id == "nr-shared-1"
    assert "expected 2 notification.message.sent event(s)" in finding.summary
    assert "its query found 4 (2 extra)" in finding.summary
    assert "was used by 1 other spec(s) too" in finding.summary
    assert "should record a first delivery" in finding.summary
    (verdict,) = [v for v in report.verdicts if v.cause is not None]
    assert verdict.cause == finding


def test_a_count_without_store_lines_says_what_cannot_be_told(tmp_path: Path) -> None:
    """A one-shot count of 1 where 3 were expected, with no store line, says what the logs cannot tell."""
    polls = ["✅ Found 1 event(s) for notification.message.sent (correlation_id=nr-late-2)"]
    report = _counted(tmp_path, Spec("should record three attempts", polls, _equal(1, 3)))
    (finding,) = [f for f in report.findings if f.rule == RULE.id]
    assert "its query found 1 (2 missing) and no buffered line was logged" in finding.summary
    assert "no audit-store line" in finding.summary and "observed: only the count" in finding.summary
    assert [e.text for e in finding.evidence][-2:] == ["<int>: 1", "<int>: 3"]


def test_a_timed_out_count_without_store_lines_is_a_count_finding(tmp_path: Path) -> None:
    """An Eventually that timed out at 1 of 3 events, with no store line, is a count finding that says so."""
    polls = ["✅ Found 1 event(s) for notification.message.sent (correlation_id=nr-late-2)"] * 3
    failure = _equal(1, 3, "  [FAILED] Timed out after 10.001s.")
    report = _counted(tmp_path, Spec("should record three attempts", polls, failure))
    (finding,) = [f for f in report.findings if f.rule == RULE.id]
    assert "its query found 1 after its Eventually timed out (2 missing)" in finding.summary


def test_a_timed_out_count_of_buffered_events_is_left_to_the_race_and_loss_rules(tmp_path: Path) -> None:
    """An Eventually that timed out at 0 of 1 after the store buffered that event gives no count finding."""
    buffered = buffered_line("nr-lost-4", 3)
    polls = ["⏳ No events yet for notification.message.sent (correlation_id=nr-lost-4)"] * 2
    failure = _equal(0, 1, "  [FAILED] Timed out after 10.001s.")
    report = _counted(tmp_path, Spec("should record the delivery", [buffered, *polls], failure))
    assert not [f for f in report.findings if f.rule == RULE.id]


def test_events_emitted_twice_in_the_spec_are_named(tmp_path: Path) -> None:
    """Three buffered lines where two were expected name the third as the extra one."""
    buffered = [buffered_line("nr-twice-3", n) for n in (7, 8, 9)]
    found = "✅ Found 3 event(s) for notification.message.sent (correlation_id=nr-twice-3)"
    report = _counted(tmp_path, Spec("should record one delivery", [*buffered, found], _equal(3, 2)))
    (finding,) = [f for f in report.findings if f.rule == RULE.id]
    assert "3 were buffered before the failure" in finding.summary
    assert "beyond the expected 2 were buffered at line(s)" in finding.summary


def test_a_timed_out_count_that_kept_rising_is_late_events_not_a_wrong_count(tmp_path: Path) -> None:
    """Queries that found 1, then 2 of 3 events until the Eventually timed out show late events, no count."""
    found = "✅ Found {} event(s) for notification.message.sent (correlation_id=nr-rising-5)"
    failure = _equal(2, 3, "  [FAILED] Timed out after 10.001s.")
    report = _counted(
        tmp_path, Spec("should record three attempts", [found.format(1), found.format(2)], failure)
    )
    assert not [f for f in report.findings if f.rule == RULE.id]


def _ds_write(ts: str, count: int) -> list[str]:
    """The three lines DataStorage logs for one batch it wrote."""
    line = {"level": "info", "ts": ts, "logger": "datastorage"}
    return [
        json.dumps(
            {
                **line,
                "msg": "Batch audit events created with hash chains",
                "count": count,
                "correlation_ids": 1,
            }
        ),
        json.dumps(
            {
                **line,
                "msg": "Batch audit events created successfully",
                "count": count,
                "duration_seconds": 0.04,
            }
        ),
        json.dumps(
            {
                **line,
                "msg": "HTTP request",
                "request_id": f"req-{ts[-7:-1]}",
                "method": "POST",
                "path": "/api/v1/audit/events/batch",
                "remote_addr": "10.88.0.1:50312",
                "status": 201,
                "bytes": 64,
                "duration": "41.2ms",
            }
        ),
    ]


def _with_datastorage(tmp_path: Path, log: str, writes: list[str]) -> Report:
    bundle = write_bundle(tmp_path, log)
    lines = [line for ts in writes for line in _ds_write(ts, 2)]
    (bundle / "notification_notification_datastorage_test.log").write_text("\n".join(lines) + "\n", "utf-8")
    return analyze(bundle)


def _slow(ts: str) -> str:
    return store_line(ts, "⚠️  Slow audit batch write detected", batch_size=1, write_duration=2.61)


NEVER = "⏳ No events yet for notification.message.sent (correlation_id=nr-never-6)"
# The spec's Eventually waited 09:15:03.1-09:15:13.1 (-05:00); DataStorage wrote on in its second half.
LATE_WRITES = ["2026-03-02T14:15:04.210Z", "2026-03-02T14:15:09.530Z", "2026-03-02T14:15:11.870Z"]


def test_a_count_that_stayed_zero_while_datastorage_kept_writing_is_events_never_emitted(
    tmp_path: Path,
) -> None:
    """A timed-out 0 of 1 while DataStorage wrote on past an early slow write infers no event emitted."""
    polls = [NEVER, _slow("2026-03-02T09:15:04-05:00"), NEVER, NEVER]
    failure = _equal(0, 1, "  [FAILED] Timed out after 10.001s.")
    report = _with_datastorage(
        tmp_path, ginkgo_log(Spec("should record the delivery", polls, failure)), LATE_WRITES
    )
    (finding,) = [f for f in report.findings if f.rule == RULE.id]
    assert finding.correlation_id == "nr-never-6"
    assert "DataStorage committed 2 batch write(s) in the second half of the wait" in finding.summary
    assert "were never emitted (inferred" in finding.summary and "only the count" not in finding.summary
    (verdict,) = [v for v in report.verdicts if v.cause is not None]
    assert verdict.cause == finding


def test_a_slow_write_just_before_the_timeout_leaves_the_missing_event_late(tmp_path: Path) -> None:
    """A slow write logged a second before the Eventually timed out may still hold the event: no finding."""
    polls = [NEVER, NEVER, _slow("2026-03-02T09:15:12-05:00"), NEVER]
    failure = _equal(0, 1, "  [FAILED] Timed out after 10.001s.")
    report = _with_datastorage(
        tmp_path, ginkgo_log(Spec("should record the delivery", polls, failure)), LATE_WRITES
    )
    assert not [f for f in report.findings if f.rule == RULE.id]


def test_a_timed_out_wait_for_any_event_that_found_none_is_a_count_of_zero_for_at_least_one(
    tmp_path: Path,
) -> None:
    """A timed-out `to be true` whose queries all found 0 is a count finding for at least 1 event."""
    failure = [
        "  [FAILED] Timed out after 10.001s.",
        "  Notification should record notification.message.sent in DataStorage",
        "  Expected",
        "      <bool>: false",
        "  to be true",
    ]
    phase = '{"currentPhase": "Sent", "failedDeliveries": 0}'
    sent = f"2026-03-02T09:15:02-05:00\tINFO\t🔍 PHASE TRANSITION LOGIC START\t{phase}"
    spec = Spec("should record the delivery", [sent, *[NEVER] * 3], failure)
    report = _with_datastorage(tmp_path, ginkgo_log(spec), LATE_WRITES)
    (finding,) = [f for f in report.findings if f.rule == RULE.id]
    assert (
        "expected at least 1 notification.message.sent event(s) for correlation_id=nr-never-6"
        in finding.summary
    )
    assert [e.text for e in finding.evidence][-2:] == ["<bool>: false", "to be true"]


def test_a_timed_out_wait_for_a_named_type_with_silent_queries_is_a_count_without_an_id(
    tmp_path: Path,
) -> None:
    """A wait that timed out for the type its message names, queries printing nothing, is an ID-less count."""
    failure = [
        "  [FAILED] Timed out after 10.002s.",
        "  Notification should record notification.message.sent in DataStorage",
        "  Expected",
        "      <bool>: false",
        "  to be true",
    ]
    report = _counted(
        tmp_path, Spec("records message.sent after a console delivery", ["STEP: Waiting"], failure)
    )
    (finding,) = [f for f in report.findings if f.rule == RULE.id]
    assert finding.correlation_id is None and finding.severity == Severity.HIGH
    assert "expected at least 1 notification.message.sent event(s) and counted 0" in finding.summary
    unnamed = [*failure[:1], "  Notification should record its audit trail", *failure[2:]]
    (tmp_path / "b").mkdir()
    other = _counted(tmp_path / "b", Spec("records the trail", ["STEP: Waiting"], unnamed))
    assert not [f for f in other.findings if f.rule == RULE.id]


def test_a_count_taken_while_the_flush_timer_stalled_is_left_to_the_stall_and_race_rules(
    tmp_path: Path,
) -> None:
    """A count whose query ran inside a flush-timer stall found late events, not missing ones: no finding."""
    stall = store_line(
        "2026-03-02T09:15:12-05:00",
        "🚨 TIMER BUG DETECTED: Tick interval significantly exceeded expected",
        expected_interval=0.2,
        actual_interval=11.5,
    )
    timeline = [
        "2026-03-02T09:15:02-05:00\tDEBUG\tProcessing Pending phase\t{}",
        "⏳ No events yet for notification.message.escalated (correlation_id=nr-held-2)",
        stall,
    ]
    failure = _equal(0, 1, "  [FAILED] Timed out after 90.001s.")
    report = _counted(tmp_path, Spec("records the escalation", timeline, failure))
    assert not [f for f in report.findings if f.rule == RULE.id]
    assert [f.correlation_id for f in report.findings if f.rule == "flush-query-race"] == ["nr-held-2"]


def test_a_wait_without_writes_while_the_writer_moved_finds_the_events_never_emitted(tmp_path: Path) -> None:
    """A spec whose Flush() returned and whose 120 s wait saw no write, in a run where no writer stuck,
    counted an event that was never emitted: with nothing held back, no write means nothing was buffered."""
    truth = simulate(
        "flush-bug",
        tmp_path / "run",
        seed=5020,
        processes=1,
        specs=16,
        faults=("flush-bug", "missing-event", "poll-any-then-assert"),
        flush_interval=0.05,
        ds_latency_ms=40.0,
        fail_fast=True,
        naming="single",
        test_log="local",
        missing_container="",
        era="current",
        service="signalprocessing",
        clock_skew_ms=-8.0,
    )
    causes = [s.get("cause") for s in json.loads(truth.read_text(encoding="utf-8"))["tests"]["specs"]]
    assert "missing-events" in causes
    report = analyze(tmp_path / "run")
    (finding,) = [f for f in report.findings if f.rule == RULE.id]
    assert finding.correlation_id == "audit-test-rr-01" and finding.severity == Severity.HIGH
    assert "were never emitted" in finding.summary
    assert not [f for f in report.findings if f.rule == "unflushed-events" and f.severity > Severity.INFO]


def test_a_phase_change_event_is_recognised_for_every_service() -> None:
    """Both SignalProcessing's and RemediationOrchestrator's phase-change types read as transitions."""
    from triage.rules.unexpected_event_count import TRANSITION

    assert TRANSITION.search("signalprocessing.phase.transition")
    assert TRANSITION.search("orchestrator.lifecycle.transitioned")
    assert not TRANSITION.search("signalprocessing.classification.decision")
    assert not TRANSITION.search("orchestrator.lifecycle.transition_failed")
