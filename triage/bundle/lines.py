"""Read a text file as numbered lines, tolerating bad bytes and odd line endings.

Two ways give the same lines: polars' CSV reader with a separator byte the file does not contain
(one String column, in Rust, several times faster on large text), and a plain Python split that
handles every input, used when the bytes are not valid UTF-8 or the reader cannot be used, and for
short text, where the reader's fixed cost (about a millisecond) is more than the split takes.

A large file is read in blocks of whole lines (`read_blocks`), so that no more than a block of it is
held as text at once; the blocks' lines and notes are those of reading the file whole.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

ANSI_PATTERN = r"\x1b\[[0-9;?]*[A-Za-z]"
# Control bytes log lines practically never hold; the first one absent from a file separates nothing.
_SEPARATORS = (b"\x1f", b"\x1e", b"\x1d", b"\x1c", b"\x01")
_BOM = b"\xef\xbb\xbf"
_REPLACEMENT = "\ufffd"
BLOCK_BYTES = 4 * 2**20
# Below this many bytes the Python split is the faster of the two.
_READER_FROM = 256 * 1024
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


def _read_with_polars(data: bytes, at_start: bool) -> pl.Series | None:
    """The lines as the CSV reader gives them, or None when it cannot be used for these bytes.

    Without quoting and with a separator absent from the data every line is one field; the reader
    drops one `\r` before each `\n` and a leading byte-order mark (so it reads a block that starts
    with one only at the start of the file), reads an empty line as null and refuses invalid UTF-8,
    which the Python path handles instead.
    """
    separator = next((s for s in _SEPARATORS if s not in data), None)
    if separator is None or data in (b"", _BOM) or (not at_start and data.startswith(_BOM)):
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


def _split_with_python(data: bytes, at_start: bool) -> tuple[pl.Series, int]:
    """The lines, and how many invalid UTF-8 sequences were replaced."""
    try:
        text, replaced = data.decode("utf-8"), 0
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        # A U+FFFD already in the file is the valid sequence EF BF BD; only the others are replacements.
        replaced = text.count(_REPLACEMENT) - data.count(_REPLACEMENT.encode())
    if at_start:
        text = text.removeprefix("\ufeff")
    if not text:
        return pl.Series("raw", [], dtype=pl.String), replaced
    if text.endswith("\n"):
        text = text[:-1]
    raw = pl.Series("raw", text.split("\n"), dtype=pl.String)
    return (raw.str.strip_suffix("\r") if "\r" in text else raw), replaced


@dataclass
class _Notes:
    """What was odd about a file's bytes, gathered over its blocks."""

    replaced: int = 0
    crlf: bool = False
    unterminated: bool = False
    changed: str = ""

    def texts(self) -> tuple[str, ...]:
        notes = [self.changed] if self.changed else []
        if self.replaced:
            notes.append(f"{self.replaced} invalid UTF-8 byte sequence(s) replaced with U+FFFD")
        if self.unterminated:
            notes.append("last line has no line ending (file truncated?)")
        if self.crlf:
            notes.append("CRLF line endings")
        return tuple(notes)


def _split(
    data: bytes, first_line: int, at_start: bool, notes: _Notes, end: int | None = None
) -> pl.DataFrame:
    """Number the lines of `data[:end]` (whole lines of a file, from its line `first_line`).

    After `end`, `data` may hold the start of a line that a block cut: the reader takes it as one more
    line, which is dropped, rather than `data` being copied without it.
    """
    end = len(data) if end is None else end
    raw = _read_with_polars(data, at_start) if end >= _READER_FROM else None
    if raw is not None and end < len(data):
        raw = raw.head(raw.len() - 1)
    if raw is None and end < len(data):  # the cut may split a character: the block alone is read
        data = data[:end]
        raw = _read_with_polars(data, at_start) if end >= _READER_FROM else None
    if raw is None:
        raw, replaced = _split_with_python(data, at_start)
        notes.replaced += replaced
    notes.crlf = notes.crlf or b"\r" in data
    if raw.len() == 0:
        return pl.DataFrame(schema=_EMPTY_SCHEMA)
    line = pl.int_range(first_line, first_line + raw.len(), eager=True, dtype=pl.UInt32)
    frame = pl.DataFrame({"line": line, "raw": raw.alias("raw")})
    if b"\x1b" not in data:  # most files have no colour codes; a regex pass over them would find nothing
        return frame
    return frame.with_columns(pl.col("raw").str.replace_all(ANSI_PATTERN, ""))


