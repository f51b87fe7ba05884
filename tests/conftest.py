"""Shared test options."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# The suite draws the same examples on every run, so CI is reproducible. HYPOTHESIS_PROFILE=explore
# draws new ones each run (repeat it to search further), as does `bench/fuzz.py --seed`. Neither has a
# deadline: an example's time says how loaded the machine is, not whether the code is right.
settings.register_profile("suite", derandomize=True, deadline=None)
settings.register_profile("explore", derandomize=False, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite fixtures/golden/ from the current output (review the diff like code).",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Whether this run rewrites golden files instead of comparing with them."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(autouse=True)
def _outside_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see the same output inside a GitHub Actions job as outside one (no --github by default)."""
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)
