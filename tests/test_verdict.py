"""The per-spec verdict: every failed spec gets a cause or a reason, the same in Markdown and JSON."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from tests.ginkgo_log import DROP, REFUSED, Spec, buffered_line, ginkgo_log, store_line, write_bundle
from tests.realworld import REALWORLD, needs_realworld
from triage.api import analyze
from triage.report.render import render, to_json
from triage.report.verdict import _Block, _cause
from triage.rules.base import Finding, Severity

ROOT = Path(__file__).resolve().parents[1]
BUNDLES = ROOT / "fixtures" / "bundles"


def test_timed_out_spec_without_evidence_says_what_was_checked(tmp_path: Path) -> None:
    """A timed-out spec with only query prints gets a reason naming its queries and missing store lines."""
    polls = [
        "✅ Audit store flushed successfully",
        "⏳ No events yet for notification.message.sent (correlation_id=nr-delivery-7)",
    ] * 3
    failure = [
        "  [FAILED] Timed out after 12.001s.",
        "  Expected",
        "      <int>: 0",
        "  to be >",
        "      <int>: 0",
    ]
    log = ginkgo_log(Spec("should record the delivery", polls, failure))
    report = analyze(write_bundle(tmp_path, log))
    (verdict,) = report.verdicts
    assert verdict.cause is None and verdict.reason is not None
    assert "timed out after 12.001s" in verdict.reason
    assert "3 query print(s) for notification.message.sent, 0 of them found events" in verdict.reason
    assert "no audit-store line" in verdict.reason
    spec = to_json(report)["tests"]["specs"][0]
    assert spec["cause"] is None and spec["cause_reason"] == verdict.reason


def test_store_drop_inside_the_timeline_is_the_cause(tmp_path: Path) -> None:
    """A batch dropped after a 400 inside the spec's timeline is its cause, in Markdown and JSON alike."""
    timeline = [
        store_line(
            "2026-03-02T09:15:02-05:00", "Failed to write audit batch", attempt=1, batch_size=3, error=REFUSED
        ),
        store_line("2026-03-02T09:15:02-05:00", DROP, batch_size=3, is_4xx_error=True),
        "⏳ No events yet for notification.message.sent (correlation_id=nr-delivery-9)",
    ]
    log = ginkgo_log(Spec("should record the delivery", timeline, ["  [FAILED] Timed out after 10.000s."]))
    report = analyze(write_bundle(tmp_path, log))
    (verdict,) = report.verdicts
    assert verdict.cause is not None and verdict.cause.rule == "dropped-events"
    assert verdict.basis == "evidence in its timeline"
    spec = to_json(report)["tests"]["specs"][0]
    assert spec["cause"] == {"rule": "dropped-events", "finding": verdict.finding, "basis": verdict.basis}
    assert to_json(report)["findings"][verdict.finding]["rule"] == "dropped-events"
    markdown = render(report, "markdown")
    assert "no rule explains" not in markdown.lower()
    assert "(`dropped-events`, high, finding 1)" in markdown


def test_unframed_store_lines_still_give_a_dropped_events_finding(tmp_path: Path) -> None:
    """Audit-store lines outside any Ginkgo frame, in a log of their own, still show the dropped batch."""
    lines = [
        store_line(
            "2026-03-02T09:15:02-05:00", "Failed to write audit batch", attempt=1, batch_size=5, error=REFUSED
        ),
        store_line("2026-03-02T09:15:02-05:00", DROP, batch_size=5, is_4xx_error=True),
    ]
    path = tmp_path / "controller.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = [f for f in analyze(path).findings if f.rule == "dropped-events"]
    assert [f.severity.label for f in found] == ["high"]
    assert "1 batch (5 events) dropped" in found[0].summary


def test_json_and_markdown_name_the_same_cause() -> None:
    """Each failed spec's JSON cause is the rule and finding number its Markdown verdict line names."""
    report = analyze(BUNDLES / "01-jan14-1025")
    data = to_json(report)
    markdown = render(report, "markdown")
    failed = [s for s in data["tests"]["specs"] if s["state"] == "failed"]
    assert len(failed) == 2
    numbered = [f for f in data["findings"] if f["severity"] != "info"]
    for spec in failed:
        finding = data["findings"][spec["cause"]["finding"]]
        assert finding["rule"] == spec["cause"]["rule"]
        number = numbered.index(finding) + 1
        assert f"(`{finding['rule']}`, high, finding {number})" in markdown


