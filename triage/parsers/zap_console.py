"""zap development console lines: `time⇥LEVEL⇥[logger⇥][caller⇥]message[⇥{"k": v, …}]`.

The controller under envtest prints no caller, DataStorage prints logger and caller, some lines have
neither. Parts are told apart by shape: a caller looks like `dir/file.go:NN`, the fields part is the
last part when it is a JSON object. Copies in documents replace the tabs by two or more spaces (or
even one); those are accepted as a fallback, and so are lowercase levels. Warn-and-up records are
followed by a stack trace (a function line, then a tab-indented `file.go:NN` line, repeated; copies
indent it with spaces), which is folded into the record. A relay's prefix is taken off first
(`relay.peel`).
"""

from __future__ import annotations

import polars as pl

from triage.parsers import zap_json as zj
from triage.parsers._common import (
    ISO_TS_PATTERN,
    fraction_precision,
    message_key,
    stack_file_line,
    stack_frame_line,
    utc_offset_seconds,
    with_per_value,
    with_stacktrace,
    zap_level,
)
from triage.table.exprs import decode_json, iso_ts

FIELDS_DTYPE = pl.Struct({"correlation_id": pl.String, "event_type": pl.String})

# time, separator (a tab, or spaces in copies), level token, and the separator before the rest. The
# rest is sliced off by the head's length rather than captured: a capture group spanning a long line
# is the slow part of a regex, a short one is cheap.
_HEAD = r"^((" + ISO_TS_PATTERN + r")(\t| +)([A-Za-z]+(?:\(-?\d+\))?)(?:\t| +|$))"
# The last `⇥{` of a line: a tab and a brace with no other `⇥{` after them.
_LAST_TAB_BRACE = r"\t\{(?:[^\t]|\t+[^\t{])*\t*$"
_LAST_TAB_BRACE_FIELDS = r"\t(\{(?:[^\t]|\t+[^\t{])*\t*)$"
_CALLER = r"^\S+\.go:\d+$"
# A logger name is one lowercase word; used only for copies whose tabs became single spaces.
_SPACED_LOGGER = r"^([a-z][a-z0-9_.-]*) ([A-Z].*)$"
_SPACED_CALLER = r"^(?:(\S+) )?(\S+\.go:\d+) (.*)$"

# A JSON object the decoder surely reads (numbers as `zap_json.NUMBER`): spaces between tokens, strings with
# no escape but the short ones, values that are scalars or objects and arrays of scalars.
_JSON_STRING = r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt])*"'
_JSON_SCALAR = rf"(?:{_JSON_STRING}|{zj.NUMBER}|true|false|null)"


def _json_object(value: str) -> str:
    return rf"\{{ *(?:{_JSON_STRING} *: *{value} *(?:, *{_JSON_STRING} *: *{value} *)*)?\}}"


_JSON_ARRAY = rf"\[ *(?:{_JSON_SCALAR} *(?:, *{_JSON_SCALAR} *)*)?\]"
_PLAIN_FIELDS = "^" + _json_object(rf"(?:{_JSON_SCALAR}|{_json_object(_JSON_SCALAR)}|{_JSON_ARRAY})") + "$"
# The keys FIELDS_DTYPE reads, as a key of the plain shape spells them.
_KNOWN_KEYS = tuple(f'"{key}"' for key in FIELDS_DTYPE.to_schema())


def split_head(rows: pl.DataFrame, text_col: str) -> pl.DataFrame:
    """Split console-record heads off lines: time, first separator, level token and the rest.

    Same as matching `^(time)(⇥| +)(level)(?:(?:⇥| +)(.*))?$` against each line.

    Args:
        rows: any frame.
        text_col: the String column holding the line text.

    Returns:
        `rows` with `_ts`, `_sep`, `_level` and `_rest` (null where the line has no such head; `_rest`
        is "" when nothing follows the level).
    """
    text = pl.col(text_col)
    # `.` does not match a newline, so a line holding one is no record; null text skips the regex.
    head = pl.when(~text.str.contains("\n", literal=True)).then(text).str.extract_groups(_HEAD)
    rest = text.str.slice(pl.col("_head").struct.field("1").str.len_chars())
    return (
        rows.with_columns(head.alias("_head"))
        .with_columns(
            pl.col("_head").struct.field("2").alias("_ts"),
            pl.col("_head").struct.field("3").alias("_sep"),
            pl.col("_head").struct.field("4").alias("_level"),
            rest.alias("_rest"),
        )
        .drop("_head")
    )


