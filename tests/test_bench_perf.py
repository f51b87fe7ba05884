"""bench/perf.py: the performance benchmark runs end to end on tiny bundles and prints its table."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "perf.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_perf", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


perf = _load()


def test_tiny_run_prints_a_row_per_size_and_the_reference_ratios(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 1 MB base gives rows 1x, 2x and 4x growing in size, the time to classify them, the import ratio."""
    assert perf.main(["--base-mb", "1", "--repeats", "1", "--no-lnav", "--work", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    rows = [line.split() for line in printed.splitlines() if line.strip().split(" ")[0] in ("1x", "2x", "4x")]
    assert [row[0] for row in rows] == ["1x", "2x", "4x"]
    sizes = [float(row[1]) for row in rows]
    assert sizes == sorted(sizes) and sizes[0] > 0.5
    assert all(float(row[2]) > 0 and row[-1].endswith("x") for row in rows)
    # Each row also has the time to classify every line, its MB/s and the analysis against it.
    assert all(float(row[9]) > 0 and float(row[10]) > 0 and row[11].endswith("x") for row in rows)
    # And the analysis's CPU time (all threads, more than its wall time on two busy threads is possible),
    # its MB per CPU second and its CPU time against reading the lines.
    assert all(float(row[12]) > 0 and float(row[13]) > 0 and row[14].endswith("x") for row in rows)
    # At about the base size, the chattier controllers' bundles hold fewer IDs: fewest first.
    table = printed.split("fixed size, more correlation IDs", 1)[1].splitlines()
    chatty = [line.split() for line in table[2:5]]
    assert [row[0] for row in chatty] == ["17", "6", "0"]
    ids = [int(row[3]) for row in chatty]
    assert ids == sorted(ids) and ids[0] < ids[-1] and all(0.5 < float(row[1]) < 1.5 for row in chatty)
    assert 'python -c "import polars"' in printed and "small bundle analyze" in printed
    assert "classifying its lines" in printed
    assert "CPU seconds: import polars" in printed
    assert "lnav: left out (--no-lnav)" in printed
    # The bundles are cached: complete ones under their final names, their truth files beside them.
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir() and not p.name.endswith("-ds")) == [
        "healthy-1mb",
        "healthy-1mb-debug17",
        "healthy-1mb-debug6",
        "healthy-2mb",
        "healthy-4mb",
    ]
    assert (tmp_path / "healthy-1mb.expected.json").is_file()


def test_stages_prints_every_stage_of_one_analysis(capfd: pytest.CaptureFixture[str]) -> None:
    """--stages analyses one bundle and prints each stage's wall time, CPU time and peak RSS, in run order."""
    bundle = Path(__file__).resolve().parents[1] / "fixtures" / "bundles" / "01-jan14-1025"
    assert perf.main(["--stages", str(bundle)]) == 0
    lines = capfd.readouterr().out.splitlines()  # the child writes to the process's own stdout
    assert "cores; load average" in lines[0] and lines[0].endswith("01-jan14-1025")
    assert lines[1].split() == ["stage", "wall", "s", "CPU", "s", "peak", "MB"]
    names = [line[:24].strip() for line in lines[2:]]
    assert names == [
        "import polars",
        "import triage",
        "discover",
        "read and parse",
        "build the table",
        "test runs",
        "containers",
        "log health",
        "analysis",
        "rules",
        "render Markdown",
    ]
    figures = [[float(x) for x in line[24:].split()] for line in lines[2:]]
    assert all(len(row) == 3 and row[0] >= 0 and row[1] >= 0 for row in figures)
    peaks = [row[2] for row in figures]
    assert peaks == sorted(peaks) and peaks[0] > 10  # a peak never falls; Python and polars alone pass 10 MB


def test_classifying_puts_every_line_of_a_bundle_in_one_class() -> None:
    """The classifying reference counts each line of the small bundle once, buffered lines as buffered."""
    files = sorted(p for p in perf.DEFAULT_SMALL.rglob("*") if p.is_file())
    argv = [sys.executable, "-c", perf.CLASSIFY_SCRIPT, *map(str, files)]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    total, counts = out.split(" ", 1)
    classes = ast.literal_eval(counts)
    lines = sum(len(p.read_bytes().splitlines()) for p in files)
    assert int(total) == sum(classes.values()) == lines
    buffered = sum(p.read_bytes().count(b"Event buffered successfully") for p in files)
    assert classes["buffered"] == buffered > 0
