"""bench/load.py: each check runs under its address-space limit, idle and beside a busy core."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "load.py"
BUNDLE = ROOT / "fixtures" / "bundles" / "02-healthy"


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_load", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_the_load_bench_runs_a_check_idle_and_busy_and_compares_their_outputs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A small bundle's analysis completes under twice 400 MB, idle and busy, with the same output."""
    bench = _bench()
    assert bench.main(["--runs", "0", "--bundle", str(BUNDLE), "--analyze-peak-mb", "400", "--busy"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in lines[1:3]]
    assert [(r[3], r[4], r[5], r[6]) for r in rows] == [("800", "no", "yes", "0"), ("800", "yes", "yes", "0")]
    assert rows[0][-1] == rows[1][-1]  # the output's digest
    assert "busy core / idle: wall" in lines[3] and lines[3].endswith("output identical")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_a_check_under_a_limit_too_small_to_start_is_reported_as_not_done(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Under 120 MB, less than polars needs to start, the check is not done and the bench says so."""
    bench = _bench()
    assert (
        bench.main(["--runs", "0", "--bundle", str(BUNDLE), "--analyze-peak-mb", "120", "--factor", "1"]) == 1
    )
    row = capsys.readouterr().out.splitlines()[1].split()
    assert row[3:6] == ["120", "no", "no"]
    assert row[6] != "0"
