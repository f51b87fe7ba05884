"""Run `triage history` and `triage analyze` under an address-space limit, with and without a busy core.

    python bench/load.py [--runs 5000] [--history-peak-mb 240] [--bundle DIR | --bundle-mb N]
                         [--analyze-peak-mb 3077] [--factor 2] [--busy] [--repeats 1]

Each check runs in a child process whose address space is limited (`resource.setrlimit(RLIMIT_AS)` in
`preexec_fn`, what `ulimit -v` sets) to `--factor` times the peak RSS the README documents for it:

* `triage history DIR --format json` over `--runs` runs (the dataset `bench/history.py` builds and
  caches under `--cache`; built here when missing);
* `triage analyze BUNDLE` of `--bundle`, or of a healthy bundle of `--bundle-mb` MB simulated and
  cached under `--cache` (`bench/perf.py`'s bundles: `triage simulate healthy --size-mb`).

With `--busy`, each check runs again while a CPU burner (`python -c "while True: pass"`) keeps one
core busy. For each run it prints the limit, whether it completed, the exit code, wall and CPU seconds
(user and system, every thread), peak RSS (`wait4`), peak address space (VmPeak, read from
`/proc/PID/status` while it runs) and the first 12 hex digits of the output's SHA-256, then the ratio
of the wall time with the busy core to without. A check that aborts shows its exit code (-6: polars
aborted on a failed allocation) and the last line it wrote on stderr.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLL_S = 0.02  # how often VmPeak is read while a child runs
TIMEOUT_S = 3600.0  # a child still running after this long is killed


@dataclass(frozen=True)
class Check:
    """One command to run under a limit."""

    name: str
    argv: tuple[str, ...]
    limit_mb: float


@dataclass(frozen=True)
class Result:
    """How one run of a check went."""

    exit_code: int
    wall_s: float
    cpu_s: float
    rss_mb: float
    vm_peak_mb: float
    digest: str
    last_error: str


def _vm_peak_kb(pid: int) -> int:
    """The VmPeak of a running process in kB, 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_limited(argv: Sequence[str], limit_mb: float, cwd: Path, timeout_s: float = TIMEOUT_S) -> Result:
    """Run a command under an address-space limit and measure it.

    Args:
        argv: the command.
        limit_mb: its RLIMIT_AS in MB.
        cwd: its working directory.
        timeout_s: when to kill it (exit code -9): a thread polars cannot start under the limit can
            leave it waiting for ever.

    Returns:
        How it went.
    """
    size = int(limit_mb * 2**20)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err, preexec_fn=limit)
        peak = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _vm_peak_kb(proc.pid))
            if time.perf_counter() - start > timeout_s:
                proc.kill()
            time.sleep(POLL_S)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        digest = hashlib.sha256(out.read()).hexdigest()[:12]
        err.seek(0)
        lines = err.read().decode("utf-8", "replace").strip().splitlines()
    return Result(
        proc.returncode,
        wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
        peak / 1024,
        digest,
        lines[-1][:100] if lines else "",
    )


def history_dataset(cache: Path, runs: int, base: int) -> Path:
    """The exports of `runs` runs that `bench/history.py` builds (built now when not cached)."""
    dataset = cache / f"history-{runs}-{base}" / "exports"
    if not (dataset / f".built-{runs}").exists():
        build = [sys.executable, str(ROOT / "bench" / "history.py"), "--build-only"]
        subprocess.run([*build, "--runs", str(runs), "--base", str(base), "--cache", str(cache)], check=True)
    return dataset


def simulated_bundle(cache: Path, size_mb: float) -> Path:
    """A healthy bundle of about `size_mb` MB, simulated once and cached (as `bench/perf.py` does)."""
    spec = importlib.util.spec_from_file_location("bench_perf", ROOT / "bench" / "perf.py")
    assert spec is not None and spec.loader is not None
    perf = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = perf
    spec.loader.exec_module(perf)
    cache.mkdir(parents=True, exist_ok=True)
    path: Path = perf.build_bundle(cache, size_mb, 1, dict(os.environ)).path
    return path


