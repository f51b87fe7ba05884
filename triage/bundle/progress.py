"""Progress of a long run on stderr: the stage, files read and bytes, never on stdout.

On a terminal one line is rewritten in place, at most every 0.2 s, and cleared at the end; when
progress is asked for on something else (`--progress` into a file), a line is written per stage and
at most one a second while reading. Files report per block of lines read (4 MiB), never per line.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from triage.bundle.archive import format_size

TERMINAL_EVERY_S = 0.2
FILE_EVERY_S = 1.0


class Progress:
    """Shows how far a run is; every method does nothing when there is no stream."""

    def __init__(self, stream: TextIO | None, terminal: bool = False) -> None:
        self._stream = stream
        self._terminal = terminal
        self._stage = ""
        self._files = 0
        self._total = 0
        self._read: dict[str, int] = {}
        self._last = 0.0
        self._width = 0

    @classmethod
    @contextmanager
    def on_stderr(cls, flag: bool | None) -> Iterator[Progress]:
        """Progress on stderr while the block runs, cleared after it.

        Args:
            flag: `--progress` (True), `--no-progress` (False), or None: shown when stderr is a terminal.

        Returns:
            A context manager giving the Progress.
        """
        terminal = sys.stderr.isatty()
        shown = cls(sys.stderr if (terminal if flag is None else flag) else None, terminal)
        try:
            yield shown
        finally:
            shown.close()

    def expect(self, files: int, total_bytes: int) -> None:
        """Say how many files and bytes will be read."""
        self._files, self._total = files, total_bytes
        self.stage("reading")

    def stage(self, name: str) -> None:
        """Say which stage the run is in (always shown)."""
        self._stage = name
        self._show(force=True)

    def read(self, file: str, done_bytes: int) -> None:
        """Say how much of a file was read so far (called per block, shown when it is time)."""
        self._read[file] = done_bytes
        self._show(force=False)

    def close(self) -> None:
        """Clear the terminal's progress line."""
        if self._stream is not None and self._terminal and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()

    def _show(self, force: bool) -> None:
        if self._stream is None:
            return
        now = time.monotonic()
        if not force and now - self._last < (TERMINAL_EVERY_S if self._terminal else FILE_EVERY_S):
            return
        self._last = now
        text = f"triage: {self._stage}"
        if self._read or self._files:
            text += f", {len(self._read)} of {self._files} file(s), {format_size(sum(self._read.values()))}"
            if self._total:
                text += f" of {format_size(self._total)}"
        if self._terminal:
            self._stream.write("\r" + text.ljust(self._width))
            self._width = max(self._width, len(text))
        else:
            self._stream.write(text + "\n")
        self._stream.flush()
