"""zap development console lines: `time⇥LEVEL⇥[logger⇥][caller⇥]message[⇥{"k": v, …}]`.

The controller under envtest prints no caller, DataStorage prints logger and caller, some lines have
neither. Parts are told apart by shape: a caller looks like `dir/file.go:NN`, the fields part is the
last part when it is a JSON object. Copies in documents replace the tabs by two or more spaces (or
even one); those are accepted as a fallback. Warn-and-up records are followed by a stack trace (a
function line, then a tab-indented `file.go:NN` line, repeated), which is folded into the record.
"""

from __future__ import annotations

import polars as pl

from triage.parsers import ParseResult
from triage.parsers import zap_json as zj
from triage.parsers._common import (
    ISO_TS_PATTERN,
    decode_json,
    fraction_precision,
    iso_ts,
    message_key,
    offset_counts,
    stack_frame_line,
    utc_offset_seconds,
    with_stacktrace,
    zap_level,
)
from triage.schema import conform
from triage.sources import Source

FIELDS_DTYPE = pl.Struct({"correlation_id": pl.String, "event_type": pl.String})

# time, separator (a tab, or spaces in copies), level token, then the rest.
_HEAD = r"^(" + ISO_TS_PATTERN + r")(\t| +)([A-Za-z]+(?:\(-?\d+\))?)(?:(?:\t| +)(.*))?$"
_CALLER = r"^\S+\.go:\d+$"
# A logger name is one lowercase word; used only for copies whose tabs became single spaces.
_SPACED_LOGGER = r"^([a-z][a-z0-9_.-]*) ([A-Z].*)$"
_SPACED_CALLER = r"^(?:(\S+) )?(\S+\.go:\d+) (.*)$"


def _split_fields(rest: pl.Expr, tabbed: pl.Expr) -> list[pl.Expr]:
    tab = rest.str.extract_groups(r"^(.*)\t(\{.*\})$")
    # Non-greedy: the fields object starts at the first ` {"` (nested objects have spaces too).
    spaced = rest.str.extract_groups(r'^(.*?)\s+(\{".*\}|\{\})$')
    return [
        pl.when(tabbed).then(tab.struct.field("1")).otherwise(spaced.struct.field("1")).alias("_body"),
        pl.when(tabbed).then(tab.struct.field("2")).otherwise(spaced.struct.field("2")).alias("_fields"),
    ]


def _name_parts(body: pl.Expr, tabbed: pl.Expr) -> list[pl.Expr]:
    sep = pl.when(tabbed).then(pl.lit("\t")).otherwise(pl.lit("  "))
    parts = pl.when(tabbed).then(body).otherwise(body.str.replace_all(r" {2,}", "\t")).str.split("\t")
    n = parts.list.len()
    p0 = parts.list.get(0, null_on_oob=True)
    p1 = parts.list.get(1, null_on_oob=True)
    c0 = p0.str.contains(_CALLER).fill_null(False)
    c1 = p1.str.contains(_CALLER).fill_null(False)
    full = (n >= 3) & c1 & ~c0
    caller_only = (n >= 2) & c0
    logger_only = (n >= 2) & ~c0 & ~p0.str.contains(r"\s").fill_null(True)
    spaced_caller = body.str.extract_groups(_SPACED_CALLER)
    spaced_logger = body.str.extract_groups(_SPACED_LOGGER)
    one_spaced = (n == 1) & ~tabbed
    by_caller = one_spaced & spaced_caller.struct.field("2").is_not_null()
    by_logger = one_spaced & ~by_caller & spaced_logger.struct.field("1").is_not_null()
    logger = (
        pl.when(full | logger_only)
        .then(p0)
        .when(by_caller)
        .then(spaced_caller.struct.field("1"))
        .when(by_logger)
        .then(spaced_logger.struct.field("1"))
    )
    caller = (
        pl.when(full)
        .then(p1)
        .when(caller_only)
        .then(p0)
        .when(by_caller)
        .then(spaced_caller.struct.field("2"))
    )
    message = (
        pl.when(full)
        .then(parts.list.slice(2).list.join(sep))
        .when(caller_only | logger_only)
        .then(parts.list.slice(1).list.join(sep))
        .when(by_caller)
        .then(spaced_caller.struct.field("3"))
        .when(by_logger)
        .then(spaced_logger.struct.field("2"))
        .otherwise(body)
    )
    return [logger.alias("logger"), caller.alias("caller"), message.alias("message")]


