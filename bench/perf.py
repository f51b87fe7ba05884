"""Measure end-to-end speed and memory of `triage analyze` on simulated bundles of growing size.

    python bench/perf.py [--base-mb 64] [--work /tmp/triage-bench] [--repeats 3] [--no-lnav]
                         [--small DIR] [--tree DIR]
    python bench/perf.py --stages BUNDLE [--tree DIR]

Bundles of 1x, 2x and 4x `--base-mb` are simulated once (`triage simulate healthy DIR --size-mb N`)
and cached under `--work`. So are two more bundles of the base size whose controller prints extra
debug lines per reconcile (`--debug-lines`): the same bytes hold about a half and a quarter of the
specs and correlation IDs, so time can be read against the number of IDs at a fixed size.

Every measurement runs in a child process, so the figures include interpreter start-up, imports and
writing the report, like a user's run. Peak RSS and CPU time (user + system, every thread) are the
child's own (`wait4` resource usage); on a shared machine CPU time moves far less than wall time.
The machine is shared and noisy, so each round runs every measurement once, interleaved, and the
table shows the median of `--repeats` rounds. One untimed run comes first, so
compiled modules and the report template are cached as they are after a user's first run.

Reference points measured in the same rounds:

* polars reading the bundle's files as lines (one String column per file), in a child that also
  starts Python and imports polars: the floor for any polars-based analysis;
* classifying every line: the same child reading the files in 8 MiB blocks on two threads and
  putting every line in a class (the audit store's buffered, tick and per-event lines, DataStorage's
  writes and requests, Ginkgo's structure, STEP markers, zap JSON and console records, blank, other)
  by literal and anchored tests, keeping only the counts. An analysis that accounts for every line
  needs at least this; decoding the fields the analysis reads, the pipeline, the rules and the report
  come on top;
* `python -c "import polars"` against the analysis of a small bundle (`--small`) and against
  classifying that bundle's lines;
* lnav 0.11 counting one message in the DataStorage log, against `triage analyze` of a bundle that
  holds only that log. lnav is installed with apt-get when missing and the user is root.

`--stages BUNDLE` analyses one bundle in a child and prints each stage's wall and CPU time and the peak
RSS after it: which step takes the time.

`--tree DIR` runs triage from another source tree (PYTHONPATH), to compare two versions of the code
with the same command.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SMALL = ROOT / "fixtures" / "bundles" / "01-jan14-1025"
SCALES = (1, 2, 4)
# Controller debug lines per reconcile that give about 1/4 and 1/2 of the base bundle's specs and IDs.
DEBUG_LINES = (17, 6)
LNAV_QUERY = ";SELECT count(*) FROM all_logs WHERE log_body LIKE '%Batch audit events created successfully%'"
MB = 1_000_000

# Read every file as one String column, the fastest way polars has to turn a file into lines; the
# separator is a control byte that log lines do not use, and ragged rows are cut rather than failing.
READ_LINES_SCRIPT = """
import sys
import polars as pl
n = 0
for path in sys.argv[1:]:
    frame = pl.read_csv(
        path, has_header=False, separator="\\x1f", quote_char=None, new_columns=["raw"],
        schema_overrides={"raw": pl.String}, encoding="utf8-lossy", truncate_ragged_lines=True,
    )
    n += frame.height
print(n)
"""


# The least per-line work any analysis that accounts for every line needs: read the files in blocks
# of lines on two threads and put every line in a class by literal and anchored tests (the audit
# store's lines, DataStorage's, Ginkgo's structure, STEP markers, zap records), keeping only counts.
# Nothing is decoded: what triage does beyond this (decoding fields, the pipeline, the rules, the
# report) is what its time above this reference buys.
CLASSIFY_SCRIPT = """
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
import polars as pl
raw = pl.col("raw").fill_null("")
def has(text):
    return raw.str.contains(text, literal=True)
