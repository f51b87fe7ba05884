"""Identity from content: which component wrote a file is read from what is in it; the name is a hint."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import triage.discovery
from triage.api import analyze
from triage.discovery import discover, identify
from triage.identity import container_name, name_hint

PG_ERRORS = (
    '2026-03-02 10:14:51.169 UTC [63] ERROR:  duplicate key value violates unique constraint "uq_wf"\n'
    "2026-03-02 10:14:51.169 UTC [63] DETAIL:  Key (workflow_name)=(wf-dup) already exists.\n"
)
RELAYED_PG = (
    "10:14:50.002 INFO  \U0001f433 [postgres:16-alpine] - STDOUT: 2026-03-02 10:14:50.001 UTC [1] LOG:  "
    "database system is ready to accept connections\n"
    "10:14:50.003 INFO  \U0001f433 [postgres:16-alpine] - STDOUT: server started\n"
)
DS_CONSOLE = (
    "2026-03-02T10:14:50.592Z\tINFO\tdatastorage\tserver/server.go:157\tPostgreSQL connection established\n"
    "2026-03-02T10:14:52.101Z\tINFO\tdatastorage\tserver/handlers.go:119\tHTTP request\t"
    '{"method": "POST", "path": "/api/v1/audit/events/batch", "status": 201}\n'
)
# What a suite writes on GinkgoWriter without Ginkgo's frame: its banner, envtest's controller lines
# in the host's local time and the test process's audit store (production JSON, no caller).
GINKGOWRITER = (
    "\u2501" * 60 + "\n"
    "WorkflowExecution Integration Test Suite - Automated Setup\n" + "\u2501" * 60 + "\n"
    "2026-03-02T05:14:53-05:00\tINFO\tReconciling WorkflowExecution\t"
    '{"controller": "workflowexecution", "reconcileID": "3c1d"}\n'
    '{"level":"info","ts":"2026-03-02T05:14:53-05:00","logger":"audit-store","msg":"\u2705 Event buffered '
    'successfully","event_type":"workflowexecution.workflow.started","correlation_id":"wfe-1","total_buffered":1}\n'
)
# The store of the test process at teardown, console format, no caller (GinkgoWriter output).
TEARDOWN_STORE = (
    "2026-03-02T10:15:20Z\tERROR\taudit.audit-store\tFailed to write audit batch\t"
    '{"attempt": 1, "batch_size": 2, "error": "network error: connection refused"}\n'
)
ENVTEST_RECONCILE_LOCAL = (
    "2026-03-02T05:14:53-05:00\tINFO\tInitializing new RemediationRequest\t"
    '{"controller": "remediationrequest", "controllerKind": "RemediationRequest", "reconcileID": "ab93"}\n'
)
POD_RECONCILE_UTC = (
    "2026-03-02T10:14:53Z\tINFO\tInitializing new RemediationRequest\t"
    '{"controller": "remediationrequest", "controllerKind": "RemediationRequest", "reconcileID": "ab93"}\n'
)
OTHER_ZAP = (
    "2026-03-02T10:14:53.001Z\tINFO\tmock-llm\tllm/server.go:40\tServing completions\n"
    "2026-03-02T10:14:54.001Z\tINFO\tmock-llm\tllm/server.go:52\tCompletion sent\n"
)
REDIS_INSPECT = (
    '[\n {\n  "Id": "9a1f",\n  "Name": "notification_redis_1",\n  "ImageName": "redis:7-alpine",\n'
    '  "State": {}\n }\n]\n'
)


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("name", "content", "kind", "service"),
    [
        ("datastorage_datastorage-postgres-test.log", PG_ERRORS, "postgres", "postgres"),
        ("signalprocessing_signalprocessing_datastorage_test.log", PG_ERRORS, "postgres", "postgres"),
        ("signalprocessing_signalprocessing_datastorage_test.log", RELAYED_PG, "postgres", "postgres"),
        ("app.log", DS_CONSOLE, "zap_console", "datastorage"),
        ("signalprocessing_signalprocessing_datastorage_test.log", GINKGOWRITER, "ginkgo", "test-run"),
        ("integration-workflowexecution.log", TEARDOWN_STORE, "ginkgo", "test-run"),
        ("captured.log", TEARDOWN_STORE, "ginkgo", "test-run"),
        ("failed-spec.log", ENVTEST_RECONCILE_LOCAL, "ginkgo", "test-run"),
        ("remediationorchestrator.log", POD_RECONCILE_UTC, "zap_console", "controller"),
        ("signalprocessing_signalprocessing_datastorage_test.log", OTHER_ZAP, "zap_console", None),
        ("aianalysis_mock-llm-aianalysis.log", OTHER_ZAP, "zap_console", None),
        (
            "signalprocessing_signalprocessing_postgres_test_inspect.json",
            REDIS_INSPECT,
            "podman_inspect",
            "redis",
        ),
    ],
)
def test_content_decides_who_wrote_a_file_whatever_its_name(
    tmp_path: Path, name: str, content: str, kind: str, service: str | None
) -> None:
    """Each file gets the kind and component its content shows, not the ones its name suggests."""
    (source,) = discover(_write(tmp_path, {name: content})).sources
    assert (source.kind, source.service) == (kind, service)


def test_content_that_shows_no_writer_leaves_the_name_to_decide() -> None:
    """A zap log whose records name no logger belongs to the component its name says."""
    no_logger = b"2026-03-02T10:14:53.001Z\tinfo\tserver/main.go:12\tstarted\n"
    assert identify("signalprocessing_signalprocessing_datastorage_test.log", "zap_console", no_logger) == (
        "zap_console",
        "datastorage",
        "",
    )
    assert identify("controller-console.log", "zap_console", no_logger)[1] == "controller"
    assert identify("x.log", "zap_console", no_logger)[1] is None


def test_a_content_decision_against_the_name_is_explained() -> None:
    """When content overrides the name, the reason says so."""
    kind, service, why = identify("datastorage_datastorage_test.log", "postgres", PG_ERRORS.encode())
    assert (kind, service, why) == ("postgres", "postgres", "postgres by its content, whatever the name")


@pytest.mark.parametrize(
    ("name", "service", "container", "hint"),
    [
        (
            "signalprocessing_signalprocessing_postgres_test.log",
            "signalprocessing",
            "signalprocessing_postgres_test",
            "postgres",
        ),
        ("notification_notification_postgres_1.log", "notification", "notification_postgres_1", "postgres"),
        (
            "workflowexecution_workflowexecution_redis_1.log",
            "workflowexecution",
            "workflowexecution_redis_1",
            "redis",
        ),
        ("datastorage_datastorage-postgres-test.log", "datastorage", "datastorage-postgres-test", "postgres"),
        ("aianalysis_mock-llm-aianalysis.log", "aianalysis", "mock-llm-aianalysis", None),
        (
            "kaenrichment_kaenrichment_datastorage_test_inspect.json",
            "kaenrichment",
            "kaenrichment_datastorage_test",
            "datastorage",
        ),
        ("signalprocessing_sp_redis_test.log", "signalprocessing", "sp_redis_test", "redis"),
        ("integration-notification.log", "notification", None, "test-run"),
        ("vigorous_napier.log", None, "vigorous_napier", None),
        ("controller-console.log", None, None, "controller"),
    ],
)
def test_real_must_gather_names_give_the_container(
    name: str, service: str | None, container: str | None, hint: str | None
) -> None:
    """`{svc}_{container}.log` names with hyphens, `_1` suffixes and other prefixes give their container."""
    assert container_name(name, service) == container
    assert name_hint(name) == hint


def test_discovered_sources_carry_their_container_name(tmp_path: Path) -> None:
    """A source found in a run directory knows the container it is named after."""
    run = "notification-integration-20260110-141612"
    root = _write(tmp_path, {f"{run}/notification_notification_postgres_1.log": PG_ERRORS})
    (source,) = discover(root).sources
    assert (source.container, source.service) == ("notification_postgres_1", "postgres")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_entries_that_are_not_regular_files_are_listed_with_the_reason(tmp_path: Path) -> None:
    """FIFOs, links leaving the bundle and links to nothing are named in the notes, never read."""
    root = _write(
        tmp_path / "bundle", {"redis.log": "1:M 14 Jan 2026 15:24:52.264 * Ready to accept connections tcp\n"}
    )
    outside = _write(tmp_path / "elsewhere", {"secret.log": "x\n"}) / "secret.log"
    os.mkfifo(root / "pipe.log")
    (root / "escape.log").symlink_to(outside)
    (root / "dangling.log").symlink_to(root / "gone.log")
    bundle = discover(root)
    assert [s.name for s in bundle.sources] == ["redis.log"]
    assert bundle.notes == (
        "skipped dangling.log: a link to nothing, not a regular file",
        "skipped escape.log: a link leaving the bundle, not a regular file",
        "skipped pipe.log: a FIFO, not a regular file",
    )


def test_a_file_present_but_unreadable_is_said_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that cannot be read is listed as present but unreadable, under the component its name says."""
    root = _write(tmp_path, {"sp_sp_postgres_test.log": PG_ERRORS, "sp_sp_redis_test.log": "1:M x\n"})
    real_head = triage.discovery._head

    def head(path: Path) -> bytes:
        if path.name == "sp_sp_postgres_test.log":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        return real_head(path)

    monkeypatch.setattr(triage.discovery, "_head", head)
    source = next(s for s in discover(root).sources if s.name == "sp_sp_postgres_test.log")
    assert (source.kind, source.service) == ("unknown", "postgres")
    assert source.why == "present but unreadable: Permission denied"


def test_analyze_accepts_str_and_pathlike(tmp_path: Path) -> None:
    """`analyze` takes the bundle and the test logs as `str` or any `os.PathLike`."""
    root = _write(tmp_path / "mg", {"app.log": DS_CONSOLE})
    log = _write(tmp_path / "ci", {"integration-x.log": TEARDOWN_STORE}) / "integration-x.log"

    class Where(os.PathLike[str]):
        def __init__(self, path: Path) -> None:
            self.path = path

        def __fspath__(self) -> str:
            return str(self.path)

    from_str = analyze(str(root), test_logs=[str(log)])
    from_pathlike = analyze(Where(root), test_logs=[Where(log)])
    for report in (from_str, from_pathlike):
        assert [(a.source.name, a.source.service) for a in report.accounts] == [
            ("app.log", "datastorage"),
            ("integration-x.log", "test-run"),
        ]
    assert from_str.bundle.display_path == str(root)
