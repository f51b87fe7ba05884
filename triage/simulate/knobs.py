"""The simulator's knobs: one frozen dataclass, validated in one place."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

from triage.simulate.services import SERVICE_NAMES

# Fault names accepted by `--fault`; each is modelled where it happens (store, DataStorage, controller, test).
FAULTS: tuple[str, ...] = (
    "datastorage-down",  # DataStorage never comes up: connection refused, batches dropped after 3 attempts
    "datastorage-oom",  # DataStorage is OOM-killed part-way through the run
    "db-errors-500",  # a window of `Batch database write failed` (500, retried by the client)
    "double-emit",  # one audit spec's resource emits the event the spec counts twice (any service)
    "duplicate-transition",  # the phase-transition spec's SP emits one transition twice
    "eventually-value",  # one audit spec passes a count, not a function, to Eventually: evaluated once
    "flush-bug",  # SP-AUDIT-001: Flush() writes the batch but does not drain the channel
    "flush-stuck",  # every store's writer hangs on a write that never returns: Flush() and Close() time out
    "log-sampling",  # a burst of >100 identical store lines in a second hits zap's sampler
    "missing-event",  # one audit spec's resource never emits the event the spec counts
    "poll-any-then-assert",  # the error spec polls for any event, then asserts a specific one at once
    "rejections-400",  # events with an out-of-enum severity: the batch is rejected and dropped
    "shared-correlation",  # another spec's resource uses an audit spec's fixed correlation ID
    "slow-writes",  # DataStorage write latency spikes above 2 s (Slow audit batch write detected)
    "timer-stall",  # a store's writer goroutine is starved for tens of seconds
)
ERAS: tuple[str, ...] = ("january", "later", "current")
NAMINGS: tuple[str, ...] = ("double", "single", "code-comment")
TEST_LOGS: tuple[str, ...] = ("ci", "local", "none")
CONTAINERS: tuple[str, ...] = ("datastorage", "postgres", "redis")
MAX_CLOCK_SKEW_MS = 86_400_000.0  # a day: far beyond the minutes a VM clock drifts


class KnobError(ValueError):
    """A knob value the simulator cannot use; the message is one line."""


@dataclass(frozen=True)
class Knobs:
    """Everything a run depends on besides the seed and the scenario's clock.

    Attributes:
        processes: Ginkgo parallel processes (each with its own audit store).
        specs: How many of the suite's 92 specs exist in this run (the rest are left out).
        flush_interval: The SP store's FlushInterval in seconds (the suite uses 0.1).
        ds_latency_ms: DataStorage's base batch-write latency; it grows with concurrent load.
        faults: Fault names from FAULTS.
        era: `january` (console DataStorage, emoji store lines), `later` (JSON DataStorage, the store's
            hot-path lines below Info) or `current` (kubernaut's HEAD: every per-event store line below
            Info, HTTP requests name their user, Flush() and Close() give up after a timeout,
            `--keep-going` in the ginkgo command line).
        service: The service whose integration suite runs (triage/simulate/services.py).
        size_mb: Target bundle size; 0 means the scenario's natural size. Larger values add passing specs.
        fail_fast: Ginkgo's --fail-fast: the first failure interrupts running specs and skips the rest.
        naming: Container log naming: `double` (real), `single` (DD doc) or `code-comment` (`sp_`).
        test_log: `ci` (integration-<svc>.log beside the run dir), `local` (inside it), `none`.
        missing_container: A container whose logs the collector could not find, or empty.
        stall_seconds: How long the `timer-stall` fault starves a store's writer goroutine.
        debug_lines: Extra DEBUG lines the controller prints per reconcile (a chattier controller):
            more bytes per spec, so a given size_mb holds fewer specs and correlation IDs.
        clock_skew_ms: How far the containers' clock (DataStorage, PostgreSQL and Redis logs, podman
            inspect times) runs ahead of (positive) or behind (negative) the test host's, whose clock
            the test log keeps. Only printed container times move, by this amount rounded to the
            microsecond; what happens, and in which order, does not change.
    """

    processes: int = 4
    specs: int = 92
    flush_interval: float = 0.1
    ds_latency_ms: float = 40.0
    faults: tuple[str, ...] = ()
    era: str = "january"
    service: str = "signalprocessing"
    size_mb: float = 0.0
    fail_fast: bool = True
    naming: str = "double"
    test_log: str = "ci"
    missing_container: str = ""
    stall_seconds: float = 4.0
    clock_skew_ms: float = 0.0
    debug_lines: int = 0

    @property
    def clock_skew_us(self) -> int:
        """The container clock's offset from the host clock in whole microseconds (the model's unit).

        Returns:
            clock_skew_ms rounded to the microsecond.
        """
        return round(self.clock_skew_ms * 1000)

    def with_overrides(self, **overrides: Any) -> Knobs:
        """Return a copy with the given knobs replaced, validated.

        Args:
            **overrides: Knob names and values; None values are ignored.

        Returns:
            The new knobs.

        Raises:
            KnobError: For an unknown knob or an unusable value.
        """
        known = {f.name for f in fields(self)}
        clean: dict[str, Any] = {}
        for name, value in overrides.items():
            if name not in known:
                raise KnobError(f"unknown knob {name!r}; known: {', '.join(sorted(known))}")
            if value is None:
                continue
            if name == "faults":
                value = tuple(value)
            elif name == "clock_skew_ms" and isinstance(value, int | float) and not isinstance(value, bool):
                value = float(value)  # 300 from JSON and 300.0 from the CLI record the same truth
            clean[name] = value
        knobs = replace(self, **clean)
        knobs.validate()
        return knobs

    def validate(self) -> None:
        """Check every knob.

        Raises:
            KnobError: For the first unusable value.
        """
        checks = (
            (1 <= self.processes <= 64, f"processes must be 1-64, got {self.processes}"),
            (1 <= self.specs <= 92, f"specs must be 1-92, got {self.specs}"),
            (
                0.01 <= self.flush_interval <= 10,
                f"flush interval must be 0.01-10 s, got {self.flush_interval}",
            ),
            (0.5 <= self.ds_latency_ms <= 4000, f"ds latency must be 0.5-4000 ms, got {self.ds_latency_ms}"),
            (self.era in ERAS, f"era must be one of {', '.join(ERAS)}, got {self.era!r}"),
            (
                self.service in SERVICE_NAMES,
                f"service must be one of {', '.join(SERVICE_NAMES)}, got {self.service!r}",
            ),
            (0.5 <= self.stall_seconds <= 600, f"stall must be 0.5-600 s, got {self.stall_seconds}"),
            (0 <= self.size_mb <= 100_000, f"size must be 0-100000 MB, got {self.size_mb}"),
            (0 <= self.debug_lines <= 200, f"debug lines must be 0-200, got {self.debug_lines}"),
            (
                isinstance(self.clock_skew_ms, int | float)
                and not isinstance(self.clock_skew_ms, bool)
                and math.isfinite(self.clock_skew_ms)
                and abs(self.clock_skew_ms) <= MAX_CLOCK_SKEW_MS,
                f"clock skew must be within ±{MAX_CLOCK_SKEW_MS:.0f} ms, got {self.clock_skew_ms!r}",
            ),
            (self.naming in NAMINGS, f"naming must be one of {', '.join(NAMINGS)}, got {self.naming!r}"),
            (
                self.test_log in TEST_LOGS,
                f"test log must be one of {', '.join(TEST_LOGS)}, got {self.test_log!r}",
            ),
            (
                self.missing_container in ("", *CONTAINERS),
                f"missing container must be one of {', '.join(CONTAINERS)}, got {self.missing_container!r}",
            ),
        )
        for ok, message in checks:
            if not ok:
                raise KnobError(message)
        for fault in self.faults:
            if fault not in FAULTS:
                raise KnobError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")

    def has(self, fault: str) -> bool:
        """Whether a fault is switched on.

        Args:
            fault: A name from FAULTS.

        Returns:
            True when the fault is in `faults`.
        """
        return fault in self.faults

    def as_dict(self) -> dict[str, Any]:
        """Return the knobs as a JSON-ready dict (faults sorted).

        Returns:
            Knob names mapped to values; `service` only when it is not SignalProcessing, so the truth
            of a SignalProcessing run reads as it did before other services existed.
        """
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["faults"] = sorted(self.faults)
        if self.service == "signalprocessing":
            del out["service"]
        return out