CLASS = (
    pl.when(has("Event buffered successfully")).then(pl.lit("buffered"))
    .when(has("Timer tick received")).then(pl.lit("tick"))
    .when(has("StoreAudit called") | has("Validation passed") | has("writer started")).then(pl.lit("store"))
    .when(has("audit-store")).then(pl.lit("store other"))
    .when(has("Batch audit events created successfully")).then(pl.lit("ds write"))
    .when(has("HTTP request")).then(pl.lit("ds request"))
    .when(raw.str.contains(r"^\\s*STEP: ")).then(pl.lit("step"))
    .when(raw.str.contains(r"^(?:-{10,}|[•SP]|\\[[A-Z]+\\]|Ran \\d|Summarizing|Running Suite)"))
    .then(pl.lit("ginkgo"))
    .when(raw.str.contains(r'^\\s*\\{\\s*"level"')).then(pl.lit("zap json"))
    .when(raw.str.contains(r"^\\s*\\d{4}-\\d\\d-\\d\\dT\\S+\\t")).then(pl.lit("zap console"))
    .when(raw.str.strip_chars() == "").then(pl.lit("blank"))
    .otherwise(pl.lit("other"))
)
def piece(data):
    lines = pl.read_csv(
        data, has_header=False, separator="\\x1f", quote_char=None, new_columns=["raw"],
        schema_overrides={"raw": pl.String}, encoding="utf8-lossy", truncate_ragged_lines=True,
    )
    counts = lines.lazy().group_by(CLASS.alias("class")).len().collect()
    return dict(zip(counts["class"], counts["len"]))
def blocks(path, size=8 << 20):
    with open(path, "rb") as f:
        rest = b""
        while chunk := f.read(size):
            chunk = rest + chunk
            cut = chunk.rfind(b"\\n") + 1
            rest = chunk[cut:] if cut else chunk
            if cut:
                yield chunk[:cut]
        if rest:
            yield rest
total, waiting = Counter(), []
with ThreadPoolExecutor(2) as pool:  # three blocks in flight at most: memory stays flat
    for block in (block for path in sys.argv[1:] for block in blocks(path)):
        waiting.append(pool.submit(piece, block))
        if len(waiting) > 2:
            total.update(waiting.pop(0).result())
    for part in waiting:
        total.update(part.result())
print(sum(total.values()), dict(sorted(total.items())))
"""


# One analysis, stage by stage: wall and CPU time (all threads) each stage took and the peak RSS after
# it. The stages are api.analyze's own calls, timed where api.py looks them up.
STAGES_SCRIPT = """
import os, resource, sys, time
last = [time.perf_counter(), time.process_time()]
def mark(name):
    wall, cpu = time.perf_counter(), time.process_time()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{name:<24} {wall - last[0]:>8.3f} {cpu - last[1]:>8.3f} {rss:>8.0f}")
    last[:] = [wall, cpu]
print(f"{'stage':<24} {'wall s':>8} {'CPU s':>8} {'peak MB':>8}")
import polars
mark("import polars")
import triage.api as api
from triage.report.render import render
mark("import triage")
def timed(name, fn):
    def run(*args, **kwargs):
        out = fn(*args, **kwargs)
        mark(name)
        return out
    return run
for name, attr in (("discover", "discover"), ("read and parse", "ingest"), ("build the table", "build_table"),
                   ("test runs", "summarize_test_runs"), ("containers", "summarize_containers"),
                   ("log health", "log_health"), ("analysis", "build_analysis"), ("rules", "run_rules")):
    setattr(api, attr, timed(name, getattr(api, attr)))
report = api.analyze(sys.argv[1])
with open(os.devnull, "w", encoding="utf-8") as out:
    out.write(render(report, "markdown"))
