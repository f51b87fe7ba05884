"""I/O faults: a read that fails half way, a file gone before it is read, no room for temporary files,
links and FIFOs, and runs interrupted by SIGINT or SIGTERM."""

from __future__ import annotations

import errno
import io
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import triage.api
from triage.cli import main

HEALTHY = Path(__file__).resolve().parents[1] / "fixtures" / "bundles" / "02-healthy"
RUN_DIR = "signalprocessing-integration-20260116-091329"
DS_LOG = f"{RUN_DIR}/signalprocessing_signalprocessing_datastorage_test.log"


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private temporary directory for the run, to see what it leaves behind."""
    where = tmp_path / "tmp"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


def _bundle(tmp_path: Path) -> Path:
    bundle = tmp_path / "02-healthy"
    shutil.copytree(HEALTHY, bundle)
    return bundle


class _FailingHalfWay(io.FileIO):
    """A file whose reads fail with EIO once half of it was read, as a failing disk or NFS mount does."""

    def read(self, size: int = -1) -> bytes:
        half = os.fstat(self.fileno()).st_size // 2
        if self.tell() >= half:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return super().read(half - self.tell() if size < 0 else min(size, half - self.tell()))


class _ChangedHalfWay(io.FileIO):
    """A file that another writer cuts to a quarter, or appends to, once half of it was read."""

    grow = False

    def read(self, size: int = -1) -> bytes:
        half = os.fstat(self.fileno()).st_size // 2
        if self.tell() < half:
            return super().read(half - self.tell())
        if self.tell() == half:
            with open(self.name, "ab") as other:
                if self.grow:
                    other.write(b"2026-01-16T14:20:00.000Z\tINFO\tdatastorage\tserver.go:1\tlate\n")
                else:
                    other.truncate(half // 2)
        return super().read(size)


class _GrownHalfWay(_ChangedHalfWay):
    grow = True


def _fail_half_way(
    monkeypatch: pytest.MonkeyPatch, name: str, kind: type[io.FileIO] = _FailingHalfWay
) -> None:
    real_open = Path.open

    def open_(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if self.name == name and mode == "rb":
            return kind(str(self))
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_)


def test_a_read_that_fails_half_way_is_named_with_its_error(
    tmp_path: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log whose read fails half way is listed with the I/O error; the rest is analysed, nothing is left."""
    bundle = _bundle(tmp_path)
    _fail_half_way(monkeypatch, Path(DS_LOG).name)
    result = CliRunner().invoke(main, ["analyze", str(bundle), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert f"{Path(DS_LOG).name}" in result.stdout and "Input/output error" in result.stdout
    assert '"kind": "redis"' in result.stdout  # the other files were read
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("kind", [_ChangedHalfWay, _GrownHalfWay])
def test_a_file_cut_or_grown_while_read_is_noted_with_its_sizes(
    tmp_path: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch, kind: type[io.FileIO]
) -> None:
    """A log another writer cuts or extends while it is read is noted as changed, with both sizes."""
    bundle = _bundle(tmp_path)
    size = (bundle / DS_LOG).stat().st_size
    _fail_half_way(monkeypatch, Path(DS_LOG).name, kind)
    result = CliRunner().invoke(main, ["analyze", str(bundle), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert f"the file changed while it was read ({size} bytes at first, " in result.stdout
    assert list(scratch.iterdir()) == []


def test_a_file_removed_between_discovery_and_reading_is_named(
    tmp_path: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file deleted after it was found is reported as unreadable (no such file), not a crash."""
    bundle = _bundle(tmp_path)
    real_discover = triage.api.discover

    def discover_then_remove(*args: Any, **kwargs: Any) -> Any:
        found = real_discover(*args, **kwargs)
        (bundle / DS_LOG).unlink()
        return found

    monkeypatch.setattr(triage.api, "discover", discover_then_remove)
    result = CliRunner().invoke(main, ["analyze", str(bundle)])
    assert result.exit_code == 0, result.output
    assert "No such file or directory" in result.stdout
    assert list(scratch.iterdir()) == []


def test_no_room_for_temporary_files_is_one_line_naming_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A temporary directory that cannot be made gives exit code 2 and one line naming where."""
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(readonly))

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(readonly))

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    result = CliRunner().invoke(main, ["analyze", str(_bundle(tmp_path))])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"Error: cannot create a temporary directory in {readonly}: Read-only file system"
    ]


def test_a_full_disk_while_unpacking_is_one_line_and_leaves_nothing(
    tmp_path: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An archive whose unpacking runs out of space exits 2 with one line and no temporary file left."""
    archive = tmp_path / "bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(HEALTHY, arcname="02-healthy")
    real_fdopen = os.fdopen

    class Full(io.RawIOBase):
        def __init__(self, fd: int) -> None:
            self._file = real_fdopen(fd, "wb")

        def writable(self) -> bool:
            return True

        def write(self, data: Any) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def close(self) -> None:
            self._file.close()
            super().close()

    monkeypatch.setattr("triage.bundle.archive.os.fdopen", lambda fd, mode="r": Full(fd))
    result = CliRunner().invoke(main, ["analyze", str(archive)])
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert "No space left on device" in result.stderr
    assert list(scratch.iterdir()) == []


def test_fifos_and_links_leaving_the_bundle_are_warned_about_by_name(tmp_path: Path) -> None:
    """A FIFO, a link out of the bundle and a broken link are each named on stderr and in the report."""
    bundle = _bundle(tmp_path)
    outside = tmp_path / "outside.log"
    outside.write_text("not part of the bundle\n")
    os.mkfifo(bundle / RUN_DIR / "pipe.log")
    (bundle / RUN_DIR / "elsewhere.log").symlink_to(outside)
    (bundle / "dangling.log").symlink_to(tmp_path / "missing.log")
    result = CliRunner().invoke(main, ["analyze", str(bundle)])
    assert result.exit_code == 0, result.output
    for name, why in (
        (f"{RUN_DIR}/pipe.log", "a FIFO"),
        (f"{RUN_DIR}/elsewhere.log", "a link leaving the bundle"),
        ("dangling.log", "a link leaving the bundle"),
    ):
        assert f"warning: skipped {name}: {why}" in result.stderr
        assert f"skipped {name}: {why}" in result.stdout
    assert "not part of the bundle" not in result.stdout


@pytest.fixture(scope="module")
def large_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated bundle large enough that a run is still reading when it is interrupted."""
    out = tmp_path_factory.mktemp("large") / "bundle"
    result = CliRunner().invoke(main, ["simulate", "healthy", str(out), "--size-mb", "40"])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_exits_128_plus_the_signal_and_leaves_nothing(
    large_bundle: Path, tmp_path: Path, signum: int, code: int
) -> None:
    """SIGINT or SIGTERM while reading: exit 130 or 143, one line, no traceback, no temporary file left."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    report = tmp_path / "report.md"
    env = {**os.environ, "TMPDIR": str(scratch)}
    args = [sys.executable, "-m", "triage", "analyze", str(large_bundle), "--progress", "-o", str(report)]
    child = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stderr is not None
    seen = []
    for line in child.stderr:  # progress prints a line per stage: wait until it reads
        seen.append(line)
        if line.startswith("triage: reading"):
            break
    child.send_signal(signum)
    out, err = child.communicate(timeout=300)
    assert child.returncode == code, "".join(seen) + err
    assert "Traceback" not in err
    assert f"interrupted by {signal.Signals(signum).name}" in err
    assert out == ""
    assert not report.exists()
    assert list(scratch.iterdir()) == []
