"""flush-query-race on the committed example bundles: what it reports, how severe, which lines it cites."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from tests.ginkgo_log import Spec, buffered_line, ginkgo_log, store_line, write_bundle
from triage.api import Report, analyze
from triage.bundle.lines import split_lines
from triage.rules._queries import buffered_fates, clock, seconds, span
from triage.rules.base import Finding, Severity
from triage.rules.flush_query_race import RULE
from triage.simulate import simulate

BUNDLES = Path(__file__).resolve().parents[2] / "fixtures" / "bundles"
LOG = "integration-signalprocessing.log"


@cache
def _report(name: str) -> Report:
    return analyze(BUNDLES / name, select=(RULE.id,))


def _findings(name: str) -> dict[str | None, Finding]:
    return {f.correlation_id: f for f in _report(name).findings}


def _line(name: str, file: str, line: int) -> str:
    return str(split_lines((BUNDLES / name / file).read_bytes()).frame["raw"][line - 1])


def test_one_shot_assert_after_buffered_error_event_is_high() -> None:
    """The Jan 14 error spec missed its buffered error.occurred event and failed unretried: high."""
    found = _findings("01-jan14-1025")
    assert list(found) == ["audit-test-rr-05"]
    finding = found["audit-test-rr-05"]
    assert finding.severity == Severity.HIGH
    assert "returned 0 while 1 matching event(s) had been buffered" in finding.summary
    assert "no flushing tick was logged between it and the query (file order)" in finding.summary
    assert "15:25:09.481–.493 UTC" in finding.summary
    assert "failed at 15:25:09.492" in finding.summary
    assert "poll that accepted any event" in finding.summary


def test_evidence_shows_buffered_line_then_query_then_failure_in_file_order() -> None:
    """Evidence runs from the buffered event to the query print to the failure marker, quoted."""
    finding = _findings("01-jan14-1025")["audit-test-rr-05"]
    lines = [e.line for e in finding.evidence]
    assert lines == sorted(lines)
    assert {3666, 3668, 3669} <= set(lines)
    for ev in finding.evidence:
        assert ev.text in _line("01-jan14-1025", ev.file, ev.line)
    texts = {e.line: e.text for e in finding.evidence}
    assert "Event buffered successfully" in texts[3666]
    assert texts[3668].startswith("⏳ No events yet for signalprocessing.error.occurred")
    assert len(finding.evidence) <= 8


def test_races_that_pass_after_retries_are_low_and_say_how_long_the_test_waited() -> None:
    """Severity-spec queries that missed an in-flight event but later found it are low and state the wait."""
    found = _findings("03-races-pass-after-retries")
    assert set(found) == {"sev-audit-rr-002", "sev-audit-rr-003"}
    for finding in found.values():
        assert finding.severity == Severity.LOW
        assert "The test waited" in finding.summary and "found it" in finding.summary
        assert "left the buffer with the tick at" in finding.summary


def test_linked_datastorage_write_is_cited_and_called_inferred() -> None:
    """A DataStorage write linked to the carrying flush is cited, and the link is called inferred."""
    finding = _findings("03-races-pass-after-retries")["sev-audit-rr-003"]
    assert "DataStorage logged the linked write at 19:33:52.491 UTC (its clock" in finding.summary
    assert "inferred" in finding.summary
    ds = [e for e in finding.evidence if e.file != LOG]
    assert len(ds) == 1 and "Batch audit events created successfully" in ds[0].text


def test_retried_queries_that_never_find_the_event_before_a_timeout_are_high() -> None:
    """A severity spec whose polls never saw the buffered event before its Eventually timed out is high."""
    finding = _findings("04-race-timeout")["sev-audit-rr-010"]
    assert finding.severity == Severity.HIGH
    assert "later queries did not find it either" in finding.summary


def test_flush_that_did_not_drain_is_named() -> None:
    """Under the SP-AUDIT-001 flush bug, a tick after the Flush() print still holding the event is named."""
    found = _findings("05-flush-bug")
    assert "audit-test-rr-03" in found
    assert "so Flush() had not written it" in found["audit-test-rr-03"].summary


def test_healthy_and_dropped_runs_have_no_race() -> None:
    """No finding on healthy runs, nor where queries missed events the store dropped or could not deliver."""
    for name in ("02-healthy", "06-rejections-400", "07-datastorage-down", "09-later-format"):
        assert _report(name).findings == (), name


def test_findings_are_deterministic() -> None:
    """Two runs over the same bundle give identical findings."""
    first = analyze(BUNDLES / "05-flush-bug", select=(RULE.id,)).findings
    assert first == _report("05-flush-bug").findings


def test_time_formatting_keeps_the_source_precision() -> None:
    """Times print milliseconds only when the source had them; intervals and durations read naturally."""
    at = datetime(2026, 1, 14, 15, 25, 9, 481_000, tzinfo=UTC)
    whole = datetime(2026, 1, 14, 15, 25, 9, tzinfo=UTC)
    assert clock(at) == "15:25:09.481 UTC"
    assert clock(at, precise=False) == "15:25:09 UTC"
    assert clock(whole) == "15:25:09 UTC"
    assert span(at, datetime(2026, 1, 14, 15, 25, 9, 493_000, tzinfo=UTC)) == "15:25:09.481–.493 UTC"
    assert span(whole, datetime(2026, 1, 14, 15, 25, 11, tzinfo=UTC)) == "between 15:25:09 and 15:25:11 UTC"
    assert seconds(11_400_000) == "11 ms"
    assert seconds(2_140_000_000) == "2.1 s"
    assert seconds(31_000_000_000) == "31 s"


@pytest.mark.parametrize("name", ["03-races-pass-after-retries", "05-flush-bug", "06-rejections-400"])
def test_fates_of_chosen_blocks_are_those_of_the_whole_run(name: str) -> None:
    """A buffered event's fate depends on its own spec block only, so narrowing to blocks changes nothing."""
    analysis = analyze(BUNDLES / name, select=()).analysis
    whole = buffered_fates(analysis)
    assert whole.height == analysis.pipeline.buffered.height
    assert whole["dropped"].any() or whole["held"].any() or whole["next_print"].is_not_null().any()
    blocks = whole.select("file", "spec_index").unique(maintain_order=True).gather_every(2)
    narrowed = buffered_fates(analysis, blocks)
    expected = whole.join(blocks, on=["file", "spec_index"], how="semi", maintain_order="left")
    assert 0 < narrowed.height < whole.height
    assert narrowed.equals(expected)


