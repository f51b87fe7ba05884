"""Finding the races: queries (printed by the test helpers, or silent polls) that missed an event the
store had buffered before them, judged against the buffered lines' fates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from triage.facts.analysis import Analysis
from triage.rules._queries import (
    BLOCK,
    SpecBlock,
    buffered_fates,
    late_at,
    query_prints,
    spec_blocks,
    unflushed_at,
)
from triage.rules._store import failing_blocks
from triage.table.exprs import next_in_timeline

POLL_STEP = r"(?i)\bpoll|\bquerying\b"


@dataclass(frozen=True)
class Race:
    """One query that missed a buffered event, and what became of that event and of the test.

    Attributes:
        query: the raced query (QUERY_COLUMNS, poll_line, eligible, unflushed).
        missed: the first buffered event it could not see (a pipeline.buffered row, plus
            `dropped` and `next_print`, the next `Audit store flushed successfully` print's line).
        later: the first later query of the same kind that found the events; None when none did.
        assertion: for a silent poll, the query print that followed it.
        block: the spec block.
        poll: for a printed query, the silent poll for any event that came before it in the spec.
        first_try: True when no earlier print queried the same type for this ID in the spec.
        retries: later prints of the same query that did not find the events either.
    """

    query: dict[str, Any]
    missed: dict[str, Any]
    later: dict[str, Any] | None
    assertion: dict[str, Any] | None
    block: SpecBlock | None
    poll: dict[str, Any] | None = None
    first_try: bool = False
    retries: int = 0


def _silent_polls(analysis: Analysis, prints: pl.DataFrame) -> pl.DataFrame:
    """Polls that printed nothing: a `STEP: … Poll …` whose step holds no query print.

    The suite's error spec polls for *any* event of its correlation ID without printing, then asserts
    a specific one; the poll ran somewhere between its STEP marker and the next STEP (or failure)
    marker. Its correlation ID is the one the next query print in the block names.

    Args:
        analysis: the analysed bundle.
        prints: query_prints() output.

    Returns:
        QUERY_COLUMNS rows (helper "silent_poll", event_type and count null; `line` the step that
        ended the poll) plus `poll_line`, the poll's STEP marker.
    """
    candidates = analysis.events.filter(
        (pl.col("source_kind") == "ginkgo")
        & pl.col("spec_index").is_not_null()
        & pl.col("record").is_in(["step", "failure"])
    )
    marks = (
        analysis.attrs.attach(candidates)
        .filter((pl.col("record") == "step") | (pl.col("attrs").str.json_path_match("$.marker") == "true"))
        .select("file", "spec_index", "line", "ts", "record", "message")
    )
    windows = (
        marks.sort("file", "line")
        .with_columns(
            pl.col("line").shift(-1).over("file", "spec_index").alias("end_line"),
            pl.col("ts").shift(-1).over("file", "spec_index").alias("end_ts"),
        )
        .filter((pl.col("record") == "step") & pl.col("message").cast(pl.String).str.contains(POLL_STEP))
        .drop_nulls("end_line")
    )
    if windows.is_empty():
        return pl.DataFrame()
    inside = windows.join(
        prints.select("file", "spec_index", pl.col("line").alias("p_line")), on=["file", "spec_index"]
    )
    busy = inside.filter((pl.col("p_line") > pl.col("line")) & (pl.col("p_line") < pl.col("end_line")))
    quiet = windows.join(busy.select("file", "line").unique(), on=["file", "line"], how="anti")
    after = prints.select("file", "spec_index", pl.col("line").alias("p_line"), "correlation_id").sort(
        "p_line"
    )
    named = next_in_timeline(quiet.sort("end_line"), "end_line", after, "p_line")
    named = pl.concat(
        [
            named.drop_nulls("correlation_id"),
            _sole_ids(analysis, named.filter(pl.col("correlation_id").is_null())),
        ]
    )
    return named.select(
        "file",
        pl.col("end_line").alias("line"),
        "spec_index",
        pl.col("ts").alias("ts_lo"),
        pl.col("end_ts").alias("ts_hi"),
        "correlation_id",
        pl.lit(None, pl.String).alias("event_type"),
        pl.lit("silent_poll").alias("helper"),
        pl.lit(None, pl.Int64).alias("count"),
        pl.col("line").alias("poll_line"),
    ).sort("file", "line")


def _sole_ids(analysis: Analysis, quiet: pl.DataFrame) -> pl.DataFrame:
    """Silent queries no print follows, in failed spec blocks whose buffered lines name one correlation ID.

    A spec that queries without printing and fails on the count (`Expected <int>: 0 to equal <int>: 2`)
    names no ID; when every event its timeline buffered carries one ID, that is the one it waited for.
    Blocks where a batch write failed are left out: their events may have been lost instead.
    """
    if quiet.is_empty():
        return quiet
    # A batch that failed in the block may have carried the events: lost, not raced.
    lossy = failing_blocks(analysis)
    failed = {key for key, block in spec_blocks(analysis).items() if block.failed and key not in lossy}
    buffered = analysis.pipeline.buffered.drop_nulls("correlation_id")
    sole = (
        buffered.group_by("file", "spec_index")
        .agg(pl.col("correlation_id").unique().alias("ids"))
        .filter(pl.col("ids").list.len() == 1)
        .select("file", "spec_index", pl.col("ids").list.first().alias("sole"))
    )
    rows = quiet.join(sole, on=["file", "spec_index"], how="inner")
    keep = [(str(f), int(i)) in failed for f, i in rows.select("file", "spec_index").iter_rows()]
    return (
        rows.filter(pl.Series(keep, dtype=pl.Boolean))
        .with_columns(pl.col("sole").cast(quiet.schema["correlation_id"]).alias("correlation_id"))
        .drop("sole")
    )


def _queries(analysis: Analysis) -> pl.DataFrame:
    prints = query_prints(analysis).filter(pl.col("correlation_id").is_not_null())
    polls = _silent_polls(analysis, prints)
    prints = prints.with_columns(pl.lit(None, pl.UInt32).alias("poll_line"))
    if polls.is_empty():
        return prints
    return pl.concat([prints, polls.cast(prints.schema)]).sort("file", "line")


def _judge(queries: pl.DataFrame, buffered: pl.DataFrame, skew_ns: int) -> pl.DataFrame:
    """Per query: matching events buffered before it and not dropped (`eligible`), how many of them
    were provably unflushed when it ran or written after it (`unflushed`, `late`), and whether it
    was raced."""
    left = queries.with_row_index("q")
    right = buffered.select(
        *BLOCK,
        "correlation_id",
        pl.col("event_type").alias("b_type"),
        pl.col("line").alias("b_line"),
        "flush_line",
        "next_print",
        "held",
        "written_at",
        "link",
        "dropped",
    )
    pairs = left.join(right, on=[*BLOCK, "correlation_id"], how="inner").filter(
        (pl.col("b_line") < pl.col("line"))
        & (pl.col("event_type").is_null() | (pl.col("b_type") == pl.col("event_type")))
        & ~pl.col("dropped")
    )
    counts = pairs.group_by("q").agg(
        pl.len().cast(pl.Int64).alias("eligible"),
        unflushed_at(pl.col("line")).sum().cast(pl.Int64).alias("unflushed"),
        late_at(pl.col("line"), pl.col("ts_hi"), skew_ns).sum().cast(pl.Int64).alias("late"),
    )
    fewer = pl.col("count").is_not_null() & (pl.col("count") < pl.col("eligible"))
    blind = (pl.col("helper") == "silent_poll") & ((pl.col("unflushed") + pl.col("late")) > 0)
    return (
        left.join(counts, on="q", how="left")
        .with_columns(
            pl.col("eligible").fill_null(0), pl.col("unflushed").fill_null(0), pl.col("late").fill_null(0)
        )
        .with_columns((fewer | blind).alias("raced"))
        .drop("q")
        .sort("file", "line")
    )


def _race(
    q: dict[str, Any],
    judged: pl.DataFrame,
    buffered: pl.DataFrame,
    blocks: dict[tuple[str, int], SpecBlock],
    skew_ns: int,
) -> Race:
    same = (pl.col("file") == q["file"]) & (pl.col("spec_index") == q["spec_index"])
    matching = pl.lit(True) if q["event_type"] is None else pl.col("event_type") == q["event_type"]
    mine = buffered.filter(
        same
        & (pl.col("correlation_id") == q["correlation_id"])
        & (pl.col("line") < q["line"])
        & ~pl.col("dropped")
        & matching
    ).sort("line")
    later_prints = judged.filter(
        same & (pl.col("correlation_id") == q["correlation_id"]) & (pl.col("line") > q["line"])
    )
    if q["helper"] == "silent_poll":
        unseen = unflushed_at(pl.lit(q["line"])) | late_at(pl.lit(q["line"]), pl.lit(q["ts_hi"]), skew_ns)
        missed = mine.filter(unseen).row(0, named=True)
        after = later_prints.filter(pl.col("helper") != "silent_poll").head(1)
        return Race(
            q,
            missed,
            None,
            after.row(0, named=True) if after.height else None,
            blocks.get((q["file"], q["spec_index"])),
        )
    # Batches leave a store in buffering order, so the events a query misses are the latest ones.
    missed = mine.row(q["count"], named=True)
    kind = pl.col("event_type").eq_missing(pl.lit(q["event_type"], pl.String))
    found = later_prints.filter(~pl.col("raced") & (pl.col("count") > 0) & kind).head(1)
    until = found["line"][0] if found.height else None
    misses = later_prints.filter(
        kind & (pl.col("helper") != "silent_poll") & (pl.lit(until is None) | (pl.col("line") < (until or 0)))
    )
    earlier = judged.filter(
        same & (pl.col("correlation_id") == q["correlation_id"]) & (pl.col("line") < q["line"])
    )
    polls = earlier.filter(pl.col("helper") == "silent_poll").tail(1)
    return Race(
        q,
        missed,
        found.row(0, named=True) if found.height else None,
        None,
        blocks.get((q["file"], q["spec_index"])),
        poll=polls.row(0, named=True) if polls.height else None,
        first_try=earlier.filter((pl.col("helper") != "silent_poll") & kind).is_empty(),
        retries=misses.height,
    )


def find_races(analysis: Analysis) -> list[Race]:
    """Every query that missed an event buffered before it, one per correlation ID (a printed query first).

    Args:
        analysis: the analysed bundle.

    Returns:
        The races, in file order.
    """
    queries = _queries(analysis)
    if queries.is_empty():
        return []
    # Only the events of the blocks that queried can be what a query missed.
    buffered = buffered_fates(analysis, queries)
    skew_ns = analysis.pipeline.skew_ns or 0
    judged = _judge(queries, buffered, skew_ns)
    raced = judged.filter(pl.col("raced"))
    blocks = spec_blocks(analysis) if raced.height else {}
    # One finding per correlation ID. A printed query is direct evidence, so the first raced one tells
    # the story; a silent poll only when no printed query of that ID was raced.
    first = (
        raced.with_columns((pl.col("helper") == "silent_poll").alias("_silent"))
        .sort("_silent", "file", "line")
        .unique("correlation_id", keep="first", maintain_order=True)
        .drop("_silent")
        .sort("file", "line")
    )
    return [_race(q, judged, buffered, blocks, skew_ns) for q in first.iter_rows(named=True)]
