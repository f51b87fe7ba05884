"""The registry of named scenarios: what each models, its default knobs, clock and fixture seed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from triage.simulate.knobs import KnobError, Knobs


def _utc_us(local: str, offset_minutes: int) -> int:
    moment = datetime.fromisoformat(local).replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    return int(moment.timestamp()) * 1_000_000


@dataclass(frozen=True)
class Scenario:
    """A named, reproducible run.

    Attributes:
        name: The CLI name (`healthy`, `flush-bug`, ...).
        fixture: The committed fixture directory name under fixtures/bundles/.
        description: One sentence on what the run shows.
        knobs: Default knobs (CLI options override them).
        seed: The seed the committed fixture was generated with.
        start_local: Local wall-clock time when `ginkgo` starts (ISO, no zone).
        utc_offset_minutes: The test host's UTC offset.
    """

    name: str
    fixture: str
    description: str
    knobs: Knobs
    seed: int
    start_local: str = "2026-01-14T10:23:13"
    utc_offset_minutes: int = -300

    @property
    def start_us(self) -> int:
        """Start time in microseconds since the epoch (UTC)."""
        return _utc_us(self.start_local, self.utc_offset_minutes)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "jan14-1025",
        "01-jan14-1025",
        "The 2026-01-14 10:25 run: --fail-fast after a poll-any-then-assert race (rr-05) and a "
        "duplicated phase transition (rr-04); 49 passed, 2 failed, 6 interrupted.",
        Knobs(processes=12, specs=92, faults=("duplicate-transition", "poll-any-then-assert")),
        seed=835,
        start_local="2026-01-14T10:23:24",
    ),
    Scenario(
        "healthy",
        "02-healthy",
        "A clean run: every event written, every query finds what it expects.",
        Knobs(processes=3, specs=16),
        seed=7,
        start_local="2026-01-16T09:12:40",
    ),
    Scenario(
        "races-pass-after-retries",
        "03-races-pass-after-retries",
        "Queries race the 100 ms flush and miss buffered events, yet Eventually retries until they pass.",
        Knobs(processes=4, specs=16, ds_latency_ms=120.0, faults=("slow-writes",)),
        seed=37,
        start_local="2026-01-14T14:33:05",
    ),
    Scenario(
        "race-timeout",
        "04-race-timeout",
        "A query races the flush, then the store's writer stalls and the Eventually times out after 30 s.",
        Knobs(processes=3, specs=16, faults=("timer-stall",), stall_seconds=35.0),
        seed=5,
        start_local="2026-01-14T11:22:51",
    ),
    Scenario(
        "flush-bug",
        "05-flush-bug",
        "SP-AUDIT-001: Flush() does not drain the channel, so flushed-then-queried events are missing.",
        Knobs(processes=4, specs=16, ds_latency_ms=450.0, faults=("flush-bug",), fail_fast=False),
        seed=3,
        start_local="2026-01-14T08:36:02",
    ),
    Scenario(
        "rejections-400",
        "06-rejections-400",
        "The severity enum changed: DataStorage rejects batches with 400 and the store drops them.",
        Knobs(processes=2, specs=14, faults=("rejections-400",)),
        seed=4,
        start_local="2026-01-15T21:03:41",
    ),
    Scenario(
        "datastorage-down",
        "07-datastorage-down",
        "DataStorage is OOM-killed mid-run: connection refused, retries, AUDIT DATA LOSS.",
        Knobs(processes=3, specs=16, faults=("datastorage-oom",)),
        seed=6,
        start_local="2026-01-22T17:18:30",
    ),
    Scenario(
        "timer-stall",
        "08-timer-stall",
        "A store's writer goroutine is starved: TIMER BUG DETECTED, late flushes, tests still pass.",
        Knobs(processes=3, specs=16, faults=("timer-stall",), fail_fast=False),
        seed=8,
        start_local="2026-01-20T13:40:12",
    ),
    Scenario(
        "later-format",
        "09-later-format",
        "A later run: DataStorage logs production JSON and the store's hot-path lines are below Info.",
        Knobs(processes=3, specs=16, era="later"),
        seed=9,
        start_local="2026-05-02T16:05:27",
        utc_offset_minutes=-240,
    ),
    Scenario(
        "flush-stuck",
        "10-flush-stuck",
        "Every store's writer hangs on a write that never returns: events pile up, Flush() and Close() "
        "time out, DataStorage has only the early batches and the first querying spec times out.",
        Knobs(processes=2, specs=30, era="current", faults=("flush-stuck",)),
        seed=12,
        start_local="2026-08-20T14:02:11",
        utc_offset_minutes=-240,
    ),
    Scenario(
        "current-format",
        "11-current-format",
        "A RemediationOrchestrator run in kubernaut's current formats: no per-event store lines, the "
        "helpers' query prints, a 1 s flush interval, --keep-going; one spec's count is taken once.",
        Knobs(
            processes=3,
            specs=14,
            era="current",
            service="remediationorchestrator",
            flush_interval=1.0,
            faults=("eventually-value",),
            fail_fast=False,
        ),
        seed=15,
        start_local="2026-08-21T09:41:37",
        utc_offset_minutes=-240,
    ),
    Scenario(
        "count-mismatch",
        "12-count-mismatch",
        "Notification specs count events by correlation ID and get the wrong number: one event "
        "emitted twice, one correlation ID shared with another spec, one event never emitted.",
        Knobs(
            processes=2,
            specs=14,
            era="current",
            service="notification",
            faults=("double-emit", "shared-correlation", "missing-event"),
            fail_fast=False,
        ),
        seed=12,
        start_local="2026-08-21T16:20:05",
        utc_offset_minutes=-240,
    ),
)


def get_scenario(name: str) -> Scenario:
    """Look a scenario up by CLI name or fixture name.

    Args:
        name: E.g. `healthy` or `02-healthy`.

    Returns:
        The scenario.

    Raises:
        KnobError: When no scenario has that name.
    """
    for scenario in SCENARIOS:
        if name in (scenario.name, scenario.fixture):
            return scenario
    raise KnobError(f"unknown scenario {name!r}; known: {', '.join(s.name for s in SCENARIOS)}")