def _phase(phase: str) -> str:
    return (
        f"2026-03-02T09:15:02-05:00\tDEBUG\tProcessing {phase} phase\t"
        '{"controller": "notificationrequest-controller", "namespace": "nt-audit-4c1d"}'
    )


def _timed_out(tmp_path: Path, timeline: list[str]) -> Report:
    """Analyse a one-spec run whose spec timed out after `timeline`."""
    spec = Spec("should record the attempt", timeline, ["  [FAILED] Timed out after 10.001s."])
    return analyze(write_bundle(tmp_path, ginkgo_log(spec)))


def test_current_format_miss_then_find_after_a_flush_is_a_low_race(tmp_path: Path) -> None:
    """Without store lines, a query that missed what a later one found, after Flush() returned, is low."""
    timeline = [
        "✅ Audit store flushed successfully",
        "⏳ No events yet for notification.message.sent (correlation_id=nr-race-1)",
        "✅ Audit store flushed successfully",
        "✅ Found 1 event(s) for notification.message.sent (correlation_id=nr-race-1)",
    ]
    report = analyze(write_bundle(tmp_path, ginkgo_log(Spec("should record the delivery", timeline))))
    (finding,) = [f for f in report.findings if f.rule == RULE.id]
    assert finding.severity == Severity.LOW and finding.correlation_id == "nr-race-1"
    assert finding.summary.startswith(
        "Observed: a query for notification.message.sent (correlation_id=nr-race-1)"
    )
    assert "a later query" in finding.summary and "found 1" in finding.summary
    assert "Inferred: the event was already emitted (the test's Flush() had returned" in finding.summary