mark("render Markdown")
"""


COUNTS_SCRIPT = """
import json, sys
data = json.load(open(sys.argv[1], encoding="utf-8"))
print(data["tests"]["ran"], len({e["correlation_id"] for e in data["events"]}))
"""


@dataclass(frozen=True)
class Sample:
    """One run of a child process: wall time, peak RSS and CPU time (user + system, all threads)."""

    seconds: float
    rss_kb: int
    cpu: float = 0.0


@dataclass(frozen=True)
class Job:
    """A command measured once per round."""

    key: str
    argv: tuple[str, ...]


@dataclass(frozen=True)
class Bundle:
    """A simulated bundle and the files the reference measurements read."""

    scale: int
    path: Path
    size_bytes: int
    files: tuple[Path, ...]
    ds_log: Path | None
    ds_only: Path | None
    debug_lines: int = 0
    specs: int = 0
    ids: int = 0


def _env(tree: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    # An installed package has its modules compiled; children may cache them like a user's runs do.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tree), env.get("PYTHONPATH", "")) if p)
    return env


def run_child(argv: Sequence[str], env: dict[str, str], cwd: Path) -> Sample:
    """Run a command to completion and measure it.

    Args:
        argv: the command.
        env: its environment.
        cwd: its working directory (not a source tree: `python -m` puts it first on sys.path).

    Returns:
        Its wall time, peak resident set size and CPU time.

    Raises:
        RuntimeError: the command failed.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # wait4 reports the resource usage of this child alone, unlike getrusage(RUSAGE_CHILDREN).
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {err.strip()[-500:]}")
    return Sample(seconds, int(usage.ru_maxrss), usage.ru_utime + usage.ru_stime)


def _files(path: Path) -> tuple[Path, ...]:
    return tuple(sorted(p for p in path.rglob("*") if p.is_file()))


def _ds_only(path: Path, ds_log: Path) -> Path:
    # A bundle holding only the DataStorage log, in its run directory, so that discovery accepts it.
    target = path.with_name(path.name + "-ds") / ds_log.parent.name / ds_log.name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(ds_log, target)
        except OSError:
            shutil.copyfile(ds_log, target)
    return target.parent.parent


def _counts(truth: Path, env: dict[str, str]) -> tuple[int, int]:
    """Specs run and distinct correlation IDs, from a bundle's ground truth.

    The truth of a large bundle takes hundreds of MB to load, so a child reads it: a child forked
    from a large parent starts with the parent's peak RSS, which would spoil every later measurement.
    """
    out = subprocess.run(
        [sys.executable, "-c", COUNTS_SCRIPT, str(truth)], env=env, capture_output=True, text=True, check=True
    )
    specs, ids = out.stdout.split()
    return int(specs), int(ids)


def build_bundle(work: Path, size_mb: float, scale: int, env: dict[str, str], debug_lines: int = 0) -> Bundle:
    """Simulate a healthy bundle of about `size_mb` MB, or reuse the one cached in `work`.

    Args:
        work: cache directory.
        size_mb: the simulator's size knob.
        scale: the multiple of the base size, for the table.
        env: environment of the simulator.
        debug_lines: the simulator's knob of extra controller lines per reconcile.

    Returns:
        The bundle.
    """
    suffix = f"-debug{debug_lines}" if debug_lines else ""
    path = work / f"healthy-{size_mb:g}mb{suffix}"
    truth = path.with_name(path.name + ".expected.json")
    if not path.is_dir() or not truth.is_file():
        partial = work / f"partial-{path.name}"
        shutil.rmtree(partial, ignore_errors=True)
        cmd = [
            sys.executable,
            "-m",
            "triage",
            "simulate",
            "healthy",
            str(partial),
            "--size-mb",
            f"{size_mb:g}",
            *(["--debug-lines", str(debug_lines)] if debug_lines else []),
        ]
        subprocess.run(cmd, env=env, cwd=work, check=True, stdout=subprocess.DEVNULL)
        # Renamed only when complete, so an interrupted run never leaves a half bundle in the cache.
        partial.with_name(partial.name + ".expected.json").rename(truth)
        # A bundle cached without its truth is built again, with its DataStorage-only copy.
        for stale in (path, path.with_name(path.name + "-ds")):
            shutil.rmtree(stale, ignore_errors=True)
        partial.rename(path)
    files = _files(path)
    logs = [p for p in files if "datastorage" in p.name and p.suffix == ".log"]
    ds_log = max(logs, key=lambda p: p.stat().st_size) if logs else None
    ds_only = _ds_only(path, ds_log) if ds_log is not None else None
    specs, ids = _counts(truth, env)
    size = sum(p.stat().st_size for p in files)
    return Bundle(scale, path, size, files, ds_log, ds_only, debug_lines, specs, ids)


