"""What the tests queried and what their stores had buffered: shared by the query-centred rules.

The suite's query helpers print one line per query: `⏳ No events yet for <type> (correlation_id=X)`
and `✅ Found N event(s) for <type> (correlation_id=X)` (parsed as `helper` records), and the severity
specs print `DEBUG queryAuditEvents: eventType=<type>, namespace=<ns>, total_returned=N`, which
names a namespace instead of a correlation ID. Other suites' helpers print counts in their own words
(`Found N <type> events … for correlation_id=X`, `✅ Query successful: found N events (correlation=X,
type=T)`, `No <type> events found for correlation_id=X`, …: `vocabulary.COUNTED_QUERIES`), and a
query DataStorage did not answer in yet others (`❌ Failed to query Data Storage: …`, `Audit query
error: …`: `vocabulary.QUERY_FAILED`). A print carries no time; it was written right after
the query returned, so its file position inside the spec's timeline orders it against the store's
lines, and the timed lines around it bound when it happened.

The store's side: for every buffered event, what its timeline shows of its fate (the flushing tick
or Flush() that carried it, whether that batch was dropped, whether a later tick still held it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from triage.facts.analysis import Analysis, per_analysis
from triage.rules import wording
from triage.table.exprs import attr, json_field, matches, next_in_timeline, with_time_bounds
from triage.table.vocabulary import DEBUG_QUERY, DROPS, FAILED_STATES

BLOCK = ["file", "spec_index"]
QUERY_COLUMNS = [
    "file",
    "line",
    "spec_index",
    "ts_lo",
    "ts_hi",
    "correlation_id",
    "event_type",
    "helper",
    "count",
]


@dataclass(frozen=True)
class SpecBlock:
    """A spec's block in a test-run log: its name, end state and failure marker.

    Attributes:
        file: the test-run log.
        spec_index: the block's ordinal.
        name: the spec's full name.
        state: Ginkgo's end state (passed, failed, timedout, interrupted, ...).
        fail_line: line of the `[FAILED] in [It] - … @ …` marker, None when absent.
        fail_at: its time.
    """

    file: str
    spec_index: int
    name: str
    state: str
    fail_line: int | None
    fail_at: datetime | None

    @property
    def failed(self) -> bool:
        """True when the spec failed, timed out, panicked or was aborted (not merely interrupted)."""
        return self.state in FAILED_STATES


@per_analysis
def spec_blocks(analysis: Analysis) -> dict[tuple[str, int], SpecBlock]:
    """Each spec block's end state and failure marker.

    Args:
        analysis: the analysed bundle.

    Returns:
        (file, spec_index) -> SpecBlock.
    """
    test = analysis.attrs.attach(
        analysis.events.filter(
            (pl.col("source_kind") == "ginkgo")
            & pl.col("spec_index").is_not_null()
            & pl.col("record").is_in(["spec", "failure"])
        )
    )
    headers = (
        test.filter(pl.col("record") == "spec")
        .select("file", "spec_index", "spec", attr("state", pl.String()))
        .unique(["file", "spec_index"], keep="first", maintain_order=True)
    )
    markers = (
        test.filter(
            (pl.col("record") == "failure") & (pl.col("attrs").str.json_path_match("$.marker") == "true")
        )
        .sort("file", "line")
        .unique(["file", "spec_index"], keep="first", maintain_order=True)
        .select("file", "spec_index", pl.col("line").alias("fail_line"), "ts")
    )
    table = headers.join(markers, on=["file", "spec_index"], how="left")
    columns = table.select("file", "spec_index", "spec", "state", "fail_line", "ts")
    return {
        (file, index): SpecBlock(
            file=file, spec_index=index, name=name or "", state=state or "", fail_line=fail_line, fail_at=at
        )
        for file, index, name, state, fail_line, at in columns.iter_rows()
    }


def _namespace_owner(analysis: Analysis, blocks: pl.DataFrame) -> pl.DataFrame:
    """(file, spec_index, namespace) -> correlation_id in the given spec blocks (file, spec_index).

    A block usually holds one correlation ID; when it holds several, the one whose buffered lines
    follow that namespace's `Processing … phase` console lines (the controller works on that
    namespace's SignalProcessing) wins. Only the blocks asked for are read: the controller prints
    such lines throughout a run.
    """
    events = analysis.events
    processing = (
        events.lazy()
        .filter(
            (pl.col("service") == "test-run")
            & (pl.col("record") == "log")
            & matches(events, "msg_key", "^Processing ")
            & pl.col("spec_index").is_not_null()
        )
        .join(blocks.lazy(), on=BLOCK, how="semi", maintain_order="left")
        .select("file", "spec_index", "line", pl.col("^attrs(_id)?$"))
        .collect()
    )
    namespace = analysis.attrs.apply(processing, lambda texts: json_field(texts, "namespace", pl.String()))
    controller = processing.select(
        "file", "spec_index", pl.col("line").alias("ctl_line"), namespace.alias("namespace")
    )
    stored = in_blocks(
        analysis.pipeline.buffered.select("file", "spec_index", "line", "correlation_id"), blocks
    )
    # The first buffered line after each controller line names the object being processed.
    owners = (
        next_in_timeline(controller, "ctl_line", stored, "line")
        .drop_nulls(["namespace", "correlation_id"])
        .group_by("file", "spec_index", "namespace", "correlation_id")
        .len()
        .sort(
            "file",
            "spec_index",
            "namespace",
            "len",
            "correlation_id",
            descending=[False, False, False, True, False],
        )
        .unique(["file", "spec_index", "namespace"], keep="first", maintain_order=True)
        .select("file", "spec_index", "namespace", "correlation_id")
    )
    return owners


@per_analysis
def query_prints(analysis: Analysis) -> pl.DataFrame:
    """Every test query whose result was printed, with the interval it happened in.

    Args:
        analysis: the analysed bundle.

    Returns:
        Columns QUERY_COLUMNS: `helper` is no_events, found, query_error or debug_query; `count` is
        null for query errors; `event_type` is the type filter.
    """
    helpers = analysis.pipeline.queries.select(QUERY_COLUMNS)
    events = analysis.events
    output = events.filter((pl.col("service") == "test-run") & (pl.col("record") == "output"))
    debug = output.filter(pl.col("message").cast(pl.String).str.contains(DEBUG_QUERY))
    if debug.is_empty():
        return _after_ticks(helpers.sort("file", "line"), analysis)
    msg = pl.col("message").cast(pl.String)
    prints = with_time_bounds(debug, events).select(
        "file",
        "line",
        "spec_index",
        "ts_lo",
        "ts_hi",
        msg.str.extract(DEBUG_QUERY, 1).alias("event_type"),
        msg.str.extract(DEBUG_QUERY, 2).alias("namespace"),
        pl.lit("debug_query").alias("helper"),
        msg.str.extract(DEBUG_QUERY, 3).cast(pl.Int64).alias("count"),
    )
    owners = _namespace_owner(analysis, prints.select(BLOCK).unique())
    named = prints.join(owners, on=["file", "spec_index", "namespace"], how="inner").select(QUERY_COLUMNS)
    both = pl.concat([helpers, named.cast(helpers.schema)]).sort("file", "line")
    # The severity specs print `total_returned=0` after a failed request too: that is the error's echo.
    echo = (pl.col("helper") == "debug_query") & (
        pl.col("helper").shift(1).over("file", "spec_index") == "query_error"
    )
    return _after_ticks(both.filter(~echo.fill_null(False)), analysis)


def _after_ticks(prints: pl.DataFrame, analysis: Analysis) -> pl.DataFrame:
    """Raise each print's lower time bound to the `tick_time` of the store tick logged before it.

    A tick line is written after its tick fired, and the print after that line, so the print is no
    earlier than `tick_time`: a nanosecond bound where the surrounding lines only print seconds.
    """
    ticks = (
        analysis.pipeline.ticks.filter(pl.col("tick_at").is_not_null())
        .select("file", "spec_index", pl.col("line").alias("t_line"), "tick_at")
        .sort("t_line")
    )
    bounded = prints.sort("line").join_asof(
        ticks,
        left_on="line",
        right_on="t_line",
        by=["file", "spec_index"],
        strategy="backward",
        check_sortedness=False,  # both sides sorted by line above
    )
    return (
        bounded.with_columns(pl.max_horizontal("ts_lo", "tick_at").alias("ts_lo"))
        .select(prints.columns)
        .sort("file", "line")
    )


def flush_prints(analysis: Analysis) -> pl.DataFrame:
    """The tests' `✅ Audit store flushed successfully` prints (file, spec_index, line)."""
    return (
        analysis.attrs.attach(analysis.events.filter(pl.col("record") == "helper"))
        .filter(pl.col("attrs").str.json_path_match("$.helper") == "flushed")
        .select("file", "spec_index", "line")
        .sort("file", "line")
    )