def test_current_format_timeout_after_the_controller_reached_the_phase_is_high(tmp_path: Path) -> None:
    """A spec that timed out on delivery events after the controller logged its Delivering phase is high."""
    timeline = [
        _phase("Pending"),
        _phase("Delivering"),
        *["⏳ No events yet for notification.delivery.attempted (correlation_id=nr-stuck-2)"] * 3,
    ]
    report = _timed_out(tmp_path, timeline)
    (finding,) = [f for f in report.findings if f.rule == RULE.id]
    assert finding.severity == Severity.HIGH
    assert "and 2 more after it" in finding.summary
    assert "the controller had logged `Processing Delivering phase`" in finding.summary
    (verdict,) = report.verdicts
    assert verdict.cause == finding and verdict.basis == "its correlation ID"


def test_current_format_timeout_with_no_sign_the_event_was_emitted_is_not_a_race(tmp_path: Path) -> None:
    """A timed-out spec whose controller logged no phase naming the awaited type gives no race finding."""
    timeline = [
        _phase("Pending"),
        "⏳ No events yet for notification.delivery.attempted (correlation_id=nr-none-3)",
    ]
    report = _timed_out(tmp_path, timeline)
    assert not [f for f in report.findings if f.rule == RULE.id]
    (verdict,) = report.verdicts
    assert (
        verdict.cause is None and verdict.reason is not None and "timed out after 10.001s" in verdict.reason
    )


ONE_SHOT_FAILURE = [
    "  [FAILED] MUST emit the failure event",
    "  Expected",
    "      <bool>: false",
    "  to be true",
]


def test_current_format_one_query_right_after_flush_that_fails_the_spec_is_medium(tmp_path: Path) -> None:
    """A spec that queried once after Flush() and the step emitting the type, and failed, is a medium race."""
    timeline = [
        _phase("Failed"),
        "✅ Audit store flushed successfully",
        "⏳ No events yet for notification.message.failed (correlation_id=nr-once-4)",
    ]
    spec = Spec("should record the failure", timeline, ONE_SHOT_FAILURE)
    report = analyze(write_bundle(tmp_path, ginkgo_log(spec)))
    (finding,) = [f for f in report.findings if f.rule == RULE.id]
    assert finding.severity == Severity.MEDIUM and finding.correlation_id == "nr-once-4"
    assert "without querying again" in finding.summary
    assert "the test's Flush() had returned before the first miss" in finding.summary
    assert not [f for f in report.findings if f.rule == "unexpected-event-count"]


def test_current_format_one_query_before_the_step_was_logged_is_not_a_race(tmp_path: Path) -> None:
    """A one-shot query after Flush() with no line showing the type emitted is a missing event, not a race."""
    timeline = [
        _phase("Pending"),
        "✅ Audit store flushed successfully",
        "⏳ No events yet for notification.message.failed (correlation_id=nr-once-6)",
    ]
    report = analyze(
        write_bundle(tmp_path, ginkgo_log(Spec("should record the failure", timeline, ONE_SHOT_FAILURE)))
    )
    assert not [f for f in report.findings if f.rule == RULE.id]
    (count,) = [f for f in report.findings if f.rule == "unexpected-event-count"]
    assert count.correlation_id == "nr-once-6" and "were never emitted" in count.summary
    assert "Flush() returned successfully" in count.summary


