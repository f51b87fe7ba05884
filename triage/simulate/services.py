"""The services whose integration suites the simulator can run, and what differs between them.

Each service's suite bootstraps its own PostgreSQL, Redis and DataStorage on its own ports, runs its
own controller with its own audit store, and its tests print different things when they query
DataStorage. SignalProcessing's suite is modelled spec by spec (triage/simulate/catalogue.py); the
others have a smaller catalogue of audit specs and fillers built here. What they share with it: one
store per Ginkgo process, process 1 closes its store, events are written by the same DataStorage.

Audit specs of the other services (kind `audit-check`) wait for their events in one of these ways
(`SpecDef.pattern`):

* `eventually-count`: `Eventually(func() int {...}).Should(Equal(expected))`, retried until the
  timeout; the test flushes its store on every attempt when the service's tests do.
* `eventually-any`: `Eventually(func() bool { return len(events) > 0 }).Should(BeTrue())`.
* `poll-then-expect`: waits for any event, then `Expect(len(events)).To(Equal(expected))` at once.

The `eventually-value` fault turns one audit spec into `Eventually(count).Should(...)` with the count
evaluated once, a test bug Gomega cannot see: the same stale number is compared until the timeout.
"""

from __future__ import annotations

from dataclasses import dataclass

from triage.simulate.catalogue import CATALOGUE, SUITE_DESCRIPTION, SUITE_DIR, SpecDef

_SRC = "/Users/jgil/go/src/github.com/jordigilh/kubernaut"


@dataclass(frozen=True)
class Service:
    """One service's integration suite as the simulator needs it.

    Attributes:
        name: The service name (`signalprocessing`), also the must-gather prefix.
        title: How its suite banner names it.
        kind: The custom resource its controller reconciles.
        controller: The controller name in controller-runtime's log fields.
        category: The audit `event_category` its events carry and its tests query.
        ports: Host ports of PostgreSQL, Redis and DataStorage.
        suite_dir: The suite's directory as Ginkgo prints code locations.
        suite_description: The suite's description on the `Running Suite:` line.
        lifecycle: For the controller: (phase entered, event types emitted on entering it), in order.
        queries_print: How the test helpers print a query: `sp` (⏳ No events yet / ✅ Found),
            `ro` (✅ Query successful: found N events), `none` (they print nothing).
        flushes: How the audit tests flush the store before querying: `announce` (and print
            `✅ Audit store flushed successfully`), `silent` (each attempt, the error ignored), `none`.
        correlation: How an audit spec names its correlation ID: `rr-name` (a fixed name from the
            catalogue), `uid` (the resource's UID), `test-id` (a prefix and 8 hex digits).
        catalogue: The suite's specs.
        reconcile_lines: What the controller prints per reconcile: `controller-runtime`
            (DEBUG `Reconciling <Kind>` and `Processing <phase> phase` with the controller's fields)
            or `notification` (INFO `🔍 RECONCILE START DEBUG` and `🔍 PHASE TRANSITION LOGIC START`
            with only a phase field, as the Notification controller prints them).
    """

    name: str
    title: str
    kind: str
    controller: str
    category: str
    ports: tuple[tuple[str, int], ...]
    suite_dir: str
    suite_description: str
    lifecycle: tuple[tuple[str, tuple[str, ...]], ...]
    queries_print: str
    flushes: str
    correlation: str
    catalogue: tuple[SpecDef, ...]
    reconcile_lines: str = "controller-runtime"

    def port(self, container: str) -> int:
        """The host port of a container.

        Args:
            container: `postgres`, `redis` or `datastorage`.

        Returns:
            The port.
        """
        return dict(self.ports)[container]


def _audit(
    suite: str,
    file: str,
    line: int,
    containers: tuple[str, ...],
    text: str,
    event_type: str,
    *,
    expected: int = 1,
    pattern: str = "eventually-count",
    rr_name: str = "",
    timeout_s: float = 10.0,
    interval_s: float = 0.5,
    check: int = 0,
) -> SpecDef:
    return SpecDef(
        file,
        line,
        containers,
        text,
        "audit-check",
        event_type,
        rr_name,
        False,
        False,
        suite,
        expected,
        pattern,
        timeout_s,
        interval_s,
        check or line + 30,
    )


def _fillers(suite: str, rows: tuple[tuple[str, int, str, str, str], ...]) -> tuple[SpecDef, ...]:
    """Specs that create resources (`sp`) or none (`plain`): (file, line, container, text, kind) each."""
    return tuple(SpecDef(f, n, (c,), t, k, "", "", False, False, suite) for f, n, c, t, k in rows)


