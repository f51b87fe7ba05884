"""Errors a run logs on purpose: provoked database errors, a store pointed at a closed port, teardown loss."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.rules.ginkgo_text import Block, render, step, store
from triage.api import Report, analyze
from triage.rules.base import Finding, Severity

RUN_DIR = "signalprocessing-integration-20260122-171948"
TEST_LOG = "integration-signalprocessing.log"
CLOSED_PORT = (
    'network error: Post "http://localhost:9999/api/v1/audit/events/batch": '
    "dial tcp [::1]:9999: connect: connection refused"
)
DS_STOPPED = (
    'network error: Post "http://127.0.0.1:18094/api/v1/audit/events/batch": '
    "dial tcp 127.0.0.1:18094: connect: connection refused"
)


def _failing(ts: str, attempt: int, size: int, error: str) -> str:
    return store(ts, "Failed to write audit batch", "error", attempt=attempt, batch_size=size, error=error)


def _buffered(ts: str, cid: str, total: int) -> str:
    return store(
        ts,
        "✅ Event buffered successfully",
        event_type="signalprocessing.phase.transition",
        correlation_id=cid,
        buffer_size_after=0,
        total_buffered=total,
    )


def _unavailable_spec(state: str) -> Block:
    """A spec that points its store at localhost:9999, so three attempts fail and the batch is dropped."""
    return Block(
        "Audit Integration Tests Audit Failure Scenarios should not block StoreAudit when DataStorage "
        "is temporarily unavailable",
        state,
        [
            step("Creating a store that points at a closed port", "01/22/26 17:19:14.102"),
            _buffered("2026-01-22T17:19:14-05:00", "rr-unavailable-1", 1),
            _failing("2026-01-22T17:19:14-05:00", 1, 1, CLOSED_PORT),
            _failing("2026-01-22T17:19:15-05:00", 2, 1, CLOSED_PORT),
            _failing("2026-01-22T17:19:19-05:00", 3, 1, CLOSED_PORT),
            store(
                "2026-01-22T17:19:19-05:00",
                "AUDIT DATA LOSS: Dropping batch after max retries (infrastructure unavailable)",
                "error",
                batch_size=1,
                max_retries=3,
            ),
            step("Checking that StoreAudit returned at once", "01/22/26 17:19:19.64"),
        ],
        seconds=5.6,
        at="01/22/26 17:19:19.64",
    )


def _plain_spec(name: str, state: str, start: str, end: str) -> Block:
    """A spec whose timeline has a zoned store line (for the host offset) between two steps."""
    return Block(
        name,
        state,
        [
            step("Creating the test namespace", f"01/22/26 {start}"),
            store(
                f"2026-01-22T{start[:8]}-05:00",
                "⏰ Timer tick received",
                tick_number=3,
                batch_size_before_flush=0,
                buffer_utilization=0,
                expected_interval=1,
                actual_interval=1.0,
                drift=0.0,
                tick_time=f"2026-01-22T{start[:8]}.516650875-05:00",
            ),
            step("Waiting for the phase", f"01/22/26 {end}"),
        ],
        at=f"01/22/26 {end}",
    )


def _teardown(error: str) -> Block:
    """Process 1's teardown: its store's last batch of 2 fails three times and no drop line follows."""
    return Block(
        "[SynchronizedAfterSuite]",
        "after-suite",
        [
            step("Tearing down per-process test environment", "01/22/26 17:19:40.015"),
            _buffered("2026-01-22T17:19:40-05:00", "rr-teardown-1", 7),
            _buffered("2026-01-22T17:19:40-05:00", "rr-teardown-1", 8),
            _failing("2026-01-22T17:19:40-05:00", 1, 2, error),
            _failing("2026-01-22T17:19:41-05:00", 2, 2, error),
            _failing("2026-01-22T17:19:45-05:00", 3, 2, error),
        ],
    )


def _write(tmp_path: Path, blocks: list[Block], postgres: str | None = None) -> Path:
    (tmp_path / TEST_LOG).write_text(render(blocks), encoding="utf-8")
    if postgres is not None:
        run = tmp_path / RUN_DIR
        run.mkdir()
        (run / "signalprocessing_signalprocessing_postgres_test.log").write_text(postgres, encoding="utf-8")
    return tmp_path


def _rule(report: Report, rule: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule]


def test_closed_port_in_a_passing_spec_is_an_expected_loss(tmp_path: Path) -> None:
    """A batch dropped after three refused attempts on localhost:9999 in a passing spec is info, expected."""
    failed = _plain_spec(
        "Operational Visibility should process RRs independently", "failed", "17:19:21.004", "17:19:31.2"
    )
    report = analyze(_write(tmp_path, [failed, _unavailable_spec("passed")]), select=("dropped-events",))
    (finding,) = _rule(report, "dropped-events")
    assert finding.severity == Severity.INFO
    assert "after 3 failed attempts (connection refused)" in finding.summary
    assert "Expected, not a DataStorage fault" in finding.summary and "(the spec passed)" in finding.summary
    assert any("localhost:9999" in (e.text or "") for e in finding.evidence)


def test_closed_port_in_a_failed_spec_stays_high(tmp_path: Path) -> None:
    """The same loss in a spec that failed is high: a provoked shape does not hide a failed spec's loss."""
    report = analyze(_write(tmp_path, [_unavailable_spec("failed")]), select=("dropped-events",))
    (finding,) = _rule(report, "dropped-events")
    assert finding.severity == Severity.HIGH
    assert "but the spec failed" in finding.summary


