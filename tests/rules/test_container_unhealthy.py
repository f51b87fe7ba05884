"""The container-unhealthy rule on committed bundles, rule fixtures and edited event tables."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from triage.api import Report, analyze
from triage.facts.analysis import Analysis, build_analysis
from triage.rules import container_unhealthy, run_rules
from triage.rules.base import Finding, Severity
from triage.simulate import simulate
from triage.table.texts import LineTexts

ROOT = Path(__file__).resolve().parents[2] / "fixtures"
BUNDLES = ROOT / "bundles"
CASES = ROOT / "rules" / "container-unhealthy"
RULE = ("container-unhealthy",)


def _findings(path: Path) -> list[Finding]:
    return list(analyze(path, select=RULE).findings)


def _problems(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity > Severity.INFO]


@pytest.fixture(scope="module")
def healthy() -> Report:
    return analyze(BUNDLES / "02-healthy", select=RULE)


Added = dict[tuple[str, int], str]


def _rebuild(
    report: Report, events: pl.DataFrame | None = None, added: Added | None = None, **changes: Any
) -> Analysis:
    """The healthy bundle's analysis with its events or containers replaced; `added` lines' texts."""
    containers = report.containers
    if changes:
        containers = tuple(
            dataclasses.replace(c, **changes) if c.service == "datastorage" else c for c in containers
        )
    return build_analysis(
        report.events if events is None else events,
        report.tests,
        containers,
        report.log_health,
        report.analysis.kinds,
        LineTexts(report.analysis.texts.files, dict(added or {})),
        report.analysis.attrs,
    )


def _add_log_rows(
    report: Report, service: str, rows: list[tuple[str, str, str]]
) -> tuple[pl.DataFrame, Added]:
    """Append (level, message, raw) records to a container's log, after its last record.

    Returns:
        The events, and the added lines' texts by (file, line).
    """
    events = report.events
    last = events.filter((pl.col("service") == service) & (pl.col("record") == "log")).sort("line").tail(1)
    file, end = str(last["file"][0]), int(last["line"][0])
    added = [
        last.with_columns(
            pl.lit(level).cast(events.schema["level"]).alias("level"),
            pl.lit(message).cast(events.schema["message"]).alias("message"),
            pl.lit(message).cast(events.schema["msg_key"]).alias("msg_key"),
            (pl.col("line") + i + 1).alias("line"),
        )
        for i, (level, message, _) in enumerate(rows)
    ]
    return pl.concat([events, *added]), {(file, end + i + 1): raw for i, (*_, raw) in enumerate(rows)}


def _check(analysis: Analysis) -> list[Finding]:
    """The rule's findings, their evidence quoted."""
    return [f for outcome in run_rules(analysis, (container_unhealthy.RULE,)) for f in outcome.findings]


def test_oom_killed_datastorage_is_high_with_inspect_and_last_log_line() -> None:
    """An OOM-killed DataStorage gives one high finding citing its State lines and its last log line."""
    problems = _problems(_findings(BUNDLES / "07-datastorage-down"))
    assert len(problems) == 1
    finding = problems[0]
    assert finding.severity == Severity.HIGH
    assert finding.correlation_id is None
    assert "exit code 137, OOM-killed" in finding.summary
    assert "finished 22:19:15.451 UTC" in finding.summary
    assert "last log record is at 22:19:15.387 UTC" in finding.summary
    assert [(e.line, e.text) for e in finding.evidence[:3]] == [
        (9, '"Status": "exited",'),
        (13, '"OOMKilled": true,'),
        (17, '"ExitCode": 137,'),
    ]
    assert all(
        e.file.endswith("signalprocessing_signalprocessing_datastorage_test_inspect.json")
        for e in finding.evidence[:3]
    )
    assert finding.evidence[3].line == 64
    assert finding.evidence[3].file.endswith("signalprocessing_signalprocessing_datastorage_test.log")


def test_healthy_run_reports_only_known_noise_as_info(healthy: Report) -> None:
    """A healthy run gives only info findings: the malformed probe and PostgreSQL start-up noise."""
    findings = list(healthy.findings)
    assert findings and not _problems(findings)
    probe = next(f for f in findings if "HEALTHCHECK is malformed" in f.summary)
    assert "Health.Status starting, FailingStreak 1" in probe.summary
    noise = next(f for f in findings if "known start-up noise" in f.summary)
    assert '2x `database "slm_user" does not exist`' in noise.summary
    assert '1x `role "slm_user" already exists`' in noise.summary
    assert [e.line for e in noise.evidence] == [60, 62]


def test_container_skipped_by_the_collector_is_medium_quoting_the_skip_line() -> None:
    """A `Skipping <ctr> (container not found)` line gives a medium finding that quotes it."""
    problems = _problems(_findings(CASES / "postgres-skipped-by-must-gather"))
    assert len(problems) == 1
    assert problems[0].severity == Severity.MEDIUM
    assert "skipped signalprocessing_postgres_test (container not found)" in problems[0].summary
    assert (
        problems[0].evidence[0].text.endswith("Skipping signalprocessing_postgres_test (container not found)")
    )