def split_fields(rows: pl.DataFrame, rest_col: str, tabbed_col: str) -> pl.DataFrame:
    """Split the fields object off the end of each record's rest.

    Same as `^(.*)⇥(\\{.*\\})$` on tab-separated records (the last `⇥{` when the line ends with `}`)
    and `^(.*?)\\s+(\\{".*\\}|\\{\\})$` on space-separated copies.

    Args:
        rows: any frame.
        rest_col: the text after the level.
        tabbed_col: Boolean, whether the record is tab-separated.

    Returns:
        `rows` with `_body` and `_fields`, both null when there is no fields object.
    """
    rest, tabbed = pl.col(rest_col), pl.col(tabbed_col)
    # Most lines hold one `⇥{`: a literal split finds it; the regex runs only where there are more.
    # Splitting (rather than slicing at a found offset) keeps multibyte text whole whichever unit,
    # bytes or characters, the polars version counts offsets in. Each step is a column of its own:
    # an expression used twice in one eager call is computed twice.
    out = rows.with_columns(
        (rest.str.count_matches("\t{", literal=True) > 1).alias("_many"),
        rest.str.splitn("\t{", 2).alias("_one"),
    )
    many, one = pl.col("_many"), pl.col("_one")
    out = out.with_columns(
        pl.when(many)
        .then(pl.when(many).then(rest).str.replace(_LAST_TAB_BRACE, ""))
        .otherwise(one.struct.field("field_0"))
        .alias("_tab_body"),
        pl.when(many)
        .then(pl.when(many).then(rest).str.extract(_LAST_TAB_BRACE_FIELDS, 1))
        .otherwise(pl.lit("{") + one.struct.field("field_1"))
        .alias("_tab_fields"),
        # Non-greedy: the fields object starts at the first ` {"` (nested objects have spaces too).
        # Tabbed rows are masked to null so that the regex runs on the copies only.
        pl.when(~tabbed).then(rest).str.extract_groups(r'^(.*?)\s+(\{".*\}|\{\})$').alias("_spaced"),
    )
    fields, spaced = pl.col("_tab_fields"), pl.col("_spaced")
    found = tabbed & fields.is_not_null() & rest.str.ends_with("}") & ~rest.str.contains("\n", literal=True)
    out = out.with_columns(found.alias("_found"))
    found = pl.col("_found")
    return out.with_columns(
        pl.when(found).then(pl.col("_tab_body")).when(~tabbed).then(spaced.struct.field("1")).alias("_body"),
        pl.when(found).then(fields).when(~tabbed).then(spaced.struct.field("2")).alias("_fields"),
    ).drop("_many", "_one", "_tab_body", "_tab_fields", "_spaced", "_found")


def known_fields(texts: pl.Series) -> pl.Series:
    """The fields a console record's fields object holds that the event table reads (FIELDS_DTYPE).

    The same as decoding each text as JSON (`decode_json`), which most texts need not be: one of the
    plain shape (`_PLAIN_FIELDS`) that does not hold a key read here is valid JSON that gives no field.

    Args:
        texts: fields objects as printed, null where a record has none.

    Returns:
        A FIELDS_DTYPE series as long as texts: null where a text is null or is not JSON.
    """
    plain = texts.str.contains(_PLAIN_FIELDS)
    for key in _KNOWN_KEYS:
        plain = plain & ~texts.str.contains(key, literal=True)
    need = ~plain.fill_null(False)
    if need.all():
        return decode_json(texts, FIELDS_DTYPE)
    decoded = decode_json(texts.filter(need), FIELDS_DTYPE)
    # The decoded structs in their rows; the others are structs whose fields are all null.
    at = need.to_frame("need").select(pl.when("need").then(pl.col("need").cum_sum() - 1)).to_series()
    fields = FIELDS_DTYPE.to_schema().items()
    empty = pl.DataFrame(
        [pl.Series(key, dtype=dtype).extend_constant(None, texts.len()) for key, dtype in fields]
    )
    return decoded.gather(at).zip_with(need, empty.to_struct(texts.name)).alias(texts.name)


