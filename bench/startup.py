"""Measure the fixed cost of `triage analyze` on a small bundle against `python -c "import polars"`.

    python bench/startup.py [--small DIR] [--repeats 10] [--format markdown|json|junit|html] [--tree DIR]

Each round runs, interleaved, `python -c "import polars"`, `triage analyze SMALL -o /dev/null` and,
with `--tree`, the same analysis from another source tree (PYTHONPATH), each in a child process. The
table shows the median wall and CPU seconds (user + system, every thread, from `wait4`) of the rounds
and their ratio to importing polars measured in the same rounds. One untimed run of each comes first,
so compiled modules are cached as they are after a user's first run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from perf import DEFAULT_SMALL, Sample, _env, run_child  # bench/ is not a package: perf.py sits beside


def _analyze(small: Path, fmt: str) -> list[str]:
    return [sys.executable, "-P", "-m", "triage", "analyze", str(small), "--format", fmt, "-o", "/dev/null"]


Job = tuple[list[str], dict[str, str]]  # a command and its environment


def measure(jobs: dict[str, Job], repeats: int, cwd: Path) -> dict[str, list[Sample]]:
    """Run every job once untimed, then `repeats` interleaved rounds.

    Args:
        jobs: command and environment by name.
        repeats: timed rounds.
        cwd: the children's working directory.

    Returns:
        Each job's samples, one per round.
    """
    for argv, env in jobs.values():
        run_child(argv, env, cwd)
    got: dict[str, list[Sample]] = {name: [] for name in jobs}
    for _ in range(repeats):
        for name, (argv, env) in jobs.items():
            got[name].append(run_child(argv, env, cwd))
    return got


def format_table(got: dict[str, list[Sample]], reference: str) -> str:
    """Render the medians and their ratios to the reference.

    Args:
        got: samples by job name.
        reference: the job the ratios divide by.

    Returns:
        The text to print.
    """
    ref_wall = statistics.median(s.seconds for s in got[reference])
    ref_cpu = statistics.median(s.cpu for s in got[reference])
    out = [f"{'':<16} {'wall s':>7} {'vs import':>9} {'CPU s':>7} {'vs import':>9} {'peak MB':>8}"]
    for name, samples in got.items():
        wall = statistics.median(s.seconds for s in samples)
        cpu = statistics.median(s.cpu for s in samples)
        rss = statistics.median(s.rss_kb for s in samples) / 1024
        out.append(
            f"{name:<16} {wall:>7.3f} {wall / ref_wall:>8.2f}x {cpu:>7.3f} {cpu / ref_cpu:>8.2f}x {rss:>8.0f}"
        )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table.

    Args:
        argv: command-line arguments (default: sys.argv[1:]).

    Returns:
        The exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=Path, default=DEFAULT_SMALL, help="the small bundle")
    parser.add_argument("--repeats", type=int, default=10, help="rounds; the median is shown")
    parser.add_argument("--format", default="markdown", help="the report format")
    parser.add_argument("--tree", type=Path, default=None, help="also run triage from this source tree")
    args = parser.parse_args(argv)
    small = args.small.resolve()
    jobs = {
        "import polars": ([sys.executable, "-c", "import polars"], _env(None)),
        "analyze": (_analyze(small, args.format), _env(None)),
    }
    if args.tree is not None:
        jobs["analyze --tree"] = (_analyze(small, args.format), _env(args.tree.resolve()))
    got = measure(jobs, args.repeats, Path("/"))
    print(f"{args.repeats} rounds; {small}; --format {args.format}")
    print(format_table(got, "import polars"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
