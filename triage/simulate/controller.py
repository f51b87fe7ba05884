"""The controller of one Ginkgo process: reconciles, console lines, audit events.

Lines are controller-runtime's development console on GinkgoWriter (no colour, no caller, RFC3339
seconds in the test host's zone, V(1) printed as DEBUG). Each SP goes Pending -> Enriching ->
Classifying -> Categorizing -> Completed and emits the audit events of log-formats.md §6 with
correlation_id = the RemediationRequest name. The other services' controllers walk their service's
`lifecycle` (triage/simulate/services.py), emitting its events on entering each phase.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from triage.simulate.formats import Fields, Raw, console_line, go_stack, quote
from triage.simulate.kernel import Signal, Sim
from triage.simulate.services import SERVICES, Service
from triage.simulate.store import AuditEvent, AuditStore
from triage.simulate.timefmt import MS, rfc3339_seconds

_SRC = "/Users/jgil/go/src/github.com/jordigilh/kubernaut"
_CR = "/Users/jgil/go/pkg/mod/sigs.k8s.io/controller-runtime@v0.22.4"
PT = "signalprocessing.phase.transition"
# What a chattier controller says between the `Reconciling` line and the phase's work (debug_lines).
DEBUG_MESSAGES = (
    "Fetched SignalProcessing from cache",
    "Evaluating phase handlers",
    "Status unchanged, skipping update",
    "Requeue not needed",
)


@dataclass
class SpRun:
    """One SignalProcessing resource the test created, and what the controller did with it."""

    name: str
    namespace: str
    rr_name: str
    severity: str = "critical"
    target_missing: bool = False
    namespace_missing: bool = False
    duplicate_transition: bool = False
    error_after: Signal | None = None
    invalid: bool = False
    stall_after_classification: float = 0.0
    skip_type: str = ""
    double_type: str = ""
    repeat: dict[str, int] = field(default_factory=dict)
    phase: str = ""
    done: Signal = field(default_factory=Signal)
    events: list[AuditEvent] = field(default_factory=list)


class Controller:
    """Reconciles SPs for one process and feeds its audit store."""

    def __init__(
        self,
        sim: Sim,
        process: int,
        store: AuditStore,
        emit: Callable[[int, str], None],
        rng: random.Random,
        offset_minutes: int,
        next_eid: Callable[[], int],
        debug_lines: int = 0,
        service: Service = SERVICES[0],
    ) -> None:
        self.sim, self.process, self.store, self.emit, self.rng = sim, process, store, emit, rng
        self.service = service
        self.offset = offset_minutes
        self.next_eid = next_eid
        self.debug_lines = debug_lines

    def _line(
        self, level: str, msg: str, sp: SpRun, reconcile_id: str, extra: Fields = (), error: str = ""
    ) -> None:
        ref = Raw(f'{{"name":{quote(sp.name)},"namespace":{quote(sp.namespace)}}}')
        fields: Fields = (
            ("controller", self.service.controller),
            ("controllerGroup", "kubernaut.ai"),
            ("controllerKind", self.service.kind),
            (self.service.kind, ref),
            ("namespace", sp.namespace),
            ("name", sp.name),
            ("reconcileID", reconcile_id),
            *extra,
        )
        now = self.sim.now
        text = console_line(rfc3339_seconds(now, self.offset), level, "", "", msg, fields, error or None)
        if level == "ERROR":  # development mode adds a stack trace from Warn up
            text += "\n" + go_stack(
                (
                    (
                        "github.com/jordigilh/kubernaut/internal/controller/signalprocessing."
                        "(*SignalProcessingReconciler).reconcileEnriching",
                        f"{_SRC}/internal/controller/signalprocessing/signalprocessing_controller.go:343",
                    ),
                    (
                        "github.com/jordigilh/kubernaut/internal/controller/signalprocessing."
                        "(*SignalProcessingReconciler).Reconcile",
                        f"{_SRC}/internal/controller/signalprocessing/signalprocessing_controller.go:200",
                    ),
                    (
                        "sigs.k8s.io/controller-runtime/pkg/internal/controller.(*Controller[...]).Reconcile",
                        f"{_CR}/pkg/internal/controller/controller.go:216",
                    ),
                )
            )
        self.emit(now, text)

    def _audit(self, sp: SpRun, event_type: str) -> None:
        if event_type == sp.skip_type:  # the missing-event fault: this code path forgets to record it
            sp.skip_type = ""
            return
        copies = 2 if event_type == sp.double_type else 1  # the double-emit fault
        if copies == 2:
            sp.double_type = ""
        for _ in range(copies):
            event = AuditEvent(
                self.next_eid(), sp.rr_name, event_type, self.process, sp.name, valid=not sp.invalid
            )
            sp.events.append(event)
            self.store.store_audit(event)

    def _reconcile(self, sp: SpRun, phase: str) -> str:
        rid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        if self.service.reconcile_lines == "notification":
            ts = rfc3339_seconds(self.sim.now, self.offset)
            start = (("phase", sp.phase or "Pending"), ("failedDeliveries", 0))
            self.emit(self.sim.now, console_line(ts, "INFO", "", "", "🔍 RECONCILE START DEBUG", start))
            if phase:
                transition = (("currentPhase", phase), ("failedDeliveries", 0))
                self.emit(
                    self.sim.now,
                    console_line(ts, "INFO", "", "", "🔍 PHASE TRANSITION LOGIC START", transition),
                )
            return rid
        self._line(
            "DEBUG",
            f"Reconciling {self.service.kind}",
            sp,
            rid,
            (("name", sp.name), ("namespace", sp.namespace)),
        )
        for i in range(self.debug_lines):
            self._line("DEBUG", DEBUG_MESSAGES[i % len(DEBUG_MESSAGES)], sp, rid)
        if phase:
            self._line("DEBUG", f"Processing {phase} phase", sp, rid)
        return rid

    def _step(self) -> int:
        return int(self.rng.uniform(40, 240) * MS)

    def run(self, sp: SpRun) -> Generator[Any, Any, None]:
        """Reconcile one SP to its final phase.

        Args:
            sp: The resource.

        Yields:
            Kernel delays and waits.
        """
        if self.service.lifecycle:
            yield from self._run_lifecycle(sp)
            return
        yield int(self.rng.uniform(3, 12) * MS)
        self._reconcile(sp, "")
        sp.phase = "Pending"
        yield self._step()
        self._reconcile(sp, "Pending")
        self._audit(sp, PT)
        sp.phase = "Enriching"
        yield self._step()
        rid = self._reconcile(sp, "Enriching")
        if sp.namespace_missing:
            self._line(
                "ERROR",
                "K8sEnricher failed",
                sp,
                rid,
                (("targetKind", "Pod"), ("targetName", sp.name + "-pod")),
                f'namespaces "{sp.namespace}-missing" not found',
            )
            self._audit(sp, "signalprocessing.error.occurred")
            self._audit(sp, PT)
            sp.phase = "Failed"
            self.sim.fire(sp.done)
            return
        self._audit(sp, "signalprocessing.enrichment.completed")
        self._audit(sp, PT)
        if sp.duplicate_transition:
            yield int(self.rng.uniform(1, 4) * MS)
            self._reconcile(sp, "Enriching")  # a stale cache read re-runs the phase and records it again
            self._audit(sp, PT)
        sp.phase = "Classifying"
        if sp.target_missing and sp.error_after is None:
            self._audit(sp, "signalprocessing.error.occurred")
        yield self._step()
        self._reconcile(sp, "Classifying")
        self._audit(sp, "signalprocessing.classification.decision")
        if sp.stall_after_classification:
            # The writer goroutine is starved right after taking the event (timer-stall fault).
            self.store.stall(self.sim.now + 1, int(sp.stall_after_classification * 1_000_000))
        self._audit(sp, PT)
        sp.phase = "Categorizing"
        yield self._step()
        self._reconcile(sp, "Categorizing")
        self._audit(sp, "signalprocessing.business.classified")
        self._audit(sp, PT)
        self._audit(sp, "signalprocessing.signal.processed")
        sp.phase = "Completed"
        self.sim.fire(sp.done)
        yield self._step()
        self._reconcile(sp, "")
        if sp.error_after is not None:
            # Degraded mode: the enrichment error is recorded on a later requeue.
            yield sp.error_after
            yield int(self.rng.uniform(2, 9) * MS)
            self._reconcile(sp, "")
            self._audit(sp, "signalprocessing.error.occurred")

    def _run_lifecycle(self, sp: SpRun) -> Generator[Any, Any, None]:
        yield int(self.rng.uniform(3, 12) * MS)
        self._reconcile(sp, "")
        for phase, event_types in self.service.lifecycle:
            yield self._step()
            self._reconcile(sp, phase)
            sp.phase = phase
            for event_type in event_types:
                for i in range(sp.repeat.get(event_type, 1)):
                    if i:  # one event per delivery channel, each after its own delivery
                        yield int(self.rng.uniform(20, 400) * MS)
                    self._audit(sp, event_type)
            if sp.stall_after_classification and event_types:  # timer-stall, as for SignalProcessing
                self.store.stall(self.sim.now + 1, int(sp.stall_after_classification * 1_000_000))
                sp.stall_after_classification = 0.0
        self.sim.fire(sp.done)
        yield self._step()
        self._reconcile(sp, "")
