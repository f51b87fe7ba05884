"""Spec bodies: what each kind of spec does, prints and asserts (test/integration/signalprocessing)."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from triage.simulate.catalogue import SUITE_DIR, SpecDef
from triage.simulate.controller import SpRun
from triage.simulate.kernel import Signal
from triage.simulate.reports import Check, Failure, QueryRecord, Report
from triage.simulate.timefmt import MS, SECOND

if TYPE_CHECKING:
    from triage.simulate.runner import Proc, Runner

# (Eventually line, timeout s, interval s, asserting Expect line) per audit spec, from the suite's source.
_AUDIT_LINES: dict[int, tuple[int, int, float, int]] = {
    180: (236, 120, 0.5, 236),
    274: (328, 120, 0.5, 328),
    360: (417, 120, 0.5, 417),
    444: (530, 120, 0.5, 530),
    570: (624, 120, 0.5, 636),
    662: (718, 120, 0.5, 733),
    782: (823, 120, 0.5, 823),
}
_SEVERITY_LINES: dict[int, tuple[int, int, float]] = {
    213: (255, 60, 2.0),
    297: (334, 30, 2.0),
    468: (486, 30, 2.0),
}
_EXPECTED = {"signalprocessing.phase.transition": 4}


class SpecBody:
    """Runs one spec on one process, recording its timeline, queries and failure."""

    def __init__(self, runner: Runner, proc: Proc, report: Report, spec: SpecDef, serial_no: int) -> None:
        self.r, self.p, self.report, self.spec, self.n = runner, proc, report, spec, serial_no
        self.rng = runner.rng

    # ---- helpers -------------------------------------------------------------------------------
    def by(self, text: str) -> None:
        self.p.step(text)

    def say(self, text: str) -> None:
        self.p.gw(self.r.sim.now, text)

    def fail(self, message: str, line: int) -> None:
        if self.report.cancelled:
            return  # Ginkgo reported the spec interrupted when it ended; a later failure reaches no report
        now = self.r.sim.now
        self.report.failure = Failure(message, f"{self.spec.suite}/{self.spec.file}:{line}", now)
        self.report.state = "failed"
        self.p.fail_marker(self.report)

    def namespace(self, prefix: str, labelled: bool) -> str:
        suffix = "".join(self.rng.choice("0123456789abcdef") for _ in range(8))
        ns = f"{prefix}-{suffix}"
        if labelled:
            self.say(
                f"✅ Created test namespace with labels: {ns} "
                "(labels: map[kubernaut.ai/environment:production])"
            )
        else:
            self.say(f"✅ Created test namespace: {ns}")
        return ns

    def start_sp(self, sp: SpRun) -> None:
        self.report.correlation_ids.append(sp.rr_name)
        self.report.resources.append(sp.name)
        if self.spec.kind in ("audit", "severity-audit", "audit-check") or sp.rr_name in self.r.keep:
            # The controller appends to this list; resources sharing a correlation ID share it.
            sp.events = self.r.watched.setdefault(sp.rr_name, sp.events)
        self.r.sim.spawn(self.p.controller.run(sp))

    def check(self, cid: str, event_type: str | None, expected: int, got: int, retried: bool) -> None:
        """Record the failed assertion about audit events, with the query that produced `got`."""
        last = next((q for q in reversed(self.report.queries) if q.correlation_id == cid), None)
        self.report.check = Check(
            cid,
            event_type,
            expected,
            None if last is not None and last.found is None else got,
            last.at if last is not None else self.r.sim.now,
            retried,
        )

    def count(self, cid: str, event_type: str | None, quiet: bool = False) -> Generator[Any, Any, int]:
        """countAuditEvents / countAuditEventsByCategory: query and print as the helpers do."""
        found = yield from self.r.ds.query(cid, event_type)
        self.report.queries.append(QueryRecord(cid, event_type, self.r.sim.now, found, self.spec.full_text))
        svc = self.r.service
        record = self.report.queries[-1]
        record.printed = found is not None and (
            svc.queries_print == "ro" or (svc.queries_print == "sp" and not quiet)
        )
        if svc.queries_print != "sp":
            if svc.queries_print == "ro":
                self.say(
                    f"✅ Query successful: found {found} events (correlation={cid}, type={event_type})"
                    if found is not None
                    else "❌ Failed to query Data Storage: "
                    f'Get "http://127.0.0.1:{svc.port("datastorage")}/api/v1/audit/events": '
                    f"dial tcp 127.0.0.1:{svc.port('datastorage')}: connect: connection refused"
                )
            return found or 0
        if found is None:
            if event_type is None:
                self.say(
                    'Query error: Get "http://127.0.0.1:18094/api/v1/audit/events?correlation_id='
                    f'{cid}&event_category=signalprocessing": '
                    "dial tcp 127.0.0.1:18094: connect: connection refused"
                )
            else:
                self.say(
                    f"⏳ Query error for {event_type} (correlation_id={cid}): "
                    'Get "http://127.0.0.1:18094/api/v1/audit/events?'
                    f'correlation_id={cid}&event_type={event_type}": '
                    "dial tcp 127.0.0.1:18094: connect: connection refused"
                )
            return 0
        if not quiet:
            if found == 0:
                self.say(f"⏳ No events yet for {event_type} (correlation_id={cid})")
            else:
                self.say(f"✅ Found {found} event(s) for {event_type} (correlation_id={cid})")
        return found

    def flush(self) -> Generator[Any, Any, None]:
        if (yield from self.p.store.flush()):
            self.say("✅ Audit store flushed successfully")
        else:
            self.r.flush_warning(self.p, "⚠️ Flush warning (non-fatal, Eventually will retry): ")

    def wait_phase(self, sp: SpRun, timeout_s: float, interval_s: float) -> Generator[Any, Any, bool]:
        deadline = self.r.sim.now + int(timeout_s * SECOND)
        while True:
            if (
                sp.done.fired
                or sp.phase in ("Completed", "Failed")
                or (sp.target_missing and sp.phase not in ("", "Pending"))
            ):
                return True
            if self.r.sim.now >= deadline:
                return False
            yield int(interval_s * SECOND)

    # ---- bodies --------------------------------------------------------------------------------
    def run(self) -> Generator[Any, Any, None]:
        kind = self.spec.kind
        if kind == "audit":
            yield from self.audit()
        elif kind == "severity-audit":
            yield from self.severity_audit()
        elif kind == "audit-check":
            yield from self.audit_check()
        elif kind == "sp" or (self.spec.file.startswith("component") and self.rng.random() < 0.7):
            yield from self.sp_spec()
        else:
            yield from self.plain()

    def plain(self) -> Generator[Any, Any, None]:
        self.by("Setting up test fixtures")
        ns = self.namespace("comp-test", False) if self.rng.random() < 0.6 else ""
        long = "5s timeout" in self.spec.text or self.spec.serial
        yield int((5.2 if long else self.rng.uniform(0.05, 1.2)) * SECOND)
        self.by("Verifying results")
        yield int(self.rng.uniform(5, 60) * MS)
        if ns:
            self.say(f"✅ Deleted test namespace: {ns}")

    def sp_spec(self) -> Generator[Any, Any, None]:
        ns = self.namespace("sp-test", self.rng.random() < 0.5)
        count = 10 if "10 CRs" in self.spec.text else self.rng.choice((1, 1, 2, 2, 3))
        if self.r.knobs.has("log-sampling") and not self.r.burst_done:
            self.r.burst_done = True
            count = 40  # a burst of reconciles: >100 identical store lines in a second trips the sampler
        sps = []
        borrowed = self.r.borrowed.get(self.spec, "")
        for i in range(count):
            name = f"sp-{self.n:03d}-{i}" if count > 1 else f"sp-{self.n:03d}"
            if self.r.service.lifecycle:
                name = f"{self.r.service.kind.lower()}-{name[3:]}"
            sp = self.r.new_sp(name, ns, self.p, rr_name=borrowed if i == 0 else "")
            sps.append(sp)
            self.start_sp(sp)
        self.by("Waiting for processing to complete")
        for sp in sps:
            yield from self.wait_phase(sp, 10, 0.25)
        yield int(self.rng.uniform(10, 200) * MS)
        self.say(f"✅ Deleted test namespace: {ns}")

    def audit(self) -> Generator[Any, Any, None]:
        spec, knobs = self.spec, self.r.knobs
        ev_line, timeout_s, interval_s, expect_line = _AUDIT_LINES[spec.line]
        error_spec = spec.line == 662
        any_then_assert = error_spec and knobs.has("poll-any-then-assert")
        self.by("1. Creating test namespace")
        ns = self.namespace("audit-test", True)
        self.by("2. Creating parent RemediationRequest")
        cid = spec.rr_name
        sp = self.r.new_sp(spec.rr_name.replace("-rr-", "-sp-"), ns, self.p, rr_name=cid)
        sp.target_missing = error_spec
        sp.namespace_missing = spec.line == 782
        sp.duplicate_transition = spec.line == 570 and knobs.has("duplicate-transition")
        self.apply_victims(sp)
        once = spec is self.r.victims.get("eventually-value")
        flushed = Signal()
        if any_then_assert:
            sp.error_after = flushed
        self.by("3. Creating SignalProcessing CR")
        self.start_sp(sp)
        self.by("4. Wait for processing to complete")
        yield from self.wait_phase(sp, 15, 0.5)
        self.by("5. Flush audit store and query DataStorage HTTP API for audit events")
        yield from self.flush()
        self.r.sim.fire(flushed)
        self.by("6. Poll for audit events (DD-TESTING-001 deterministic validation)")
        start = self.r.sim.now
        deadline = start + timeout_s * SECOND
        expected = _EXPECTED.get(spec.event_type, 1)
        got = -1
        while True:
            if any_then_assert:
                got = yield from self.count(cid, None, quiet=True)
                ok = got > 0
            else:
                if got < 0 or not once:
                    got = yield from self.count(cid, spec.event_type)
                ok = got >= expected if spec.line == 570 else got > 0
            if ok or self.report.cancelled:
                break
            if self.r.sim.now + int(interval_s * SECOND) > deadline:
                yield max(0, deadline - self.r.sim.now) + self.rng.randrange(500, 2500)
                self.fail(
                    f"Timed out after {(self.r.sim.now - start) / SECOND:.3f}s.\n"
                    "BR-SP-090: SignalProcessing MUST emit audit events\n"
                    + (
                        f"Expected\n    <int>: {got}\nto be >=\n    <int>: 4"
                        if spec.line == 570
                        else f"Expected\n    <int>: {got}\nto equal\n    <int>: 1"
                    ),
                    ev_line,
                )
                self.check(cid, None if any_then_assert else spec.event_type, expected, got, not once)
                break
            yield int(interval_s * SECOND)
        if self.report.state == "passed" and not self.report.cancelled:
            self.by("7. Validate audit event (DD-TESTING-001 compliance)")
            if any_then_assert:
                errors = yield from self.count(cid, spec.event_type)
                if errors == 0:
                    self.fail(
                        "BR-SP-090: MUST emit error event\nExpected\n    <bool>: false\nto be true",
                        expect_line,
                    )
                    self.check(cid, spec.event_type, 1, errors, False)
            elif got != expected:
                self.fail(
                    (
                        "BR-SP-090: MUST emit exactly 4 phase transitions: "
                        "Pending→Enriching→Classifying→Categorizing→Completed\n"
                        if spec.line == 570
                        else f"BR-SP-090: MUST emit exactly {expected} {spec.event_type} event\n"
                    )
                    + f"Expected\n    <int>: {got}\nto equal\n    <int>: {expected}",
                    expect_line,
                )
                self.check(cid, spec.event_type, expected, got, False)
            else:
                yield from self.count(cid, spec.event_type, quiet=True)  # getLatestAuditEvent
        yield int(self.rng.uniform(5, 40) * MS)
        self.say(f"✅ Deleted test namespace: {ns}")

    def severity_audit(self) -> Generator[Any, Any, None]:
        spec, knobs = self.spec, self.r.knobs
        ev_line, timeout_s, interval_s = _SEVERITY_LINES[spec.line]
        ns = self.namespace("sev-audit", False)
        cid = f"sev-audit-rr-{self.n:03d}"
        sp = self.r.new_sp(f"sev-audit-sp-{self.n:03d}", ns, self.p, rr_name=cid)
        sp.severity = "warning" if spec.line != 468 else "critical"
        sp.target_missing = spec.event_type.endswith("error.occurred")
        if knobs.has("timer-stall") and self.r.stall_target is None and spec.line == 297:
            self.r.stall_target = cid
            sp.stall_after_classification = knobs.stall_seconds
        self.start_sp(sp)
        # Eventually(Status.Severity set, "30s", "1s"): the status is written when classification runs
        deadline = self.r.sim.now + 30 * SECOND
        while sp.phase not in ("Categorizing", "Completed", "Failed") and self.r.sim.now < deadline:
            yield SECOND
        start = self.r.sim.now
        deadline = start + timeout_s * SECOND
        got = 0
        while True:
            got = yield from self.count(cid, spec.event_type, quiet=True)
            self.say(
                f"DEBUG queryAuditEvents: eventType={spec.event_type}, namespace={ns}, total_returned={got}"
            )
            for i in range(got):
                self.say(f"  Event[{i}]: namespace={ns}, event_type={spec.event_type}")
            self.say(f"DEBUG queryAuditEvents: after namespace filter, filtered={got}")
            if got > 0 or self.report.cancelled:
                break
            if self.r.sim.now + int(interval_s * SECOND) > deadline:
                yield max(0, deadline - self.r.sim.now) + self.rng.randrange(500, 2500)
                self.fail(
                    f"Timed out after {(self.r.sim.now - start) / SECOND:.3f}s.\n"
                    "The function passed to Eventually failed at "
                    f"{SUITE_DIR}/{spec.file}:{ev_line + 3} with:\n"
                    "Expected\n    <int>: 0\nto be >\n    <int>: 0",
                    ev_line,
                )
                self.check(cid, spec.event_type, 1, got, True)
                break
            yield int(interval_s * SECOND)

    def apply_victims(self, sp: SpRun) -> None:
        """Let the per-spec faults that picked this spec act on its resource."""
        if self.spec is self.r.victims.get("missing-event"):
            sp.skip_type = self.spec.event_type
        if self.spec is self.r.victims.get("double-emit"):
            sp.double_type = self.spec.event_type

    def correlation(self) -> str:
        """The audit spec's correlation ID, shaped as its service's tests shape it."""
        if self.spec.rr_name:
            return self.spec.rr_name
        hexes = "".join(self.rng.choice("0123456789abcdef") for _ in range(32))
        if self.r.service.correlation == "uid":
            return f"{hexes[:8]}-{hexes[8:12]}-4{hexes[13:16]}-a{hexes[17:20]}-{hexes[20:]}"
        return f"audit-{self.spec.event_type.rsplit('.', 1)[-1]}-{hexes[:8]}"

    def audit_check(self) -> Generator[Any, Any, None]:
        """An audit spec of a service other than SignalProcessing (see triage/simulate/services.py)."""
        spec, svc = self.spec, self.r.service
        ns = self.namespace(f"{svc.name[:5]}-audit", False)
        cid = self.correlation()
        name = f"{svc.kind.lower()}-{self.n:03d}"
        sp = self.r.new_sp(name, ns, self.p, rr_name=cid)
        occurs = sum(types.count(spec.event_type) for _, types in svc.lifecycle)
        if 0 < occurs < spec.expected:
            sp.repeat = {spec.event_type: spec.expected}  # one event per delivery channel
        self.apply_victims(sp)
        if self.r.knobs.has("timer-stall") and self.r.stall_target is None:
            self.r.stall_target = cid  # the writer is starved right after this resource's first events
            sp.stall_after_classification = self.r.knobs.stall_seconds
        once = spec is self.r.victims.get("eventually-value")
        self.by(f"Creating the {svc.kind}")
        self.start_sp(sp)
        self.by(f"Waiting for the {svc.kind} to finish")
        yield from self.wait_phase(sp, 30, 0.5)
        self.by("Querying DataStorage for the audit events")
        any_event = spec.pattern in ("eventually-any", "poll-then-expect")
        start = self.r.sim.now
        deadline = start + int(spec.timeout_s * SECOND)
        got = -1
        while True:
            if got < 0 or not once:
                if svc.flushes == "silent":
                    yield from self.p.store.flush()  # `_ = store.Flush(ctx)`: a timeout goes unnoticed
                got = yield from self.count(cid, spec.event_type)
            ok = got > 0 if any_event else got == spec.expected
            if ok or self.report.cancelled:
                break
            if self.r.sim.now + int(spec.interval_s * SECOND) > deadline:
                yield max(0, deadline - self.r.sim.now) + self.rng.randrange(500, 2500)
                expectation = (
                    "Expected\n    <bool>: false\nto be true"
                    if any_event
                    else f"Expected\n    <int>: {got}\nto equal\n    <int>: {spec.expected}"
                )
                self.fail(
                    f"Timed out after {(self.r.sim.now - start) / SECOND:.3f}s.\n"
                    f"{svc.title} should record {spec.event_type} in DataStorage\n{expectation}",
                    spec.check_line,
                )
                self.check(cid, spec.event_type, 1 if any_event else spec.expected, got, not once)
                break
            yield int(spec.interval_s * SECOND)
        settled = self.report.state == "passed" and not self.report.cancelled
        if spec.pattern == "poll-then-expect" and settled and got != spec.expected:
            self.fail(
                f"{svc.title} should record exactly {spec.expected} {spec.event_type} event(s)\n"
                f"Expected\n    <int>: {got}\nto equal\n    <int>: {spec.expected}",
                spec.check_line + 4,
            )
            self.check(cid, spec.event_type, spec.expected, got, False)
        yield int(self.rng.uniform(5, 40) * MS)
        self.say(f"✅ Deleted test namespace: {ns}")