def test_current_format_timeout_while_the_writer_was_stuck_is_a_medium_race(tmp_path: Path) -> None:
    """A spec that timed out after its controller moved on while Flush() timed out unwritten is medium."""
    timeline = [
        _phase("Pending"),
        "⚠️ Flush warning (non-fatal, Eventually will retry): flush timeout: context deadline exceeded",
        *["⏳ No events yet for notification.delivery.attempted (correlation_id=nr-stuck-5)"] * 3,
    ]
    report = _timed_out(tmp_path, timeline)
    (finding,) = [f for f in report.findings if f.rule == RULE.id]
    assert finding.severity == Severity.MEDIUM and finding.correlation_id == "nr-stuck-5"
    assert "the writers were stuck" in finding.summary
    assert "the controller had logged `Processing Pending phase`" in finding.summary


def _buffered(cid: str, total: int) -> str:
    return buffered_line(cid, total, size_after=total - 4)


COUNT_FAILURE = [
    "  [FAILED] Timed out after 10.010s.",
    "  Expected",
    "      <int>: 0",
    "  to equal",
    "      <int>: 2",
]


def _silent_query(tmp_path: Path, lines: list[str]) -> Report:
    """Analyse a spec that logged `lines`, queried without printing and failed counting 0 of 2."""
    timeline = [*lines, "STEP: Querying DataStorage for the audit events @ 03/02/26 09:15:03.416"]
    return analyze(
        write_bundle(tmp_path, ginkgo_log(Spec("should record both deliveries", timeline, COUNT_FAILURE)))
    )


def test_a_silent_query_step_that_failed_with_its_events_unflushed_is_a_high_race(tmp_path: Path) -> None:
    """A failed spec whose `Querying` step printed nothing while its two events stayed unflushed is high."""
    report = _silent_query(tmp_path, [_buffered("nr-fanout-8", 5), _buffered("nr-fanout-8", 6)])
    (finding,) = [f for f in report.findings if f.rule == RULE.id]
    assert finding.severity == Severity.HIGH and finding.correlation_id == "nr-fanout-8"
    assert "of the 2 event(s) buffered for it by then, 2 had not been flushed" in finding.summary


def test_a_silent_query_step_in_a_spec_buffering_two_ids_names_no_race(tmp_path: Path) -> None:
    """A failed silent query in a spec buffering events of two correlation IDs is pinned on neither."""
    report = _silent_query(tmp_path, [_buffered("nr-fanout-8", 5), _buffered("nr-other-9", 6)])
    assert not [f for f in report.findings if f.rule == RULE.id and f.severity > Severity.INFO]


def test_a_silent_query_step_in_a_spec_whose_batch_write_failed_names_no_race(tmp_path: Path) -> None:
    """A failed silent query in a spec whose store failed a batch write is left to the loss rules."""
    failed = store_line(
        "2026-03-02T09:15:02-05:00",
        "Failed to write audit batch",
        attempt=1,
        batch_size=2,
        error="network error: dial tcp [::1]:18096: connect: connection refused",
    )
    report = _silent_query(tmp_path, [_buffered("nr-fanout-8", 5), _buffered("nr-fanout-8", 6), failed])
    assert not [f for f in report.findings if f.rule == RULE.id and f.severity > Severity.INFO]


def _two_of_four(tmp_path: Path, timeline: list[str]) -> Report:
    """Analyse a spec that logged `timeline` and failed counting 2 transitions where it wanted at least 4."""
    failure = [
        "  [FAILED] Timed out after 120.001s.",
        "  Expected",
        "      <int>: 2",
        "  to be >=",
        "      <int>: 4",
    ]
    return analyze(
        write_bundle(tmp_path, ginkgo_log(Spec("should record each transition", timeline, failure)))
    )


