"""Container health and expected errors on the real-world corpus beside the repository, when it is there."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.realworld import REALWORLD as CORPUS
from tests.realworld import needs_realworld
from triage.api import Report, analyze
from triage.rules.base import Finding, Severity

needs_corpus = needs_realworld


def _case(*parts: str) -> Path:
    assert CORPUS is not None
    matches = sorted(CORPUS.glob(parts[0]))
    assert matches, f"{parts[0]} not in {CORPUS}"
    return matches[0].joinpath(*parts[1:])


def _above_info(report: Report, rule: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule and f.severity > Severity.INFO]


@needs_corpus
@pytest.mark.parametrize(
    "parts",
    [
        ("k01-*", "derived", "all-specs-ginkgowriter.log"),  # controller lines, the store's AUDIT DATA LOSS
        ("k06-*", "bundle-rejoined"),  # the test log: three refused attempts at teardown
        ("k07-*", "controller-console.log"),  # a controller's errors, retryable or not
    ],
)
def test_test_and_controller_output_is_not_container_health(parts: tuple[str, ...]) -> None:
    """The test process's and a controller's output give no container finding and no container log."""
    report = analyze(_case(*parts))
    assert not [f for f in report.findings if f.rule == "container-unhealthy"]
    assert report.log_health == ()


@needs_corpus
def test_k01_closed_port_loss_is_expected() -> None:
    """k01's batch lost on localhost:9999 is an info loss said to be provoked on purpose, never high."""
    report = analyze(_case("k01-*", "derived", "all-specs-ginkgowriter.log"))
    assert not _above_info(report, "dropped-events")
    (lost,) = [f for f in report.findings if f.rule == "dropped-events"]
    assert "Expected, not a DataStorage fault" in lost.summary and "(connection refused)" in lost.summary


@needs_corpus
def test_k01_report_names_the_passing_spec_that_lost_a_batch_on_purpose() -> None:
    """Read from k01's JSON report, the localhost:9999 loss is info in the passing spec that provoked it."""
    report = analyze(_case("k01-*", "report.json"))
    assert not _above_info(report, "dropped-events")
    (lost,) = [f for f in report.findings if f.rule == "dropped-events"]
    assert "should not block StoreAudit when DataStorage is temporarily unavailable" in lost.summary
    assert "Expected, not a DataStorage fault" in lost.summary and "(the spec passed)" in lost.summary


@needs_corpus
def test_k04_postgres_errors_are_provoked_on_purpose() -> None:
    """k04's duplicate-key and foreign-key errors are PostgreSQL's, provoked on purpose, at info only."""
    report = analyze(_case("k04-*", "bundle"))
    findings = [f for f in report.findings if f.rule == "container-unhealthy"]
    (expected,) = findings
    assert expected.severity == Severity.INFO
    assert expected.summary.startswith("the PostgreSQL log datastorage_datastorage-postgres-test.log: errors")
    assert "2x `duplicate key value violates unique constraint`" in expected.summary
    assert '1x `update or delete on table "audit_events" violates foreign key constraint`' in expected.summary
    assert "duplicate notification_id test" in expected.summary and "immutability test" in expected.summary
    assert [e.line for e in expected.evidence] == [1, 3, 5]
    assert [(h.service, h.source_kind) for h in report.log_health] == [("postgres", "postgres")]


@needs_corpus
def test_k05_probe_fatal_is_start_up_noise() -> None:
    """k05's three `database "slm_user" does not exist` FATALs say PostgreSQL is up: info noise only."""
    report = analyze(_case("k05-*", "bundle"))
    (noise,) = [f for f in report.findings if f.rule == "container-unhealthy"]
    assert noise.severity == Severity.INFO
    assert '3x `database "slm_user" does not exist`' in noise.summary and "PostgreSQL is up" in noise.summary


@needs_corpus
def test_k06_teardown_loss_is_info() -> None:
    """k06's batch of 2 refused three times at teardown is an info audit loss of the test process's store."""
    report = analyze(_case("k06-*", "bundle-rejoined"))
    (lost,) = [f for f in report.findings if f.rule == "dropped-events"]
    assert lost.severity == Severity.INFO
    assert lost.summary.startswith("1 batch (2 events) dropped in a store outside any spec block")
    assert "(connection refused)" in lost.summary and "At teardown" in lost.summary


@needs_corpus
def test_k02_drop_in_a_failed_spec_stays_high() -> None:
    """k02's batch of 8 dropped after a 400 in a failed spec stays a high dropped-events finding."""
    report = analyze(_case("k02-*", "bundle"))
    (drop,) = _above_info(report, "dropped-events")
    assert drop.severity == Severity.HIGH
    assert drop.summary.startswith("1 batch (8 events) dropped") and "non-retryable 4xx" in drop.summary