def decode_rows(rows: pl.DataFrame, text_col: str) -> pl.DataFrame:
    """Decode the zap console records among rows.

    Args:
        rows: any frame; its columns are kept.
        text_col: the String column holding the line text (indentation removed).

    Returns:
        `rows` with zap_json.DECODED_COLUMNS added (nulls and `decoded` False where a row is not a
        console record).
    """
    indexed = rows.with_row_index("_row")
    head = pl.col(text_col).str.extract_groups(_HEAD)
    cands = (
        indexed.select("_row", head.alias("_h"))
        .unnest("_h")
        .rename({"1": "_ts", "2": "_sep", "3": "_level", "4": "_rest"})
        .filter(zap_level(pl.col("_level")).is_not_null())
        .with_columns(pl.col("_rest").fill_null(""), (pl.col("_sep") == "\t").alias("_tabbed"))
        .with_columns(_split_fields(pl.col("_rest"), pl.col("_tabbed")))
    )
    fields = decode_json(cands["_fields"], FIELDS_DTYPE).alias("_known")
    cands = cands.with_columns(fields).with_columns(
        # A brace-shaped tail that is not JSON belongs to the message.
        pl.when(pl.col("_known").is_null()).then(pl.col("_rest")).otherwise(pl.col("_body")).alias("_body"),
        pl.when(pl.col("_known").is_null()).then(None).otherwise(pl.col("_fields")).alias("_fields"),
    )
    ts_text = pl.col("_ts")
    decoded = cands.with_columns(_name_parts(pl.col("_body"), pl.col("_tabbed"))).select(
        "_row",
        zap_level(pl.col("_level")).alias("level"),
        iso_ts(ts_text).alias("ts"),
        fraction_precision(ts_text).alias("ts_precision"),
        pl.lit(False).alias("ts_assumed"),
        "logger",
        "caller",
        "message",
        message_key(pl.col("message")).alias("msg_key"),
        pl.col("_known").struct.field("correlation_id").alias("correlation_id"),
        pl.col("_known").struct.field("event_type").alias("event_type"),
        pl.col("_fields").fill_null("{}").alias("attrs"),
        utc_offset_seconds(ts_text).alias("utc_offset"),
        pl.lit(True).alias("decoded"),
    )
    out = indexed.join(decoded, on="_row", how="left", maintain_order="left")
    return out.with_columns(pl.col("decoded").fill_null(False)).drop("_row")


def decode_any(rows: pl.DataFrame, text_col: str) -> pl.DataFrame:
    """Decode zap records in either format (JSON first, then console).

    Args:
        rows: any frame; its columns are kept.
        text_col: the String column holding the line text (indentation removed).

    Returns:
        `rows` with zap_json.DECODED_COLUMNS added.
    """
    as_json = zj.decode_rows(rows, text_col)
    as_console = decode_rows(rows, text_col).select(zj.DECODED_COLUMNS)
    picks = [
        pl.when(pl.col("decoded")).then(pl.col(name)).otherwise(as_console[name]).alias(name)
        for name in zj.DECODED_COLUMNS
        if name != "decoded"
    ]
    return as_json.with_columns(*picks, (pl.col("decoded") | as_console["decoded"]).alias("decoded"))


def fold_stack_traces(frame: pl.DataFrame, text_col: str, head_col: str) -> pl.DataFrame:
    """Find stack-trace lines that follow a record and the record each belongs to.

    Args:
        frame: consecutive lines in file order, with `line`.
        text_col: the line text (indentation removed).
        head_col: Boolean column, true on rows that are records a trace may follow.

    Returns:
        `frame` with `_stack` (Boolean: the row continues the record above), `_owner` (line of the
        record the row belongs to; its own line otherwise), `_n_lines` and `_stacktrace` (on heads:
        how many lines the record spans and its trace text, null when none).
    """
    frame_line = stack_frame_line(pl.col(text_col)) & ~pl.col(head_col)
    group = (~frame_line).cum_sum()
    stack = frame_line & pl.col(head_col).first().over(group)
    with_group = frame.with_columns(stack.alias("_stack")).with_columns(
        (~pl.col("_stack")).cum_sum().alias("_grp")
    )
    return with_group.with_columns(
        pl.col("line").first().over("_grp").alias("_owner"),
        pl.len().over("_grp").cast(pl.UInt32).alias("_n_lines"),
        pl.when(pl.len().over("_grp") > 1)
        .then(pl.col(text_col).filter(pl.col("_stack")).str.join("\n").over("_grp"))
        .alias("_stacktrace"),
    ).drop("_grp")


def parse_zap_lines(lines: pl.DataFrame, source: Source) -> ParseResult:
    """Parse a zap log in either format, mixed formats included.

    Args:
        lines: columns `line` and `raw`.
        source: the file.

    Returns:
        One "log" event per record, stack traces folded in; blank lines allowed; the rest unparsed.
    """
    frame = decode_any(lines.select("line", "raw"), "raw")
    frame = fold_stack_traces(frame, "raw", "decoded")
    records = frame.filter(pl.col("decoded")).with_columns(
        with_stacktrace(pl.col("attrs"), pl.col("_stacktrace")).alias("attrs"),
        pl.col("_n_lines").alias("n_lines"),
        pl.lit(source.name).alias("file"),
        pl.lit(source.kind).alias("source_kind"),
        pl.lit(source.service).alias("service"),
        pl.lit("log").alias("record"),
    )
    blank = pl.col("raw").str.strip_chars() == ""
    unparsed = frame.filter(~pl.col("decoded") & ~pl.col("_stack") & ~blank).select("line", "raw")
    facts: dict[str, object] = {"utc_offsets": offset_counts(records["utc_offset"])}
    return ParseResult(conform(records), unparsed, facts)


def parse(lines: pl.DataFrame, source: Source) -> ParseResult:
    """Parse a zap development console log; JSON-format lines in it are decoded too.

    Args:
        lines: columns `line` and `raw`.
        source: the file.

    Returns:
        One "log" event per record (stack-trace lines folded into the record above), blank lines
        allowed, everything else unparsed; facts["utc_offsets"] counts the printed UTC offsets.
    """
    return parse_zap_lines(lines, source)