def test_missing_container_without_test_log_is_inferred_from_the_layout() -> None:
    """Without the test log, a container absent from the must-gather directory is reported as inferred."""
    problems = _problems(_findings(CASES / "redis-missing-without-test-log"))
    assert len(problems) == 1
    assert "neither a log nor an inspect output of redis" in problems[0].summary
    assert "inferred" in problems[0].summary
    assert all(e.file.endswith("_inspect.json") for e in problems[0].evidence)


def test_database_500s_while_serving_stay_info() -> None:
    """DataStorage's 500 answers while it kept running are counted as info, with their time span."""
    findings = _findings(CASES / "database-500s-while-serving")
    assert not _problems(findings)
    served = next(f for f in findings if "with 500" in f.summary)
    assert "2 `Batch database write failed` record(s)" in served.summary
    assert "Batch database write failed" in served.evidence[0].text
    assert '"status": 500' in served.evidence[1].text


def test_datastorage_that_never_started_is_high_with_no_log_records(tmp_path: Path) -> None:
    """A DataStorage that exited at start-up gives a high finding saying its log holds no records."""
    simulate(
        "healthy",
        tmp_path / "b",
        seed=3,
        processes=1,
        specs=1,
        flush_interval=1.0,
        faults=("datastorage-down",),
    )
    problems = _problems(_findings(tmp_path / "b"))
    assert len(problems) == 1
    assert "status exited, exit code 1)" in problems[0].summary
    assert "holds no records" in problems[0].summary


def test_panic_in_datastorage_log_is_high(healthy: Report) -> None:
    """A `PANIC RECOVERED` record in DataStorage's log gives a high finding quoting it."""
    raw = "2026-01-16T14:14:00.000Z\tERROR\tdatastorage\tserver/handlers.go:86\t🚨 PANIC RECOVERED\t{}"
    edited = _add_log_rows(healthy, "datastorage", [("error", "PANIC RECOVERED", raw)])
    problems = _problems(_check(_rebuild(healthy, *edited)))
    assert [f.severity for f in problems] == [Severity.HIGH]
    assert "1 panic record(s)" in problems[0].summary
    assert problems[0].evidence[0].text == raw


def test_connection_retries_are_low_and_giving_up_is_high(healthy: Report) -> None:
    """DataStorage retrying its connection is low; retrying until `after all retries` is high."""
    retry = ("info", "Failed to connect, retrying...", "retry line")
    edited = _add_log_rows(healthy, "datastorage", [retry, retry])
    low = _problems(_check(_rebuild(healthy, *edited)))
    assert [f.severity for f in low] == [Severity.LOW]
    assert "retried its PostgreSQL/Redis connection 2 time(s)" in low[0].summary
    gave_up = ("error", "Failed to create server after all retries", "gave up line")
    edited = _add_log_rows(healthy, "datastorage", [retry, gave_up])
    high = _problems(_check(_rebuild(healthy, *edited)))
    assert [f.severity for f in high] == [Severity.HIGH]
    assert [e.text for e in high[0].evidence] == ["retry line", "gave up line"]


def test_postgres_fatal_that_is_not_noise_is_medium(healthy: Report) -> None:
    """A PostgreSQL FATAL other than the probe's missing database gives a medium finding."""
    raw = "2026-01-16 14:14:00.000 UTC [99] FATAL:  sorry, too many clients already"
    edited = _add_log_rows(healthy, "postgres", [("fatal", "sorry, too many clients already", raw)])
    problems = _problems(_check(_rebuild(healthy, *edited)))
    assert [f.severity for f in problems] == [Severity.MEDIUM]
    assert "1 FATAL record(s)" in problems[0].summary
    assert "`sorry, too many clients already`" in problems[0].summary


def test_real_health_failure_and_restarts_are_medium(healthy: Report) -> None:
    """An unhealthy probe with another output and a restart count each give a medium finding."""
    analysis = _rebuild(
        healthy,
        health="unhealthy",
        failing_streak=3,
        last_health_output="curl: (7) Failed to connect",
        restart_count=2,
    )
    problems = _problems(_check(analysis))
    assert sorted(f.severity for f in problems) == [Severity.MEDIUM, Severity.MEDIUM]
    summaries = " ".join(f.summary for f in problems)
    assert "restarted 2 time(s)" in summaries
    assert "the last probe printed `curl: (7) Failed to connect`" in summaries


def test_test_log_alone_gives_one_info_finding_not_one_per_container() -> None:
    """Analysing only the test log gives one info finding that container health was not checked."""
    findings = _findings(BUNDLES / "02-healthy" / "integration-signalprocessing.log")
    assert [f.severity for f in findings] == [Severity.INFO]
    assert "container health was not checked" in findings[0].summary
    assert "signalprocessing_datastorage_test →" in findings[0].evidence[0].text
