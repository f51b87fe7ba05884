"""The clocks of the test host and DataStorage: the offset between them, and which write a flush sent.

DataStorage never logs correlation IDs: a batch write is linked to the flush that sent it by its size
and arrival time (commit time minus its own duration), after removing the clock offset estimated
from all flush/write pairs. Both are inferred, never observed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from triage.table.schema import EVENT_SCHEMA

NS_PER_S = 1_000_000_000
# Clock-offset search: a VM clock can be seconds off; pairs agreeing within 2 ms count as one offset.
SEARCH_NS = 60 * NS_PER_S
BIN_NS = 1_000_000
MAX_FLUSHES = 300  # a spread sample of flushes bounds the pair count on large runs
MIN_PAIRS = 3
# A flush's HTTP request reaches DataStorage well within this once the clock offset is removed.
LINK_WINDOW_NS = 5_000_000


def _arrivals(writes: pl.DataFrame) -> pl.DataFrame:
    """When each batch reached DataStorage: its commit time less the handler's own duration."""
    seconds = pl.col("duration_seconds").fill_null(0.0)
    took = pl.duration(microseconds=(seconds * 1e6).round(0).cast(pl.Int64), time_unit="ns")
    return writes.select(
        (pl.col("ts") - took).alias("arrived_at"),
        pl.col("ts").alias("written_at"),
        pl.col("count").alias("batch"),
        pl.col("line").alias("write_line"),
        pl.col("file").alias("write_file"),
    ).sort("arrived_at")