_RO_DIR = f"{_SRC}/test/integration/remediationorchestrator"
_RO_AUDIT = ("RemediationOrchestrator audit emission (BR-ORCH-041)",)
_RO = "orchestrator.lifecycle."
_RO_CATALOGUE: tuple[SpecDef, ...] = (
    _audit(
        _RO_DIR,
        "audit_emission_integration_test.go",
        105,
        (*_RO_AUDIT, "lifecycle start"),
        "records lifecycle.started once the request starts processing",
        _RO + "started",
        rr_name="rr-lifecycle-started",
        timeout_s=90.0,
        interval_s=1.0,
        check=129,
    ),
    _audit(
        _RO_DIR,
        "audit_emission_integration_test.go",
        146,
        (*_RO_AUDIT, "phase transitions"),
        "records one lifecycle.transitioned event per phase change",
        _RO + "transitioned",
        expected=3,
        rr_name="rr-phase-transition",
        check=202,
    ),
    _audit(
        _RO_DIR,
        "audit_emission_integration_test.go",
        217,
        (*_RO_AUDIT, "completion"),
        "records lifecycle.completed when the remediation completes",
        _RO + "completed",
        pattern="poll-then-expect",
        rr_name="rr-lifecycle-completed",
        check=361,
    ),
    _audit(
        _RO_DIR,
        "audit_phase_lifecycle_integration_test.go",
        88,
        ("RemediationOrchestrator phase lifecycle audit", "verification"),
        "records verifying_started after the workflow execution completes",
        _RO + "verifying_started",
        pattern="eventually-any",
        rr_name="rr-verifying-started",
        check=131,
    ),
    _audit(
        _RO_DIR,
        "audit_integration_test.go",
        64,
        ("RemediationOrchestrator audit integration", "creation"),
        "records lifecycle.created exactly once per request",
        _RO + "created",
        rr_name="rr-lifecycle-created",
        check=97,
    ),
    *_fillers(
        _RO_DIR,
        (
            (
                "lifecycle_test.go",
                71,
                "RemediationOrchestrator lifecycle",
                "moves a request to Processing",
                "sp",
            ),
            (
                "lifecycle_test.go",
                142,
                "RemediationOrchestrator lifecycle",
                "creates the SignalProcessing child",
                "sp",
            ),
            (
                "lifecycle_test.go",
                210,
                "RemediationOrchestrator lifecycle",
                "completes after verification",
                "sp",
            ),
            (
                "routing_integration_test.go",
                58,
                "RemediationOrchestrator routing",
                "blocks a duplicate signal",
                "sp",
            ),
            (
                "routing_integration_test.go",
                131,
                "RemediationOrchestrator routing",
                "routes by severity label",
                "plain",
            ),
            (
                "timeout_integration_test.go",
                77,
                "RemediationOrchestrator timeouts",
                "times out a stuck phase",
                "sp",
            ),
            (
                "timeout_integration_test.go",
                150,
                "RemediationOrchestrator timeouts",
                "reads timeouts from config",
                "plain",
            ),
            (
                "blocking_integration_test.go",
                66,
                "RemediationOrchestrator blocking",
                "blocks after consecutive failures",
                "sp",
            ),
            (
                "blocking_integration_test.go",
                139,
                "RemediationOrchestrator blocking",
                "unblocks after the cooldown",
                "plain",
            ),
            (
                "notification_creation_integration_test.go",
                72,
                "RemediationOrchestrator notifications",
                "creates a notification on failure",
                "sp",
            ),
            (
                "approval_conditions_test.go",
                61,
                "RemediationOrchestrator approvals",
                "waits for approval when required",
                "sp",
            ),
            (
                "approval_conditions_test.go",
                118,
                "RemediationOrchestrator approvals",
                "sets the approval condition",
                "plain",
            ),
            (
                "field_index_smoke_test.go",
                40,
                "RemediationOrchestrator field index",
                "indexes requests by fingerprint",
                "plain",
            ),
            (
                "severity_normalization_integration_test.go",
                55,
                "RemediationOrchestrator severity",
                "normalizes external severity",
                "sp",
            ),
        ),
    ),
)

