"""The BufferedAuditStore of one Ginkgo process (pkg/audit/store.go at 76f12b574), as a model.

A channel (BufferSize), a writer goroutine that moves events into a batch and writes it on a full
batch, on a timer tick with a non-empty batch, on Flush() (which drains the channel first, except
with the SP-AUDIT-001 `flush-bug` fault) and on Close(). Writes run synchronously in the writer, so a
slow write holds ticks back: Go's ticker keeps at most one pending tick and drops the rest, the held
tick is received late (its `tick_time` is when it fired) and `tick_number` counts received ticks.
Only the lines the suite's production logger prints at Info are produced: in the `january` era the
per-event lines too; in `later` and `current` none of them. In the `current` era (and whenever the
writer can hang, fault `flush-stuck`) Flush() gives up after FLUSH_TIMEOUT and Close() after
CLOSE_TIMEOUT, as kubernaut's HEAD store does, logging `Timeout waiting for audit store to close`.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from triage.simulate.formats import Dur, Fields, json_line
from triage.simulate.kernel import Signal, Sim
from triage.simulate.timefmt import MS, SECOND, rfc3339_nano, rfc3339_seconds

BUFFER_SIZE = 10_000
BATCH_SIZE = 1_000
MAX_RETRIES = 3
SAMPLER_FIRST = 100  # controller-runtime's production sampler: first 100 per message per second...
SAMPLER_THEREAFTER = 100  # ...then every 100th
_SRC = "/Users/jgil/go/src/github.com/jordigilh/kubernaut"
FLUSH_TIMEOUT = 10 * SECOND  # the tests' context deadline for Flush(ctx)
CLOSE_TIMEOUT = 30 * SECOND  # Close() stops waiting for the writer after this


@dataclass(slots=True)
class AuditEvent:
    """One audit event and everything the model learns about it (the ground truth)."""

    eid: int
    correlation_id: str
    event_type: str
    process: int
    resource: str
    valid: bool = True
    buffered_at: int = 0
    flushed_at: int | None = None
    written_at: int | None = None
    outcome: str = ""
    logged: bool = True
    seen: bool = False
    total_buffered: int = 0
    phase_seen: bool = False


@dataclass(slots=True)
class StoreStats:
    """The store's atomic counters."""

    buffered: int = 0
    written: int = 0
    dropped: int = 0
    failed_batches: int = 0
    ticks: int = 0
    closed: bool = False
    timer_bugs: list[tuple[int, bool]] = field(default_factory=list)
    slow_writes: list[tuple[int, bool]] = field(default_factory=list)


class DataStorageClient:
    """What the store needs from DataStorage: a batch POST that yields and returns (status, error)."""

    def post_batch(self, process: int, events: list[AuditEvent]) -> Generator[Any, Any, tuple[int, str]]:
        """Write a batch.

        Args:
            process: The writing Ginkgo process.
            events: The batch.

        Returns:
            (HTTP status or 0 for a transport error, client error text).
        """
        raise NotImplementedError  # pragma: no cover


