"""bench/history.py: the history benchmark runs end to end on a few runs and prints its ratios."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import polars as pl
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "history.py"


def test_the_history_benchmark_makes_its_runs_and_prints_both_engines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Six runs made from two simulated ones are six re-dated runs, and both engines are timed over them."""
    pytest.importorskip("duckdb")
    spec = importlib.util.spec_from_file_location("bench_history", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    assert module.main(["--runs", "6", "--base", "2", "--repeats", "1", "--cache", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "triage history / duckdb: time" in out
    runs = pl.read_parquet(tmp_path / "history-6-2" / "exports" / "runs" / "**" / "*.parquet")
    assert runs["run_id"].n_unique() == 6
    assert runs["collected_at"].to_list() == sorted(runs["collected_at"].to_list())
    assert runs["collected_at"].n_unique() == 6
