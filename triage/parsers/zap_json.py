"""zap production JSON lines: `{"level":…,"ts":…,"logger":…,"caller":…,"msg":…,<fields>}`.

`ts` is ISO 8601 (`…T15:24:53.447Z`, `…-0500`), RFC 3339 seconds (`…T10:25:09-05:00`) or an epoch
float (`1769779135.7643733`, `zap.NewProduction()`). The fields after `msg` are kept, as printed, in
`attrs`; `error` and `stacktrace` are ordinary fields there.
"""

from __future__ import annotations

import polars as pl

from triage.parsers._common import (
    epoch_ts,
    fraction_precision,
    message_key,
    utc_offset_seconds,
    with_per_value,
    zap_level,
)
from triage.table.exprs import decode_json, iso_ts

# Only the keys the event table needs are decoded; the rest stay as text in `attrs`.
KNOWN_DTYPE = pl.Struct(
    {
        "level": pl.String,
        "logger": pl.String,
        "caller": pl.String,
        "msg": pl.String,
        "correlation_id": pl.String,
        "event_type": pl.String,
    }
)

# `ts` is a string or a number, so its token is taken from the text rather than decoded.
_TS_TOKEN = r'"ts":\s*("(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*)'
_VALUE = r'(?:"(?:[^"\\]|\\.)*"|[-+0-9.eE]+|null|true|false)'
# zap writes level, ts, logger, caller and msg first, in that order; removing that leading run
# leaves the fields in the order they were printed.
_LEADING_KEYS = r'^\{\s*(?:"(?:level|ts|logger|caller|msg)"\s*:\s*' + _VALUE + r"\s*,?\s*)*"

# zap's own shape: compact; level, ts, logger and caller (when printed) and msg first, in that order;
# then flat fields; no escapes. Such a line is a well-formed object whose texts read as the JSON
# decoder reads them.
_CHARS = r'[^"\\\x00-\x1f]*'
_STRING = rf'"{_CHARS}"'
# Numbers the JSON decoder surely reads: it refuses some it cannot hold (1e309, 400 digits).
NUMBER = r"-?(?:0|[1-9][0-9]{0,20})(?:\.[0-9]+)?(?:[eE][-+]?[0-9]{1,2})?"
_FIELD = rf"{_STRING}:(?:{_STRING}|{NUMBER}|true|false|null)"
# Every step is decided by the next character alone, so the regex engine reads the line once.
_PLAIN = (
    rf'^\{{"level":"(?P<level>{_CHARS})","ts":(?P<ts>{_STRING}|{NUMBER}),'
    rf'"(?:logger":"(?P<logger>{_CHARS})",")?(?:caller":"(?P<caller>{_CHARS})",")?msg":"(?P<msg>{_CHARS})"'
    rf"(?:,(?P<fields>{_FIELD}(?:,{_FIELD})*))?\}}$"
)
DECODED_COLUMNS = (
    "level",
    "ts",
    "ts_precision",
    "ts_assumed",
    "logger",
    "caller",
    "message",
    "msg_key",
    "correlation_id",
    "event_type",
    "attrs",
    "utc_offset",
    "decoded",
)


def is_zap_json(text: pl.Expr) -> pl.Expr:
    """Whether a line looks like a zap JSON record (an object with a `level` key).

    Args:
        text: a String expression, indentation already removed.

    Returns:
        A Boolean expression (null text gives False); decoding may still reject the line.
    """
    looks = text.str.starts_with('{"') & text.str.ends_with("}") & text.str.contains('"level":', literal=True)
    return looks.fill_null(False)


def _epoch_precision(token: pl.Expr) -> pl.Expr:
    # A float64 holds about microseconds at today's epoch, so never claim more than "us".
    digits = token.str.extract(r"\.(\d+)", 1).str.len_chars().fill_null(0)
    return pl.when(digits == 0).then(pl.lit("s")).when(digits <= 3).then(pl.lit("ms")).otherwise(pl.lit("us"))


def ts_columns(token: pl.Expr) -> list[pl.Expr]:
    """`ts`, `ts_precision` and `utc_offset` of a printed `ts` token (a quoted text or a bare number).

    Args:
        token: the token as printed, quotes included; null when the record has no `ts`.

    Returns:
        Named expressions of the token alone.
    """
    quoted = token.str.starts_with('"')
    ts_text = token.str.strip_prefix('"').str.strip_suffix('"')
    ts = pl.when(quoted).then(iso_ts(ts_text)).otherwise(epoch_ts(token.cast(pl.Float64, strict=False)))
    precision = pl.when(ts.is_null()).then(None).when(quoted).then(fraction_precision(ts_text))
    return [
        ts.alias("ts"),
        precision.otherwise(_epoch_precision(token)).alias("ts_precision"),
        pl.when(quoted).then(utc_offset_seconds(ts_text)).alias("utc_offset"),
    ]


