"""The text of input lines, read again when a finding quotes them.

The event table cites each record by file and line and keeps no text: on a large bundle the text was
over 40% of the table, and a report quotes a few hundred lines. While a file is read, where each block
of lines starts is noted (`lines.Block`); a quote reads its block again and splits it exactly as the
first reading did, so the quoted text is the text the parser saw.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock

import polars as pl

from triage.bundle.lines import Block, read_block

CACHE_BYTES = 32 * 2**20  # quotes cluster around a few failed specs; a block is about 4 MiB
UNREADABLE = "(the line can no longer be read)"


def _nothing(path: Path, line: int) -> str | None:
    return None


@dataclass
class LineTexts:
    """Lines of the bundle's files by (file, line), read on demand.

    Attributes:
        files: per file name, its path and the blocks it was read in, in order.
        known: texts already at hand (a table that still carries `raw`, or lines read before).
        beyond: the text of a line numbered past its file's end, or None (a Ginkgo JSON report
            numbers its captured output on from its last line: `parsers.ginkgo_report.captured_line`).
    """

    files: Mapping[str, tuple[Path, Sequence[Block]]] = field(default_factory=dict)
    known: dict[tuple[str, int], str] = field(default_factory=dict)
    beyond: Callable[[Path, int], str | None] = _nothing
    _blocks: OrderedDict[tuple[str, int], tuple[int, pl.Series]] = field(default_factory=OrderedDict)
    _lock: Lock = field(default_factory=Lock)  # rules run on several threads

    @classmethod
    def from_events(cls, events: pl.DataFrame) -> LineTexts:
        """The texts a frame with `file`, `line` and `raw` columns carries (none when it has no `raw`)."""
        if "raw" not in events.columns:
            return cls()
        rows = events.select(pl.col("file").cast(pl.String), "line", "raw").iter_rows()
        return cls(known={(file, line): raw for file, line, raw in rows})

    def text(self, file: str, line: int) -> str:
        """The line's text (ANSI codes removed), or UNREADABLE when it cannot be read now."""
        key = (file, line)
        with self._lock:
            if key not in self.known:
                self.known[key] = self._read(file, line)
            return self.known[key]

    def texts(self, pairs: Iterable[tuple[str, int]]) -> list[str]:
        """Texts of many lines, read a block at a time."""
        keys = list(pairs)
        with self._lock:
            for key in sorted(set(keys) - self.known.keys()):
                self.known[key] = self._read(*key)
            return [self.known[key] for key in keys]

    def attach(self, frame: pl.DataFrame, line: str = "line", alias: str = "raw") -> pl.DataFrame:
        """`frame` (with `file` and a line column) with the lines' texts as column `alias`.

        Meant for the few rows a rule reads the text of: each row is looked up on its own.
        """
        pairs = zip(frame.get_column("file").cast(pl.String), frame.get_column(line), strict=True)
        texts = [None if n is None else self.text(f, n) for f, n in pairs]
        return frame.with_columns(pl.Series(alias, texts, dtype=pl.String))

    def _read(self, file: str, line: int) -> str:
        if file not in self.files:
            return UNREADABLE
        path, blocks = self.files[file]
        at = bisect_right(blocks, line, key=lambda b: b.first_line) - 1
        if at < 0 or line >= blocks[at].first_line + blocks[at].lines:
            text = self.beyond(path, line)
            return UNREADABLE if text is None else text
        lines = self._block(file, path, at, blocks[at])
        if lines is None:
            return UNREADABLE
        return str(lines[line - blocks[at].first_line])

    def _block(self, file: str, path: Path, at: int, block: Block) -> pl.Series | None:
        key = (file, at)
        if key in self._blocks:
            self._blocks.move_to_end(key)
            return self._blocks[key][1]
        try:
            lines = read_block(path, block)
        except OSError:
            return None
        if lines.len() != block.lines:  # the file changed since it was read
            return None
        self._blocks[key] = (block.size, lines)
        # Least recently used blocks go first; the block just read stays, however long its lines.
        while len(self._blocks) > 1 and sum(size for size, _ in self._blocks.values()) > CACHE_BYTES:
            self._blocks.popitem(last=False)
        return lines
