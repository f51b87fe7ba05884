"""History under load: many small export files read in batches, an address-space limit, and running out."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from triage import cli, memory
from triage.report.export import FINDINGS_SCHEMA, RUNS_SCHEMA, SPECS_SCHEMA, write_table
from triage.runs import history_load
from triage.runs.history import summarize
from triage.runs.render import render_history

ROOT = Path(__file__).resolve().parent.parent
SPECS = (
    ("a1f3c9d2e4b5", "SignalProcessing audit emits signal.processed after enrichment", "suite_test.go:412"),
    ("b7e2a4c6d8f0", "SignalProcessing audit records the phase transition to Completed", "suite_test.go:455"),
    ("c9d1e3f5a7b2", "SignalProcessing audit survives a DataStorage restart", "suite_test.go:498"),
)
# Its own peak RSS and address space, as the child reports them: `wait4`'s peak RSS would count the
# memory of the test process it was forked from.
PEAKS = (
    "sys.stderr.write(''.join(l for l in open('/proc/self/status') if l.startswith(('VmPeak', 'VmHWM'))))\n"
)
# A child that runs the command line and, however it ends, prints its peaks on stderr.
CHILD = "import sys\nfrom triage.cli import run\ntry:\n    run()\nfinally:\n    " + PEAKS
# A child that only starts what `triage history` starts: Python, polars and triage's modules.
START = (
    "import sys\nfrom triage.memory import limit_arenas\nlimit_arenas()\n"
    "import polars, triage.cli, triage.runs.history\n" + PEAKS
)


def write_export(root: Path, runs: int) -> Path:
    """An export of `runs` runs of one service an hour apart, one `runs`, `specs` and `findings` file each.

    Every run shows the three specs; the second fails every third run (a flush-query race explains it),
    the third fails in the newest run only (a new failure).
    """
    start = datetime(2026, 2, 1, 6, 0, 0)
    for i in range(runs):
        at = start + timedelta(hours=i)
        rid = f"signalprocessing-{at:%Y%m%d-%H%M%S}-{i:012x}"
        racing, new = i % 3 == 1, i == runs - 1
        states = ["passed", "failed" if racing else "passed", "failed" if new else "passed"]
        rows = {
            "runs": pl.DataFrame(
                [
                    {
                        "run_id": rid,
                        "export_schema_version": 1,
                        "collected_at": at.isoformat(),
                        "status": "failed",
                    }
                ],
                schema=RUNS_SCHEMA,
            ),
            "specs": pl.DataFrame(
                [
                    {"run_id": rid, "fingerprint": fp, "state": state, "name": name, "location": loc}
                    for (fp, name, loc), state in zip(SPECS, states, strict=True)
                ],
                schema=SPECS_SCHEMA,
            ),
            "findings": pl.DataFrame(
                [
                    {
                        "run_id": rid,
                        "fingerprint": "f0e1d2c3b4a5",
                        "rule": "flush-query-race",
                        "severity": "high",
                        "spec_fingerprint": SPECS[1][0],
                        "summary": "The test queried DataStorage 0.4 s before the store's timer flushed",
                    }
                ]
                if racing
                else [],
                schema=FINDINGS_SCHEMA,
            ),
        }
        for table, frame in rows.items():
            path = root / table / "service=signalprocessing" / f"date={at:%Y-%m-%d}" / f"{rid}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            write_table(frame, path)
    return root


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An export of 300 runs: 900 files, more than one batch per table."""
    return write_export(tmp_path_factory.mktemp("load") / "exports", 300)


def _child(code: str, args: list[str], limit_mb: float | None = None) -> tuple[int, str, str, int, int]:
    """Run `python -c CODE ARGS` under an address-space limit: exit code, stdout, stderr, and its peak
    RSS and peak address space in MB."""

    def limit() -> None:
        if limit_mb is not None:
            size = int(limit_mb * 2**20)
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

    env = {k: v for k, v in os.environ.items() if k not in ("MALLOC_ARENA_MAX", "_RJEM_MALLOC_CONF")}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=limit,
    )
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()  # stderr is a few lines
    _, status, _ = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    proc.stderr.close()
    peaks = {
        line.split(":")[0]: int(line.split()[1]) // 1024 for line in err.splitlines() if line[:2] == "Vm"
    }
    return proc.returncode, out, err, peaks.get("VmHWM", 0), peaks.get("VmPeak", 0)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_history_under_a_limit_near_its_peak_rss_prints_what_it_prints_without_a_limit(
    export: Path, fmt: str
) -> None:
    """`triage history` completes under an address-space limit of what starting polars takes plus four
    times the RSS an unlimited run added to it, and prints the same bytes."""
    code, _, err, start_rss, start_vm = _child(START, [])
    assert code == 0 and start_vm, err
    code, expected, err, rss, _ = _child(CHILD, ["history", str(export), "--format", fmt])
    assert code == 0, err
    assert rss > start_rss, (rss, start_rss)
    # Four, not two: the threads polars' I/O runtime starts, 2 MiB of stack each, vary with the load of
    # the machine, and a small export adds only about 45 MB. Without the arena caps the same history
    # reserved 1.3 GB.
    limit = start_vm + 4 * (rss - start_rss)
    code, out, err, _, vm = _child(CHILD, ["history", str(export), "--format", fmt], limit)
    assert code == 0, err
    assert out == expected
    assert vm <= limit