def decode_rows(rows: pl.DataFrame, text_col: str) -> pl.DataFrame:
    """Decode the zap JSON records among rows.

    Args:
        rows: any frame; its columns are kept.
        text_col: the String column holding the line text (indentation removed).

    Returns:
        `rows` with DECODED_COLUMNS added: event-schema values (plus `caller` and `utc_offset`, the
        offset in seconds the printed `ts` carried) for rows that decode, nulls elsewhere, and
        `decoded` (Boolean) telling which rows decoded.
    """
    return spread(rows, decode_records(rows, text_col))


def spread(rows: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """rows with the decoded records' columns beside them: nulls, and `decoded` False, on the other rows.

    Args:
        rows: any frame.
        records: `_row` (a position in rows) and DECODED_COLUMNS, for the rows that decoded.
    """
    out = rows.with_row_index("_row").join(records, on="_row", how="left", maintain_order="left")
    return out.with_columns(pl.col("decoded").fill_null(False)).drop("_row")


def decode_records(rows: pl.DataFrame, text_col: str) -> pl.DataFrame:
    """The zap JSON records among rows, one row each: `_row` (its position in rows) and DECODED_COLUMNS.

    Records in zap's own shape (`_PLAIN`) are read by one anchored regex; the others are decoded
    as JSON. Both give the same columns for the same text.

    Args:
        rows: any frame.
        text_col: the String column holding the line text (indentation removed).
    """
    indexed = rows.select(text_col).with_row_index("_row")
    candidates = indexed.filter(is_zap_json(pl.col(text_col))).select("_row", pl.col(text_col).alias("_text"))
    plain = pl.col("_text").str.extract_groups(_PLAIN).struct.unnest()
    candidates = (
        candidates.with_columns(plain).with_columns(_after_ids()).select("_row", "_text", *_plain_columns())
    )
    read = candidates.filter("_plain").drop("_text", "_plain")
    others = candidates.filter(~pl.col("_plain")).select("_row", "_text")
    if others.height:
        read = pl.concat([read, _decode_others(others)]).sort("_row")
    # Timestamps and messages repeat: their derived columns are computed once per distinct value.
    read = with_per_value(read, "_token", ts_columns(pl.col("_token")))
    read = with_per_value(read, "msg", [message_key(pl.col("msg")).alias("msg_key")])
    return read.select(
        "_row",
        zap_level(pl.col("level")).alias("level"),
        "ts",
        "ts_precision",
        pl.lit(False).alias("ts_assumed"),
        "logger",
        "caller",
        pl.col("msg").alias("message"),
        "msg_key",
        "correlation_id",
        "event_type",
        "attrs",
        "utc_offset",
        pl.lit(True).alias("decoded"),
    )


def _decode_others(candidates: pl.DataFrame) -> pl.DataFrame:
    # Any key order, escapes, spaces, nested values: the JSON decoder reads them. A line it refuses is
    # no record.
    known = decode_json(candidates["_text"], KNOWN_DTYPE).alias("_known")
    attrs = pl.col("_text").str.replace(_LEADING_KEYS, "{").str.replace(r",\s*\}$", "}")
    return (
        candidates.with_columns(known)
        .filter(pl.col("_known").is_not_null())
        .select(
            "_row",
            pl.col("_known").struct.unnest(),
            _ts_token(pl.col("_text")),
            attrs.alias("attrs"),
        )
    )


_IDS = ("correlation_id", "event_type")


def _after_ids() -> list[pl.Expr]:
    # What follows the first `"correlation_id":` and `"event_type":` among the fields (in a line of
    # zap's own shape such a text is a key), split at its first two quotes: `"text",…` splits into
    # "", the text and the rest. All null where there is no such key.
    fields = pl.col("fields")
    after = (fields.str.splitn(f'"{key}":', 2).struct.field("field_1") for key in _IDS)
    return [text.str.splitn('"', 3).alias(f"_{key}") for text, key in zip(after, _IDS, strict=True)]


def _plain_columns() -> list[pl.Expr]:
    # Of the columns `_PLAIN` captured: the decoded ones and `_plain`, true where they are what the
    # JSON decoder reads. It is not on a record that has a leading key again right after msg
    # (`_LEADING_KEYS` takes that off too), a logger or caller among its fields (the decoder reads a
    # key's first value), or an ID or event type that is no text (the decoder prints those its own way).
    fields = pl.col("fields")
    plain = (
        pl.col("level").is_not_null()
        & ~fields.str.contains(r'^"(?:level|ts|msg)":').fill_null(False)
        & ~fields.str.contains('"logger":', literal=True).fill_null(False)
        & ~fields.str.contains('"caller":', literal=True).fill_null(False)
    )
    values: list[pl.Expr] = []
    for key in _IDS:
        before = pl.col(f"_{key}").struct.field("field_0")
        plain = plain & (before.is_null() | (before == ""))
        values.append(pl.col(f"_{key}").struct.field("field_1").alias(key))
    return [
        *(pl.col(name) for name in ("level", "logger", "caller", "msg")),
        *values,
        pl.col("ts").alias("_token"),
        pl.concat_str(pl.lit("{"), fields.fill_null(""), pl.lit("}")).alias("attrs"),
        plain.alias("_plain"),
    ]


def _ts_token(text: pl.Expr) -> pl.Expr:
    return text.str.extract(_TS_TOKEN, 1).alias("_token")
