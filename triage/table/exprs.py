"""Polars expressions shared across stages: reading `attrs` fields, decoding JSON text and times,
ordering records in their timelines.

Everything here works on whole columns or frames of the event table (`table.schema`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from triage.table.attrs import Attrs

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%#z"
_WIDTH = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def iso_ts(text: pl.Expr) -> pl.Expr:
    """Parse RFC 3339 / ISO 8601 text with a zone into a UTC instant; anything else gives null."""
    return text.str.to_datetime(ISO_FORMAT, time_zone="UTC", time_unit="ns", strict=False)


# polars' JSON decoder holds several hundred bytes a row while it works: long columns go in slices.
DECODE_ROWS = 16_384
# `with_attrs` decodes long frames this many rows at a time, on two threads (the decoder works on one
# and releases the GIL), so the values of a slice are copied once more at most, not those of all rows.
SLICE_ROWS = 131_072


def decode_json(texts: pl.Series, dtype: pl.Struct) -> pl.Series:
    """Decode JSON object texts into structs, giving null for each text that does not decode.

    A long column is decoded DECODE_ROWS at a time, so the decoder's working memory stays small.
    polars fails the whole column on one bad text, so a failing batch is split in halves until the
    bad texts are isolated: a clean batch costs one decode, k bad texts about k·log2(n) more.

    Args:
        texts: a String series.
        dtype: the struct to decode into (keys not in it are ignored).

    Returns:
        A series of `dtype`, as long as `texts`.
    """
    if texts.len() <= DECODE_ROWS:
        return _decode_or_split(texts, dtype)
    slices = range(0, texts.len(), DECODE_ROWS)
    return pl.concat([_decode_or_split(texts.slice(at, DECODE_ROWS), dtype) for at in slices])


def _decode_or_split(texts: pl.Series, dtype: pl.Struct) -> pl.Series:
    if texts.len() == 0:
        return pl.Series(texts.name, [], dtype=dtype)
    try:
        out = texts.str.json_decode(dtype)
        if out.len() == texts.len():
            return out
    except pl.exceptions.PolarsError:
        pass
    if texts.len() == 1:
        return pl.Series(texts.name, [None], dtype=dtype)
    mid = texts.len() // 2
    return pl.concat([_decode_or_split(texts[:mid], dtype), _decode_or_split(texts[mid:], dtype)])


_GO_UNITS_MS = {"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def duration_ms(text: pl.Expr) -> pl.Expr:
    """A logged duration in milliseconds: zap's float seconds (`0.0053`) or Go's text (`5.33175ms`, `1m2.5s`).

    Args:
        text: the printed value as text.

    Returns:
        A Float64 expression; null when it is neither.
    """
    parts = text.str.extract_all(r"[\d.]+(?:ns|us|µs|ms|s|m|h)")
    summed = parts.list.eval(
        pl.element().str.extract(r"^([\d.]+)").cast(pl.Float64, strict=False)
        * pl.element()
        .str.extract(r"^[\d.]+(ns|us|µs|ms|s|m|h)$")
        .replace_strict(_GO_UNITS_MS, default=None, return_dtype=pl.Float64)
    ).list.sum()
    numeric = text.str.contains(r"^-?\d+(?:\.\d+)?(?:[eE]-?\d+)?$")
    return (
        pl.when(numeric)
        .then(text.cast(pl.Float64, strict=False) * 1000)
        .when(parts.list.len() > 0)
        .then(summed)
        .otherwise(None)
    )


def attr(key: str, dtype: pl.DataType) -> pl.Expr:
    """A field of `attrs` (JSON text) as a typed column; null when absent or not convertible."""
    return pl.col("attrs").str.json_path_match(f"$.{key}").cast(dtype, strict=False).alias(key)


def json_field(texts: pl.Series, key: str, dtype: pl.DataType) -> pl.Series:
    """One field of JSON object texts as `attr` reads it, faster on many texts: only that key is decoded."""
    return decode_json(texts, pl.Struct({key: pl.String()})).struct.field(key).cast(dtype, strict=False)


def with_attrs(
    rows: pl.DataFrame, keep: Sequence[str], fields: Mapping[str, pl.DataType], attrs: Attrs | None = None
) -> pl.DataFrame:
    """Columns `keep` of rows, then `attr(key, dtype)` for each field, decoding each JSON text once.

    A JSON path match parses the whole text for each key it is asked for; on the store's timer ticks
    (six keys, a line in five of a large test log) that was most of the pipeline's time. Values are
    read as text and converted as `attr` converts them; where a key appears twice, the first value is
    read, and an object or array value reads as null.

    Args:
        rows: rows of the event table, with `attrs` or with `attrs_id`.
        keep: columns of rows to keep, first.
        fields: key -> dtype, in column order.
        attrs: the store of the table's `attrs`, read part by part; None when rows have `attrs`.

    Returns:
        The kept columns and one column per field, named by its key.
    """
    texts = pl.Struct({key: pl.String() for key in fields})
    casts = [pl.col(key).cast(dtype, strict=False) for key, dtype in fields.items()]

    def typed(part: pl.Series) -> pl.Series:  # converted part by part: the texts are never all held
        return decode_json(part, texts).struct.unnest().select(casts).to_struct("typed")

    def decode(piece: pl.DataFrame) -> pl.Series:
        return (attrs or Attrs()).apply(piece, typed)

    if rows.height <= SLICE_ROWS:
        decoded = decode(rows)
    else:
        with ThreadPoolExecutor(2) as pool:
            slices = (rows.slice(at, SLICE_ROWS) for at in range(0, rows.height, SLICE_ROWS))
            decoded = pl.concat(list(pool.map(decode, slices)), rechunk=False)
    return pl.concat([rows.select(keep), decoded.struct.unnest()], how="horizontal")


def matches(events: pl.DataFrame, column: str, pattern: str) -> pl.Expr:
    """Rows whose categorical `column` matches the regex `pattern`.

    The pattern is tried on the column's few distinct values, not on every row.
    """
    values = events.get_column(column).unique().cast(pl.String).drop_nulls()
    return pl.col(column).is_in(values.filter(values.str.contains(pattern)).implode())


def next_in_timeline(left: pl.DataFrame, on: str, right: pl.DataFrame, right_on: str) -> pl.DataFrame:
    """Join each left row to the first right row at or after its line in the same timeline.

    A process writes its timeline in order, so "the next X after this line in the same spec block" is
    an as-of join on the line number by (file, spec_index). Only left's keys go through the join, so a
    wide left frame is not copied twice (sorted, then joined).

    Args:
        left: rows with `file`, `spec_index` and the line column `on`.
        on: left's line column.
        right: rows with `file`, `spec_index` and the line column `right_on` (plus what to carry).
        right_on: right's line column.

    Returns:
        left's rows, in their order, with right's columns (named as `join_asof` names them), null where
        nothing follows.
    """
    keys = left.select("file", "spec_index", on).with_row_index("_at")
    found = keys.sort(on).join_asof(
        right.sort(right_on),
        left_on=on,
        right_on=right_on,
        by=["file", "spec_index"],
        strategy="forward",
        check_sortedness=False,  # both sides are sorted by line just above; `by` keeps groups apart
    )
    carried = found.sort("_at").drop(keys.columns)
    carried = carried.rename(lambda name: f"{name}_right" if name in left.columns else name)
    return pl.concat([left, carried], how="horizontal")


def with_time_bounds(rows: pl.DataFrame, timeline: pl.DataFrame | None = None) -> pl.DataFrame:
    """Add `ts_lo`/`ts_hi`: the interval each record happened in.

    A timed record's interval is its printed precision (a seconds-only `10:25:09` is [09, 10)). In
    a spec block a process writes its timeline in order, so a record happened no earlier than any
    record above it and no later than any below: a seconds-only line after a STEP at `10:25:09.279`
    is in [09.279, 10), and a record without time is between the latest start above it and the
    earliest end below it. Outside blocks, a record without time gets the interval between the
    nearest timed records around it.

    Args:
        rows: event rows (any order).
        timeline: event rows whose times bound them (rows of other files are passed over); `rows`
            itself when None. Passing the few rows wanted and the event table saves a pass over it.

    Returns:
        `rows` in their order, with `ts_lo` and `ts_hi`.
    """
    width = pl.col("ts_precision").cast(pl.String).replace_strict(_WIDTH, default=0, return_dtype=pl.Int64)
    block = pl.col("spec_index").fill_null(0).alias("_block")  # rows outside blocks form a block too
    left = rows.with_row_index("_at").with_columns(block).sort("line")
    # Only the blocks the rows are in can bound them: the rest of a large log is never copied.
    blocks = left.select("file", "_block").unique()
    timed = (
        (rows if timeline is None else timeline)
        .lazy()
        .filter(
            pl.col("ts").is_not_null()
            & pl.col("file").is_in(blocks.get_column("file").implode())
            & pl.col("spec_index").fill_null(0).is_in(blocks.get_column("_block").implode())
        )
        .with_columns(block)
        .join(blocks.lazy(), on=["file", "_block"], how="semi")
        .select(
            "file",
            "_block",
            "line",
            pl.col("ts").alias("ts_lo"),
            (pl.col("ts") + pl.duration(nanoseconds=width, time_unit="ns")).alias("ts_hi"),
        )
        .sort("line")
        .with_columns(
            pl.when(pl.col("_block") > 0)
            .then(pl.col(name).cum_max() if name == "ts_lo" else pl.col(name).cum_min(reverse=True))
            .otherwise(pl.col(name))
            .over("file", "_block")
            .alias(name)
            for name in ("ts_lo", "ts_hi")
        )
        .collect()
    )
    bounded = left.join_asof(
        timed.drop("ts_hi"), on="line", by=["file", "_block"], strategy="backward", check_sortedness=False
    ).join_asof(
        timed.drop("ts_lo"), on="line", by=["file", "_block"], strategy="forward", check_sortedness=False
    )
    return bounded.sort("_at").drop("_at", "_block")
