"""Parsers: one module per log format, each mapping numbered lines to normalized events.

A parser is `parse(lines, source) -> ParseResult`. `lines` has columns `line` (UInt32) and `raw`
(String, ANSI codes removed). It opens nothing and knows one format.

A parser's working columns take many times the size of its input, so a large file of a line format
goes to its parser in pieces of at least CHUNK_ROWS lines (`pieces`), which can be parsed at the same
time. A piece starts only at a line no record continues across (a Ginkgo separator, a zap line that is
no stack-trace frame), which makes the merged result the same as one call over the whole file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import polars as pl

from triage.bundle.sources import Source
from triage.table.attrs import ID, Attrs


@dataclass(frozen=True)
class ParseResult:
    """What a parser made of a file.

    Attributes:
        events: records in EVENT_SCHEMA.
        unparsed: the input rows (`line`, `raw`) the parser did not understand. Every input line is
            either part of a record, a blank or structural line the format allows, or in here.
        facts: per-file facts that are not events (e.g. the UTC offset a log's zoned records carry),
            as plain JSON-able values.
        attrs: None as a parser returns it; once ingest has taken `attrs` out of `events`
            (`triage.table.attrs.pack`), the store of their texts.
    """

    events: pl.DataFrame
    unparsed: pl.DataFrame
    facts: dict[str, object]
    attrs: Attrs | None = None


Parser = Callable[[pl.DataFrame, Source], ParseResult]

CHUNK_ROWS = 12_500
# Source kinds whose records carry another kind's `source_kind`: the records of Ginkgo's JSON and JUnit
# reports are the test run's, as a `-v` log's are.
EVENT_KINDS = {"ginkgo_report": "ginkgo", "ginkgo_junit": "ginkgo"}
LINES_SCHEMA = {"line": pl.UInt32, "raw": pl.String}


def _registry() -> dict[str, Parser]:
    # Imported here so that `import triage` stays cheap for commands that parse nothing.
    from triage.parsers import (
        ginkgo,
        ginkgo_junit,
        ginkgo_report,
        podman_inspect,
        postgres,
        redis,
        zap_console,
        zap_json,
    )

    return {
        "zap_json": zap_json.parse,
        "zap_console": zap_console.parse,
        "ginkgo": ginkgo.parse,
        "ginkgo_report": ginkgo_report.parse,
        "ginkgo_junit": ginkgo_junit.parse,
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
    for frame in frames:
        held.append(frame)
        size += frame.height
        if starts is None or size < 2 * rows:
            continue
        lines = pl.concat(held, rechunk=False)
        allowed = lines.select(pl.arg_where(starts)).to_series()
        # Whether a line is a stack frame depends on the line after it: the last line cannot be judged.
        later = allowed.filter(allowed.is_between(rows, lines.height - 2))
        if later.is_empty():
            continue
        cut = int(later[-1])
        yield lines.slice(0, cut)
        held, size = [lines.slice(cut)], lines.height - cut
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
    parser = _registry()[kind]
    frames = (lines.slice(offset, rows) for offset in range(0, lines.height, rows))
    return merge([parser(piece, source) for piece in pieces(kind, frames, rows)])