def in_blocks(rows: pl.DataFrame, blocks: pl.DataFrame | None) -> pl.DataFrame:
    """The rows of the spec blocks listed in `blocks` (file, spec_index), in their order; all when None."""
    if blocks is None:
        return rows
    return rows.join(blocks.select(BLOCK).unique(), on=BLOCK, how="semi", maintain_order="left")


def flush_outcomes(analysis: Analysis, blocks: pl.DataFrame | None = None) -> pl.DataFrame:
    """Which flushing ticks' batches the store then dropped.

    The write runs inside the writer goroutine, so the store's next tick or drop line after a flushing
    tick in the same timeline tells how that write ended: a drop line means the batch was discarded.

    Args:
        analysis: the analysed bundle.
        blocks: the spec blocks (file, spec_index) to look at; None for all.

    Returns:
        file, spec_index, flush_line, dropped (bool), drop_line.
    """
    p = analysis.pipeline
    ticks = in_blocks(p.ticks, blocks).select(
        "file", "spec_index", "line", (pl.col("batch") > 0).alias("flushing")
    )
    drops = (
        in_blocks(p.store_errors, blocks)
        .filter(pl.col("msg_key").is_in(DROPS))
        .select("file", "spec_index", "line", pl.lit(False).alias("flushing"))
    )
    both = pl.concat(
        [ticks.with_columns(pl.lit(True).alias("tick")), drops.with_columns(pl.lit(False).alias("tick"))]
    )
    group = ["file", "spec_index"]
    nxt = both.sort("file", "line").with_columns(
        pl.col("tick").shift(-1).over(group).alias("next_tick"),
        pl.col("line").shift(-1).over(group).alias("drop_line"),
    )
    return nxt.filter(pl.col("flushing")).select(
        "file",
        "spec_index",
        pl.col("line").alias("flush_line"),
        (pl.col("next_tick") == False).fill_null(False).alias("dropped"),  # noqa: E712 (polars expression)
        "drop_line",
    )