class AuditStore:
    """One process's store, its writer goroutine and its ticker."""

    def __init__(
        self,
        sim: Sim,
        process: int,
        client: DataStorageClient,
        emit: Callable[[int, str], None],
        finalize: Callable[[AuditEvent], None],
        rng: random.Random,
        *,
        flush_interval_us: int,
        offset_minutes: int,
        era: str,
        flush_bug: bool,
        service: str = "signalprocessing",
        timeouts: bool = False,
    ) -> None:
        self.sim, self.process, self.client, self.emit, self.rng = sim, process, client, emit, rng
        self.finalize_cb = finalize
        self.interval = flush_interval_us
        self.offset = offset_minutes
        self.january = era == "january"
        self.flush_bug = flush_bug
        self.service = service
        self.timeouts = timeouts or era == "current"
        self.hang_at: int | None = None
        self.hung = False
        self.stats = StoreStats()
        self.channel: deque[AuditEvent] = deque()
        self.batch: list[AuditEvent] = []
        self.pending: deque[AuditEvent] = deque()
        self.pending_tick: int | None = None
        self.flush_requests: deque[Signal] = deque()
        self.closing = False
        self.stopped = Signal()
        self.stalls: deque[tuple[int, int]] = deque()
        self._wake: Signal | None = None
        self._sampler: dict[str, tuple[int, int]] = {}
        self._last_flush = 0
        self._start = 0
        self.captured: Callable[[], bool] = lambda: True
        self.sampled_captured = 0

    # ---- logging -------------------------------------------------------------------------------
    def _log(
        self,
        level: str,
        msg: str,
        fields: Fields,
        error: str | None = None,
        logger: str = "audit-store",
        frames: tuple[tuple[str, int], ...] = (("writeBatchWithRetry", 533), ("backgroundWriter", 443)),
    ) -> bool:
        now = self.sim.now
        second = now // SECOND
        seen_second, count = self._sampler.get(msg, (-1, 0))
        count = count + 1 if seen_second == second else 1
        self._sampler[msg] = (second, count)
        if count > SAMPLER_FIRST and (count - SAMPLER_FIRST) % SAMPLER_THEREAFTER != 0:
            return False
        trace = None
        if level == "error":
            pkg = "github.com/jordigilh/kubernaut/pkg/audit.(*BufferedAuditStore)"
            trace = "\n".join(f"{pkg}.{fn}\n\t{_SRC}/pkg/audit/store.go:{line}" for fn, line in frames)
        self.emit(
            now, json_line(level, rfc3339_seconds(now, self.offset), logger, "", msg, fields, error, trace)
        )
        return True

    # ---- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Create the store: log the two start-up lines and start the writer and the ticker."""
        now = self.sim.now
        self._start = self._last_flush = now
        ns = self.rng.randrange(1000)
        self._log(
            "info",
            "🚀 Audit background writer started",
            (
                ("flush_interval", Dur(self.interval)),
                ("batch_size", BATCH_SIZE),
                ("buffer_size", BUFFER_SIZE),
                ("start_time", rfc3339_nano(now, self.offset, ns)),
            ),
        )
        self._log(
            "info",
            "Audit store initialized",
            (
                ("service", self.service),
                ("buffer_size", BUFFER_SIZE),
                ("batch_size", BATCH_SIZE),
                ("flush_interval", Dur(self.interval)),
                ("max_retries", MAX_RETRIES),
            ),
            logger="",
        )
        self.sim.spawn(self._writer())
        self.sim.spawn(self._ticker(now))

    def _notify(self) -> None:
        if self._wake is not None:
            wake, self._wake = self._wake, None
            self.sim.fire(wake)

    def _ticker(self, start: int) -> Generator[Any, Any, None]:
        k = 0
        while not self.stopped.fired:
            k += 1
            due = start + k * self.interval + self.rng.randrange(15, 90)
            yield max(0, due - self.sim.now)
            if self.stopped.fired:
                return
            if self.pending_tick is None:  # Go's ticker channel holds one tick; later ones are dropped
                self.pending_tick = self.sim.now
                self._notify()

    # ---- API used by the controller and the tests ------------------------------------------------
    def store_audit(self, event: AuditEvent) -> None:
        """StoreAudit: log, validate, non-blocking send (or drop when the channel is full).

        Args:
            event: The event the controller built.
        """
        event.buffered_at = self.sim.now
        event.phase_seen = self.captured()  # the controller's line for this step is in the test log
        self.pending.append(event)
        if self.january:
            self._log(
                "info",
                "🔍 StoreAudit called",
                (
                    ("event_type", event.event_type),
                    ("event_action", _action(event.event_type)),
                    ("correlation_id", event.correlation_id),
                    ("buffer_capacity", BUFFER_SIZE),
                    ("buffer_current_size", len(self.channel)),
                ),
            )
            self._log(
                "info",
                "✅ Validation passed, attempting to buffer event",
                (("event_type", event.event_type), ("buffer_size_before", len(self.channel))),
            )
        if len(self.channel) >= BUFFER_SIZE:
            self.stats.dropped += 1
            event.outcome = "dropped_buffer_full"
            event.logged = self._log(
                "info",
                "Audit buffer full, event dropped",
                (
                    ("event_type", event.event_type),
                    ("correlation_id", event.correlation_id),
                    ("buffered_count", self.stats.buffered),
                    ("dropped_count", self.stats.dropped),
                ),
            )
            self._release()
            return
        self.channel.append(event)
        self.stats.buffered += 1
        event.total_buffered = self.stats.buffered
        # The writer usually takes the event before the log line reads len(buffer); sometimes not.
        idle = self._wake is not None
        size_after = len(self.channel) - (1 if idle and self.rng.random() < 0.7 else 0)
        if self.january:
            event.logged = self._log(
                "info",
                "✅ Event buffered successfully",
                (
                    ("event_type", event.event_type),
                    ("correlation_id", event.correlation_id),
                    ("buffer_size_after", size_after),
                    ("total_buffered", self.stats.buffered),
                ),
            )
            if not event.logged and self.captured():
                self.sampled_captured += 1
            event.seen = event.logged and self.captured()
        self._notify()

    def flush(self) -> Generator[Any, Any, bool]:
        """Flush(): hand a request to the writer and wait for it to finish (or time out).

        Yields:
            Kernel waits.

        Returns:
            False when the flush timed out.
        """
        done = Signal()
        self.flush_requests.append(done)
        self._notify()
        if self.timeouts:
            self.sim.call_at(self.sim.now + FLUSH_TIMEOUT, lambda _: self.sim.fire(done, "timeout"))
        result = yield done
        return result is None

    def close(self) -> Generator[Any, Any, bool]:
        """Close(): log, close the channel, wait for the writer, log the counters (or time out).

        Yields:
            Kernel waits.

        Returns:
            False when the writer did not stop within CLOSE_TIMEOUT.
        """
        self._log("info", "Closing audit store, flushing remaining events", ())
        self.closing = True
        self._notify()
        if self.timeouts:
            waited = Signal()
            self.sim.call_at(self.sim.now + CLOSE_TIMEOUT, lambda _: self.sim.fire(waited, "timeout"))
            self.sim.spawn(self._fire_when_stopped(waited))
            if (yield waited) is not None:
                self._log("error", "Timeout waiting for audit store to close", (), frames=(("Close", 363),))
                return False
        else:
            yield self.stopped
        self.stats.closed = True
        self._log(
            "info",
            "Audit store closed",
            (
                ("buffered_count", self.stats.buffered),
                ("written_count", self.stats.written),
                ("dropped_count", self.stats.dropped),
                ("failed_batch_count", self.stats.failed_batches),
            ),
        )
        return True

    def _fire_when_stopped(self, waited: Signal) -> Generator[Any, Any, None]:
        yield self.stopped
        self.sim.fire(waited)

    def stall(self, at_us: int, duration_us: int) -> None:
        """Schedule a starvation of the writer goroutine (the timer-stall fault).

        Args:
            at_us: When the writer stops being scheduled.
            duration_us: For how long.
        """
        self.stalls.append((at_us, duration_us))

    # ---- the writer goroutine --------------------------------------------------------------------
    def _writer(self) -> Generator[Any, Any, None]:
        while True:
            if self.stalls and self.sim.now >= self.stalls[0][0]:
                _, duration = self.stalls.popleft()
                yield duration
            cases = []
            if self.channel:
                cases.append("event")
            elif self.closing:
                cases.append("closed")
            if self.pending_tick is not None:
                cases.append("tick")
            if self.flush_requests:
                cases.append("flush")
            if not cases:
                self._wake = Signal()
                if self.stalls:
                    self.sim.call_at(self.stalls[0][0], lambda _: self._notify())
                yield self._wake
                continue
            case = cases[0] if len(cases) == 1 else self.rng.choice(cases)  # Go's select is random
            if (
                self.hang_at is not None
                and self.sim.now >= self.hang_at
                and (case == "flush" or (case == "tick" and self.batch))
            ):
                # flush-stuck: the next write blocks on a connection that never answers, for good
                self.hung = True
                yield Signal()
            if case == "event":
                self.batch.append(self.channel.popleft())
                if len(self.batch) >= BATCH_SIZE:
                    yield from self._write_batch()
            elif case == "tick":
                yield from self._on_tick()
            elif case == "flush":
                done = self.flush_requests.popleft()
                if not self.flush_bug:
                    while self.channel:
                        self.batch.append(self.channel.popleft())
                if self.batch:
                    yield from self._write_batch()
                self.sim.fire(done)
            else:
                if self.batch:
                    count = len(self.batch)
                    yield from self._write_batch()
                    self._log("info", "✅ Shutdown flush completed", (("flushed_count", count),))
                self._log(
                    "info",
                    "🛑 Audit background writer stopped",
                    (
                        ("total_runtime", Dur(self.sim.now - self._start, 0)),
                        ("total_ticks", self.stats.ticks),
                    ),
                )
                self.sim.fire(self.stopped)
                return

    def _on_tick(self) -> Generator[Any, Any, None]:
        tick_time = self.pending_tick or self.sim.now
        self.pending_tick = None
        self.stats.ticks += 1
        since = self.sim.now - self._last_flush
        ns = self.rng.randrange(1000)
        if self.january:
            self._log(
                "info",
                "⏰ Timer tick received",
                (
                    ("tick_number", self.stats.ticks),
                    ("batch_size_before_flush", len(self.batch)),
                    ("buffer_utilization", len(self.channel)),
                    ("expected_interval", Dur(self.interval)),
                    ("actual_interval", Dur(since, ns)),
                    ("drift", Dur(since - self.interval, ns)),
                    ("tick_time", rfc3339_nano(tick_time, self.offset, self.rng.randrange(1000))),
                ),
            )
        if since > self.interval * (2 if self.january else 5):
            self.stats.timer_bugs.append((self.sim.now, self.captured()))
            self._log(
                "error",
                "🚨 TIMER BUG DETECTED: Tick interval significantly exceeded expected",
                (
                    ("expected_interval", Dur(self.interval)),
                    ("actual_interval", Dur(since, ns)),
                    ("drift", Dur(since - self.interval, ns)),
                    ("drift_multiplier", (since * 1000 + ns) / (self.interval * 1000)),
                ),
            )
        if self.batch:
            yield from self._write_batch()
        else:
            self._last_flush = self.sim.now

    def _write_batch(self) -> Generator[Any, Any, None]:
        batch, self.batch = self.batch, []
        start = self.sim.now
        for event in batch:
            event.flushed_at = start
        size = len(batch)
        for attempt in range(1, MAX_RETRIES + 1):
            status, error = yield from self.client.post_batch(self.process, batch)
            if status == 201:
                self.stats.written += size
                for event in batch:
                    event.written_at, event.outcome = self.sim.now, "written"
                took = self.sim.now - start
                if took > 2 * SECOND:
                    self.stats.slow_writes.append((start, self.captured()))
                    self._log(
                        "error",
                        "⚠️  Slow audit batch write detected",
                        (
                            ("batch_size", size),
                            ("write_duration", Dur(took, self.rng.randrange(1000))),
                            ("warning", "slow writes can delay timer-based flushes"),
                        ),
                    )
                break
            self._log(
                "error", "Failed to write audit batch", (("attempt", attempt), ("batch_size", size)), error
            )
            if 400 <= status < 500:
                self.stats.failed_batches += 1
                message = (
                    "Dropping audit batch due to non-retryable error (invalid data)"
                    if self.january
                    else "Dropping audit batch due to non-retryable client error (invalid request data)"
                )
                self._log("error", message, (("batch_size", size), ("is_4xx_error", True)))
                for event in batch:
                    event.outcome = "dropped_4xx"
                break
            if attempt < MAX_RETRIES:
                yield attempt * attempt * SECOND
                continue
            self.stats.failed_batches += 1
            self._log(
                "error",
                "AUDIT DATA LOSS: Dropping batch after max retries (infrastructure unavailable)",
                (
                    ("batch_size", size),
                    ("max_retries", MAX_RETRIES),
                    ("error_type", "transport_failure"),
                    ("mitigation", "Fix DataStorage connectivity - ensure service is running and reachable"),
                ),
                error,
            )
            for event in batch:
                event.outcome = "dropped_retries"
        self._last_flush = self.sim.now
        self._release()
        yield self.rng.randrange(20, 120)  # the loop's own bookkeeping before the next select
        _ = MS

    def _release(self) -> None:
        """Hand finished events to the truth sink in buffering order."""
        pending = self.pending
        while pending and pending[0].outcome:
            self.finalize_cb(pending.popleft())

    def finish(self) -> None:
        """At the end of the run: everything still buffered or batched was never flushed."""
        for event in self.pending:
            if not event.outcome:
                event.outcome = "unflushed"
        self._release()


def _action(event_type: str) -> str:
    known = {
        "signalprocessing.phase.transition": "phase_transition",
        "signalprocessing.enrichment.completed": "enrichment",
        "signalprocessing.classification.decision": "classification",
        "signalprocessing.business.classified": "classification",
        "signalprocessing.signal.processed": "processed",
        "signalprocessing.error.occurred": "error",
    }
    return known.get(event_type) or event_type.rsplit(".", 1)[-1]
