"""The Ginkgo parallel run: processes pull specs, --fail-fast interrupts, suite nodes, must-gather.

Each process has its own GinkgoWriter capture, truncated at each spec start: a report holds only what
its process wrote while it ran; lines written between specs are lost. Process 1 runs the infrastructure
in SynchronizedBeforeSuite and, in SynchronizedAfterSuite after the others finish, the must-gather,
Flush() and Close(). With --fail-fast a failure is noticed by the other processes at their next abort
poll (every 500 ms): a spec still running then is interrupted and every later spec is skipped.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from triage.simulate.catalogue import SpecDef
from triage.simulate.controller import Controller, SpRun
from triage.simulate.datastorage import DataStorage
from triage.simulate.kernel import Signal, Sim
from triage.simulate.knobs import Knobs
from triage.simulate.reports import Failure, Report
from triage.simulate.services import Service, get_service
from triage.simulate.specs import SpecBody
from triage.simulate.store import AuditEvent, AuditStore
from triage.simulate.timefmt import MS, SECOND

ABORT_POLL = 500 * MS


@dataclass(frozen=True)
class Layout:
    """Names the must-gather lines print: service, containers, run dir (set when collected)."""

    service: str
    containers: tuple[str, ...]
    missing: str


class Proc:
    """One Ginkgo process: its GinkgoWriter capture, store and controller."""

    def __init__(self, runner: Runner, index: int) -> None:
        self.r, self.index = runner, index
        self.timeline: list[tuple[str, int, str]] = []
        self.capturing = False
        self.current: Report | None = None
        self.notice_phase = runner.rng.randrange(ABORT_POLL)
        self.store = AuditStore(
            runner.sim,
            index,
            runner.ds,
            self.gw,
            runner.finalize,
            random.Random(runner.rng.random()),
            flush_interval_us=int(runner.knobs.flush_interval * SECOND),
            offset_minutes=runner.offset,
            era=runner.knobs.era,
            flush_bug=runner.knobs.has("flush-bug"),
            service=runner.service.name,
            timeouts=runner.knobs.has("flush-stuck"),
        )
        self.store.captured = lambda: self.capturing
        self.controller = Controller(
            runner.sim,
            index,
            self.store,
            self.gw,
            random.Random(runner.rng.random()),
            runner.offset,
            runner.next_eid,
            runner.knobs.debug_lines,
            runner.service,
        )

    def gw(self, t: int, text: str) -> None:
        """GinkgoWriter: keep the text only while a node is capturing (truncation drops the rest)."""
        if self.capturing:
            self.timeline.append(("gw", t, text))

    def step(self, text: str) -> None:
        if self.capturing:
            self.timeline.append(("step", self.r.sim.now, text))

    def fail_marker(self, report: Report) -> None:
        if self.capturing and report.failure is not None:
            self.timeline.append(("fail", report.failure.at, report.failure.location))

    def begin(self, report: Report) -> None:
        self.timeline = []
        self.capturing = True
        self.current = report

    def end(self, report: Report) -> None:
        report.end = self.r.sim.now
        report.timeline = self.timeline
        self.timeline = []
        self.current = None
        # What the process writes until the next node starts is truncated away by Ginkgo.
        self.capturing = False
        self.r.publish(report)


class Runner:
    """The whole test run."""

    def __init__(
        self,
        sim: Sim,
        knobs: Knobs,
        rng: random.Random,
        ds: DataStorage,
        offset_minutes: int,
        queue: list[SpecDef],
        finalize: Callable[[AuditEvent], None],
        layout: Layout,
        collect: Callable[[int], str],
        on_report: Callable[[Report], None],
    ) -> None:
        self.sim, self.knobs, self.rng, self.ds, self.offset = sim, knobs, rng, ds, offset_minutes
        self.service: Service = get_service(knobs.service)
        self.finalize_cb = finalize
        self.layout, self.collect, self.on_report = layout, collect, on_report
        self.parallel = [s for s in queue if not s.serial]
        self.serial = [s for s in queue if s.serial]
        self.victims, self.borrowed = _fault_targets(knobs, self.parallel + self.serial)
        self.keep: set[str] = set(self.borrowed.values())
        self.flush_failures_seen = 0
        self.hang_set = False
        self.reports: list[Report] = []
        self.next_index = 0
        self.abort_at: int | None = None
        self.eid = 0
        self.sp_no = 0
        self.stall_target: str | None = None
        self.burst_done = False
        self.watched: dict[str, list[AuditEvent]] = {}
        self.infra_ready = Signal()
        self.finished = 0
        self.all_done = Signal()
        self.procs = [Proc(self, i) for i in range(1, knobs.processes + 1)]
        self.must_gather_at = 0
        self.run_dir = ""
        self.end_at = 0
        self._done_of: dict[int, Signal] = {}
        self._others_done = Signal()
        self._after_count = 0

    # ---- shared services -----------------------------------------------------------------------
    def publish(self, report: Report) -> None:
        """Hand a finished report to the log writer, keep it without its timeline."""
        self.on_report(report)
        report.timeline = []
        self.reports.append(report)

    def next_eid(self) -> int:
        self.eid += 1
        return self.eid

    def finalize(self, event: AuditEvent) -> None:
        self.finalize_cb(event)

    def new_sp(self, name: str, ns: str, proc: Proc, rr_name: str = "") -> SpRun:
        self.sp_no += 1
        sp = SpRun(name, ns, rr_name or (name if self.service.lifecycle else f"{name}-rr"))
        sp.severity = "warning" if self.sp_no % 3 == 0 else "critical"
        sp.invalid = self.knobs.has("rejections-400") and sp.severity == "warning"
        return sp

    def noticed_abort(self, proc: Proc) -> int | None:
        """When this process notices the abort (its next poll after the first failure)."""
        if self.abort_at is None:
            return None
        k = -(-(self.abort_at - proc.notice_phase) // ABORT_POLL)
        return proc.notice_phase + k * ABORT_POLL

    # ---- processes -----------------------------------------------------------------------------
    def start(self, infra: Callable[[Proc], Generator[Any, Any, None]]) -> None:
        for proc in self.procs:
            self.sim.spawn(self._main(proc, infra))

    def _main(
        self, proc: Proc, infra: Callable[[Proc], Generator[Any, Any, None]]
    ) -> Generator[Any, Any, None]:
        report = Report(
            None,
            "SynchronizedBeforeSuite",
            f"{self.service.suite_dir}/suite_test.go:112",
            proc.index,
            self.sim.now,
        )
        proc.begin(report)
        if proc.index == 1:
            yield from infra(proc)
            self.sim.fire(self.infra_ready)
        else:
            yield self.infra_ready
        yield from self._per_process_setup(proc)
        proc.end(report)
        while True:
            spec = self._pull()
            if spec is None:
                break
            yield from self._run_one(proc, spec)
        self.finished += 1
        if self.finished == len(self.procs):
            self.sim.fire(self.all_done)
        if proc.index == 1:
            yield self.all_done
            for spec in self.serial:
                yield from self._run_one(proc, spec)
        yield from self._after_suite(proc)

    def _pull(self) -> SpecDef | None:
        if self.next_index >= len(self.parallel):
            return None
        self.next_index += 1
        return self.parallel[self.next_index - 1]

    def _per_process_setup(self, proc: Proc) -> Generator[Any, Any, None]:
        proc.step(f"Registering {self.service.kind} CRD scheme")
        yield int(self.rng.uniform(20, 80) * MS)
        proc.step("Bootstrapping per-process test environment (envtest)")
        yield int(self.rng.uniform(2.5, 4.5) * SECOND)
        proc.step("Creating controller-runtime client")
        yield int(self.rng.uniform(5, 30) * MS)
        proc.store.start()
        proc.gw(self.sim.now, "✅ Per-process audit store configured")
        proc.gw(self.sim.now, "✅ DataStorage ogen client ready for test queries")
        proc.step("Setting up the per-process controller manager")
        yield int(self.rng.uniform(20, 60) * MS)
        proc.step(f"Setting up the {self.service.title} controller with audit client")
        yield int(self.rng.uniform(20, 60) * MS)
        proc.step("Creating temporary Rego policy files for classifiers")
        yield int(self.rng.uniform(100, 300) * MS)
        proc.gw(self.sim.now, "✅ Environment ConfigMap created with Rego policies")

    def _run_one(self, proc: Proc, spec: SpecDef) -> Generator[Any, Any, None]:
        now = self.sim.now
        report = Report(spec, "It", spec.location, proc.index, now)
        if spec.pending:
            report.state = "pending"
            yield int(self.rng.uniform(0.1, 1) * MS)
            report.end = self.sim.now
            self.publish(report)
            return
        notice = self.noticed_abort(proc)
        if notice is not None and notice <= now:
            report.state = "skipped"
            yield int(self.rng.uniform(0.05, 0.4) * MS)
            report.end = self.sim.now
            self.publish(report)
            return
        cfg = self.ds.cfg
        if self.knobs.has("db-errors-500") and cfg.fail_500 is None:
            lo = now + int(self.rng.uniform(0.5, 1.5) * SECOND)
            cfg.fail_500 = (lo, lo + 3 * SECOND)
        if self.knobs.has("slow-writes") and not cfg.slow_windows:
            for _ in range(2):
                lo = now + int(self.rng.uniform(0.5, 6) * SECOND)
                cfg.slow_windows.append((lo, lo + 400 * MS))
        if self.knobs.has("flush-stuck") and not self.hang_set:
            self.hang_set = True
            for other in self.procs:
                other.store.hang_at = now + int(self.rng.uniform(1, 6) * SECOND)
        if self.knobs.has("datastorage-oom") and self.ds.cfg.oom_at is None:
            self.ds.cfg.oom_at = now + int(self.rng.uniform(0.8, 1.6) * SECOND)
        proc.begin(report)
        done = Signal()
        body = SpecBody(self, proc, report, spec, len(self.reports) + 1)
        self.sim.spawn(self._drive(body, done))
        self._arm_interrupt(proc, report, done)
        yield done
        if report.state == "failed" and self.knobs.fail_fast and self.abort_at is None:
            self.abort_at = self.sim.now
            for other in self.procs:
                if other is not proc and other.current is not None:
                    self._arm_interrupt(other, other.current, None)
        self.ds.forget([c for c in report.correlation_ids if c not in self.watched and c not in self.keep])
        proc.end(report)
        yield int(self.rng.uniform(1, 8) * MS)

    def _drive(self, body: SpecBody, done: Signal) -> Generator[Any, Any, None]:
        yield from body.run()
        self.sim.fire(done)

    def _arm_interrupt(self, proc: Proc, report: Report, done: Signal | None) -> None:
        if done is not None:
            self._done_of[id(report)] = done
        notice = self.noticed_abort(proc)
        if notice is None:
            return
        signal = self._done_of.get(id(report))

        def interrupt(_: object) -> None:
            if report.end or report.state != "passed" or signal is None or signal.fired:
                return
            report.state, report.cancelled = "interrupted", True
            report.failure = Failure("Interrupted by Other Ginkgo Process", report.location, self.sim.now)
            proc.fail_marker(report)
            self.sim.fire(signal)

        self.sim.call_at(notice, interrupt)

    # ---- SynchronizedAfterSuite ----------------------------------------------------------------
    def _after_suite(self, proc: Proc) -> Generator[Any, Any, None]:
        report = Report(
            None,
            "SynchronizedAfterSuite",
            f"{self.service.suite_dir}/suite_test.go:612",
            proc.index,
            self.sim.now,
        )
        proc.begin(report)
        proc.step("Tearing down per-process test environment")
        flushed = yield from proc.store.flush()
        if not flushed:
            self.flush_warning(proc, "⚠️  Warning: Failed to flush audit store: ")
        yield int(self.rng.uniform(0.2, 1.5) * SECOND)
        proc.step("Stopping per-process envtest")
        yield int(self.rng.uniform(0.3, 1.2) * SECOND)
        proc.gw(self.sim.now, "✅ Per-process cleanup complete (envtest, controller, audit store)")
        if proc.index != 1:
            proc.end(report)
            self._after_count += 1
            if self._after_count == len(self.procs) - 1:
                self.sim.fire(self._others_done)
            return
        if len(self.procs) == 1:
            self.sim.fire(self._others_done)
        yield self._others_done
        proc.step("Tearing down shared infrastructure (Process 1 only)")
        proc.gw(self.sim.now, "📦 Collecting container logs for post-mortem analysis...")
        yield int(self.rng.uniform(2, 8) * MS)
        self.must_gather_at = self.sim.now
        self.ds.collected = False  # `podman logs` snapshot: later DataStorage lines are not in the file
        base = self.collect(self.sim.now)
        self.run_dir = base
        proc.gw(self.sim.now, f"📦 Collecting container logs to /tmp/kubernaut-must-gather/{base}/...")
        svc = self.layout.service
        for container in self.layout.containers:
            yield int(self.rng.uniform(60, 400) * MS)
            if container == self.layout.missing:
                proc.gw(self.sim.now, f"   ⏭️  Skipping {container} (container not found)")
                continue
            log_name = f"/tmp/kubernaut-must-gather/{base}/{svc}_{container}.log"
            proc.gw(self.sim.now, f"   ✅ {container} → {log_name}")
            yield int(self.rng.uniform(40, 120) * MS)
            proc.gw(self.sim.now, f"   ✅ {container} inspect → {log_name[:-4]}_inspect.json")
        proc.gw(self.sim.now, f"✅ Must-gather collection complete: /tmp/kubernaut-must-gather/{base}/")
        proc.gw(self.sim.now, "🧹 Flushing audit store before infrastructure shutdown...")
        flushed = yield from proc.store.flush()
        if flushed:
            proc.gw(self.sim.now, "✅ Audit store flushed (all buffered events written)")
        else:
            self.flush_warning(proc, "⚠️  Warning: Failed to flush audit store: ")
        closed = yield from proc.store.close()
        stats = proc.store.stats
        if not closed:
            if proc.capturing:
                self.flush_failures_seen += 1
            proc.gw(
                self.sim.now,
                "⚠️ Warning: Failed to close audit store: timeout waiting for audit store to close",
            )
        elif stats.dropped:
            proc.gw(
                self.sim.now,
                "⚠️ Warning: Failed to close audit store: "
                f"audit store closed with {stats.dropped} dropped events",
            )
        elif stats.failed_batches:
            proc.gw(
                self.sim.now,
                "⚠️ Warning: Failed to close audit store: audit store closed with "
                f"{stats.failed_batches} failed batches",
            )
        else:
            proc.gw(self.sim.now, "✅ Audit store closed")
        proc.step("Cleaning up infrastructure images to prevent disk space issues")
        yield int(self.rng.uniform(0.4, 1.5) * SECOND)
        proc.gw(self.sim.now, "✅ Infrastructure images pruned")
        proc.end(report)
        self.end_at = self.sim.now
        self.sim.stop()

    def flush_warning(self, proc: Proc, prefix: str) -> None:
        """Print a failed Flush() as the suite does, and count it when the test log keeps it.

        Args:
            proc: The process whose Flush() timed out.
            prefix: The suite's text before the error.
        """
        if proc.capturing:
            self.flush_failures_seen += 1
        proc.gw(self.sim.now, f"{prefix}flush timeout: context deadline exceeded")


AUDIT_KINDS = ("audit", "audit-check")


def _fault_targets(knobs: Knobs, queue: list[SpecDef]) -> tuple[dict[str, SpecDef], dict[SpecDef, str]]:
    """Pick the specs the per-spec faults act on, from the run order alone.

    `missing-event`, `double-emit` and `eventually-value` each act on the first audit spec in queue
    order that counts events of one type (not the error specs, whose events depend on the error) and
    that no other of these faults took; `double-emit` prefers a spec that compares the count with a
    number;
    `shared-correlation` first gives the first audit spec with a fixed correlation ID a filler spec
    that creates a resource under the same ID: the nearest filler before it in the queue, else after.

    Args:
        knobs: The run's knobs.
        queue: Specs in run order.

    Returns:
        (fault name -> victim spec, filler spec -> borrowed correlation ID).
    """
    counted = [
        s
        for s in queue
        if s.kind in AUDIT_KINDS and not s.pending and not s.event_type.endswith("error.occurred")
    ]
    borrowed: dict[SpecDef, str] = {}
    fixed = [s for s in counted if s.rr_name]
    taken: list[SpecDef] = []
    if knobs.has("shared-correlation") and fixed:
        victim = fixed[0]
        at = queue.index(victim)
        fillers = [s for s in queue if s.kind == "sp" and not s.pending]
        before = [s for s in fillers if queue.index(s) < at]
        if before or fillers:
            borrowed[(before or fillers)[-1 if before else 0]] = victim.rr_name
            taken.append(victim)
    victims: dict[str, SpecDef] = {}
    for fault in ("missing-event", "double-emit", "eventually-value"):
        if not knobs.has(fault):
            continue
        free = [s for s in counted if s not in taken] or counted
        # An extra event shows only where the spec compares the count with a number.
        exact = [s for s in free if s.pattern != "eventually-any"] if fault == "double-emit" else free
        if exact or free:
            victims[fault] = (exact or free)[0]
            taken.append(victims[fault])
    return victims, borrowed