def _closing(failed_batches: int) -> str:
    return store(
        "2026-01-22T17:19:19-05:00",
        "Audit store closed",
        buffered_count=1,
        written_count=0,
        dropped_count=0,
        failed_batch_count=failed_batches,
    )


@pytest.mark.parametrize(("failed_batches", "severity"), [(1, Severity.INFO), (2, Severity.HIGH)])
def test_closing_counters_are_info_only_when_the_expected_losses_explain_them(
    tmp_path: Path, failed_batches: int, severity: Severity
) -> None:
    """The store's closing count of failed batches is info when it is the expected loss, high when more."""
    spec = _unavailable_spec("passed")
    spec = Block(spec.name, spec.state, [*spec.lines, _closing(failed_batches)], spec.seconds, spec.at)
    report = analyze(_write(tmp_path, [spec]), select=("dropped-events",))
    (counters,) = [f for f in _rule(report, "dropped-events") if f.summary.startswith("Process 1's store")]
    assert counters.severity == severity
    assert ("expected losses reported above" in counters.summary) == (severity == Severity.INFO)


def test_teardown_connection_refused_after_passing_specs_is_info(tmp_path: Path) -> None:
    """Two events lost at teardown when every spec passed are an info audit loss, not container health."""
    passed = _plain_spec(
        "Audit Integration should emit a phase transition", "passed", "17:19:21.004", "17:19:23.2"
    )
    report = analyze(_write(tmp_path, [passed, _teardown(DS_STOPPED)]))
    (lost,) = _rule(report, "dropped-events")
    assert lost.severity == Severity.INFO
    assert lost.summary.startswith("1 batch (2 events of rr-teardown-1) dropped in")
    assert "Its attempt 3 was its last" in lost.summary and "At teardown" in lost.summary
    attempts = [e.text or "" for e in lost.evidence]
    assert [f'"attempt":{n}' in text for n, text in enumerate(attempts, 1)] == [True, True, True]
    assert not [f for f in _rule(report, "container-unhealthy") if f.severity > Severity.INFO]


