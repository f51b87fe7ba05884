"""Progress: on stderr only, shown on a terminal or when asked, told per block of lines, never per line."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from triage.bundle.discovery import discover
from triage.bundle.progress import Progress
from triage.cli import main
from triage.parsers.ingest import ingest
from triage.parsers.recognise import RECOGNISER

BUNDLE = Path(__file__).resolve().parents[1] / "fixtures" / "bundles" / "07-datastorage-down"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_progress_off_a_terminal_unless_asked() -> None:
    """Off a terminal stderr stays empty; --progress adds the stages there and leaves stdout unchanged."""
    quiet = CliRunner().invoke(main, ["analyze", str(BUNDLE)])
    asked = CliRunner().invoke(main, ["analyze", str(BUNDLE), "--progress"])
    assert quiet.exit_code == asked.exit_code == 0
    assert quiet.stderr == ""
    assert asked.stdout == quiet.stdout
    stages = [line.split(",")[0] for line in asked.stderr.splitlines()]
    assert stages == ["triage: opening", "triage: reading", "triage: analysing", "triage: rendering"]
    assert "7 of 7 file(s), 343.5 KiB of 343.5 KiB" in asked.stderr.splitlines()[-1]


def test_a_terminal_gets_one_line_rewritten_and_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal each update rewrites the same line, which is blanked when the run ends."""
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with Progress.on_stderr(None) as shown:
        shown.expect(2, 2048)
        shown.stage("analysing")
    text = terminal.getvalue()
    assert "\n" not in text and text.count("\r") == 4
    assert "\rtriage: analysing, 0 of 2 file(s), 0 bytes of 2 KiB" in text
    assert text.endswith("\r" + " " * len("triage: analysing, 0 of 2 file(s), 0 bytes of 2 KiB") + "\r")
    monkeypatch.setattr(sys, "stderr", _Terminal())
    with Progress.on_stderr(False) as shown:
        shown.stage("reading")
    assert sys.stderr.getvalue() == ""


def test_files_report_progress_per_block(tmp_path: Path) -> None:
    """Reading a file in 4 KiB blocks reports once per block with the bytes read so far."""
    log = tmp_path / "datastorage.log"
    line = '{"level":"info","ts":"2026-01-22T22:19:15.387Z","logger":"datastorage","msg":"HTTP request"}\n'
    log.write_text(line * 500, encoding="utf-8")
    calls: list[tuple[str, int]] = []

    class Recorder(Progress):
        def read(self, file: str, done_bytes: int) -> None:
            calls.append((file, done_bytes))

    bundle = discover(log, [], recogniser=RECOGNISER)
    ingest(bundle.sources, block_bytes=4096, progress=Recorder(None))
    size = log.stat().st_size
    assert len(calls) == -(-size // 4096) < 500
    assert calls[-1] == (bundle.sources[0].name, size)
    assert [b for _, b in calls] == sorted(b for _, b in calls)
