"""One timeline per correlation ID, across the test log and DataStorage, in UTC order.

Rows say whether they are observed (the line names the correlation ID, or sits in the timeline of
the spec that owns it) or inferred (a DataStorage write linked to a flush by size and time: it never
logs correlation IDs).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

import polars as pl

from triage.facts.analysis import Analysis

TIMELINE_SCHEMA: dict[str, pl.DataType] = {
    "correlation_id": pl.String(),
    "at": pl.Datetime("ns", "UTC"),
    "precision": pl.String(),
    "source": pl.String(),
    "kind": pl.String(),
    "what": pl.String(),
    "basis": pl.String(),
    "file": pl.String(),
    "line": pl.UInt32(),
}
KIND_ORDER = {"step": 0, "buffered": 1, "flush": 2, "write": 3, "query": 4, "failure": 5}


# What most timeline rows share: a line of the test log, observed, about its own correlation ID.
_DEFAULTS = {
    "correlation_id": pl.col("correlation_id"),
    "source": pl.lit("test log"),
    "basis": pl.lit("observed"),
    "file": pl.col("file"),
    "line": pl.col("line"),
}


def _fmt(frame: pl.DataFrame, **exprs: pl.Expr) -> pl.DataFrame:
    """Timeline rows of a frame: the given columns, the rest as _DEFAULTS say."""
    columns = {**_DEFAULTS, **exprs}
    return frame.select(columns[name].cast(dtype).alias(name) for name, dtype in TIMELINE_SCHEMA.items())


def build_timelines(analysis: Analysis, ids: Collection[str] | None = None) -> pl.DataFrame:
    """Build the timelines of correlation IDs.

    Args:
        analysis: the analysis.
        ids: the IDs wanted; every ID when None.

    Returns:
        Rows in TIMELINE_SCHEMA, ordered by correlation ID, then time, then file order.
    """
    pipe = analysis.pipeline
    own = analysis.owners
    if ids is not None:
        wanted = pl.col("correlation_id").is_in(pl.Series(list(ids), dtype=pl.String).implode())
        pipe = replace(
            pipe,
            buffered=pipe.buffered.filter(wanted),
            queries=pipe.queries.filter(wanted),
        )
        own = own.filter(wanted)
    events = analysis.events
    spec_rows = events.filter(pl.col("record").is_in(["step", "failure"])).join(
        own, on=["file", "spec_index"], how="inner"
    )
    parts = [
        _fmt(
            spec_rows,
            correlation_id=pl.col("correlation_id_right")
            if "correlation_id_right" in spec_rows.columns
            else pl.col("correlation_id"),
            at=pl.col("ts"),
            precision=pl.col("ts_precision").cast(pl.String),
            kind=pl.col("record").cast(pl.String),
            what=pl.when(pl.col("record") == "step")
            .then(pl.lit("STEP: ") + pl.col("message").cast(pl.String))
            .otherwise(pl.lit("failure: ") + pl.col("message").cast(pl.String).str.split("\n").list.first()),
        ),
        _fmt(
            pipe.buffered,
            at=pl.col("ts"),
            precision=pl.col("ts_precision").cast(pl.String),
            kind=pl.lit("buffered"),
            what=pl.format("buffered {} (total_buffered {})", pl.col("event_type"), pl.col("total_buffered")),
        ),
    ]
    carried = pipe.buffered.drop_nulls("flush_line")
    flush_rows = carried.group_by("correlation_id", "file", "flush_line").agg(
        pl.len().alias("mine"), pl.col("flush_at").first(), pl.col("flush_batch").first()
    )
    ticks = pipe.ticks.select("file", pl.col("line").alias("flush_line"), "tick_number")
    flush_rows = flush_rows.join(ticks, on=["file", "flush_line"], how="left")
    parts.append(
        _fmt(
            flush_rows,
            at=pl.col("flush_at"),
            precision=pl.lit("ns"),
            kind=pl.lit("flush"),
            what=pl.format(
                "tick #{} flushed a batch of {} ({} of them for this ID)",
                pl.col("tick_number"),
                pl.col("flush_batch"),
                pl.col("mine"),
            ),
            line=pl.col("flush_line"),
        )
    )
    explicit = pipe.explicit_flushes.join(own, on=["file", "spec_index"], how="inner")
    parts.append(
        _fmt(
            explicit,
            at=pl.col("ts_lo"),
            precision=pl.lit("interval"),
            kind=pl.lit("flush"),
            what=pl.lit("the test's Flush() returned"),
            basis=pl.lit("observed (time: between the lines around it)"),
        )
    )
    linked = (
        carried.drop_nulls("write_line")
        .group_by("correlation_id", "write_file", "write_line")
        .agg(pl.col("written_at").first(), pl.col("flush_batch").first(), pl.col("link").first())
    )
    parts.append(
        _fmt(
            linked,
            at=pl.col("written_at"),
            precision=pl.lit("ms"),
            source=pl.lit("DataStorage"),
            kind=pl.lit("write"),
            what=pl.format("DataStorage wrote a batch of {}", pl.col("flush_batch")),
            basis=pl.when(pl.col("link") == 1)
            .then(pl.lit("inferred: the only same-size write when the flush was sent"))
            .otherwise(
                pl.format("inferred: one of {} same-size writes when the flush was sent", pl.col("link"))
            ),
            file=pl.col("write_file"),
            line=pl.col("write_line"),
        )
    )
    outcome = (
        pl.when(pl.col("helper") == "no_events")
        .then(pl.lit("no events yet"))
        .when(pl.col("helper") == "found")
        .then(pl.format("found {}", pl.col("count")))
        .otherwise(pl.lit("query error"))
    )
    parts.append(
        _fmt(
            pipe.queries,
            at=pl.col("ts_lo"),
            precision=pl.lit("interval"),
            kind=pl.lit("query"),
            what=pl.format("test query for {}: ", pl.col("subject")) + outcome,
            basis=pl.lit("observed (time: between the lines around it)"),
        )
    )
    rows = pl.concat(parts).drop_nulls("correlation_id").sort("correlation_id", "file", "line")
    # A process writes its timeline in order, so within the test log file order is the truth; a
    # seconds-only time ("10:25:08") must not jump ahead of a millisecond STEP printed before it.
    in_order = pl.col("at").forward_fill().cum_max().over("correlation_id", "file")
    order_at = pl.when(pl.col("source") == "test log").then(in_order).otherwise(pl.col("at"))
    kind = pl.col("kind").replace_strict(KIND_ORDER, default=9, return_dtype=pl.Int8)
    return (
        rows.with_columns(order_at.alias("_order"), kind.alias("_kind"))
        .sort("correlation_id", "_order", "file", "line", "_kind", nulls_last=True)
        .drop("_order", "_kind")
    )
