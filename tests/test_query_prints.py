"""The suites' query prints, in the shapes their helpers print them, are read as queries or failed queries."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from tests.ginkgo_log import Spec, ginkgo_log, write_bundle
from triage.api import analyze
from triage.table.vocabulary import COUNTED_QUERIES, QUERY_FAILED

COUNTED = [
    ("Found 2 phase_transition events (expected 1) for correlation_id=rr-04", "rr-04", "phase_transition", 2),
    (
        "Found 0 events (expected 1) for correlation_id=rr-gap8, event_type=orchestrator.lifecycle.created",
        "rr-gap8",
        "orchestrator.lifecycle.created",
        0,
    ),
    ("No phase_transition events found for correlation_id=rr-phase-2", "rr-phase-2", "phase_transition", 0),
    (
        "✅ Query successful: found 3 events (correlation=rr-lc-1, type=orchestrator.lifecycle.started)",
        "rr-lc-1",
        "orchestrator.lifecycle.started",
        3,
    ),
    (
        "⚠️  No data in response from Data Storage (correlation=rr-lc-2, "
        "type=orchestrator.approval.requested, category=orchestration)",
        "rr-lc-2",
        "orchestrator.approval.requested",
        0,
    ),
    (
        "⏳ No completion events found yet (correlation_id=rr-done-5, "
        "event_type=orchestrator.lifecycle.completed)",
        "rr-done-5",
        "orchestrator.lifecycle.completed",
        0,
    ),
    (
        "[critical-alert] classification.decision audit events found: 1 "
        "(expected: 1, correlation_id: sp-crit-9)",
        "sp-crit-9",
        "classification.decision",
        1,
    ),
    (
        "[mode-test] signal.processed audit events: 0 (correlation_id: sp-mode-3)",
        "sp-mode-3",
        "signal.processed",
        0,
    ),
    ("🔍 DEBUG: Retrieved 4 audit events for correlation_id=aa-flow-7:", "aa-flow-7", None, 4),
]

FAILED = [
    '❌ Failed to query Data Storage: Get "http://127.0.0.1:18140/api/v1/audit/events": EOF',
    "Failed to query audit events: context deadline exceeded",
    "Query error: unexpected status 503",
    "⏳ Audit query error: dial tcp 127.0.0.1:18095: connect: connection refused",
    "⏳ Query error for signalprocessing.phase.transition (correlation_id=rr-1): EOF",
    "  ⚠️  Audit query failed: status 500",
    "⚠️  Query failed or no data: err=unexpected EOF",
    "⏳ Waiting for completion audit event (error: dial tcp: connection refused)",
]
NOT_FAILED = [
    "⚠️  Query failed or no data: err=<nil>",
    "⏳ Waiting for phase transition audit event (error: <nil>)",
    "❌ Field index query error: field label not supported",
    "✅ Query successful: found 0 events (correlation=rr-1, type=orchestrator.lifecycle.created)",
]


@pytest.mark.parametrize(("text", "cid", "kind", "count"), COUNTED)
def test_a_counted_query_print_is_read_as_a_query_of_its_correlation_id(
    tmp_path: Path, text: str, cid: str, kind: str | None, count: int
) -> None:
    """Each helper's count print becomes a query of its correlation ID with its type and count."""
    report = analyze(write_bundle(tmp_path, ginkgo_log(Spec("should record the lifecycle", [text]))))
    queries = report.analysis.pipeline.queries.filter(pl.col("correlation_id") == cid)
    assert queries.select("event_type", "count", "helper").rows() == [
        (kind, count, "found" if count else "no_events")
    ]


@pytest.mark.parametrize("text", FAILED)
def test_a_failed_query_print_is_recognised_whatever_the_helper(text: str) -> None:
    """A print of a query DataStorage did not answer matches QUERY_FAILED in every helper's wording."""
    assert re.search(QUERY_FAILED, text)


@pytest.mark.parametrize("text", NOT_FAILED)
def test_a_print_without_a_query_error_is_not_a_failed_query(text: str) -> None:
    """A nil error, another kind of query and a successful query are not failed queries."""
    assert not re.search(QUERY_FAILED, text)


def test_every_counted_shape_names_a_correlation_id() -> None:
    """Every counted-query shape captures the correlation ID, so each print is tied to one."""
    assert all("cid" in re.compile(p).groupindex for p in COUNTED_QUERIES)