def split_lines(data: bytes) -> Lines:
    """Split bytes into numbered lines.

    A final line without a newline still counts as a line; an empty input has no lines.

    Args:
        data: the file's content.

    Returns:
        The lines, with notes on encoding and line endings.
    """
    notes = _Notes()
    frame = _split(data, 1, True, notes)
    notes.unterminated = frame.height > 0 and not data.endswith(b"\n")
    return Lines(frame, notes.texts())


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


@dataclass(frozen=True)
class Block:
    """Where a block of whole lines lies in its file, so it can be read again.

    Attributes:
        first_line: number of its first line.
        lines: how many lines it holds.
        start: byte offset of its first byte.
        size: its length in bytes.
        at_start: whether it starts the file (a byte-order mark is dropped only there).
    """

    first_line: int
    lines: int
    start: int
    size: int
    at_start: bool


def read_block(path: Path, block: Block) -> pl.Series:
    """The lines of a block, as the reading that noted it split them.

    Raises:
        OSError: the file cannot be read.
    """
    with path.open("rb") as f:
        f.seek(block.start)
        data = f.read(block.size)
    return _split(data, block.first_line, block.at_start, _Notes()).get_column("raw")


@dataclass
class BlockReader:
    """A file read as numbered lines in blocks of whole lines, about `block_bytes` each.

    Iterating yields frames like `Lines.frame`, numbered on through the file; a line longer than a block
    is read whole. After the iteration, `count` and `notes` are those of the whole file.

    Attributes:
        path: the file.
        block_bytes: how much to read at a time.
        count: lines read so far.
        blocks: where the blocks read so far lie, to read their lines again.
    """

    path: Path
    block_bytes: int = BLOCK_BYTES
    count: int = 0
    blocks: list[Block] = field(default_factory=list)
    _notes: _Notes = field(default_factory=_Notes)

    @property
    def notes(self) -> tuple[str, ...]:
        """What was odd about the bytes read so far."""
        return self._notes.texts()

    def __iter__(self) -> Iterator[pl.DataFrame]:
        """Yield the file's lines, block by block.

        Raises:
            OSError: the file cannot be read.
        """
        with self.path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            pending, start = b"", 0
            while True:
                # The bytes after the last line ending are read again at the head of the next read,
                # rather than joined to it: a block of lines is one read, with no copy.
                if pending:
                    f.seek(start)
                data = f.read(len(pending) + self.block_bytes)
                if len(data) <= len(pending):  # nothing new yet: the end, or a short read to go on from
                    if not (more := f.read(self.block_bytes)):
                        break
                    data += more
                end = data.rfind(b"\n") + 1
                pending = data[end:]
                if end:
                    yield self._frame(data, start, end)
                    start += end
            if start + len(pending) != size:  # cut or grown by a writer: say so, the lines are what was read
                read = start + len(pending)
                self._notes.changed = (
                    f"the file changed while it was read ({size} bytes at first, {read} read)"
                )
            if pending and (frame := self._frame(pending, start, len(pending))).height:
                self._notes.unterminated = True
                yield frame

    def _frame(self, data: bytes, start: int, end: int) -> pl.DataFrame:
        # The block is data[:end], from byte `start` of the file.
        frame = _split(data, self.count + 1, start == 0, self._notes, end)
        if frame.height:
            self.blocks.append(Block(self.count + 1, frame.height, start, end, start == 0))
        self.count += frame.height
        return frame
