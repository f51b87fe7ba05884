"""The ground truth's races and causes follow what the model did to the events and queries."""

from __future__ import annotations

from triage.simulate.reports import Check, Failure, QueryRecord, Report
from triage.simulate.store import AuditEvent
from triage.simulate.timefmt import MS
from triage.simulate.truth import findings, mark_races, spec_cause

CID = "audit-test-rr-05"
TYPE = "signalprocessing.error.occurred"


def _event(buffered_ms: int, written_ms: int | None, outcome: str = "written") -> AuditEvent:
    written = None if written_ms is None else written_ms * MS
    return AuditEvent(
        1,
        CID,
        TYPE,
        1,
        "audit-test-sp-05",
        buffered_at=buffered_ms * MS,
        written_at=written,
        outcome=outcome,
        seen=True,
    )


def _report(*queries: QueryRecord, state: str = "failed", interrupted_ms: int | None = None) -> Report:
    report = Report(None, "It", "audit_integration_test.go:662", 1, 0, state=state, queries=list(queries))
    if interrupted_ms is not None:
        report.state, report.cancelled = "interrupted", True
        report.failure = Failure("Interrupted by Other Ginkgo Process", report.location, interrupted_ms * MS)
    return report


def test_a_refused_query_races_nothing() -> None:
    """A query DataStorage refused is not a race, though an event was still buffered when it ran."""
    refused = QueryRecord(CID, TYPE, 500 * MS, None, "spec")
    answered = QueryRecord(CID, TYPE, 600 * MS, 0, "spec")
    mark_races([_report(refused, answered)], {CID: [_event(100, 900)]})
    assert (refused.raced, answered.raced) == (False, True)
    assert answered.observable


def test_a_query_after_the_interruption_shows_no_race() -> None:
    """A query that ran after Ginkgo reported its spec interrupted raced, but no timeline line shows it."""
    late = QueryRecord(CID, TYPE, 11_000 * MS, 0, "spec")
    mark_races([_report(late, interrupted_ms=400)], {CID: [_event(100, None, "unflushed")]})
    assert late.raced and not late.observable


def test_an_event_buffered_after_the_count_is_missing_not_raced() -> None:
    """A one-shot count taken before the controller buffered the event is missing events, not a flush race."""
    query = QueryRecord(CID, TYPE, 838 * MS, 0, "spec")
    report = _report(query)
    report.check = Check(CID, TYPE, 1, 0, 838 * MS, retried=False)
    watched = {CID: [_event(935, 1064)]}
    mark_races([report], watched)
    assert not query.raced
    assert spec_cause(report, watched) == "missing-events"
    report.check = Check(CID, TYPE, 1, 0, 1000 * MS, retried=False)
    assert spec_cause(report, watched) == "flush-query-race"


def test_a_failed_count_whose_id_no_line_names_is_asked_of_the_run() -> None:
    """A failed count is asked under its correlation ID only when the test log names that ID."""
    report = _report(QueryRecord(CID, TYPE, 838 * MS, 1, "spec"))
    report.failure = Failure("Expected\n    <int>: 1\nto equal\n    <int>: 2", report.location, 840 * MS)
    report.correlation_ids = [CID]

    def count_entries(named: set[str] | None) -> dict[str, list[str | None]]:
        found = findings([report], report.queries, {}, None, False, {}, 0, named=named)
        return {
            kind: [e["correlation_id"] for e in found[kind] if e["rule"] == "unexpected-event-count"]
            for kind in ("must", "must_not")
        }

    assert count_entries({CID}) == {"must": [CID], "must_not": []}
    assert count_entries(set()) == {"must": [None], "must_not": []}
    assert count_entries(None) == {"must": [CID], "must_not": []}