def _nearest(flushes: pl.DataFrame, arrivals: pl.DataFrame, shift_ns: int, tolerance_ns: int) -> pl.DataFrame:
    left = flushes.filter(pl.col("tick_at").is_not_null()).with_columns(
        (pl.col("tick_at") + pl.duration(nanoseconds=shift_ns, time_unit="ns")).alias("_probe")
    )
    return left.sort("_probe").join_asof(
        arrivals,
        left_on="_probe",
        right_on="arrived_at",
        by="batch",
        strategy="nearest",
        tolerance=timedelta(microseconds=tolerance_ns // 1000),
        check_sortedness=False,
    )


@dataclass(frozen=True)
class Offset:
    """The clock offset most flush/write pairs agree on.

    Attributes:
        skew_ns: DataStorage's clock minus the test host's (median of the agreeing pairs).
        pairs: flushes whose write agrees on it.
        sampled: flushes examined.
        examples: agreeing pairs (the flush's file/line/tick_at and the write's w_file/w_line/
            written_at/w_precision), earliest first.
    """

    skew_ns: int
    pairs: int
    sampled: int
    examples: pl.DataFrame


def estimate_offset(
    flushes: pl.DataFrame, writes: pl.DataFrame, refused: pl.DataFrame | None = None
) -> Offset | None:
    """Container clock minus test-host clock, from flushes and the same-size writes that arrived.

    Each flushing tick sends one batch, and on one machine it reaches DataStorage well within a
    millisecond, so the arrivals (commit time minus the handler's `duration_seconds`) of same-size
    batches cluster at one offset from the ticks that sent them. Every same-size arrival within a
    minute of a flush is a candidate; the true offset is the 2 ms window the most flushes fall into,
    because wrong candidates spread evenly. A VM clock can drift by seconds, hence the wide search.

    Args:
        flushes: flushing ticks (tick_at, batch, file, line).
        writes: DataStorage batch writes (ts, ts_precision, count, duration_seconds, file, line).
        refused: DataStorage's `HTTP request` lines of batch requests it refused (4xx/5xx: ts,
            ts_precision, duration_ms, file, line); they carry no batch size, so they pair with a
            flush of any size. With no writes at all they are the only arrivals there are.

    Returns:
        The offset, or None when fewer than MIN_PAIRS agree or no offset stands out.
    """
    flushes = flushes.filter(pl.col("tick_at").is_not_null() & pl.col("batch").is_not_null())
    took = pl.duration(
        microseconds=(pl.col("duration_seconds").fill_null(0.0) * 1e6).round(0).cast(pl.Int64), time_unit="ns"
    )
    arrivals = writes.select(
        (pl.col("ts") - took).alias("arrived_at"),
        pl.col("ts").alias("written_at"),
        pl.col("ts_precision").alias("w_precision"),
        pl.col("count").alias("w_batch"),
        pl.col("file").alias("w_file"),
        pl.col("line").alias("w_line"),
    ).drop_nulls(["arrived_at", "w_batch"])
    if refused is not None and refused.height:
        took_ms = pl.duration(
            microseconds=(pl.col("duration_ms").fill_null(0.0) * 1e3).round(0).cast(pl.Int64), time_unit="ns"
        )
        unsized = refused.select(
            (pl.col("ts") - took_ms).alias("arrived_at"),
            pl.col("ts").alias("written_at"),
            pl.col("ts_precision").alias("w_precision"),
            pl.lit(None, pl.Int64).alias("w_batch"),
            pl.col("file").alias("w_file"),
            pl.col("line").alias("w_line"),
        ).drop_nulls("arrived_at")
        arrivals = pl.concat([arrivals, unsized])
    if flushes.height < MIN_PAIRS or arrivals.is_empty():
        return None
    flushes = flushes.sort("tick_at", "file", "line").gather_every(flushes.height // MAX_FLUSHES + 1)
    window = pl.duration(nanoseconds=SEARCH_NS, time_unit="ns")
    left = flushes.select("file", "line", "tick_at", "batch").with_row_index("flush")
    left = left.with_columns(lo=pl.col("tick_at") - window, hi=pl.col("tick_at") + window)
    arrivals = arrivals.with_row_index("_w")
    # Candidate pairs are many on a long run: they are found on narrow columns, the text joins later.
    probes = left.select("flush", "tick_at", "batch", "lo", "hi")
    candidates = arrivals.select("_w", "arrived_at", "w_batch")
    in_window = (pl.col("arrived_at") >= pl.col("lo"), pl.col("arrived_at") <= pl.col("hi"))
    # Found by time alone, then by size: a join on size first pairs each flush with every same-size
    # write of the run before the window is applied, a copy many times the size of the result.
    sized = probes.join_where(candidates.drop_nulls("w_batch"), *in_window).filter(
        pl.col("batch") == pl.col("w_batch")
    )
    unsized = probes.join_where(candidates.filter(pl.col("w_batch").is_null()), *in_window)
    pairs = pl.concat([sized, unsized.select(sized.columns)]).with_columns(
        diff=(pl.col("arrived_at") - pl.col("tick_at")).dt.total_nanoseconds()
    )
    if pairs.is_empty():
        return None
    pairs = pairs.with_columns(bin=pl.col("diff").floordiv(BIN_NS))
    per_bin = pairs.group_by("bin").agg(n=pl.col("flush").n_unique())
    # Score each bin with its upper neighbour, so a cluster split by a bin edge still counts whole.
    scored = (
        per_bin.join(per_bin.with_columns(pl.col("bin") - 1), on="bin", how="left", suffix="_next")
        .with_columns(score=pl.col("n") + pl.col("n_next").fill_null(0))
        .sort(["score", "bin"], descending=[True, False])
    )
    best = int(scored["bin"][0])
    agreeing = (
        pairs.filter(pl.col("bin").is_between(best, best + 1))
        .join(left.select("flush", "file", "line"), on="flush", how="left", maintain_order="left")
        .join(arrivals.drop("arrived_at", "w_batch"), on="_w", how="left", maintain_order="left")
        .select(*left.columns, *arrivals.drop("_w").columns, "diff", "bin")
    )
    # Distinct writes too: one write near several same-size flushes of different processes is no offset.
    writes_agreeing = agreeing.select(pl.struct("w_file", "w_line").n_unique()).item()
    support = min(agreeing["flush"].n_unique(), int(writes_agreeing))
    runner_up = scored.filter((pl.col("bin") - best).abs() > 3)["score"].max()
    if support < MIN_PAIRS or (isinstance(runner_up, int) and support < 2 * runner_up):
        return None
    examples = agreeing.sort("tick_at", "flush", "w_line").unique("flush", keep="first", maintain_order=True)
    median = agreeing["diff"].median()
    skew = int(median) if isinstance(median, int | float) else 0
    return Offset(skew, support, flushes.height, examples)


def _count_in_window(probes: pl.DataFrame, arrivals: pl.DataFrame, window_ns: int) -> pl.DataFrame:
    """Per probe (`_i`, `_probe`, `batch`): how many same-size arrivals lie within window_ns of it.

    Two as-of joins find the first and the last same-size arrival inside the window by their rank
    among that size's arrivals, so the cost is linear (a join on size alone pairs every flush with
    every same-size write: quadratic).
    """
    window = pl.duration(nanoseconds=window_ns, time_unit="ns")
    ranked = (
        arrivals.select("batch", "arrived_at")
        .drop_nulls()
        .sort("arrived_at")
        .with_columns(pl.int_range(pl.len()).over("batch").alias("_k"))
    )
    probes = probes.drop_nulls(["_probe", "batch"])
    lo = probes.select("_i", "batch", (pl.col("_probe") - window).alias("_at")).sort("_at")
    hi = probes.select("_i", "batch", (pl.col("_probe") + window).alias("_at")).sort("_at")
    first = lo.join_asof(
        ranked, left_on="_at", right_on="arrived_at", by="batch", strategy="forward", check_sortedness=False
    )
    last = hi.join_asof(
        ranked, left_on="_at", right_on="arrived_at", by="batch", strategy="backward", check_sortedness=False
    )
    counts = first.select("_i", pl.col("_k").alias("_first")).join(
        last.select("_i", pl.col("_k").alias("_last")), on="_i"
    )
    return counts.select(
        "_i",
        (pl.col("_last") - pl.col("_first") + 1)
        .clip(lower_bound=0)
        .fill_null(0)
        .cast(pl.UInt32)
        .alias("link"),
    ).filter(pl.col("link") > 0)


def link_flushes(flushes: pl.DataFrame, writes: pl.DataFrame, skew_ns: int) -> pl.DataFrame:
    """Link each flush to the DataStorage write of the same size that arrived when it was sent.

    `link` counts the same-size arrivals inside the matching window: 1 is an unambiguous link, more
    means another process's flush could have been that write, 0 means none arrived.
    """
    none = flushes.with_columns(
        pl.lit(None, pl.Datetime("ns", "UTC")).alias("written_at"),
        pl.lit(None, pl.UInt32).alias("write_line"),
        pl.lit(None, EVENT_SCHEMA["file"]).alias("write_file"),
        pl.lit(0, pl.UInt32).alias("link"),
    )
    if flushes.is_empty() or writes.is_empty():
        return none
    arrivals = _arrivals(writes)
    indexed = flushes.with_row_index("_i")
    linked = _nearest(indexed, arrivals, skew_ns, LINK_WINDOW_NS)
    candidates = _count_in_window(linked.select("_i", "_probe", "batch"), arrivals, LINK_WINDOW_NS)
    return (
        indexed.join(linked.select("_i", "written_at", "write_line", "write_file"), on="_i", how="left")
        .join(candidates, on="_i", how="left")
        .with_columns(pl.col("link").fill_null(0))
        .sort("_i")
        .drop("_i")
    )
