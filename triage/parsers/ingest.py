"""Read and parse a bundle's sources, accounting for every line.

Files are read in blocks of whole lines and handed to their parsers in pieces (`parsers.pieces`) on a
small pool of threads: polars releases the GIL while it works, so one file's pieces, or several files,
are parsed at the same time while the next block is read. Only a few pieces wait for a thread at
once, so a large file is never held whole as text. A file that cannot be read or parsed becomes a
note in its account; the other files go on.

The records keep no text (`raw`): each cites its file and line, and the account notes where the file's
blocks of lines lie, so that a quote reads its line again (`texts.LineTexts`). Their `attrs` are
compressed as each piece is parsed (`attrs.pack`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace

import polars as pl

from triage.bundle.lines import BLOCK_BYTES, Block, BlockReader
from triage.bundle.progress import Progress
from triage.bundle.sources import Source
from triage.parsers import CHUNK_ROWS, LINES_SCHEMA, Parser, ParseResult, merge, parser_for, pieces
from triage.table.attrs import pack

WORKERS = 2
MAX_SAMPLES = 5
MAX_SAMPLE_CHARS = 300
_UNPARSED_KINDS = ("binary", "duplicate")  # their lines are counted, never quoted


@dataclass(frozen=True)
class Sample:
    """A line that was not understood, quoted for the reader."""

    line: int
    text: str


@dataclass(frozen=True)
class SourceAccount:
    """Line accounting of one source: lines = parsed_lines + unparsed_lines, always.

    Attributes:
        source: the source.
        lines: lines in the file.
        parsed_lines: lines understood (part of a record, or blank/structural).
        unparsed_lines: lines not understood.
        records: records the parser produced.
        samples: the first few lines not understood.
        notes: what was odd about the file (encoding, truncation, parser trouble).
        blocks: where its blocks of lines lie, to quote them later.
    """

    source: Source
    lines: int
    parsed_lines: int
    unparsed_lines: int
    records: int
    samples: tuple[Sample, ...]
    notes: tuple[str, ...]
    blocks: tuple[Block, ...] = ()


def _samples(unparsed: pl.DataFrame) -> tuple[Sample, ...]:
    head = unparsed.head(MAX_SAMPLES)
    return tuple(
        Sample(line, text if len(text) <= MAX_SAMPLE_CHARS else text[:MAX_SAMPLE_CHARS] + "…")
        for line, text in zip(head["line"], head["raw"], strict=True)
    )


@dataclass
class _File:
    """One source on its way through reading and parsing."""

    source: Source
    reader: BlockReader
    head: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=LINES_SCHEMA))
    parts: list[Future[ParseResult]] = field(default_factory=list)
    unreadable: str | None = None
    progress: Progress | None = None

    def frames(self) -> Iterator[pl.DataFrame]:
        """The file's lines, keeping its first few for samples."""
        for frame in self.reader:
            if self.progress is not None and self.reader.blocks:
                last = self.reader.blocks[-1]
                self.progress.read(self.source.name, last.start + last.size)
            # Quoted when no parser reads the file: blank lines say nothing.
            if self.head.height < MAX_SAMPLES:
                filled = frame.filter(pl.col("raw").str.strip_chars() != "")
                self.head = pl.concat([self.head, filled.head(MAX_SAMPLES - self.head.height)])
            yield frame

    def account(self) -> tuple[SourceAccount, ParseResult | None]:
        """The line accounting and merged parse result, once every piece is parsed."""
        source, count = self.source, self.reader.count
        if self.unreadable is not None:
            unreadable = (f"present but unreadable: {self.unreadable}",)
            return SourceAccount(source, 0, 0, 0, 0, (), unreadable), None
        notes = list(self.reader.notes)
        failed = next((exc for part in self.parts if (exc := part.exception()) is not None), None)
        if not self.parts or failed is not None:
            if failed is not None:
                notes.append(
                    f"parser failed ({type(failed).__name__}: {failed}); every line counted as not understood"
                )
            samples = () if source.kind in _UNPARSED_KINDS else _samples(self.head)
            return SourceAccount(
                source, count, 0, count, 0, samples, tuple(notes), tuple(self.reader.blocks)
            ), None
        result = merge([part.result() for part in self.parts])
        notes.extend(str(n) for n in _as_list(result.facts.get("notes")))
        not_understood = result.unparsed.height
        account = SourceAccount(
            source,
            count,
            count - not_understood,
            not_understood,
            result.events.height,
            _samples(result.unparsed),
            tuple(notes),
            tuple(self.reader.blocks),
        )
        return account, result


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def ingest(
    sources: Sequence[Source],
    *,
    workers: int = WORKERS,
    block_bytes: int = BLOCK_BYTES,
    rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
) -> list[tuple[SourceAccount, ParseResult | None]]:
    """Read and parse sources; a broken file never stops the run.

    Args:
        sources: discovered sources.
        workers: threads that parse.
        block_bytes: how much of a file is read at a time.
        rows: the least number of lines in a piece of a large file.
        progress: told how much of each file was read, block by block.

    Returns:
        Per source, in order: its line accounting, and its parse result (None when nothing could be
        parsed).
    """
    files = [_File(source, BlockReader(source.path, block_bytes), progress=progress) for source in sources]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        waiting: set[Future[ParseResult]] = set()
        for file in files:
            parser = None if file.source.kind in _UNPARSED_KINDS else parser_for(file.source.kind)
            try:
                if parser is None:
                    _drain(file.frames())
                    continue
                for piece in pieces(file.source.kind, file.frames(), rows):
                    part = pool.submit(_parse_without_text, parser, piece, file.source)
                    file.parts.append(part)
                    waiting.add(part)
                    if len(waiting) > workers:  # a piece waits for a thread, the next one is read
                        waiting = wait(waiting, return_when=FIRST_COMPLETED).not_done
            except OSError as exc:
                file.unreadable = exc.strerror or type(exc).__name__
        wait(waiting)
    return [file.account() for file in files]


def _parse_without_text(parser: Parser, piece: pl.DataFrame, source: Source) -> ParseResult:
    """Parse a piece; keep its records without text, each column one chunk.

    A column of one repeated value (`file`) may be kept as a scalar; taking the series materializes
    it, so that the table made of the pieces has all its columns cut at the same rows.
    """
    result = parser(piece, source)
    events, attrs = pack(result.events.drop("raw"))
    return replace(result, events=pl.DataFrame(events.rechunk().get_columns()), attrs=attrs)


def _drain(frames: Iterable[pl.DataFrame]) -> None:
    for _ in frames:
        pass
