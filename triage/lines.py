"""Read a text file as numbered lines, tolerating bad bytes and odd line endings.

Two ways give the same lines: polars' CSV reader with a separator byte the file does not contain
(one String column, in Rust, several times faster), and a plain Python split that handles every
input, used when the bytes are not valid UTF-8 or the reader cannot be used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

ANSI_PATTERN = r"\x1b\[[0-9;?]*[A-Za-z]"
# Control bytes log lines practically never hold; the first one absent from a file separates nothing.
_SEPARATORS = (b"\x1f", b"\x1e", b"\x1d", b"\x1c", b"\x01")
_BOM = b"\xef\xbb\xbf"
_EMPTY_SCHEMA = {"line": pl.UInt32, "raw": pl.String}


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


def _numbered(raw: pl.Series, has_escape: bool) -> pl.DataFrame:
    frame = pl.DataFrame({"line": pl.int_range(1, raw.len() + 1, eager=True, dtype=pl.UInt32), "raw": raw})
    if not has_escape:  # most files have no colour codes; a regex pass over them would find nothing
        return frame
    return frame.with_columns(pl.col("raw").str.replace_all(ANSI_PATTERN, ""))


def _read_with_polars(data: bytes) -> pl.Series | None:
    """The lines as the CSV reader gives them, or None when it cannot be used for these bytes.

    Without quoting and with a separator absent from the data every line is one field; the reader
    drops one `\r` before each `\n` and a leading byte-order mark, reads an empty line as null and
    refuses invalid UTF-8, which the Python path handles instead.
    """
    separator = next((s for s in _SEPARATORS if s not in data), None)
    if separator is None or data in (b"", _BOM):
        return None
    try:
        frame = pl.read_csv(
            data,
            has_header=False,
            separator=separator.decode(),
            quote_char=None,
            new_columns=["raw"],
            schema_overrides={"raw": pl.String},
            infer_schema=False,
        )
    except pl.exceptions.PolarsError:
        return None
    return frame.get_column("raw").fill_null("")


def _split_with_python(data: bytes, notes: list[str]) -> pl.Series:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        bad = text.count("\ufffd")
        notes.append(f"{bad} invalid UTF-8 byte sequence(s) replaced with U+FFFD")
    text = text.removeprefix("\ufeff")
    if not text:
        return pl.Series("raw", [], dtype=pl.String)
    if text.endswith("\n"):
        text = text[:-1]
    raw = pl.Series("raw", text.split("\n"), dtype=pl.String)
    return raw.str.strip_suffix("\r") if "\r" in text else raw


def split_lines(data: bytes) -> Lines:
    """Split bytes into numbered lines.

    A final line without a newline still counts as a line; an empty input has no lines.

    Args:
        data: the file's content.

    Returns:
        The lines, with notes on encoding and line endings.
    """
    notes: list[str] = []
    raw = _read_with_polars(data)
    if raw is None:
        raw = _split_with_python(data, notes)
    if raw.len() == 0:
        return Lines(pl.DataFrame(schema=_EMPTY_SCHEMA), tuple(notes))
    if not data.endswith(b"\n"):
        notes.append("last line has no line ending (file truncated?)")
    if b"\r" in data:
        notes.append("CRLF line endings")
    return Lines(_numbered(raw.alias("raw"), b"\x1b" in data), tuple(notes))


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