def _datastorage_inspect(exit_code: int, oom_killed: bool) -> str:
    """A trimmed podman inspect document of a DataStorage container that is no longer running."""
    state = {
        "Status": "exited",
        "Running": False,
        "OOMKilled": oom_killed,
        "ExitCode": exit_code,
        "StartedAt": "2026-01-22T22:18:40.117283548Z",
        "FinishedAt": "2026-01-22T22:19:46.451220811Z",
    }
    doc = {
        "Id": "5e0f2b7c9a1d",
        "Name": "signalprocessing_datastorage_test",
        "ImageName": "localhost/kubernaut/datastorage:signalprocessing-1a2b3c4d",
        "State": state,
        "RestartCount": 0,
    }
    return json.dumps([doc], indent=5) + "\n"


@pytest.mark.parametrize(
    ("exit_code", "oom_killed", "severity"), [(143, False, Severity.INFO), (137, True, Severity.HIGH)]
)
def test_teardown_loss_is_high_when_datastorage_died(
    tmp_path: Path, exit_code: int, oom_killed: bool, severity: Severity
) -> None:
    """A teardown loss stays info when DataStorage was stopped (143) and is high when it was OOM-killed."""
    passed = _plain_spec(
        "Audit Integration should emit a phase transition", "passed", "17:19:21.004", "17:19:23.2"
    )
    bundle = _write(tmp_path, [passed, _teardown(DS_STOPPED)])
    run = bundle / RUN_DIR
    run.mkdir()
    inspect = _datastorage_inspect(exit_code, oom_killed)
    (run / "signalprocessing_signalprocessing_datastorage_test_inspect.json").write_text(
        inspect, encoding="utf-8"
    )
    report = analyze(bundle, select=("dropped-events",))
    (lost,) = _rule(report, "dropped-events")
    assert lost.severity == severity


def test_connection_refused_while_a_failed_spec_runs_stays_high(tmp_path: Path) -> None:
    """The same three refused attempts at teardown while a failed spec was still running stay high."""
    failed = _plain_spec(
        "Audit Integration should emit a phase transition", "failed", "17:19:21.004", "17:19:44.2"
    )
    report = analyze(_write(tmp_path, [failed, _teardown(DS_STOPPED)]), select=("dropped-events",))
    (lost,) = _rule(report, "dropped-events")
    assert lost.severity == Severity.HIGH


def test_rejected_batch_in_a_passing_spec_stays_high(tmp_path: Path) -> None:
    """A 4xx drop is a fault wherever it happens, even in a passing spec."""
    rejected = Block(
        "Audit Integration should emit an audit event with fallback severity",
        "passed",
        [
            step("Creating the signal", "01/22/26 17:19:14.102"),
            _buffered("2026-01-22T17:19:14-05:00", "sev-audit-rr-005", 1),
            _failing(
                "2026-01-22T17:19:15-05:00", 1, 1, "Data Storage Service returned status 400: Bad Request"
            ),
            store(
                "2026-01-22T17:19:15-05:00",
                "Dropping audit batch due to non-retryable error (invalid data)",
                "error",
                batch_size=1,
                is_4xx_error=True,
            ),
        ],
    )
    report = analyze(_write(tmp_path, [rejected]), select=("dropped-events",))
    assert [f.severity for f in _rule(report, "dropped-events")] == [Severity.HIGH]


POSTGRES = """\
2026-01-22 22:18:35.666 UTC [75] FATAL:  database "slm_user" does not exist
2026-01-22 22:18:36.001 UTC [1] LOG:  database system is ready to accept connections
2026-01-22 22:19:22.169 UTC [63] ERROR:  duplicate key value violates unique constraint \
"notification_audit_notification_id_key"
2026-01-22 22:19:22.169 UTC [63] DETAIL:  Key (notification_id)=(notif-test-4-1769186091167595016) \
already exists.
2026-01-22 22:19:22.169 UTC [63] STATEMENT:  INSERT INTO notification_audit (notification_id, status) \
VALUES ($1, $2)
2026-01-22 22:19:33.322 UTC [100] ERROR:  duplicate key value violates unique constraint "audit_events_pkey"
2026-01-22 22:19:33.322 UTC [100] DETAIL:  Key (event_id, event_date)=(9f1c, 2026-01-22) already exists.
2026-01-22 22:19:34.198 UTC [61] ERROR:  relation "audit_events_2026_02" does not exist at character 13
"""


