"""Parsers: one module per log format, each mapping numbered lines to normalized events.

A parser is `parse(lines, source) -> ParseResult`. `lines` has columns `line` (UInt32) and `raw`
(String, ANSI codes removed). It opens nothing and knows one format.

A parser's working columns take many times the size of its input, so `parse_lines` hands a large file
of a line format to its parser in slices of about CHUNK_ROWS lines. A slice starts only at a line no
record continues across (a Ginkgo separator, a zap line that is no stack-trace frame), which makes the
result the same as one call over the whole file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import polars as pl

from triage.sources import Source


@dataclass(frozen=True)
class ParseResult:
    """What a parser made of a file.

    Attributes:
        events: records in EVENT_SCHEMA.
        unparsed: the input rows (`line`, `raw`) the parser did not understand. Every input line is
            either part of a record, a blank or structural line the format allows, or in here.
        facts: per-file facts that are not events (e.g. the UTC offset a log's zoned records carry),
            as plain JSON-able values.
    """

    events: pl.DataFrame
    unparsed: pl.DataFrame
    facts: dict[str, object]


Parser = Callable[[pl.DataFrame, Source], ParseResult]

CHUNK_ROWS = 50_000


def _registry() -> dict[str, Parser]:
    # Imported here so that `import triage` stays cheap for commands that parse nothing.
    from triage.parsers import ginkgo, podman_inspect, postgres, redis, zap_console, zap_json

    return {
        "zap_json": zap_json.parse,
        "zap_console": zap_console.parse,
        "ginkgo": ginkgo.parse,
        "postgres": postgres.parse,
        "redis": redis.parse,
        "podman_inspect": podman_inspect.parse,
    }


def parser_for(kind: str) -> Parser | None:
    """Return the parser of a source kind, or None for kinds that have none (empty, binary, unknown)."""
    return _registry().get(kind)


def _chunk_starts(kind: str) -> pl.Expr | None:
    """Rows a slice of a file of this kind may start at; None for formats parsed whole."""
    from triage.parsers._common import stack_frame_line
    from triage.parsers.ginkgo_syntax import SEPARATOR

    raw = pl.col("raw")
    if kind == "ginkgo":
        return raw.str.contains(SEPARATOR)
    if kind in ("zap_json", "zap_console"):
        return ~stack_frame_line(raw)
    return None


def _slices(lines: pl.DataFrame, starts: pl.Expr, rows: int) -> list[tuple[int, int]]:
    """(offset, length) of consecutive slices: each after the first starts at the first row allowed
    at or after a multiple of `rows`."""
    allowed = lines.select(pl.arg_where(starts)).to_series()
    targets = pl.Series(range(rows, lines.height, rows), dtype=allowed.dtype)
    at = allowed.search_sorted(targets)
    cuts = sorted({int(allowed[i]) for i in at.filter(at < allowed.len()).to_list()} - {0})
    bounds = [0, *cuts, lines.height]
    return [(a, b - a) for a, b in pairwise(bounds)]


def _merge(results: list[ParseResult]) -> ParseResult:
    """One result from the results of consecutive slices: spec indexes run on, counts add up."""
    events, seen = [], 0
    for result in results:
        events.append(result.events.with_columns(pl.col("spec_index") + seen))
        seen += int(result.events.get_column("spec_index").max() or 0)  # type: ignore[arg-type]
    facts: dict[str, object] = {}
    for key in results[0].facts:  # the sliced formats' facts are counts, {value: records}
        total: Counter[int] = Counter()
        for result in results:
            total.update(result.facts[key])  # type: ignore[call-overload]
        facts[key] = dict(sorted(total.items()))
    return ParseResult(pl.concat(events), pl.concat([r.unparsed for r in results]), facts)


def parse_lines(kind: str, lines: pl.DataFrame, source: Source, rows: int = CHUNK_ROWS) -> ParseResult:
    """Parse a file's lines with the parser of its kind, in slices when the file is large.

    Args:
        kind: a source kind that has a parser.
        lines: columns `line` and `raw`.
        source: the file.
        rows: the least number of lines in a slice.

    Returns:
        What one call of the parser over all lines returns.
    """
    parser = _registry()[kind]
    starts = _chunk_starts(kind)
    if starts is None or lines.height < 2 * rows:
        return parser(lines, source)
    return _merge(
        [parser(lines.slice(offset, length), source) for offset, length in _slices(lines, starts, rows)]
    )