_NT_DIR = f"{_SRC}/test/integration/notification"
_NT_AUDIT = ("Notification controller audit emission",)
_NT_CATALOGUE: tuple[SpecDef, ...] = (
    _audit(
        _NT_DIR,
        "controller_audit_emission_test.go",
        101,
        (*_NT_AUDIT, "console delivery"),
        "records message.sent after a console delivery",
        "notification.message.sent",
        pattern="eventually-any",
        check=146,
    ),
    _audit(
        _NT_DIR,
        "controller_audit_emission_test.go",
        174,
        (*_NT_AUDIT, "slack delivery"),
        "records message.sent after a slack delivery",
        "notification.message.sent",
        pattern="eventually-any",
        check=224,
    ),
    _audit(
        _NT_DIR,
        "controller_audit_emission_test.go",
        248,
        (*_NT_AUDIT, "correlation"),
        "uses the remediation request name as the correlation ID",
        "notification.message.sent",
        rr_name="test-remediation-correlation",
        check=296,
    ),
    _audit(
        _NT_DIR,
        "controller_audit_emission_test.go",
        309,
        (*_NT_AUDIT, "fan-out"),
        "records one message.sent per delivery channel",
        "notification.message.sent",
        expected=2,
        check=356,
    ),
    _audit(
        _NT_DIR,
        "audit_integration_test.go",
        92,
        ("Notification audit integration", "delivery count"),
        "records exactly two deliveries for a two-channel notification",
        "notification.message.sent",
        expected=2,
        pattern="poll-then-expect",
        check=141,
    ),
    *_fillers(
        _NT_DIR,
        (
            (
                "crd_lifecycle_test.go",
                63,
                "Notification CRD lifecycle",
                "delivers a simple notification",
                "sp",
            ),
            (
                "crd_lifecycle_test.go",
                120,
                "Notification CRD lifecycle",
                "marks a delivered notification Sent",
                "sp",
            ),
            (
                "delivery_errors_test.go",
                71,
                "Notification delivery errors",
                "retries a failed slack delivery",
                "sp",
            ),
            (
                "delivery_errors_test.go",
                133,
                "Notification delivery errors",
                "gives up after the retry budget",
                "plain",
            ),
            ("phase_state_machine_test.go", 58, "Notification phases", "never goes back from Sent", "sp"),
            (
                "priority_validation_test.go",
                49,
                "Notification priorities",
                "rejects an unknown priority",
                "plain",
            ),
            (
                "label_routing_integration_test.go",
                77,
                "Notification routing",
                "routes by label to slack",
                "sp",
            ),
            ("label_routing_integration_test.go", 140, "Notification routing", "falls back to console", "sp"),
            (
                "status_update_conflicts_test.go",
                66,
                "Notification status updates",
                "retries a conflicting update",
                "plain",
            ),
            (
                "performance_concurrent_test.go",
                81,
                "Notification performance",
                "delivers ten notifications at once",
                "sp",
            ),
            (
                "graceful_shutdown_test.go",
                70,
                "Notification shutdown",
                "finishes in-flight deliveries",
                "plain",
            ),
            ("data_validation_test.go", 52, "Notification validation", "requires a subject", "plain"),
        ),
    ),
)

SERVICES: tuple[Service, ...] = (
    Service(
        "signalprocessing",
        "SignalProcessing",
        "SignalProcessing",
        "signalprocessing-controller",
        "signalprocessing",
        (("postgres", 15436), ("redis", 16382), ("datastorage", 18094)),
        SUITE_DIR,
        SUITE_DESCRIPTION,
        (),
        "sp",
        "announce",
        "rr-name",
        CATALOGUE,
    ),
    Service(
        "remediationorchestrator",
        "RemediationOrchestrator",
        "RemediationRequest",
        "remediationrequest-controller",
        "orchestration",
        (("postgres", 15435), ("redis", 16381), ("datastorage", 18140)),
        _RO_DIR,
        "RemediationOrchestrator Controller Integration Suite (ENVTEST)",
        (
            ("Pending", (_RO + "created",)),
            ("Processing", (_RO + "started",)),
            ("Analyzing", (_RO + "transitioned",)),
            ("Executing", (_RO + "transitioned",)),
            ("Verifying", (_RO + "transitioned", _RO + "verifying_started")),
            ("Completed", (_RO + "verification_completed", _RO + "completed")),
        ),
        "ro",
        "none",
        "rr-name",
        _RO_CATALOGUE,
    ),
    Service(
        "notification",
        "Notification",
        "NotificationRequest",
        "notificationrequest-controller",
        "notification",
        (("postgres", 15440), ("redis", 16385), ("datastorage", 18096)),
        _NT_DIR,
        "Notification Controller Integration Suite (ENVTEST)",
        (
            ("Pending", ()),
            ("Sending", ()),
            ("Sent", ("notification.message.sent",)),
        ),
        "none",
        "silent",
        "test-id",
        _NT_CATALOGUE,
        "notification",
    ),
)
SERVICE_NAMES: tuple[str, ...] = tuple(s.name for s in SERVICES)


def get_service(name: str) -> Service:
    """Look a service up by name.

    Args:
        name: E.g. `notification`.

    Returns:
        The service.

    Raises:
        KeyError: For an unknown name.
    """
    for service in SERVICES:
        if service.name == name:
            return service
    raise KeyError(name)
