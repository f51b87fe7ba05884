"""Parsers: one module per log format, each mapping numbered lines to normalized events.

A parser is `parse(lines, source) -> ParseResult`. `lines` has columns `line` (UInt32) and `raw`
(String, ANSI codes removed). It opens nothing and knows one format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