def lnav_path(install: bool) -> str | None:
    """Find lnav, installing the Debian package when allowed and missing.

    Args:
        install: whether to try `apt-get install -y lnav` (as root only).

    Returns:
        The lnav executable, or None when it is unavailable.
    """
    found = shutil.which("lnav")
    if found or not install or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return found
    subprocess.run(["apt-get", "install", "-y", "lnav"], check=False, capture_output=True)
    return shutil.which("lnav")


def _jobs(bundles: Sequence[Bundle], chatty: Sequence[Bundle], small: Path, lnav: str | None) -> list[Job]:
    py = sys.executable
    jobs = [
        Job("import", (py, "-c", "import polars")),
        Job("small", (py, "-m", "triage", "analyze", str(small), "-o", os.devnull)),
        Job("small_classify", (py, "-c", CLASSIFY_SCRIPT, *map(str, _files(small)))),
    ]
    for b in bundles:
        jobs.append(Job(f"analyze{b.scale}", (py, "-m", "triage", "analyze", str(b.path), "-o", os.devnull)))
        jobs.append(Job(f"lines{b.scale}", (py, "-c", READ_LINES_SCRIPT, *map(str, b.files))))
        jobs.append(Job(f"classify{b.scale}", (py, "-c", CLASSIFY_SCRIPT, *map(str, b.files))))
        if lnav is not None and b.ds_log is not None and b.ds_only is not None:
            jobs.append(Job(f"lnav{b.scale}", (lnav, "-n", "-c", LNAV_QUERY, str(b.ds_log))))
            jobs.append(
                Job(f"ds{b.scale}", (py, "-m", "triage", "analyze", str(b.ds_only), "-o", os.devnull))
            )
    for b in chatty:
        jobs.append(Job(_key(b), (py, "-m", "triage", "analyze", str(b.path), "-o", os.devnull)))
    return jobs


def measure(jobs: Sequence[Job], repeats: int, env: dict[str, str], cwd: Path) -> dict[str, Sample]:
    """Run every job once per round, interleaved, and keep the median of each.

    Args:
        jobs: the commands.
        repeats: rounds.
        env: environment of the children.
        cwd: their working directory.

    Returns:
        {job key: median time and median peak RSS}.
    """
    samples: dict[str, list[Sample]] = {job.key: [] for job in jobs}
    for job in jobs:  # untimed: compiled modules and templates are cached, as after any earlier run
        if job.key == "small":
            run_child(job.argv, env, cwd)
    for _ in range(repeats):
        for job in jobs:
            samples[job.key].append(run_child(job.argv, env, cwd))
    return {
        key: Sample(
            statistics.median(s.seconds for s in got),
            int(statistics.median(s.rss_kb for s in got)),
            statistics.median(s.cpu for s in got),
        )
        for key, got in samples.items()
    }


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b > 0 else "-"


