"""Measure `triage history` over thousands of exported runs, against DuckDB over the same files.

    python bench/history.py [--runs 5000] [--base 40] [--cache DIR] [--repeats 3]

`--base` small runs are simulated (the race-timeout suite, 16 specs, with a different mix of faults
and seed each), analysed and exported once (`triage analyze --export`), and cached under `--cache`
(default: `triage-bench-history` in the system temp dir). One of them is timed end to end, to show
what generating every run that way would cost. The `--runs` runs of the history are then made from
the base runs' export rows: run i copies base run i mod `--base`, re-dated an hour after run i-1 and
given its own run id, and is written as its own `runs`, `specs` and `findings` files in the Hive
layout of an export. Their event tables are not copied (history never reads them; the base runs'
events stay in the dataset). The made dataset is cached too.

The runs are built in a child process, so that this one stays small: a child's peak RSS counts the
memory of the process it was forked from. Then, in child processes, each round measures (wall time,
and peak RSS from `wait4`):

* `triage history DIR --format json` over all runs;
* DuckDB (`python -c`, duckdb imported) running README's views and its recurring-causes query over
  the same files;
* `python -c "import polars"` and `python -c "import duckdb"`, each tool's start-up.

The median of `--repeats` rounds is shown, with triage's figures as ratios of DuckDB's.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAULTS = (
    "timer-stall",
    "missing-event",
    "duplicate-transition",
    "slow-writes",
    "rejections-400",
    "db-errors-500",
)
TABLES = ("runs", "specs", "findings")
START = datetime(2025, 1, 1, 0, 0, 0)


def _sql(name: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", text, re.S)
    return next(b for b in blocks if b.startswith(f"-- {name}"))


def build_base(base: Path, count: int) -> float:
    """Simulate, analyse and export `count` small runs under `base` (cached); time one of them.

    Args:
        base: the directory of the base runs' bundles and exports.
        count: how many.

    Returns:
        Seconds one run took to simulate, analyse and export (the first not yet cached; 0 if all were).
    """
    from click.testing import CliRunner

    from triage.cli import main
    from triage.simulate import simulate

    one = 0.0
    for i in range(count):
        bundle = base / "bundles" / f"run{i:04d}"
        if (base / "done" / bundle.name).exists():
            continue
        start = time.perf_counter()
        shutil.rmtree(bundle, ignore_errors=True)
        rng = random.Random(i)
        faults = tuple(sorted(rng.sample(FAULTS, rng.randint(0, 2))))
        simulate("race-timeout", bundle, seed=5 + i % 7, faults=faults, fail_fast=False)
        result = CliRunner().invoke(
            main, ["analyze", str(bundle), "--export", str(base / "exports"), "-o", os.devnull]
        )
        if result.exit_code != 0:
            raise RuntimeError(f"{bundle}: {result.output.strip()}")
        one = one or time.perf_counter() - start
        (base / "done").mkdir(exist_ok=True)
        (base / "done" / bundle.name).touch()
    return one


def build_history(base: Path, target: Path, runs: int) -> None:
    """Write `runs` re-dated, re-identified copies of the base runs' rows under `target` (cached).

    Args:
        base: where `build_base` exported the base runs.
        target: the dataset's root.
        runs: how many runs it holds.
    """
    import polars as pl

    from triage.report.export import write_table

    marker = target / f".built-{runs}"
    if marker.exists():
        return
    shutil.rmtree(target, ignore_errors=True)
    frames = {
        t: pl.read_parquet(base / "exports" / t / "**" / "*.parquet", hive_partitioning=False).sort("run_id")
        for t in TABLES
    }
    ids = frames["runs"].get_column("run_id").to_list()
    for i in range(runs):
        source = ids[i % len(ids)]
        at = START + timedelta(hours=i)
        rid = f"signalprocessing-{at:%Y%m%d-%H%M%S}-{i:012x}"
        for table in TABLES:
            rows = frames[table].filter(pl.col("run_id") == source).with_columns(pl.lit(rid).alias("run_id"))
            if table == "runs":
                rows = rows.with_columns(pl.lit(at.isoformat()).alias("collected_at"))
            path = target / table / "service=signalprocessing" / f"date={at:%Y-%m-%d}" / f"{rid}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            write_table(rows, path)
    events = base / "exports" / "events"
    if events.is_dir():
        shutil.copytree(events, target / "events")
    marker.touch()


def run_child(argv: Sequence[str], cwd: Path) -> tuple[float, int]:
    """Run a command; its wall time in seconds and its own peak RSS in kB (`wait4`)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {err.strip()[-500:]}")
    return seconds, int(usage.ru_maxrss)


def duckdb_script() -> str:
    """The child's program: README's DuckDB views and recurring-causes query over `exports/`."""
    views, query = _sql("DuckDB: views"), _sql("recurring causes")
    return (
        f"import duckdb\ncon = duckdb.connect()\ncon.execute({views!r})\ncon.execute({query!r}).fetchall()\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Build (or reuse) the history and print the measurements.

    Args:
        argv: command-line arguments (sys.argv[1:] when None).

    Returns:
        The exit code.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5000, help="runs in the history")
    parser.add_argument("--base", type=int, default=40, help="simulated runs the history is made from")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench-history")
    parser.add_argument("--repeats", type=int, default=3, help="rounds; the median is shown")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    cache: Path = args.cache
    dataset = cache / f"history-{args.runs}-{args.base}"
    if args.build_only:
        one = build_base(cache / "base", args.base)
        if one:
            minutes = one * args.runs / 60
            print(
                f"one small run simulated, analysed, exported: {one:.2f} s; {args.runs} so: {minutes:.0f} min"
            )
        build_history(cache / "base", dataset / "exports", args.runs)
        return 0
    start = time.perf_counter()
    build = [sys.executable, __file__, "--build-only", "--runs", str(args.runs), "--base", str(args.base)]
    subprocess.run([*build, "--cache", str(cache)], check=True)
    files = sum(1 for _ in dataset.rglob("*.parquet"))
    size = sum(p.stat().st_size for p in dataset.rglob("*.parquet")) / 1e6
    print(
        f"history of {args.runs} runs from {args.base} simulated ones: {files} files, {size:.1f} MB "
        f"(made or found in {time.perf_counter() - start:.1f} s)"
    )
    commands = {
        "triage history": [
            sys.executable,
            "-m",
            "triage",
            "history",
            "exports",
            "--format",
            "json",
            "-o",
            os.devnull,
        ],
        "duckdb query": [sys.executable, "-c", duckdb_script()],
        "import polars": [sys.executable, "-c", "import polars"],
        "import duckdb": [sys.executable, "-c", "import duckdb"],
    }
    samples: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
    for _ in range(args.repeats):
        for name, command in commands.items():
            samples[name].append(run_child(command, dataset))
    median = {
        name: (statistics.median(s for s, _ in rows), statistics.median(r for _, r in rows) / 1024)
        for name, rows in samples.items()
    }
    print(f"{'':16} {'s':>7} {'MB':>7}")
    for name, (seconds, mb) in median.items():
        print(f"{name:16} {seconds:7.2f} {mb:7.0f}")
    ours, theirs = median["triage history"], median["duckdb query"]
    print(f"triage history / duckdb: time {ours[0] / theirs[0]:.2f}x, peak RSS {ours[1] / theirs[1]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