def _with_name_parts(cands: pl.DataFrame) -> pl.DataFrame:
    """`logger`, `caller` and `message` of each record's `_body` (`_tabbed`: its parts are tab-separated)."""
    body, tabbed = pl.col("_body"), pl.col("_tabbed")
    # Each step is a column of its own: an expression used twice in one eager call is computed twice.
    spaced = pl.when(~tabbed).then(body).str.replace_all(r" {2,}", "\t")
    out = cands.with_columns(pl.when(tabbed).then(body).otherwise(spaced).str.split("\t").alias("_parts"))
    parts = pl.col("_parts")
    out = out.with_columns(
        parts.list.len().alias("_n"),
        parts.list.get(0, null_on_oob=True).alias("_p0"),
        parts.list.get(1, null_on_oob=True).alias("_p1"),
    )
    n, p0, p1 = pl.col("_n"), pl.col("_p0"), pl.col("_p1")
    out = out.with_columns(
        p0.str.contains(_CALLER).fill_null(False).alias("_c0"),
        p1.str.contains(_CALLER).fill_null(False).alias("_c1"),
        p0.str.contains(r"\s").fill_null(True).alias("_s0"),
    )
    c0, c1 = pl.col("_c0"), pl.col("_c1")
    out = out.with_columns(
        ((n >= 3) & c1 & ~c0).alias("_full"),
        ((n >= 2) & c0).alias("_caller_only"),
        ((n >= 2) & ~c0 & ~pl.col("_s0")).alias("_logger_only"),
        ((n == 1) & ~tabbed).alias("_one_spaced"),
    )
    full, caller_only, logger_only = pl.col("_full"), pl.col("_caller_only"), pl.col("_logger_only")
    # Only copies whose tabs became single spaces need these: the other rows are masked from the regexes.
    one_spaced = pl.when(pl.col("_one_spaced")).then(body)
    out = out.with_columns(
        one_spaced.str.extract_groups(_SPACED_CALLER).alias("_by_caller"),
        one_spaced.str.extract_groups(_SPACED_LOGGER).alias("_by_logger"),
    )
    spaced_caller, spaced_logger = pl.col("_by_caller"), pl.col("_by_logger")
    by_caller = pl.col("_one_spaced") & spaced_caller.struct.field("2").is_not_null()
    by_logger = pl.col("_one_spaced") & ~by_caller & spaced_logger.struct.field("1").is_not_null()
    out = out.with_columns(by_caller.alias("_caller_spaced"), by_logger.alias("_logger_spaced"))
    by_caller, by_logger = pl.col("_caller_spaced"), pl.col("_logger_spaced")
    # The parts after the logger and caller, joined again: computed on the rows that take them only.
    split = full | caller_only | logger_only
    sep = pl.when(tabbed).then(pl.lit("\t")).otherwise(pl.lit("  "))
    after = pl.when(split).then(parts).list.slice(pl.when(full).then(2).otherwise(1)).list.join(sep)
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
        pl.when(split)
        .then(after)
        .when(by_caller)
        .then(spaced_caller.struct.field("3"))
        .when(by_logger)
        .then(spaced_logger.struct.field("2"))
        .otherwise(body)
    )
    temporary = ["_parts", "_n", "_p0", "_p1", "_c0", "_c1", "_s0", "_full", "_caller_only", "_logger_only"]
    temporary += ["_one_spaced", "_by_caller", "_by_logger", "_caller_spaced", "_logger_spaced"]
    return out.with_columns(logger.alias("logger"), caller.alias("caller"), message.alias("message")).drop(
        temporary
    )


def console_ts_columns(ts_text: pl.Expr) -> list[pl.Expr]:
    """`ts`, `ts_precision` and `utc_offset` of a console record's printed time.

    Args:
        ts_text: the printed time.

    Returns:
        Named expressions of the time text alone.
    """
    return [
        iso_ts(ts_text).alias("ts"),
        fraction_precision(ts_text).alias("ts_precision"),
        utc_offset_seconds(ts_text).alias("utc_offset"),
    ]


def decode_rows(rows: pl.DataFrame, text_col: str) -> pl.DataFrame:
    """Decode the zap console records among rows.

    Args:
        rows: any frame; its columns are kept.
        text_col: the String column holding the line text (indentation removed).

    Returns:
        `rows` with zap_json.DECODED_COLUMNS added (nulls and `decoded` False where a row is not a
        console record).
    """
    return zj.spread(rows, decode_records(rows, text_col))


def decode_records(rows: pl.DataFrame, text_col: str) -> pl.DataFrame:
    """The zap console records among rows, one row each: `_row` (its position in rows) and DECODED_COLUMNS.

    Args:
        rows: any frame.
        text_col: the String column holding the line text (indentation removed).
    """
    indexed = rows.select(text_col).with_row_index("_row")
    # A record starts with its time: only lines that start with a digit can be one.
    starts = indexed.filter(pl.col(text_col).str.contains(r"^\d").fill_null(False)).select("_row", text_col)
    cands = (
        split_head(starts, text_col)
        .with_columns(zap_level(pl.col("_level")).alias("level"))
        .filter(pl.col("level").is_not_null())
        .with_columns((pl.col("_sep") == "\t").alias("_tabbed"))
    )
    cands = split_fields(cands, "_rest", "_tabbed")
    cands = cands.with_columns(known_fields(cands.get_column("_fields")).alias("_known")).with_columns(
        # A brace-shaped tail that is not JSON belongs to the message.
        pl.when(pl.col("_known").is_null()).then(pl.col("_rest")).otherwise(pl.col("_body")).alias("_body"),
        pl.when(pl.col("_known").is_null()).then(None).otherwise(pl.col("_fields")).alias("_fields"),
    )
    cands = _with_name_parts(cands)
    # Times and messages repeat: their derived columns are computed once per distinct value.
    cands = with_per_value(cands, "_ts", console_ts_columns(pl.col("_ts")))
    cands = with_per_value(cands, "message", [message_key(pl.col("message")).alias("msg_key")])
    return cands.select(
        "_row",
        "level",
        "ts",
        "ts_precision",
        pl.lit(False).alias("ts_assumed"),
        "logger",
        "caller",
        "message",
        "msg_key",
        pl.col("_known").struct.field("correlation_id").alias("correlation_id"),
        pl.col("_known").struct.field("event_type").alias("event_type"),
        pl.col("_fields").fill_null("{}").alias("attrs"),
        "utc_offset",
        pl.lit(True).alias("decoded"),
    )