def _size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def measure(checks: Sequence[Check], busy: bool, repeats: int) -> list[tuple[Check, bool, Result]]:
    """Run each check `repeats` times, then again beside a CPU burner when `busy`, interleaved.

    Args:
        checks: what to run.
        busy: whether to run each check with a core kept busy too.
        repeats: rounds.

    Returns:
        (check, busy or not, result) for every run, in the order they ran.
    """
    rows = []
    for _ in range(repeats):
        for check in checks:
            for loaded in (False, True) if busy else (False,):
                burner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if loaded else None
                try:
                    rows.append((check, loaded, run_limited(check.argv, check.limit_mb, ROOT)))
                finally:
                    if burner is not None:
                        burner.kill()
                        burner.wait()
    return rows


def report(rows: Sequence[tuple[Check, bool, Result]]) -> list[str]:
    """The table of every run and, per check, the busy-to-idle ratio of median wall and CPU times."""
    head = (
        f"{'check':28} {'limit MB':>8} {'busy':>4} {'done':>4} {'exit':>4} {'wall s':>7} {'CPU s':>7} "
        f"{'peak MB':>7} {'VmPeak MB':>9}  output"
    )
    lines = [head]
    for check, loaded, r in rows:
        done, core = ("yes" if r.exit_code == 0 else "no"), ("yes" if loaded else "no")
        lines.append(
            f"{check.name:28} {check.limit_mb:8.0f} {core:>4} {done:>4} {r.exit_code:4d} "
            f"{r.wall_s:7.2f} {r.cpu_s:7.2f} {r.rss_mb:7.0f} {r.vm_peak_mb:9.0f}  "
            + (r.digest if r.exit_code == 0 else r.last_error)
        )
    for check in dict.fromkeys(c for c, _, _ in rows):
        idle = [r for c, b, r in rows if c == check and not b and r.exit_code == 0]
        busy = [r for c, b, r in rows if c == check and b and r.exit_code == 0]
        if idle and busy:
            wall = statistics.median(r.wall_s for r in busy) / statistics.median(r.wall_s for r in idle)
            cpu = statistics.median(r.cpu_s for r in busy) / statistics.median(r.cpu_s for r in idle)
            same = len({r.digest for r in idle + busy}) == 1
            lines.append(
                f"{check.name}: busy core / idle: wall {wall:.2f}x, CPU {cpu:.2f}x; "
                f"output {'identical' if same else 'DIFFERS'}"
            )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Build or find the inputs, run the checks and print the table.

    Args:
        argv: command-line arguments (sys.argv[1:] when None).

    Returns:
        0 when every run completed, 1 otherwise.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5000, help="runs in the history (0: no history check)")
    parser.add_argument("--base", type=int, default=40, help="simulated runs the history is made from")
    parser.add_argument("--history-peak-mb", type=float, default=240, help="history's documented peak RSS")
    parser.add_argument("--bundle", type=Path, help="the bundle to analyse")
    parser.add_argument("--bundle-mb", type=float, help="simulate a healthy bundle of this size to analyse")
    parser.add_argument("--analyze-peak-mb", type=float, default=3077, help="analyze's documented peak RSS")
    parser.add_argument("--factor", type=float, default=2.0, help="limit = factor x documented peak")
    parser.add_argument("--busy", action="store_true", help="also run each check with a core kept busy")
    parser.add_argument("--repeats", type=int, default=1, help="rounds")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench-history")
    args = parser.parse_args(argv)
    triage = (sys.executable, "-m", "triage")
    checks = []
    if args.runs:
        exports = history_dataset(args.cache, args.runs, args.base)
        limit = args.factor * args.history_peak_mb
        checks.append(
            Check(f"history {args.runs} runs", (*triage, "history", str(exports), "--format", "json"), limit)
        )
    bundle = args.bundle or (simulated_bundle(args.cache, args.bundle_mb) if args.bundle_mb else None)
    if bundle is not None:
        limit = args.factor * args.analyze_peak_mb
        checks.append(Check(f"analyze {_size_mb(bundle):.1f} MB", (*triage, "analyze", str(bundle)), limit))
    rows = measure(checks, args.busy, args.repeats)
    print("\n".join(report(rows)))
    return 0 if all(r.exit_code == 0 for _, _, r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
