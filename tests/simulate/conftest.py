"""Shared fixtures for the simulator tests: one small bundle generated once per session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.simulate import simulate


@pytest.fixture(scope="session")
def small_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A 2-process healthy bundle and its truth."""
    out = tmp_path_factory.mktemp("sim") / "small"
    truth = simulate("healthy", out, seed=21, processes=2, specs=12)
    return out, json.loads(truth.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def fault_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A bundle with 400 rejections, 500s, slow writes and sampling, with its truth."""
    out = tmp_path_factory.mktemp("sim") / "faults"
    truth = simulate(
        "healthy",
        out,
        seed=5,
        processes=2,
        specs=40,
        faults=("rejections-400", "db-errors-500", "slow-writes", "log-sampling"),
        fail_fast=False,
    )
    return out, json.loads(truth.read_text(encoding="utf-8"))