def _database_run(tmp_path: Path) -> Report:
    duplicate = _plain_spec(
        "Notification Audit Schema should reject a duplicate notification_id",
        "passed",
        "17:19:21.004",
        "17:19:23.2",
    )
    failed = _plain_spec(
        "Audit Events Repository should persist a batch of events", "failed", "17:19:30.004", "17:19:35.2"
    )
    return analyze(_write(tmp_path, [duplicate, failed], POSTGRES), select=("container-unhealthy",))


def test_provoked_duplicate_key_is_expected_beside_its_spec(tmp_path: Path) -> None:
    """The duplicate key logged while the duplicate-notification spec passed is info and names that spec."""
    report = _database_run(tmp_path)
    (expected,) = [f for f in _rule(report, "container-unhealthy") if "expected, not a fault" in f.summary]
    assert expected.severity == Severity.INFO
    assert "1x `duplicate key value violates unique constraint`" in expected.summary
    assert (
        "`Notification Audit Schema should reject a duplicate notification_id` ran and passed"
        in expected.summary
    )
    assert [e.line for e in expected.evidence] == [3]


def test_same_error_in_a_failed_specs_window_is_not_hidden(tmp_path: Path) -> None:
    """A duplicate key and a missing relation logged while a failed spec ran are reported as errors."""
    report = _database_run(tmp_path)
    (errors,) = [f for f in _rule(report, "container-unhealthy") if "not known start-up noise" in f.summary]
    assert errors.severity == Severity.LOW
    assert [e.line for e in errors.evidence] == [6, 8]
    assert "1 of them match errors that specs provoke on purpose" in errors.summary
    assert "Audit Events Repository [It] should persist a batch of events" in errors.summary


def test_start_up_noise_stays_known_noise(tmp_path: Path) -> None:
    """The readiness probe's FATAL is start-up noise that says PostgreSQL is up."""
    report = _database_run(tmp_path)
    (noise,) = [
        f for f in _rule(report, "container-unhealthy") if "start-up noise, not a failure" in f.summary
    ]
    assert noise.severity == Severity.INFO
    assert "so PostgreSQL is up" in noise.summary


CONTROLLER = """\
2025-12-26T00:23:08Z\tERROR\tdelivery-orchestrator\tDelivery failed with permanent error (will NOT retry)
2025-12-26T00:49:44Z\tERROR\tdelivery-orchestrator\tDelivery failed with retryable error
2025-12-26T00:49:44Z\tINFO\tPARTIAL SUCCESS WITH FAILURES, TRANSITIONING TO RETRYING\t{"maxAttemptCount": 2}
"""

STORE_OUTPUT = """\
2026-01-04T17:44:20Z\tERROR\taudit.audit-store\tFailed to write audit batch\t{"attempt": 1, "batch_size": 2, \
"error": "network error: dial tcp 127.0.0.1:18097: connect: connection refused"}
2026-01-04T17:44:21Z\tERROR\taudit.audit-store\tFailed to write audit batch\t{"attempt": 2, "batch_size": 2, \
"error": "network error: dial tcp 127.0.0.1:18097: connect: connection refused"}
"""


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("notification-controller.log", CONTROLLER),
        ("workflowexecution_workflowexecution_datastorage_test.log", STORE_OUTPUT),
    ],
)
def test_test_process_and_controller_output_is_not_container_health(
    tmp_path: Path, name: str, text: str
) -> None:
    """Controller errors and the store's own lines give no container finding, whatever the file is called."""
    (tmp_path / name).write_text(text, encoding="utf-8")
    report = analyze(tmp_path, select=("container-unhealthy",))
    assert not [f for f in _rule(report, "container-unhealthy") if "logged" in f.summary]
    assert report.log_health == ()
