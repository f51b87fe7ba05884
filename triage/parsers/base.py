"""The parser contract: what a parser takes and returns, and the record that registers a format.

A parser is `parse(lines, source) -> ParseResult`. `lines` has columns `line` (UInt32) and `raw`
(String, ANSI codes removed). It opens nothing and knows one format.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from triage.bundle.sources import Source
from triage.table.attrs import Attrs


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


@dataclass(frozen=True)
class Format:
    """Everything triage knows of one log format, in the format's own module (its `FORMAT`).

    A file is recognised by the first format, in registry order, whose `document` accepts its head;
    failing that, by a `marker` line (any one decides), failing that by the `line` signature most of
    its sampled lines match.

    Attributes:
        kind: its source kind (a SOURCE_KINDS value).
        label: what it is, in words: the reason shown when a file is recognised as it.
        parse: its parser.
        line: the shape of one of its lines (matched on lines a relay's prefix was taken off).
        marker: whether one line of the `line` shape decides, whatever the other lines are.
        document: whether a file's head is a document of this format, given its opening (up to 200
            characters, on one line) and its whole head as text.
        piece_start: the lines (a Boolean expression over the column `raw`) a piece of a large file
            may start at, where no record continues across; None for formats parsed whole.
    """

    kind: str
    label: str
    parse: Parser
    line: re.Pattern[str] | None = None
    marker: bool = False
    document: Callable[[str, str], bool] | None = None
    piece_start: Callable[[pl.Expr], pl.Expr] | None = None
