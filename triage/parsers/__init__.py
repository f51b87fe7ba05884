"""Parsers: one module per log format, each mapping numbered lines to normalized events.

A parser is `parse(lines, source) -> ParseResult` (`parsers.base`). `lines` has columns `line`
(UInt32) and `raw` (String, ANSI codes removed). It opens nothing and knows one format. Each format's
module exports a `Format` record (kind, recognition, label, parser, where a piece may start); a new
format is its module plus one line in REGISTRY.

A parser's working columns take many times the size of its input, so a large file of a line format
goes to its parser in pieces of at least CHUNK_ROWS lines (`pieces`), which can be parsed at the same
time. A piece starts only at a line no record continues across (a Ginkgo separator, a zap line that is
no stack-trace frame), which makes the merged result the same as one call over the whole file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from functools import cache
from importlib import import_module

import polars as pl

from triage.bundle.sources import Source
from triage.parsers.base import CHUNK_ROWS, EVENT_KINDS, LINES_SCHEMA, Format, Parser, ParseResult
from triage.table.attrs import ID, Attrs

__all__ = [
    "CHUNK_ROWS",
    "EVENT_KINDS",
    "LINES_SCHEMA",
    "REGISTRY",
    "Format",
    "ParseResult",
    "Parser",
    "format_of",
    "formats",
    "merge",
    "parse_lines",
    "parser_for",
    "pieces",
]


# The registry: one line per format, `module.RECORD` of its Format, in recognition order (documents
# first: a Ginkgo JSON report before `podman inspect` JSON; then line formats, ties to the first).
REGISTRY = (
    "ginkgo_report.FORMAT",
    "ginkgo_junit.FORMAT",
    "podman_inspect.FORMAT",
    "ginkgo.FORMAT",
    "zap.JSON_FORMAT",
    "zap.CONSOLE_FORMAT",
    "postgres.FORMAT",
    "redis.FORMAT",
)


@cache
def formats() -> tuple[Format, ...]:
    """Every registered format, in recognition order.

    Returns:
        The Format records the registry names; format modules load polars, so they are imported
        the first time a format is asked for, keeping `import triage` cheap.

    Raises:
        TypeError: a registry line names something that is not a Format.
    """
    found = []
    for line in REGISTRY:
        module, name = line.rsplit(".", 1)
        record = getattr(import_module(f"{__name__}.{module}"), name)
        if not isinstance(record, Format):
            raise TypeError(f"{line} is not a Format")
        found.append(record)
    return tuple(found)


def format_of(kind: str) -> Format | None:
    """The format of a source kind, or None for kinds that have none (empty, binary, unknown)."""
    return next((f for f in formats() if f.kind == kind), None)


def parser_for(kind: str) -> Parser | None:
    """Return the parser of a source kind, or None for kinds that have none (empty, binary, unknown)."""
    found = format_of(kind)
    return None if found is None else found.parse


def _chunk_starts(kind: str) -> pl.Expr | None:
    """Rows a slice of a file of this kind may start at; None for formats parsed whole."""
    found = format_of(kind)
    return None if found is None or found.piece_start is None else found.piece_start(pl.col("raw"))


def pieces(kind: str, frames: Iterable[pl.DataFrame], rows: int = CHUNK_ROWS) -> Iterator[pl.DataFrame]:
    """Regroup a file's consecutive frames of lines into pieces its parser can take one at a time.

    Args:
        kind: the file's source kind.
        frames: its lines (columns `line`, `raw`), in order, in frames of any size.
        rows: the least number of lines in a piece but the last.

    Yields:
        Pieces of consecutive lines, each starting where a record starts; one (maybe empty) piece for
        formats that are parsed whole.
    """
    starts = _chunk_starts(kind)
    held: list[pl.DataFrame] = []
    size = 0
    # Whether a line is a stack frame depends on the line after it: the last held line cannot be
    # judged yet. The others are judged once, as they arrive: `allowed` holds the positions (in the
    # held lines) of those a piece may start at, `judged` counts them.
    allowed: list[pl.Series] = []
    judged = 0
    for frame in frames:
        held.append(frame)
        size += frame.height
        if starts is None or not frame.height:
            continue
        lines = pl.concat(held, rechunk=False)
        fresh = lines.slice(judged).select(pl.arg_where(starts)).to_series().cast(pl.Int64) + judged
        allowed.append(fresh.filter(fresh < size - 1))
        judged = size - 1
        if size < 2 * rows:
            continue
        known = pl.concat(allowed)
        later = known.filter(known.is_between(rows, size - 2))
        if later.is_empty():
            continue
        cut = int(later[-1])
        yield lines.slice(0, cut)
        held, size = [lines.slice(cut)], size - cut
        allowed, judged = [known.filter(known >= cut) - cut], judged - cut
    yield pl.concat(held, rechunk=False) if held else pl.DataFrame(schema=LINES_SCHEMA)


def merge(results: list[ParseResult]) -> ParseResult:
    """One result from the results of consecutive pieces: spec indexes run on, counts add up."""
    if len(results) == 1:
        return results[0]
    events, seen, ids, stores = [], 0, 0, []
    for result in results:
        shifts = [pl.col("spec_index") + seen]
        if result.attrs is not None:
            shifts.append(pl.col(ID) + ids)
            stores.append(result.attrs.shifted(ids))
            ids += result.events.height
        events.append(result.events.with_columns(shifts))
        seen += int(result.events.get_column("spec_index").max() or 0)  # type: ignore[arg-type]
    facts: dict[str, object] = {}
    keys = sorted({key for result in results for key in result.facts})
    for key in keys:  # the sliced formats' facts are counts, {value: records}, and notes
        if key == "notes":
            notes = (str(n) for result in results for n in result.facts.get(key, ()))  # type: ignore[attr-defined]
            facts[key] = list(dict.fromkeys(notes))
            continue
        total: Counter[int] = Counter()
        for result in results:
            total.update(result.facts.get(key, {}))  # type: ignore[call-overload]
        facts[key] = dict(sorted(total.items()))
    attrs = Attrs.join(stores) if stores else None
    unparsed = pl.concat([r.unparsed for r in results])
    return ParseResult(pl.concat(events, rechunk=False), unparsed, facts, attrs)


def parse_lines(kind: str, lines: pl.DataFrame, source: Source, rows: int = CHUNK_ROWS) -> ParseResult:
    """Parse a file's lines with the parser of its kind, in pieces when the file is large.

    Args:
        kind: a source kind that has a parser.
        lines: columns `line` and `raw`.
        source: the file.
        rows: the least number of lines in a piece.

    Returns:
        What one call of the parser over all lines returns.
    """
    parser = parser_for(kind)
    if parser is None:
        raise KeyError(kind)
    frames = (lines.slice(offset, rows) for offset in range(0, lines.height, rows))
    return merge([parser(piece, source) for piece in pieces(kind, frames, rows)])
