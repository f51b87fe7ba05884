"""Regenerate committed fixtures.

`python -m triage.simulate.fixtures fixtures/bundles` rewrites the example bundles;
`python -m triage.simulate.fixtures --rules fixtures/rules` rewrites each rule's cases, listed in
`fixtures/rules/<rule-id>/cases.json` as `{"cases": [{"name", "scenario", "seed", "knobs"}]}`;
`python -m triage.simulate.fixtures --compare fixtures/compare` rewrites the runs `triage compare` is
shown on (COMPARE_PAIR).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from triage.simulate.bundle import simulate
from triage.simulate.scenarios import SCENARIOS, get_scenario

# One suite before and after the Flush() fix: the flush-stuck run, then the same seed and knobs with
# the writer no longer hanging.
COMPARE_PAIR: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("flush-fix-before", "flush-stuck", {}),
    ("flush-fix-after", "flush-stuck", {"faults": ()}),
)


def regenerate(root: Path) -> list[Path]:
    """Write every scenario's fixture (bundle directory and truth) under `root`, replacing old ones.

    Args:
        root: E.g. fixtures/bundles.

    Returns:
        The truth files written.
    """
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for scenario in SCENARIOS:
        written.append(_fresh(root / scenario.fixture, scenario.name, scenario.seed, {}))
    return written


def _fresh(target: Path, scenario: str, seed: int, knobs: dict[str, Any]) -> Path:
    """Simulate `scenario` into `target`, removing what was there; the truth file written."""
    shutil.rmtree(target, ignore_errors=True)
    return simulate(scenario, target, seed=seed, **knobs)


def regenerate_rule_cases(root: Path) -> list[Path]:
    """Write every rule fixture case listed in `root/<rule-id>/cases.json`, replacing old ones.

    Args:
        root: E.g. fixtures/rules.

    Returns:
        The truth files written.
    """
    written = []
    for listing in sorted(root.glob("*/cases.json")):
        for case in json.loads(listing.read_text(encoding="utf-8"))["cases"]:
            knobs = {k: tuple(v) if isinstance(v, list) else v for k, v in case.get("knobs", {}).items()}
            written.append(_fresh(listing.parent / case["name"], case["scenario"], case["seed"], knobs))
    return written


def regenerate_compare(root: Path) -> list[Path]:
    """Write the two runs of COMPARE_PAIR under `root`, replacing old ones.

    Args:
        root: E.g. fixtures/compare.

    Returns:
        The truth files written.
    """
    return [
        _fresh(root / name, scenario, get_scenario(scenario).seed, knobs)
        for name, scenario, knobs in COMPARE_PAIR
    ]


def main(argv: list[str]) -> int:
    """Command-line entry point.

    Args:
        argv: Arguments after the program name: the output root.

    Returns:
        The exit code.
    """
    modes = {"--rules": regenerate_rule_cases, "--compare": regenerate_compare}
    mode = modes.get(argv[0]) if argv else None
    args = argv[1:] if mode else argv
    if len(args) != 1:
        print("usage: python -m triage.simulate.fixtures [--rules | --compare] DIR", file=sys.stderr)
        return 2
    for path in (mode or regenerate)(Path(args[0])):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