def _next_line(left: pl.DataFrame, right: pl.DataFrame, name: str) -> pl.DataFrame:
    """Attach the line of the first `right` row after each `left` row in the same timeline as `name`."""
    return next_in_timeline(left, "line", right.select(*BLOCK, pl.col("line").alias(name)), name)


def buffered_fates(analysis: Analysis, blocks: pl.DataFrame | None = None) -> pl.DataFrame:
    """Buffered events with the next Flush() print after them and whether their batch was dropped.

    The batch that carries an event is written either after the first flushing tick that follows it,
    or by an explicit Flush(), which writes before its `Audit store flushed successfully` print; a
    store drop line right after that tick, or before that print, means the batch was discarded.

    Args:
        analysis: the analysed bundle.
        blocks: the spec blocks (file, spec_index) whose events are wanted; None for all. A fate
            depends only on its own block, so a caller that asks about a few blocks of a big run
            names them, and the other blocks' events are never worked on.

    Returns:
        pipeline.buffered of those blocks (in its order, file then line) with `held`, `tick_dropped`,
        `next_print`, `next_drop` and `dropped`.
    """
    buffered = in_blocks(analysis.pipeline.buffered, blocks)
    outcomes = flush_outcomes(analysis, blocks).select(
        *BLOCK, "flush_line", pl.col("dropped").alias("tick_dropped")
    )
    drops = in_blocks(analysis.pipeline.store_errors, blocks).filter(pl.col("msg_key").is_in(DROPS))
    keys = _held(buffered, in_blocks(analysis.pipeline.ticks, blocks)).join(
        outcomes, on=[*BLOCK, "flush_line"], how="left", maintain_order="left"
    )
    keys = _next_line(_next_line(keys, flush_prints(analysis), "next_print"), drops, "next_drop")
    by_flush = (
        pl.col("next_print").is_not_null()
        & (pl.col("flush_line").is_null() | (pl.col("next_print") < pl.col("flush_line")))
        & ~pl.col("held")
        & (pl.col("next_drop") < pl.col("next_print")).fill_null(False)
    )
    fates = keys.select(
        "held",
        "tick_dropped",
        "next_print",
        "next_drop",
        (pl.col("tick_dropped").fill_null(False) | by_flush).alias("dropped"),
    )
    # The buffered lines of a big run are many: the new columns are worked out beside their keys alone.
    return pl.concat([buffered, fates], how="horizontal")


