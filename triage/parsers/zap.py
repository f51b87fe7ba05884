"""zap logs, production JSON and development console lines alike, mixed formats included.

Both kinds have one parser: a JSON log may hold console lines and a console log JSON records (a
service switched encoders, or two wrote one file). The JSON decoder is `zap_json`, the console one
`zap_console`; this module puts them together and registers both kinds.
"""

from __future__ import annotations

import re

import polars as pl

from triage.bundle.sources import Source
from triage.parsers._common import offset_counts, stack_frame_line
from triage.parsers.base import Format, ParseResult
from triage.parsers.relay import original_rows, peel
from triage.parsers.zap_console import decode_any, fold_stack_traces, with_traces
from triage.table.schema import conform

_ZAP_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)"


def parse(lines: pl.DataFrame, source: Source) -> ParseResult:
    """Parse a zap log in either format, mixed formats included.

    Args:
        lines: columns `line` and `raw`.
        source: the file.

    Returns:
        One "log" event per record, stack traces folded in; blank lines allowed; the rest unparsed.
    """
    peeled, notes = peel(lines.select("line", "raw"))
    frame = decode_any(peeled, "raw")
    frame = fold_stack_traces(frame, "raw", "decoded")
    records = with_traces(frame.filter(pl.col("decoded"))).with_columns(
        pl.col("_n_lines").alias("n_lines"),
        pl.lit(source.name).alias("file"),
        pl.lit(source.kind).alias("source_kind"),
        pl.lit(source.service).alias("service"),
        pl.lit("log").alias("record"),
    )
    blank = pl.col("raw").str.strip_chars() == ""
    unparsed = frame.filter(~pl.col("decoded") & ~pl.col("_stack") & ~blank).select("line", "raw")
    facts: dict[str, object] = {"utc_offsets": offset_counts(records["utc_offset"])}
    if notes:
        facts["notes"] = notes
        unparsed = original_rows(lines, unparsed)
    return ParseResult(conform(records), unparsed, facts)


def _piece_start(raw: pl.Expr) -> pl.Expr:
    # A stack trace's lines belong to the record above them.
    return ~stack_frame_line(raw)


JSON_FORMAT = Format(
    kind="zap_json",
    label="zap JSON records",
    parse=parse,
    line=re.compile(r'^\{.*"(?:level|ts|msg)":'),
    piece_start=_piece_start,
)
CONSOLE_FORMAT = Format(
    kind="zap_console",
    label="zap console records",
    parse=parse,
    line=re.compile(
        rf"^{_ZAP_TIME}(?:\t| {{2,}})(?:DEBUG|INFO|WARN|ERROR|DPANIC|PANIC|FATAL|LEVEL\(-?\d+\))\b",
        re.IGNORECASE,
    ),
    piece_start=_piece_start,
)
