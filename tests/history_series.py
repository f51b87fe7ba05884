"""Eight simulated SignalProcessing runs on eight days, for history tests.

One suite (the race-timeout scenario's 16 specs, seed 5) with faults that come and go:

| Day | Faults | What fails |
|---|---|---|
| 1 | none | nothing |
| 2 | timer-stall | the severity spec, by a flush-query race |
| 3 | missing-event | the first audit spec counts one event too few |
| 4 | timer-stall, missing-event | both |
| 5 | missing-event, duplicate-transition | the count; a phase transition audited twice fails another |
| 6 | duplicate-transition | the phase-transition count |
| 7 | timer-stall, duplicate-transition | the race again, and the phase-transition count |
| 8 | duplicate-transition, slow-writes | the phase-transition count; DataStorage writes slowly |

With the newest three runs deciding what is fixed: the race is flaky (day 3 passed its spec after day
2 failed it), the missing event fixed (not seen on days 6-8), the duplicated transition known (every
run since day 5) and the slow writes new.
"""

from __future__ import annotations

from pathlib import Path

from triage.simulate import simulate

DAYS: tuple[tuple[str, ...], ...] = (
    (),
    ("timer-stall",),
    ("missing-event",),
    ("timer-stall", "missing-event"),
    ("missing-event", "duplicate-transition"),
    ("duplicate-transition",),
    ("timer-stall", "duplicate-transition"),
    ("duplicate-transition", "slow-writes"),
)
RACE_SPEC = "test/integration/signalprocessing/severity_integration_test.go:297"


def build_series(root: Path) -> list[Path]:
    """Simulate the eight runs, each collected on its own day at 10:00.

    Args:
        root: an empty directory; day N's bundle goes to `root/dayN`.

    Returns:
        The bundle directories, oldest first.
    """
    bundles = []
    for day, faults in enumerate(DAYS, 1):
        bundle = root / f"day{day}"
        simulate("race-timeout", bundle, seed=5, faults=faults, fail_fast=False)
        (run_dir,) = bundle.glob("signalprocessing-integration-*")
        run_dir.rename(bundle / f"signalprocessing-integration-202602{day:02d}-100000")
        bundles.append(bundle)
    return bundles