def test_current_format_count_below_expected_while_the_writer_was_stuck_is_a_race(tmp_path: Path) -> None:
    """Queries that kept finding 2 of 4 expected transitions while Flush() timed out unwritten are a race."""
    timeline = [
        _phase("Enriching"),
        "⚠️ Flush warning (non-fatal, Eventually will retry): flush timeout: context deadline exceeded",
        *["✅ Found 2 event(s) for signalprocessing.phase.transition (correlation_id=sp-rr-4)"] * 3,
    ]
    report = _two_of_four(tmp_path, timeline)
    (finding,) = [f for f in report.findings if f.rule == RULE.id]
    assert finding.correlation_id == "sp-rr-4" and finding.severity > Severity.INFO
    assert (
        "returned 2, and 2 more after it" in finding.summary and "the writers were stuck" in finding.summary
    )


def test_current_format_count_below_expected_with_a_working_writer_is_no_race(tmp_path: Path) -> None:
    """The same short count without any sign of a stuck writer is left to the count rule."""
    timeline = [
        _phase("Enriching"),
        *["✅ Found 2 event(s) for signalprocessing.phase.transition (correlation_id=sp-rr-5)"] * 3,
    ]
    report = _two_of_four(tmp_path, timeline)
    assert not [f for f in report.findings if f.rule == RULE.id and f.severity > Severity.INFO]


def test_current_format_a_slow_write_in_the_timeline_does_not_hide_the_race(tmp_path: Path) -> None:
    """A slow batch write in a timed-out spec loses nothing: the race after its Delivering phase is high."""
    slow = store_line(
        "2026-03-02T09:15:03-05:00",
        "⚠️  Slow audit batch write detected",
        batch_size=4,
        write_duration=3.575,
        warning="slow writes can delay audit visibility",
    )
    timeline = [
        _phase("Delivering"),
        "⏳ No events yet for notification.delivery.attempted (correlation_id=nr-slow-6)",
        slow,
        "⏳ No events yet for notification.delivery.attempted (correlation_id=nr-slow-6)",
    ]
    (finding,) = [f for f in _timed_out(tmp_path, timeline).findings if f.rule == RULE.id]
    assert finding.severity == Severity.HIGH and finding.correlation_id == "nr-slow-6"


def test_current_format_one_query_after_the_controller_acted_past_the_flush_is_medium(tmp_path: Path) -> None:
    """A one-shot query after Flush() is a medium race when a reconcile naming no phase followed it."""
    requeue = (
        "2026-03-02T09:15:03-05:00\tDEBUG\tReconciling NotificationRequest\t"
        '{"controller": "notificationrequest-controller", "namespace": "nt-audit-4c1d"}'
    )
    timeline = [
        _phase("Pending"),
        "✅ Audit store flushed successfully",
        requeue,
        "⏳ No events yet for notification.message.failed (correlation_id=nr-once-7)",
    ]
    report = analyze(
        write_bundle(tmp_path, ginkgo_log(Spec("should record the failure", timeline, ONE_SHOT_FAILURE)))
    )
    (finding,) = [f for f in report.findings if f.rule == RULE.id]
    assert finding.severity == Severity.MEDIUM and finding.correlation_id == "nr-once-7"
    assert (
        "the controller logged `Reconciling NotificationRequest` after the Flush() returned"
        in finding.summary
    )
    assert not [f for f in report.findings if f.rule == "unexpected-event-count"]


def test_a_miss_followed_by_refused_queries_is_only_an_observation(tmp_path: Path) -> None:
    """A buffered event missed by a query, after which DataStorage refused the spec's queries, is info."""
    refused = (
        '❌ Failed to query Data Storage: Get "http://127.0.0.1:18140/api/v1/audit/events": '
        "dial tcp 127.0.0.1:18140: connect: connection refused"
    )
    timeline = [
        _buffered("nr-down-3", 5),
        "⏳ No events yet for notification.message.sent (correlation_id=nr-down-3)",
        *[refused] * 3,
    ]
    report = analyze(
        write_bundle(tmp_path, ginkgo_log(Spec("should record the delivery", timeline, COUNT_FAILURE)))
    )
    (finding,) = [f for f in report.findings if f.rule == RULE.id]
    assert finding.severity == Severity.INFO and finding.correlation_id == "nr-down-3"
    assert "DataStorage then refused its requests" in finding.summary