def format_tables(
    bundles: Sequence[Bundle],
    chatty: Sequence[Bundle],
    got: dict[str, Sample],
    lnav: str | None,
    no_lnav: bool,
) -> str:
    """Render the measurements as plain-text tables.

    Args:
        bundles: the bundles, smallest first.
        chatty: bundles of the base size with fewer specs and IDs, fewest first.
        got: median samples by job key.
        lnav: the lnav executable, None when unavailable.
        no_lnav: whether lnav was left out on purpose.

    Returns:
        The text to print.
    """
    out = [
        "end to end: triage analyze BUNDLE -o /dev/null (median); lines = python + import polars + "
        "read every file as lines; classify = the same in blocks on two threads + put every line in a class",
        f"{'size':>5} {'MB':>8} {'analyze s':>10} {'MB/s':>7} {'s/MB vs 1x':>10} {'peak MB':>8} "
        f"{'RSS/input':>9} {'lines s':>8} {'vs lines':>8} {'class s':>8} {'class MB/s':>10} {'vs class':>8} "
        f"{'CPU s':>7} {'CPU MB/s':>8} {'CPU vs lines':>12}",
    ]
    base_per_mb = None
    for b in bundles:
        run, lines, classed = got[f"analyze{b.scale}"], got[f"lines{b.scale}"], got[f"classify{b.scale}"]
        mb = b.size_bytes / MB
        per_mb = run.seconds / mb
        base_per_mb = base_per_mb or per_mb
        rss_ratio = run.rss_kb * 1024 / b.size_bytes
        out.append(
            f"{b.scale:>4}x {mb:>8.1f} {run.seconds:>10.2f} {mb / run.seconds:>7.1f} "
            f"{per_mb / base_per_mb:>10.2f} {run.rss_kb / 1024:>8.0f} {rss_ratio:>9.1f} "
            f"{lines.seconds:>8.2f} {_ratio(run.seconds, lines.seconds):>8} "
            f"{classed.seconds:>8.2f} {mb / classed.seconds:>10.1f} "
            f"{_ratio(run.seconds, classed.seconds):>8} "
            f"{run.cpu:>7.2f} {mb / run.cpu if run.cpu else 0:>8.1f} {_ratio(run.cpu, lines.cpu):>12}"
        )
    out += _ids_table([*chatty, bundles[0]], [got[_key(b)] for b in (*chatty, bundles[0])])
    imp, small, small_class = got["import"], got["small"], got["small_classify"]
    out += [
        "",
        f'python -c "import polars": {imp.seconds:.3f} s, {imp.rss_kb / 1024:.0f} MB; small bundle '
        f"analyze: {small.seconds:.3f} s, {small.rss_kb / 1024:.0f} MB; "
        f"ratio {small.seconds / imp.seconds:.2f}x; classifying its lines: {small_class.seconds:.3f} s, "
        f"ratio {small_class.seconds / imp.seconds:.2f}x",
        f"CPU seconds: import polars {imp.cpu:.3f}, small bundle analyze {small.cpu:.3f} "
        f"({_ratio(small.cpu, imp.cpu)}), classifying its lines {small_class.cpu:.3f} "
        f"({_ratio(small_class.cpu, imp.cpu)})",
    ]
    if no_lnav:
        out.append("lnav: left out (--no-lnav)")
    elif lnav is None:
        out.append("lnav: unavailable (not installed and could not be installed)")
    else:
        out += [
            "",
            "lnav -n -c 'SELECT count(*) ... LIKE %Batch audit events created successfully%' DS_LOG against "
            "triage analyze of a bundle holding only DS_LOG",
            f"{'size':>5} {'log MB':>7} {'lnav s':>7} {'lnav MB':>8} {'ours s':>7} {'ours MB':>8} "
            f"{'time':>6} {'RSS':>6}",
        ]
        for b in bundles:
            if f"lnav{b.scale}" not in got or b.ds_log is None:
                continue
            ln, ours = got[f"lnav{b.scale}"], got[f"ds{b.scale}"]
            out.append(
                f"{b.scale:>4}x {b.ds_log.stat().st_size / MB:>7.1f} {ln.seconds:>7.2f} "
                f"{ln.rss_kb / 1024:>8.0f} {ours.seconds:>7.2f} {ours.rss_kb / 1024:>8.0f} "
                f"{_ratio(ours.seconds, ln.seconds):>6} {_ratio(ours.rss_kb, ln.rss_kb):>6}"
            )
    return "\n".join(out)