def _held(buffered: pl.DataFrame, ticks: pl.DataFrame) -> pl.DataFrame:
    """Keys of the buffered events with `held`: the flushing tick after them still counted them as unwritten.

    At a tick the store holds `batch_size_before_flush + buffer_utilization` unwritten events, the
    latest ones buffered (events leave in order). If an event is among them, it was not written by
    anything logged between it and that tick, a Flush() included.

    Args:
        buffered: pipeline.buffered, or the rows of whole spec blocks of it.
        ticks: pipeline.ticks (of the same blocks, or more).
    """
    keys = buffered.select(*BLOCK, "line", "flush_line").with_columns(
        pl.int_range(1, pl.len() + 1).over(BLOCK).alias("_n")  # buffered is in line order
    )
    before = keys.select(*BLOCK, pl.col("line").alias("_b_line"), pl.col("_n").alias("_n_before"))
    held_by = (
        ticks.select(
            *BLOCK,
            pl.col("line").alias("flush_line"),
            (pl.col("batch") + pl.col("buffer_utilization").fill_null(0)).alias("_holding"),
        )
        .sort("flush_line")
        .join_asof(
            before.sort("_b_line"),
            left_on="flush_line",
            right_on="_b_line",
            by=BLOCK,
            strategy="backward",
            check_sortedness=False,  # both sides sorted by line above
        )
        .select(*BLOCK, "flush_line", "_holding", "_n_before")
    )
    later = pl.col("_n_before") - pl.col("_n") + 1  # this event and those buffered after it, up to the tick
    return (
        keys.join(held_by, on=[*BLOCK, "flush_line"], how="left", maintain_order="left")
        .with_columns((later <= pl.col("_holding")).fill_null(False).alias("held"))
        .drop("_n", "_holding", "_n_before")
    )


def unflushed_at(line: pl.Expr) -> pl.Expr:
    """Provably unwritten at `line`: no flushing tick between the buffered line and it, and no Flush()
    print either, unless the flushing tick after that print still held the event."""
    tick_after = pl.col("flush_line").is_null() | (pl.col("flush_line") > line)
    print_after = pl.col("next_print").is_null() | (pl.col("next_print") > line) | pl.col("held")
    return tick_after & print_after


def late_at(line: pl.Expr, until: pl.Expr, skew_ns: int) -> pl.Expr:
    """Flushed before `line`, but DataStorage logged the linked write after `until` (inferred)."""
    host_time = pl.col("written_at") - pl.duration(nanoseconds=skew_ns, time_unit="ns")
    # Only when that tick provably carried the event: a Flush() may have written it earlier.
    return (
        (pl.col("flush_line") < line) & pl.col("held") & (pl.col("link") == 1) & (host_time > until)
    ).fill_null(False)


def clock(moment: datetime | None, precise: bool = True) -> str:
    """A time for a sentence as `wording.clock` words it: `15:25:09.481 UTC`, or `15:25:09 UTC` when the
    source has whole seconds only.

    Args:
        moment: a UTC instant.
        precise: False for seconds-only sources.

    Returns:
        Text.
    """
    return wording.clock(moment, None if precise else "s")


def span(lo: datetime | None, hi: datetime | None) -> str:
    """The interval a print happened in, as `wording.clock_span` words it.

    Args:
        lo: earliest possible time.
        hi: latest possible time.

    Returns:
        Text.
    """
    return wording.clock_span(lo, hi)


def seconds(ns: int) -> str:
    """A duration for a sentence: `480 ms`, `2.1 s`, `35 s`.

    Args:
        ns: nanoseconds (negative is treated as 0).

    Returns:
        Text.
    """
    ns = max(ns, 0)
    if ns < 1_000_000_000:
        return f"{round(ns / 1_000_000)} ms"
    if ns < 10_000_000_000:
        return f"{ns / 1e9:.1f} s"
    return f"{round(ns / 1e9)} s"


def ns_between(a: datetime | None, b: datetime | None) -> int | None:
    """b - a in nanoseconds, None when either is unknown."""
    if a is None or b is None:
        return None
    delta = b - a
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