REJECTED = store_line(
    "2026-03-02T09:15:02-05:00",
    "Failed to write audit batch",
    attempt=1,
    batch_size=2,
    error="Data Storage Service returned status 400: invalid event",
)


@pytest.mark.parametrize(("order", "raced"), [("failure first", True), ("phase first", False)])
def test_current_format_timeout_in_a_spec_whose_batch_failed_is_a_race_only_past_the_failure(
    tmp_path: Path, order: str, raced: bool
) -> None:
    """A type the controller reached only after a batch failed was not in it, so its miss is a race."""
    steps = [REJECTED, _phase("Delivering")] if order == "failure first" else [_phase("Delivering"), REJECTED]
    timeline = [
        _phase("Pending"),
        *steps,
        *["⏳ No events yet for notification.delivery.attempted (correlation_id=nr-lost-6)"] * 3,
    ]
    report = _timed_out(tmp_path, timeline)
    found = [f for f in report.findings if f.rule == RULE.id and f.severity > Severity.INFO]
    assert [f.correlation_id for f in found] == (["nr-lost-6"] if raced else [])


def _failed_write(attempt: int) -> str:
    return store_line(
        "2026-03-02T09:15:02-05:00",
        "Failed to write audit batch",
        attempt=attempt,
        batch_size=1,
        error="Data Storage Service returned status 500: HTTP 500 error from Data Storage API",
    )


def test_current_format_timeout_past_a_failed_batch_first_attempt_is_a_race_despite_its_retry(
    tmp_path: Path,
) -> None:
    """A type the controller reached after a batch's first failed attempt was not in it, retried or not."""
    timeline = [
        _phase("Pending"),
        _failed_write(1),
        _phase("Delivering"),
        _failed_write(2),
        *["⏳ No events yet for notification.delivery.attempted (correlation_id=nr-retry-2)"] * 3,
    ]
    report = _timed_out(tmp_path, timeline)
    found = [f for f in report.findings if f.rule == RULE.id and f.severity > Severity.INFO]
    assert [f.correlation_id for f in found] == ["nr-retry-2"]


def test_current_format_timeout_after_a_flush_that_wrote_everything_is_a_count_not_a_race(
    tmp_path: Path,
) -> None:
    """A wait that found nothing after a successful Flush(), with no stall, is a count, not a race."""
    timeline = [
        _phase("Delivering"),
        "✅ Audit store flushed successfully",
        *["⏳ No events yet for notification.delivery.attempted (correlation_id=nr-none-8)"] * 3,
    ]
    failure = ["  [FAILED] Timed out after 10.001s.", "  Expected", "      <bool>: false", "  to be true"]
    report = analyze(write_bundle(tmp_path, ginkgo_log(Spec("should record the attempt", timeline, failure))))
    assert not [f for f in report.findings if f.rule == RULE.id and f.severity > Severity.INFO]
    (count,) = [f for f in report.findings if f.rule == "unexpected-event-count"]
    assert count.correlation_id == "nr-none-8" and "were never emitted" in count.summary


@pytest.mark.parametrize(("held_s", "raced"), [(20.0, True), (2.0, False)])
def test_current_format_timeout_while_the_flush_timer_stalled_is_a_medium_race(
    tmp_path: Path, held_s: float, raced: bool
) -> None:
    """A spec that timed out after its controller moved on, while a timer stall held its misses, is medium."""
    stall = store_line(
        "2026-03-02T09:15:14-05:00",
        "🚨 TIMER BUG DETECTED: Tick interval significantly exceeded expected",
        expected_interval=0.1,
        actual_interval=held_s,
    )
    timeline = [
        _phase("Pending"),
        *["⏳ No events yet for notification.message.escalated (correlation_id=nr-stall-3)"] * 3,
        stall,
    ]
    report = _timed_out(tmp_path, timeline)
    found = [f for f in report.findings if f.rule == RULE.id and f.severity > Severity.INFO]
    assert [(f.correlation_id, f.severity) for f in found] == (
        [("nr-stall-3", Severity.MEDIUM)] if raced else []
    )
    if raced:
        assert "a store's flush timer stalled over the last miss" in found[0].summary