def decode_any(rows: pl.DataFrame, text_col: str) -> pl.DataFrame:
    """Decode zap records in either format (JSON first, then console).

    Args:
        rows: any frame; its columns are kept.
        text_col: the String column holding the line text (indentation removed).

    Returns:
        `rows` with zap_json.DECODED_COLUMNS added.
    """
    return zj.spread(rows, any_records(rows, text_col))


def any_records(rows: pl.DataFrame, text_col: str) -> pl.DataFrame:
    """The zap records in either format among rows, one row each: `_row` (its position) and DECODED_COLUMNS.

    Args:
        rows: any frame.
        text_col: the String column holding the line text (indentation removed).

    Returns:
        The JSON records, then the console records, each in row order.
    """
    as_json = zj.decode_records(rows, text_col)
    # Only lines that are not JSON records can be console records: those are decoded, at their positions.
    unread = pl.repeat(True, rows.height, dtype=pl.Boolean, eager=True)
    at = unread.scatter(as_json.get_column("_row"), False).arg_true()
    as_console = decode_records(rows.select(pl.col(text_col).gather(at)), text_col)
    as_console = as_console.with_columns(at.gather(as_console.get_column("_row")).alias("_row"))
    return pl.concat([as_json, as_console.cast(as_json.schema)])


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
    # Each step is a column of its own: an expression used twice in one eager call is computed twice.
    head, text = pl.col(head_col).fill_null(False), pl.col(text_col)
    marked = frame.with_columns(stack_file_line(text).alias("_file"))
    marked = marked.with_columns((stack_frame_line(text, pl.col("_file")) & ~head).alias("_frame_line"))
    frame_line = pl.col("_frame_line")
    # A run of frame lines continues the record that precedes it: the head flag of the last line that
    # is no frame line, carried forward (lines before any such line follow nothing).
    follows_head = pl.when(~frame_line).then(head).forward_fill().fill_null(False)
    marked = marked.with_columns((frame_line & follows_head).alias("_stack")).drop("_file", "_frame_line")
    marked = marked.with_columns(
        pl.when(~pl.col("_stack")).then(pl.col("line")).forward_fill().alias("_owner")
    )
    if not marked.get_column("_stack").any():
        return marked.with_columns(
            pl.lit(None, pl.String).alias("_stacktrace"), pl.lit(1, pl.UInt32).alias("_n_lines")
        )
    # Traces are rare: their text and length come from the trace rows alone.
    traces = (
        marked.filter(pl.col("_stack"))
        .group_by("_owner", maintain_order=True)
        .agg(pl.col(text_col).str.join("\n").alias("_stacktrace"), pl.len().alias("_frames"))
    )
    joined = marked.join(traces, on="_owner", how="left", maintain_order="left")
    return joined.with_columns((pl.col("_frames").fill_null(0) + 1).cast(pl.UInt32).alias("_n_lines")).drop(
        "_frames"
    )


def with_traces(records: pl.DataFrame) -> pl.DataFrame:
    """Fold each record's stack trace (`_stacktrace`) into its `attrs`.

    Args:
        records: rows with `attrs` and `_stacktrace`, in file order.

    Returns:
        The rows, in the same order, with `attrs` holding the trace where there is one.
    """
    traced = pl.col("_stacktrace").is_not_null()
    at = records.select(pl.arg_where(traced)).to_series()
    if at.is_empty():
        return records
    # Few records carry a trace: the JSON editing runs on those rows only, and only `attrs` is rebuilt.
    edited = records.select(with_stacktrace(pl.col("attrs").gather(at), pl.col("_stacktrace").gather(at)))
    return records.with_columns(records.get_column("attrs").scatter(at, edited.to_series()))
