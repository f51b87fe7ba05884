"""Read a text file as numbered lines, tolerating bad bytes and odd line endings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

ANSI_PATTERN = r"\x1b\[[0-9;?]*[A-Za-z]"


@dataclass(frozen=True)
class Lines:
    """A file's lines.

    Attributes:
        frame: columns `line` (UInt32, 1-based) and `raw` (String: the line without its line ending and
            without ANSI escape codes).
        notes: what was odd about the bytes (replaced invalid UTF-8, CRLF endings, no final newline).
    """

    frame: pl.DataFrame
    notes: tuple[str, ...]

    @property
    def count(self) -> int:
        """Number of lines."""
        return self.frame.height


def split_lines(data: bytes) -> Lines:
    """Split bytes into numbered lines.

    A final line without a newline still counts as a line; an empty input has no lines.

    Args:
        data: the file's content.

    Returns:
        The lines, with notes on encoding and line endings.
    """
    notes: list[str] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        bad = text.count("\ufffd")
        notes.append(f"{bad} invalid UTF-8 byte sequence(s) replaced with U+FFFD")
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text:
        return Lines(pl.DataFrame(schema={"line": pl.UInt32, "raw": pl.String}), tuple(notes))
    if not text.endswith("\n"):
        notes.append("last line has no line ending (file truncated?)")
    else:
        text = text[:-1]
    parts = text.split("\n")
    raw = pl.Series("raw", parts, dtype=pl.String)
    if "\r" in text:
        notes.append("CRLF line endings")
        raw = raw.str.strip_suffix("\r")
    frame = pl.DataFrame(
        {"line": pl.int_range(1, len(parts) + 1, eager=True, dtype=pl.UInt32), "raw": raw}
    ).with_columns(pl.col("raw").str.replace_all(ANSI_PATTERN, ""))
    return Lines(frame, tuple(notes))


def read_lines(path: Path) -> Lines:
    """Read a file as numbered lines.

    Args:
        path: the file.

    Returns:
        Its lines.

    Raises:
        OSError: the file cannot be read.
    """
    return split_lines(path.read_bytes())