def test_current_format_timeout_whose_later_queries_were_refused_is_only_an_observation(
    tmp_path: Path,
) -> None:
    """A spec whose queries DataStorage refused after its miss was failed by the outage: the race is info."""
    refused = (
        '❌ Failed to query Data Storage: Get "http://127.0.0.1:18140/api/v1/audit/events": '
        "dial tcp 127.0.0.1:18140: connect: connection refused"
    )
    timeline = [
        _phase("Delivering"),
        "⏳ No events yet for notification.delivery.attempted (correlation_id=nr-down-4)",
        *[refused] * 3,
    ]
    report = _timed_out(tmp_path, timeline)
    (finding,) = [f for f in report.findings if f.rule == RULE.id]
    assert finding.severity == Severity.INFO and "DataStorage then refused its requests" in finding.summary


@pytest.mark.parametrize(("steps", "raced"), [([_phase("Pending"), _phase("Delivering")], True), ([], False)])
def test_current_format_misses_of_an_interrupted_spec_are_a_race_after_the_types_step(
    tmp_path: Path, steps: list[str], raced: bool
) -> None:
    """A spec interrupted while its queries missed a type whose step the controller had logged shows a race;
    without that step nothing shows the event was emitted."""
    timeline = [
        *steps,
        *["⏳ No events yet for notification.delivery.attempted (correlation_id=nr-cut-3)"] * 3,
    ]
    spec = Spec("should record the attempt", timeline, ["  [FAILED] Interrupted by Other Ginkgo Process"])
    log = ginkgo_log(spec).replace("[FAILED]", "[INTERRUPTED]").replace("[FAIL]", "[INTERRUPTED]")
    report = analyze(write_bundle(tmp_path, log))
    assert [v.spec.state for v in report.verdicts] == ["interrupted"]
    found = [f for f in report.findings if f.rule == RULE.id and f.severity > Severity.INFO]
    assert [f.correlation_id for f in found] == (["nr-cut-3"] if raced else [])


def test_silent_polls_that_began_after_datastorage_was_oom_killed_are_no_race(tmp_path: Path) -> None:
    """A January run whose DataStorage was OOM-killed before two specs' silent polls, with the writer
    stalled so their events stayed buffered, reports those polls at info only: they were refused."""
    knobs: dict[str, object] = {
        "processes": 1,
        "specs": 8,
        "faults": ("datastorage-oom", "flush-bug", "timer-stall"),
        "flush_interval": 0.2,
        "ds_latency_ms": 40.0,
        "fail_fast": False,
        "naming": "single",
        "test_log": "ci",
        "missing_container": "",
        "era": "january",
        "service": "remediationorchestrator",
        "stall_seconds": 24.1,
        "clock_skew_ms": 75.0,
    }
    truth = json.loads(simulate("timer-stall", tmp_path / "run", seed=7003, **knobs).read_text("utf-8"))
    ruled_out = {e["correlation_id"] for e in truth["findings"]["must_not"] if e["rule"] == RULE.id}
    assert {"rr-lifecycle-created", "rr-verifying-started"} <= ruled_out
    report = analyze(tmp_path / "run")
    polls = [f for f in report.findings if f.rule == RULE.id and f.correlation_id in ruled_out]
    assert polls and all(f.severity == Severity.INFO for f in polls)
    assert all("OOM-killed" in f.summary and "before the poll began" in f.summary for f in polls)