def test_history_read_in_batches_is_the_history_read_at_once(
    export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the files seven at a time gives the rows, the order and the report of one scan over all."""
    monkeypatch.setattr(history_load, "BATCH", 10**6)
    whole = history_load.load_history([str(export)])
    monkeypatch.setattr(history_load, "BATCH", 7)
    batched = history_load.load_history([str(export)])
    assert batched.sources == whole.sources == 900
    assert batched.runs.equals(whole.runs)
    assert batched.specs.collect().equals(whole.specs.collect())
    assert batched.findings.collect().equals(whole.findings.collect())
    doc = render_history(summarize(batched), "json")
    assert doc == render_history(summarize(whole), "json")
    assert '"label": "new"' in doc and '"label": "flaky"' in doc


def test_a_corrupt_file_in_a_batch_is_passed_over_and_its_batch_still_read(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that is not Parquet is named in a warning; the other files of its batch are read."""
    copy = tmp_path / "exports"
    write_export(copy, 12)
    bad = sorted((copy / "specs").rglob("*.parquet"))[5]
    bad.write_bytes(b"PAR1 truncated")
    monkeypatch.setattr(history_load, "BATCH", 4)
    warnings: list[str] = []
    history = history_load.load_history([str(copy)], warn=warnings.append)
    assert [w.split(":")[0] for w in warnings] == [str(bad)]
    assert history.sources == 35
    assert history.specs.collect().height == 11 * len(SPECS)


def test_running_out_of_memory_is_one_line_naming_the_input(
    export: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failed allocation ends the run with one line naming what was being read, and exit code 2."""

    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(history_load, "load_history", exhausted)
    monkeypatch.setattr(sys, "argv", ["triage", "history", str(export), "--format", "json"])
    monkeypatch.setattr(cli, "address_limit_mb", lambda: None)
    with pytest.raises(SystemExit) as exit_:
        cli.run()
    assert exit_.value.code == 2
    assert capsys.readouterr().err == f"triage: out of memory reading {export}: no memory left\n"


def test_polars_that_cannot_load_under_the_limit_is_one_line_before_the_run(
    export: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """When the limit leaves no room to load polars' library, the run ends at once in one line (exit 2)."""
    monkeypatch.setattr(sys, "argv", ["triage", "history", str(export), "--format", "json"])
    monkeypatch.setattr(cli, "address_limit_mb", lambda: 146.0)
    monkeypatch.setattr(cli, "polars_load_error", lambda: "could not find Polars' Rust module")
    monkeypatch.setattr(history_load, "load_history", pytest.fail)
    with pytest.raises(SystemExit) as exit_:
        cli.run()
    assert exit_.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (
        "triage: cannot load polars under the address-space limit (ulimit -v) of 146 MB: "
        "could not find Polars' Rust module"
    )
    assert not any("Traceback" in line for line in err)


def test_polars_that_loads_is_no_load_error() -> None:
    """In a process where polars works, asking whether its library loads says nothing is wrong."""
    assert memory.polars_load_error() is None


def test_a_limit_below_what_the_input_needs_is_a_warning_before_the_run(
    export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A limit below the estimate for the input is named in a warning; a limit above it, or none, is not."""
    monkeypatch.setattr(memory, "address_limit_mb", lambda: 150.0)
    warning = memory.check_address_space("history", [export])
    assert warning is not None and "is 150 MB" in warning and "history of" in warning
    assert "900 files" in warning
    monkeypatch.setattr(memory, "address_limit_mb", lambda: 4096.0)
    assert memory.check_address_space("history", [export]) is None
    monkeypatch.setattr(memory, "address_limit_mb", lambda: None)
    assert memory.check_address_space("analyze", [export]) is None


def test_the_allocator_arenas_are_capped_before_polars_starts_and_not_after() -> None:
    """Before polars is imported the arenas are capped and jemalloc's options set; after, nothing is."""
    script = (
        "import os\nfrom triage.memory import limit_arenas\nfirst = limit_arenas()\nimport polars\n"
        "print(first, limit_arenas(), os.environ['_RJEM_MALLOC_CONF'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("MALLOC_ARENA_MAX", "_RJEM_MALLOC_CONF")}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    glibc = (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    first, again, conf = out.stdout.split()
    assert (first, again) == (str(glibc), "False")
    assert conf.endswith(",narenas:1,retain:false,background_thread:false")  # after polars' own options