@needs_realworld
def test_realworld_k02_drop_is_the_root_cause_and_no_race() -> None:
    """In k02 the dropped batch is the failed spec's cause, with no flush/query race and no "no rule"."""
    assert REALWORLD is not None
    report = analyze(REALWORLD / "k02-sp-400-drop-20260115" / "bundle")
    (verdict,) = report.verdicts
    assert verdict.cause is not None and verdict.cause.rule == "dropped-events"
    assert not [f for f in report.findings if f.rule == "flush-query-race"]
    assert "no rule explains" not in render(report, "markdown").lower()


@needs_realworld
def test_realworld_k02_excerpt_gives_dropped_events() -> None:
    """The six unframed k02 lines give a high dropped-events finding for the batch of 8."""
    assert REALWORLD is not None
    report = analyze(REALWORLD / "k02-sp-400-drop-20260115" / "excerpt-lines.log")
    (found,) = [f for f in report.findings if f.rule == "dropped-events"]
    assert found.severity.label == "high" and "(8 events)" in found.summary


@needs_realworld
def test_realworld_k03_count_is_the_cause() -> None:
    """In k03 the failed spec's cause is a high unexpected-event-count: 4 expected, 5 counted."""
    assert REALWORLD is not None
    report = analyze(REALWORLD / "k03-sp-phase-transition-dup-20260114" / "bundle")
    failed = [v for v in report.verdicts if v.cause is not None]
    assert [v.cause.rule for v in failed if v.cause] == ["unexpected-event-count"]
    summary = failed[0].cause.summary if failed[0].cause else ""
    assert "expected 4" in summary and "counted 5" in summary


def test_another_suites_query_prints_are_read(tmp_path: Path) -> None:
    """RemediationOrchestrator's `Found N events (expected 1) for correlation_id=X` prints are queries."""
    kind = "orchestrator.lifecycle.completed"
    polls = [f"Found 0 events (expected 1) for correlation_id=rr-gap8-1, event_type={kind}"] * 3
    log = ginkgo_log(Spec("should emit the timeout event", polls, ["  [FAILED] Timed out after 10.001s."]))
    (verdict,) = analyze(write_bundle(tmp_path, log)).verdicts
    assert verdict.correlation_ids == ("rr-gap8-1",)
    assert verdict.reason is not None
    assert "3 query print(s) for orchestrator.lifecycle.completed, 0 of them found events" in verdict.reason


def test_queries_datastorage_refused_are_named_in_the_reason(tmp_path: Path) -> None:
    """Query prints that DataStorage refused count as the spec's queries and are named in its reason."""
    url = "http://127.0.0.1:18140/api/v1/audit/events"
    refused = f'❌ Failed to query Data Storage: Get "{url}": dial tcp: connect: connection refused'
    log = ginkgo_log(
        Spec("should record the delivery", [refused] * 4, ["  [FAILED] Timed out after 10.001s."])
    )
    (verdict,) = analyze(write_bundle(tmp_path, log)).verdicts
    assert verdict.cause is None and verdict.reason is not None
    assert "4 of its queries got no answer from DataStorage" in verdict.reason


def _refused_and_dropped(size: int) -> list[str]:
    """The store's lines for a batch DataStorage refused with a 400 and the store then dropped."""
    return [
        store_line(
            "2026-03-02T09:15:02-05:00",
            "Failed to write audit batch",
            attempt=1,
            batch_size=size,
            error=REFUSED,
        ),
        store_line("2026-03-02T09:15:02-05:00", DROP, batch_size=size, is_4xx_error=True),
    ]


def test_a_count_the_logs_cannot_explain_yields_to_a_loss_under_way(tmp_path: Path) -> None:
    """A count of 1 of 2 events that names no query takes a batch dropped meanwhile as its cause."""
    counted = [
        "  [FAILED] Notification should record exactly 2 notification.message.sent event(s)",
        "  Expected",
        "      <int>: 1",
        "  to equal",
        "      <int>: 2",
    ]
    log = ginkgo_log(
        Spec("should record the first delivery", _refused_and_dropped(3)),
        Spec("should record two deliveries", ["STEP: Querying DataStorage for the audit events"], counted),
    )
    report = analyze(write_bundle(tmp_path, log))
    count = [f for f in report.findings if f.rule == "unexpected-event-count"]
    assert len(count) == 1 and "observed: only the count" in count[0].summary
    (verdict,) = [v for v in report.verdicts if v.spec.state == "failed"]
    assert verdict.cause is not None and verdict.cause.rule == "dropped-events"
    assert verdict.basis is not None and verdict.basis.startswith("inferred")