def _key(bundle: Bundle) -> str:
    return f"debug{bundle.debug_lines}" if bundle.debug_lines else f"analyze{bundle.scale}"


def _ids_table(bundles: Sequence[Bundle], runs: Sequence[Sample]) -> list[str]:
    """Time against the number of correlation IDs and specs at about one size, fewest IDs first."""
    out = [
        "",
        "fixed size, more correlation IDs: the same analyze, on bundles of about the base size whose "
        "controller prints N extra debug lines per reconcile",
        f"{'debug N':>7} {'MB':>7} {'specs':>6} {'IDs':>6} {'IDs vs first':>12} {'analyze s':>10} "
        f"{'s/MB vs first':>13} {'s/1k IDs':>9}",
    ]
    first_ids, first_per_mb = bundles[0].ids or 1, runs[0].seconds / (bundles[0].size_bytes / MB)
    for b, run in zip(bundles, runs, strict=True):
        mb = b.size_bytes / MB
        per_k = run.seconds / b.ids * 1000 if b.ids else float("nan")
        out.append(
            f"{b.debug_lines:>7} {mb:>7.1f} {b.specs:>6} {b.ids:>6} {b.ids / first_ids:>11.1f}x "
            f"{run.seconds:>10.2f} {run.seconds / mb / first_per_mb:>13.2f} {per_k:>9.3f}"
        )
    return out


def stages(bundle: Path, env: dict[str, str]) -> int:
    """Print how long each stage of one analysis of a bundle takes, in a child process.

    Args:
        bundle: what to analyse.
        env: the child's environment.

    Returns:
        The child's exit status.
    """
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; {bundle}")
    sys.stdout.flush()
    # -P: the working directory (a source tree, maybe) does not come before --tree on the path.
    argv = [sys.executable, "-P", "-c", STAGES_SCRIPT, str(bundle)]
    return subprocess.run(argv, env=env, check=False).returncode


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its tables.

    Args:
        argv: command-line arguments (default: sys.argv[1:]).

    Returns:
        The exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-mb", type=float, default=64.0, help="size of the smallest bundle")
    parser.add_argument("--work", type=Path, default=Path("/tmp/triage-bench"), help="bundle cache")
    parser.add_argument("--repeats", type=int, default=3, help="rounds; the median is shown")
    parser.add_argument("--no-lnav", action="store_true", help="leave the lnav comparison out")
    parser.add_argument("--small", type=Path, default=DEFAULT_SMALL, help="the small bundle")
    parser.add_argument("--tree", type=Path, default=None, help="run triage from this source tree")
    parser.add_argument("--stages", type=Path, default=None, help="time one analysis of this bundle by stage")
    args = parser.parse_args(argv)
    env = _env(args.tree.resolve() if args.tree else None)
    if args.stages is not None:
        if not args.stages.exists():
            parser.error(f"--stages: {args.stages} does not exist")
        return stages(args.stages.resolve(), env)
    args.work = args.work.resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    lnav = None if args.no_lnav else lnav_path(install=True)
    bundles = [build_bundle(args.work, args.base_mb * s, s, env) for s in SCALES]
    chatty = [build_bundle(args.work, args.base_mb, 1, env, n) for n in DEBUG_LINES]
    load_before = os.getloadavg()
    got = measure(_jobs(bundles, chatty, args.small.resolve(), lnav), args.repeats, env, args.work)
    load_after = os.getloadavg()
    print(f"{os.cpu_count()} cores; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    print(f"{args.repeats} rounds; triage from {args.tree or 'the installed package'}")
    print(format_tables(bundles, chatty, got, lnav, args.no_lnav))
    print(json.dumps({k: [round(v.seconds, 3), v.rss_kb, round(v.cpu, 3)] for k, v in sorted(got.items())}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
