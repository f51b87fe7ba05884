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

import re
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from triage.facts.clock import Offset, estimate_offset, link_flushes
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
from triage.table.vocabulary import (
    BATCH_PATH,
    BUFFERED,
    CLOSED,
    COUNTED_QUERIES,
    DB_WRITE_FAILED,
    DS_HTTP_REQUEST,
    DS_QUERIED,
    DS_VALIDATION_FAILED,
    DS_WRITTEN,
    STORE_ERRORS,
    STORE_LOGGER,
    TICK,
)


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
_HELPER = pl.col("attrs").str.json_path_match("$.helper")


def _store_rows(events: pl.DataFrame) -> pl.DataFrame:
    """Where the audit store's lines are in the table (`_at`) and what each says (`msg_key`).

    A store's lines count wherever they are: in a spec's timeline, unframed in the test log, or in
    a controller's or an excerpt's log. DataStorage's own self-audit store is not the pipeline
    under test and is left out.
    """
    found = events.select(
        pl.arg_where(
            (pl.col("service") != "datastorage").fill_null(True)
            & (pl.col("record") == "log")
            & pl.col("msg_key").is_in([BUFFERED, TICK, CLOSED, *STORE_ERRORS])
            & matches(events, "logger", STORE_LOGGER)
        ).alias("_at")
    )  # positions only: the table is not numbered
    return found.with_columns(events.get_column("msg_key").gather(found.get_column("_at")))


def _pick(events: pl.DataFrame, store: pl.DataFrame, keys: Sequence[str], *columns: str) -> pl.DataFrame:
    """Columns of the store lines that say one of `keys`, in table order.

    Most of a big test log is store lines: each kind is copied by itself, and only the columns read.
    """
    at = store.filter(pl.col("msg_key").is_in(list(keys))).get_column("_at")
    return _gather(events, at, *columns, "^attrs(_id)?$")


def _gather(events: pl.DataFrame, at: pl.Series, *columns: str) -> pl.DataFrame:
    """The `_KEEP` columns and `columns` (names or regexes) of the table's rows `at`.

    Lines outside any spec block get the UNFRAMED block.
    """
    rows = events.select(pl.col(*_KEEP, *columns).gather(at))
    return rows.with_columns(pl.col("spec_index").fill_null(UNFRAMED))


_BUFFERED_FIELDS = {"total_buffered": pl.Int64(), "buffer_size_after": pl.Int64()}
_TICK_FIELDS = {
    "tick_number": pl.Int64(),
    "batch_size_before_flush": pl.Int64(),
    "buffer_utilization": pl.Int64(),
    "expected_interval": pl.Float64(),
    "actual_interval": pl.Float64(),
    "tick_time": pl.String(),
}