def test_a_count_whose_own_lines_rule_out_loss_is_not_blamed_on_a_drop_elsewhere(tmp_path: Path) -> None:
    """A 0 of 1 after a successful Flush() and a clean timeline is events never emitted, not a drop."""
    waited = [
        "✅ Audit store flushed successfully",
        *["⏳ No events yet for notification.message.sent (correlation_id=nr-never-8)"] * 3,
    ]
    failure = [
        "  [FAILED] Timed out after 10.001s.",
        "  Expected",
        "      <int>: 0",
        "  to equal",
        "      <int>: 1",
    ]
    log = ginkgo_log(
        Spec("should record the first delivery", _refused_and_dropped(3)),
        Spec("should record the delivery", waited, failure),
    )
    report = analyze(write_bundle(tmp_path, log))
    (verdict,) = [v for v in report.verdicts if v.spec.state == "failed"]
    assert verdict.cause is not None and verdict.cause.rule == "unexpected-event-count"
    assert verdict.basis == "its correlation ID"
    assert "Flush() returned successfully" in verdict.cause.summary
    assert "were never emitted (inferred" in verdict.cause.summary
    assert any(f.rule == "dropped-events" for f in report.findings)


def test_a_stuck_writer_under_way_outranks_an_equally_severe_slow_write_listed_before_it() -> None:
    """Of the run-wide faults under way while a spec ran, the deeper one of equal severity is its cause."""
    at = datetime(2026, 3, 2, 14, 15, tzinfo=UTC)
    slow = Finding("slow-write", Severity.HIGH, "A slow batch write (3.6 s for 1 event).", None, ())
    stuck = Finding("unflushed-events", Severity.HIGH, "The audit stores stopped handing events.", None, ())
    periods = {id(slow): (at, at + timedelta(seconds=4)), id(stuck): (at + timedelta(seconds=1), None)}
    shown = _Block(at, at + timedelta(seconds=10), pl.DataFrame(), True, 0, False, 0, 0)
    cause, basis = _cause([slow, stuck], (), ("run.log", 3), {}, periods, shown)
    assert cause is stuck and basis == "inferred: this pipeline fault was under way while the spec ran"


def test_a_drop_in_the_spec_timeline_outranks_an_inferred_stuck_writer_of_equal_severity() -> None:
    """A batch dropped inside the spec's timeline explains it before a stuck writer inferred from the run."""
    at = datetime(2026, 3, 2, 14, 15, tzinfo=UTC)
    dropped = Finding("dropped-events", Severity.HIGH, "1 batch (8 events) dropped.", None, ())
    stuck = Finding("unflushed-events", Severity.HIGH, "The audit stores stopped handing events.", None, ())
    periods = {id(dropped): (at, at), id(stuck): (at + timedelta(seconds=1), None)}
    shown = _Block(at, at + timedelta(seconds=10), pl.DataFrame(), True, 0, False, 0, 0)
    cited = {id(dropped): {("run.log", 3)}}
    cause, basis = _cause([dropped, stuck], (), ("run.log", 3), cited, periods, shown)
    assert cause is dropped and basis == "evidence in its timeline"


def test_a_spec_whose_last_query_datastorage_refused_is_blamed_on_the_missing_datastorage_container() -> None:
    """A medium container finding explains a spec whose last query DataStorage refused, before its drop."""
    at = datetime(2026, 3, 2, 14, 15, tzinfo=UTC)
    dropped = Finding("dropped-events", Severity.HIGH, "1 batch (2 events) dropped.", None, ())
    missing = Finding("container-unhealthy", Severity.MEDIUM, "No datastorage container log.", None, ())
    periods = {id(dropped): (at, at), id(missing): (datetime.min.replace(tzinfo=UTC), None)}
    cited = {id(dropped): {("run.log", 3)}}
    refused = _Block(at, at + timedelta(seconds=10), pl.DataFrame(), True, 12, False, 0, 2, refused_last=True)
    cause, basis = _cause([dropped, missing], (), ("run.log", 3), cited, periods, refused)
    assert cause is missing and basis == "inferred: DataStorage was failing while the spec ran"
    answered = replace(refused, refused_last=False)
    assert _cause([dropped, missing], (), ("run.log", 3), cited, periods, answered)[0] is dropped


