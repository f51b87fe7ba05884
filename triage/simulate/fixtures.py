"""Regenerate the committed example bundles: `python -m triage.simulate.fixtures fixtures/bundles`."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from triage.simulate.bundle import simulate
from triage.simulate.scenarios import SCENARIOS


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
        target = root / scenario.fixture
        shutil.rmtree(target, ignore_errors=True)
        written.append(simulate(scenario.name, target, seed=scenario.seed))
    return written


def main(argv: list[str]) -> int:
    """Command-line entry point.

    Args:
        argv: Arguments after the program name: the output root.

    Returns:
        The exit code.
    """
    if len(argv) != 1:
        print("usage: python -m triage.simulate.fixtures DIR", file=sys.stderr)
        return 2
    for path in regenerate(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