def _buffered_and_ticks(
    events: pl.DataFrame, store: pl.DataFrame, attrs: Attrs
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`Event buffered successfully` lines and timer ticks, in table order (file, then line).

    Both are most of a large test log's store lines and their `attrs` lie in the same parts of the
    store: they are read in one pass, each text decoded once. Each kind's columns are then copied
    from the table by themselves, with only their own fields.
    """
    lines = store.filter(pl.col("msg_key").is_in([BUFFERED, TICK]))
    at, is_buffered = lines.get_column("_at"), lines.get_column("msg_key") == BUFFERED
    texts = events.select(pl.col("^attrs(_id)?$").gather(at))
    decoded = with_attrs(texts, [], {**_BUFFERED_FIELDS, **_TICK_FIELDS}, attrs)
    buffered = pl.concat(
        [
            _gather(events, at.filter(is_buffered), "correlation_id", "event_type").with_columns(
                pl.col("event_type").cast(pl.String)
            ),
            decoded.filter(is_buffered).select(*_BUFFERED_FIELDS),
        ],
        how="horizontal",
    )
    ticks = (
        pl.concat(
            [_gather(events, at.filter(~is_buffered)), decoded.filter(~is_buffered).select(*_TICK_FIELDS)],
            how="horizontal",
        )
        .rename({"batch_size_before_flush": "batch"})
        .with_columns(iso_ts(pl.col("tick_time")).alias("tick_at"))
        .drop("tick_time")
    )
    return buffered, ticks


def _writes(ds: pl.DataFrame, attrs: Attrs) -> pl.DataFrame:
    writes = ds.filter(pl.col("msg_key") == DS_WRITTEN)
    fields = {"count": pl.Int64(), "duration_seconds": pl.Float64()}
    return with_attrs(writes, _KEEP, fields, attrs).sort("ts", "file", "line")


def _refused(requests: pl.DataFrame) -> pl.DataFrame:
    return requests.filter((pl.col("path") == BATCH_PATH) & (pl.col("status") >= 400))


def _rejects(ds: pl.DataFrame, requests: pl.DataFrame, attrs: Attrs) -> pl.DataFrame:
    """Batch requests DataStorage refused (status >= 400) and its failed-write records, in table order."""
    refused = _refused(requests).select(*_KEEP, pl.lit(DS_HTTP_REQUEST).alias("msg_key"), "status")
    failed = attrs.attach(ds.filter(pl.col("msg_key").is_in(_DS_FAILED))).select(
        *_KEEP, pl.col("msg_key").cast(pl.String), attr("status", pl.Int64())
    )
    return pl.concat([refused, failed]).sort("file", "line")


def _requests(ds: pl.DataFrame, attrs: Attrs) -> pl.DataFrame:
    """DataStorage's `HTTP request` lines: method, path, status and duration in ms."""
    ds = ds.filter(pl.col("msg_key") == DS_HTTP_REQUEST)
    fields = {"method": pl.String(), "path": pl.String(), "status": pl.Int64(), "duration": pl.String()}
    return (
        with_attrs(ds, _KEEP, fields, attrs)
        .with_columns(duration_ms(pl.col("duration")).alias("duration_ms"))
        .drop("duration")
    )


def _bounded(events: pl.DataFrame, *frames: pl.DataFrame) -> list[pl.DataFrame]:
    """Each of frames (rows of the table) with `ts_lo`/`ts_hi` added, as `with_time_bounds` gives them.

    A row's bounds come from its own timeline alone, so the rows of all frames are bounded together:
    one pass over the table's timed rows instead of one per frame.
    """
    keys = pl.concat([frame.select("file", "line", "spec_index") for frame in frames])
    bounds = with_time_bounds(keys, events).select("ts_lo", "ts_hi")
    out = []
    at = 0
    for frame in frames:
        out.append(pl.concat([frame, bounds.slice(at, frame.height)], how="horizontal"))
        at += frame.height
    return out


def _queries(printed: pl.DataFrame, counted: pl.DataFrame) -> pl.DataFrame:
    """The test helpers' query prints and other suites' counted prints (`_counted_prints`), both bounded."""
    printed = printed.select(
        *_KEEP,
        "ts_lo",
        "ts_hi",
        "correlation_id",
        pl.col("event_type").cast(pl.String),
        _HELPER.alias("helper"),
        attr("subject", pl.String()),
        attr("count", pl.Int64()),
    )
    counted = _counted_prints(counted)
    if counted.is_empty():
        return printed
    return pl.concat([printed, counted.select(printed.columns).cast(printed.schema)]).sort("file", "line")


def _counted_output(events: pl.DataFrame) -> pl.DataFrame:
    """The test run's output lines that are other suites' query prints (COUNTED_QUERIES): `_KEEP`, message."""
    msg = pl.col("message").cast(pl.String)
    return (
        events.lazy()
        .filter((pl.col("service") == "test-run") & (pl.col("record") == "output"))
        .select(*_KEEP, "message")
        .filter(pl.any_horizontal([msg.str.contains(p) for p in COUNTED_QUERIES]))
        .collect()
    )


def _counted_prints(wanted: pl.DataFrame) -> pl.DataFrame:
    """Other suites' query prints that name a correlation ID, with the columns of `_queries`.

    E.g. `Found 3 phase_transition events for correlation_id=X`, `Found 0 events (expected 1) for
    correlation_id=X, event_type=T`, `✅ Query successful: found 0 events (correlation=X, type=T)` or
    `No phase_transition events found for correlation_id=X` (COUNTED_QUERIES): a count (0 when the
    print says nothing was found), the ID and, when printed, the type.

    Args:
        wanted: `_counted_output` rows with their time bounds.
    """
    msg = pl.col("message").cast(pl.String)

    def field(name: str) -> pl.Expr:
        """The named group of whichever shape the print has; a count-less shape counts 0."""
        found = []
        for pattern in COUNTED_QUERIES:
            index = re.compile(pattern).groupindex.get(name)
            if index is not None:
                found.append(msg.str.extract(pattern, index))
            elif name == "count":
                found.append(pl.when(msg.str.contains(pattern)).then(pl.lit("0")))
        return pl.coalesce(found)

    count = field("count").cast(pl.Int64)
    kind = pl.coalesce(field("type").replace("", None), field("kind"))
    return wanted.select(
        *_KEEP,
        "ts_lo",
        "ts_hi",
        field("cid").alias("correlation_id"),
        kind.alias("event_type"),
        pl.when(count > 0).then(pl.lit("found")).otherwise(pl.lit("no_events")).alias("helper"),
        kind.alias("subject"),
        count.alias("count"),
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


def _explicit_flushes(flushed: pl.DataFrame) -> pl.DataFrame:
    """The test's own Flush() calls that returned: `✅ Audit store flushed successfully` prints, bounded.

    With the SP-AUDIT-001 fix, Flush() drains the channel and writes everything buffered before it;
    before the fix it wrote only the batch, so events still in the channel stayed behind.
    """
    return flushed.select(*_KEEP, "ts_lo", "ts_hi")


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
    return (*_buffered_and_ticks(events, store, attrs), errors, closed)


def _datastorage_rows(events: pl.DataFrame) -> pl.DataFrame:
    """DataStorage's requests, writes, failed writes and answered queries."""
    wanted = [
        "HTTP request",
        DS_WRITTEN,
        "Audit events queried successfully",
        *_DS_FAILED,
    ]
    return events.filter((pl.col("service") == "datastorage") & pl.col("msg_key").is_in(wanted))


def _datastorage_frames(
    events: pl.DataFrame, attrs: Attrs
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """DataStorage's rows the pipeline reads (`_datastorage_rows`), its batch writes and its requests."""
    ds = _datastorage_rows(events)
    return ds, _writes(ds, attrs), _requests(ds, attrs)


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
    ds, writes, requests = _datastorage_frames(events, attrs)
    flushing = ticks.filter(pl.col("batch") > 0)
    refused = _refused(requests)
    offset = estimate_offset(flushing, writes, refused)
    flushes = link_flushes(flushing, writes, offset.skew_ns if offset else 0)
    helpers = attrs.attach(events.filter((pl.col("service") == "test-run") & (pl.col("record") == "helper")))
    printed, flushed, counted = _bounded(
        events,
        helpers.filter(_HELPER.is_in(["no_events", "found", "query_error"])),
        helpers.filter(_HELPER == "flushed"),
        _counted_output(events),
    )
    explicit = _explicit_flushes(flushed)
    buffered = _mark_explicit(_carry(store_buffered, flushes), explicit)
    ds_queries = attrs.attach(ds.filter(pl.col("msg_key") == DS_QUERIED)).select(
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
        queries=_queries(printed, counted),
        ds_queries=ds_queries,
        explicit_flushes=explicit,
        requests=requests,
        offset=offset,
    )