def test_a_spec_that_waited_out_its_eventually_is_blamed_on_a_stall_not_the_race_it_shows() -> None:
    """A timer stall of equal severity explains a timed-out, retried spec before its race, a one-shot not."""
    at = datetime(2026, 3, 2, 14, 15, tzinfo=UTC)
    race = Finding("flush-query-race", Severity.HIGH, "A query returned 0.", "rr-wait-1", ())
    stall = Finding("timer-stall", Severity.HIGH, "TIMER BUG DETECTED: no tick for 32 s.", None, ())
    periods = {id(stall): (at - timedelta(seconds=20), at + timedelta(seconds=12))}
    shown = _Block(at, at + timedelta(seconds=10), pl.DataFrame(), True, 0, False, 0, 0, retried=True)
    assert _cause([race, stall], ("rr-wait-1",), ("run.log", 3), {}, periods, shown)[0] is stall
    once = replace(shown, retried=False)
    assert _cause([race, stall], ("rr-wait-1",), ("run.log", 3), {}, periods, once)[0] is race


def test_a_timed_out_spec_that_counted_too_many_keeps_its_count_cause_over_a_slow_write() -> None:
    """A spec whose Eventually timed out on more events than expected is not blamed on a slow write in it."""
    at = datetime(2026, 3, 2, 14, 15, tzinfo=UTC)
    count = Finding("unexpected-event-count", Severity.HIGH, "Found 2 (1 extra).", "rr-twice-2", ())
    slow = Finding("slow-write", Severity.HIGH, "A slow batch write (3.0 s for 2 events).", None, ())
    cited = {id(slow): {("run.log", 3)}}
    shown = _Block(at, at + timedelta(seconds=10), pl.DataFrame(), True, 0, True, 0, 2, retried=True)
    assert _cause([count, slow], ("rr-twice-2",), ("run.log", 3), cited, {}, shown)[0] is count


def test_a_failure_with_no_audit_trace_is_said_not_to_be_about_audit(tmp_path: Path) -> None:
    """A spec whose failure, prints and lines show nothing of audit is said not to be an audit failure."""
    failure = [
        "  [FAILED] Timed out after 10.083s.",
        "  RR in ns-a should fail independently",
        "  Expected",
        "      <string>: Blocked",
        "  to equal",
        "      <string>: Failed",
    ]
    report = analyze(
        write_bundle(tmp_path, ginkgo_log(Spec("should process RRs independently", [], failure)))
    )
    (verdict,) = [v for v in report.verdicts if v.spec.state == "failed"]
    assert verdict.cause is None and verdict.reason is not None
    assert verdict.reason.startswith("Not an audit failure as far as the logs show")
    assert "Expected <string>: Blocked to equal <string>: Failed" in verdict.reason


def test_a_count_its_own_lines_show_never_emitted_outranks_a_race_on_the_same_id(tmp_path: Path) -> None:
    """A spec whose checked type its store never buffered is a count, though a poll before it raced."""
    timeline = [
        buffered_line("nr-poll-5", 9),
        "STEP: Poll for any audit event @ 03/02/26 09:15:02.400",
        "STEP: Validate the failure event @ 03/02/26 09:15:02.410",
        "⏳ No events yet for notification.message.failed (correlation_id=nr-poll-5)",
    ]
    failure = ["  [FAILED] MUST emit the failure event", "  Expected", "      <bool>: false", "  to be true"]
    report = analyze(write_bundle(tmp_path, ginkgo_log(Spec("should record the failure", timeline, failure))))
    rules = {
        f.rule for f in report.findings if f.correlation_id == "nr-poll-5" and f.severity > Severity.INFO
    }
    assert rules == {"flush-query-race", "unexpected-event-count"}
    (verdict,) = report.verdicts
    assert verdict.cause is not None and verdict.cause.rule == "unexpected-event-count"
    assert "were never emitted" in verdict.cause.summary
