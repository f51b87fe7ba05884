"""Reconstruct the audit pipeline from the event table: buffered -> flushed -> written -> queried.

What is observed and what is inferred are kept apart:

* buffered, timer ticks, store errors and test queries are observed in the test log, inside the
  timeline of the spec whose process logged them; within one timeline the lines are in the order the
  process wrote them, so "the first tick with `batch_size_before_flush > 0` after a buffered line" is
  the tick whose synchronous write carried that event (store.go writes the batch inside the tick case);
* DataStorage's batch writes are observed in its log, but it never logs correlation IDs, so linking a
  flush to a write is inference: same event count, first write after the flush within the client's
  5 s timeout; `link` says how many writes could have matched (1 = unambiguous);
* test queries print no time: each gets the interval between the timed lines around it (the latest
  time above it and the earliest below it in its timeline).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from triage.table.attrs import Attrs
from triage.table.exprs import (
    attr,
    duration_ms,
    iso_ts,
    matches,
    next_in_timeline,
    with_attrs,
    with_time_bounds,
)
from triage.table.schema import EVENT_SCHEMA
from triage.table.vocabulary import (
    BUFFERED,
    CLOSED,
    COUNTED_QUERY,
    DB_WRITE_FAILED,
    DS_VALIDATION_FAILED,
    DS_WRITTEN,
    STORE_ERRORS,
    STORE_LOGGER,
    TICK,
)

NS_PER_S = 1_000_000_000
# Clock-offset search: a VM clock can be seconds off; pairs agreeing within 2 ms count as one offset.
SEARCH_NS = 60 * NS_PER_S
BIN_NS = 1_000_000
MAX_FLUSHES = 300  # a spread sample of flushes bounds the pair count on large runs
MIN_PAIRS = 3
# A flush's HTTP request reaches DataStorage well within this once the clock offset is removed.
LINK_WINDOW_NS = 5_000_000


@dataclass(frozen=True)
class Pipeline:
    """The audit pipeline as the logs show it. Every frame keeps `file` and `line` for evidence.

    Attributes:
        buffered: one row per `Event buffered successfully`, in file and line order (correlation_id,
            event_type, total_buffered, spec_index), with the flush that carried it (`flush_line`, `flush_at`,
            `flush_batch`; null when no flushing tick follows in the same timeline), the DataStorage
            write linked to that flush (`write_line`, `written_at`, `link`), and the first explicit
            Flush() print after it in the same timeline (`explicit_flush_line`, null when none).
        ticks: timer ticks (tick_number, batch, tick_at from `tick_time`, actual_interval).
        flushes: ticks with `batch_size_before_flush > 0`, linked to DataStorage writes.
        store_errors: the store's failure, drop, slow-write, timer-bug and buffer-full lines.
        closed: `Audit store closed` lines with their counters.
        writes: DataStorage `Batch audit events created successfully` (count, duration_seconds).
        rejects: DataStorage batch requests that failed (status >= 400) or `Batch database write
            failed` / `Request validation failed` records.
        queries: test-helper query prints (helper, correlation_id, event_type, count, ts_lo, ts_hi).
        ds_queries: DataStorage `Audit events queried successfully` (count, total).
        explicit_flushes: the test's Flush() calls that returned (`✅ Audit store flushed
            successfully`), with ts_lo/ts_hi.
        requests: DataStorage `HTTP request` lines (method, path, status, duration_ms).
        offset: DataStorage's clock minus the test host's, estimated from flush/write pairs; None
            when too few pairs agree.
    """

    buffered: pl.DataFrame
    ticks: pl.DataFrame
    flushes: pl.DataFrame
    store_errors: pl.DataFrame
    closed: pl.DataFrame
    writes: pl.DataFrame
    rejects: pl.DataFrame
    queries: pl.DataFrame
    ds_queries: pl.DataFrame
    explicit_flushes: pl.DataFrame
    requests: pl.DataFrame
    offset: Offset | None

    @property
    def skew_ns(self) -> int | None:
        """DataStorage's clock minus the test host's, in ns; None when it could not be estimated."""
        return self.offset.skew_ns if self.offset else None


_KEEP = ["file", "line", "spec_index", "spec", "ts", "ts_precision"]
# Store lines outside any spec block (spec blocks count from 1) form one timeline per file.
UNFRAMED = 0


_DS_FAILED = (DB_WRITE_FAILED, DS_VALIDATION_FAILED)


def _store_rows(events: pl.DataFrame) -> pl.DataFrame:
    """Where the audit store's lines are in the table (`_at`) and what each says (`msg_key`).

    A store's lines count wherever they are: in a spec's timeline, unframed in the test log, or in
    a controller's or an excerpt's log. DataStorage's own self-audit store is not the pipeline
    under test and is left out.
    """
    return (
        events.lazy()
        .with_row_index("_at")
        .filter(
            (pl.col("service").cast(pl.String).fill_null("") != "datastorage")
            & (pl.col("record") == "log")
            & pl.col("msg_key").is_in([BUFFERED, TICK, CLOSED, *STORE_ERRORS])
            & matches(events, "logger", STORE_LOGGER)
        )
        .select("_at", "msg_key")
        .collect()
    )


def _pick(events: pl.DataFrame, store: pl.DataFrame, keys: Sequence[str], *columns: str) -> pl.DataFrame:
    """Columns of the store lines that say one of `keys`, in table order.

    Most of a big test log is store lines: each kind is copied by itself, and only the columns read.
    """
    at = store.filter(pl.col("msg_key").is_in(list(keys))).get_column("_at")
    rows = events.select(*_KEEP, *columns, pl.col("^attrs(_id)?$")).select(pl.all().gather(at))
    return rows.with_columns(pl.col("spec_index").fill_null(UNFRAMED))


def _buffered(events: pl.DataFrame, store: pl.DataFrame, attrs: Attrs) -> pl.DataFrame:
    """`Event buffered successfully` lines, in table order (file, then line)."""
    rows = _pick(events, store, [BUFFERED], "correlation_id", "event_type")
    return with_attrs(
        rows.with_columns(pl.col("event_type").cast(pl.String)),
        [*_KEEP, "correlation_id", "event_type"],
        {"total_buffered": pl.Int64(), "buffer_size_after": pl.Int64()},
        attrs,
    )


def _ticks(events: pl.DataFrame, store: pl.DataFrame, attrs: Attrs) -> pl.DataFrame:
    fields = {
        "tick_number": pl.Int64(),
        "batch_size_before_flush": pl.Int64(),
        "buffer_utilization": pl.Int64(),
        "expected_interval": pl.Float64(),
        "actual_interval": pl.Float64(),
        "tick_time": pl.String(),
    }
    ticks = with_attrs(_pick(events, store, [TICK]), _KEEP, fields, attrs)
    return (
        ticks.rename({"batch_size_before_flush": "batch"})
        .with_columns(iso_ts(pl.col("tick_time")).alias("tick_at"))
        .drop("tick_time")
    )


def _writes(ds: pl.DataFrame, attrs: Attrs) -> pl.DataFrame:
    writes = ds.filter(pl.col("msg_key") == DS_WRITTEN)
    fields = {"count": pl.Int64(), "duration_seconds": pl.Float64()}
    return with_attrs(writes, _KEEP, fields, attrs).sort("ts", "file", "line")


def _refused(requests: pl.DataFrame) -> pl.DataFrame:
    return requests.filter((pl.col("path") == "/api/v1/audit/events/batch") & (pl.col("status") >= 400))


def _rejects(ds: pl.DataFrame, requests: pl.DataFrame, attrs: Attrs) -> pl.DataFrame:
    """Batch requests DataStorage refused (status >= 400) and its failed-write records, in table order."""
    refused = _refused(requests).select(*_KEEP, pl.lit("HTTP request").alias("msg_key"), "status")
    failed = attrs.attach(ds.filter(pl.col("msg_key").is_in(_DS_FAILED))).select(
        *_KEEP, pl.col("msg_key").cast(pl.String), attr("status", pl.Int64())
    )
    return pl.concat([refused, failed]).sort("file", "line")


def _requests(ds: pl.DataFrame, attrs: Attrs) -> pl.DataFrame:
    """DataStorage's `HTTP request` lines: method, path, status and duration in ms."""
    ds = ds.filter(pl.col("msg_key") == "HTTP request")
    fields = {"method": pl.String(), "path": pl.String(), "status": pl.Int64(), "duration": pl.String()}
    return (
        with_attrs(ds, _KEEP, fields, attrs)
        .with_columns(duration_ms(pl.col("duration")).alias("duration_ms"))
        .drop("duration")
    )


def _queries(helpers: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    helper = pl.col("attrs").str.json_path_match("$.helper")
    wanted = helpers.filter(helper.is_in(["no_events", "found", "query_error"]))
    printed = with_time_bounds(wanted, events).select(
        *_KEEP,
        "ts_lo",
        "ts_hi",
        "correlation_id",
        pl.col("event_type").cast(pl.String),
        helper.alias("helper"),
        attr("subject", pl.String()),
        attr("count", pl.Int64()),
    )
    counted = _counted_prints(events)
    if counted.is_empty():
        return printed
    return pl.concat([printed, counted.select(printed.columns).cast(printed.schema)]).sort("file", "line")


def _counted_prints(events: pl.DataFrame) -> pl.DataFrame:
    """Other suites' query prints that name a correlation ID, with the columns of `_queries`.

    E.g. `Found 3 phase_transition events for correlation_id=X`, `Found 0 events (expected 1) for
    correlation_id=X, event_type=T` or `✅ Query successful: found 0 events (correlation=X, type=T)`:
    a count, the ID and, when printed, the type.
    """
    msg = pl.col("message").cast(pl.String)
    output = events.filter((pl.col("service") == "test-run") & (pl.col("record") == "output"))
    wanted = output.filter(msg.str.contains(COUNTED_QUERY))

    def group(*indices: int) -> pl.Expr:
        return pl.coalesce([msg.str.extract(COUNTED_QUERY, i) for i in indices])

    count = group(1, 5).cast(pl.Int64)
    kind = group(4, 7, 2)
    return with_time_bounds(wanted, events).select(
        *_KEEP,
        "ts_lo",
        "ts_hi",
        group(3, 6).alias("correlation_id"),
        kind.alias("event_type"),
        pl.when(count > 0).then(pl.lit("found")).otherwise(pl.lit("no_events")).alias("helper"),
        kind.alias("subject"),
        count.alias("count"),
    )


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


def _link_flushes(flushes: pl.DataFrame, writes: pl.DataFrame, skew_ns: int) -> pl.DataFrame:
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


def _carry(buffered: pl.DataFrame, flushes: pl.DataFrame) -> pl.DataFrame:
    """Attach to each buffered event the first flushing tick after it in the same timeline."""
    right = flushes.select(
        "file",
        "spec_index",
        pl.col("line").alias("flush_line"),
        pl.col("tick_at").alias("flush_at"),
        pl.col("batch").alias("flush_batch"),
        "written_at",
        "write_line",
        "write_file",
        "link",
    )
    carried = next_in_timeline(buffered, "line", right, "flush_line")
    return carried.with_columns(pl.col("link").fill_null(0))


def _explicit_flushes(helpers: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """The test's own Flush() calls that returned: `✅ Audit store flushed successfully` prints.

    With the SP-AUDIT-001 fix, Flush() drains the channel and writes everything buffered before it;
    before the fix it wrote only the batch, so events still in the channel stayed behind.
    """
    flushed = helpers.filter(pl.col("attrs").str.json_path_match("$.helper") == "flushed")
    return with_time_bounds(flushed, events).select(*_KEEP, "ts_lo", "ts_hi")


def _mark_explicit(buffered: pl.DataFrame, explicit: pl.DataFrame) -> pl.DataFrame:
    """Add `explicit_flush_line`: the first explicit Flush() print after each buffered line, same timeline."""
    right = explicit.select("file", "spec_index", pl.col("line").alias("explicit_flush_line"))
    return next_in_timeline(buffered, "line", right, "explicit_flush_line")


def _store_frames(
    events: pl.DataFrame, attrs: Attrs
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Buffered lines, timer ticks, error lines and `Audit store closed` lines of the audit store."""
    store = _store_rows(events)
    errors = attrs.attach(_pick(events, store, STORE_ERRORS, "msg_key")).select(
        *_KEEP, pl.col("msg_key").cast(pl.String), "attrs"
    )
    closed = attrs.attach(_pick(events, store, [CLOSED])).select(
        *_KEEP,
        attr("buffered_count", pl.Int64()),
        attr("written_count", pl.Int64()),
        attr("dropped_count", pl.Int64()),
        attr("failed_batch_count", pl.Int64()),
    )
    return _buffered(events, store, attrs), _ticks(events, store, attrs), errors, closed


def _datastorage_rows(events: pl.DataFrame) -> pl.DataFrame:
    """DataStorage's requests, writes, failed writes and answered queries."""
    wanted = [
        "HTTP request",
        DS_WRITTEN,
        "Audit events queried successfully",
        *_DS_FAILED,
    ]
    return events.filter((pl.col("service") == "datastorage") & pl.col("msg_key").is_in(wanted))


def reconstruct(events: pl.DataFrame, attrs: Attrs | None = None) -> Pipeline:
    """Reconstruct the pipeline.

    Args:
        events: the normalized event table.
        attrs: the store of its records' `attrs`; None when `events` has its `attrs` column.

    Returns:
        The pipeline's frames.
    """
    attrs = Attrs() if attrs is None else attrs
    store_buffered, ticks, errors, closed = _store_frames(events, attrs)
    ds = _datastorage_rows(events)
    writes = _writes(ds, attrs)
    flushing = ticks.filter(pl.col("batch") > 0)
    requests = _requests(ds, attrs)
    refused = _refused(requests)
    offset = estimate_offset(flushing, writes, refused)
    flushes = _link_flushes(flushing, writes, offset.skew_ns if offset else 0)
    helpers = attrs.attach(events.filter((pl.col("service") == "test-run") & (pl.col("record") == "helper")))
    explicit = _explicit_flushes(helpers, events)
    buffered = _mark_explicit(_carry(store_buffered, flushes), explicit)
    ds_queries = attrs.attach(ds.filter(pl.col("msg_key") == "Audit events queried successfully")).select(
        *_KEEP, attr("count", pl.Int64()), attr("total", pl.Int64())
    )
    return Pipeline(
        buffered=buffered,
        ticks=ticks,
        flushes=flushes,
        store_errors=errors,
        closed=closed,
        writes=writes,
        rejects=_rejects(ds, requests, attrs),
        queries=_queries(helpers, events),
        ds_queries=ds_queries,
        explicit_flushes=explicit,
        requests=requests,
        offset=offset,
    )
