"""A test queried while an event was still buffered.

## What it detects
A test query for a correlation ID that returned fewer events than its audit store had already
buffered for it (`✅ Event buffered successfully` lines before the query's print in the same spec
timeline), where the missing event was not dropped: it was still waiting for the store's timer
flush, or its batch was on its way to DataStorage. The strongest evidence is file order: the
buffered line, no `⏰ Timer tick received` with `batch_size_before_flush > 0` after it, then the
query's `⏳ No events yet…` print. When a tick did flush the event before the query, the
DataStorage write linked to that flush (by batch size and time, an inference) shows when it became
queryable. The finding says how long the event waited in the buffer and how long the test waited:
from the first query that missed it to the first that found it, or to the spec's failure.

Severity is high when the spec then failed without a query ever finding the event (e.g. it polled
for *any* event of the correlation ID, then asserted a specific one once, without retrying), and
low when a later query found it (the spec passed after retries, or failed for another reason).

## Why it matters
DataStorage only returns committed events. The store writes every 100 ms in the SP suite (1 s by
default), and the write itself takes tens of milliseconds, so a query issued right after the
controller acted races the flush. Retrying specs just lose time; a spec that asserts once fails
for a reason that is not in the code under test.

## How to fix
Query inside `Eventually` for the specific event type you assert on, not for "any event" followed
by a one-shot `Expect`. Call `Flush()` after the controller has emitted the event you need (wait
for the phase that emits it first), and make sure `Flush()` drains the channel (SP-AUDIT-001).
Give the `Eventually` a timeout well above the flush interval plus DataStorage's write latency.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl

from triage.analysis import Analysis
from triage.rules._queries import (
    DROP_KEYS,
    SpecBlock,
    clock,
    flush_outcomes,
    flush_prints,
    ns_between,
    query_prints,
    seconds,
    silent_polls,
    span,
    spec_blocks,
)
from triage.rules.base import Evidence, Finding, Rule, Severity, quote

MAX_EVIDENCE = 8
BLOCK = ["file", "spec_index"]


@dataclass(frozen=True)
class Race:
    """One query that missed a buffered event, and what became of that event and of the test.

    Attributes:
        query: the raced query (QUERY_COLUMNS, poll_line/poll_raw, eligible, unflushed).
        missed: the first buffered event it could not see (a pipeline.buffered row, plus
            `dropped` and `next_print`, the next `Audit store flushed successfully` print's line).
        later: the first later query of the same kind that found the events; None when none did.
        assertion: for a silent poll, the query print that followed it.
        block: the spec block.
        poll: for a printed query, the silent poll for any event that came before it in the spec.
        first_try: True when no earlier print queried the same type for this ID in the spec.
    """

    query: dict[str, Any]
    missed: dict[str, Any]
    later: dict[str, Any] | None
    assertion: dict[str, Any] | None
    block: SpecBlock | None
    poll: dict[str, Any] | None = None
    first_try: bool = False


def _next(left: pl.DataFrame, right: pl.DataFrame, name: str) -> pl.DataFrame:
    """Attach the line of the first `right` row after each `left` row in the same timeline as `name`."""
    return left.sort("line").join_asof(
        right.select(*BLOCK, pl.col("line").alias(name)).sort(name),
        left_on="line",
        right_on=name,
        by=BLOCK,
        strategy="forward",
        check_sortedness=False,  # both sides sorted by line
    )


def _buffered(analysis: Analysis) -> pl.DataFrame:
    """Buffered events with the next Flush() print after them and whether their batch was dropped.

    The batch that carries an event is written either after the first flushing tick that follows it,
    or by an explicit Flush(), which writes before its `Audit store flushed successfully` print; a
    store drop line right after that tick, or before that print, means the batch was discarded.
    """
    outcomes = flush_outcomes(analysis).select(*BLOCK, "flush_line", pl.col("dropped").alias("tick_dropped"))
    drops = analysis.pipeline.store_errors.filter(pl.col("msg_key").is_in(DROP_KEYS))
    joined = analysis.pipeline.buffered.join(outcomes, on=[*BLOCK, "flush_line"], how="left")
    joined = _next(_next(joined, flush_prints(analysis.events), "next_print"), drops, "next_drop")
    by_flush = (
        pl.col("next_print").is_not_null()
        & (pl.col("flush_line").is_null() | (pl.col("next_print") < pl.col("flush_line")))
        & (pl.col("next_drop") < pl.col("next_print")).fill_null(False)
    )
    return joined.with_columns((pl.col("tick_dropped").fill_null(False) | by_flush).alias("dropped")).sort(
        "file", "line"
    )


def _unflushed_at(line: pl.Expr) -> pl.Expr:
    """No flushing tick and no Flush() print between the buffered line and `line`."""
    tick_after = pl.col("flush_line").is_null() | (pl.col("flush_line") > line)
    print_after = pl.col("next_print").is_null() | (pl.col("next_print") > line)
    return tick_after & print_after


def _queries(analysis: Analysis) -> pl.DataFrame:
    prints = query_prints(analysis).filter(pl.col("correlation_id").is_not_null())
    polls = silent_polls(analysis, prints)
    prints = prints.with_columns(
        pl.lit(None, pl.UInt32).alias("poll_line"), pl.lit(None, pl.String).alias("poll_raw")
    )
    if polls.is_empty():
        return prints
    return pl.concat([prints, polls.cast(prints.schema)]).sort("file", "line")  # type: ignore[arg-type]


def _judge(queries: pl.DataFrame, buffered: pl.DataFrame) -> pl.DataFrame:
    """Per query: matching events buffered before it and not dropped (`eligible`), how many of them
    were provably unflushed when it ran, and whether it was raced."""
    left = queries.with_row_index("q")
    right = buffered.select(
        *BLOCK,
        "correlation_id",
        pl.col("event_type").alias("b_type"),
        pl.col("line").alias("b_line"),
        "flush_line",
        "next_print",
        "dropped",
    )
    pairs = left.join(right, on=[*BLOCK, "correlation_id"], how="inner").filter(
        (pl.col("b_line") < pl.col("line"))
        & (pl.col("event_type").is_null() | (pl.col("b_type") == pl.col("event_type")))
        & ~pl.col("dropped")
    )
    counts = pairs.group_by("q").agg(
        pl.len().cast(pl.Int64).alias("eligible"),
        _unflushed_at(pl.col("line")).sum().cast(pl.Int64).alias("unflushed"),
    )
    fewer = pl.col("count").is_not_null() & (pl.col("count") < pl.col("eligible"))
    blind = (pl.col("helper") == "silent_poll") & (pl.col("unflushed") > 0)
    return (
        left.join(counts, on="q", how="left")
        .with_columns(pl.col("eligible").fill_null(0), pl.col("unflushed").fill_null(0))
        .with_columns((fewer | blind).alias("raced"))
        .drop("q")
        .sort("file", "line")
    )


def _race(q: dict[str, Any], judged: pl.DataFrame, buffered: pl.DataFrame, blocks: dict[tuple[str, int], SpecBlock]) -> Race:
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
        missed = mine.filter(_unflushed_at(pl.lit(q["line"]))).row(0, named=True)
        after = later_prints.filter(pl.col("helper") != "silent_poll").head(1)
        return Race(q, missed, None, after.row(0, named=True) if after.height else None, blocks.get((q["file"], q["spec_index"])))
    # Batches leave a store in buffering order, so the events a query misses are the latest ones.
    missed = mine.row(q["count"], named=True)
    kind = pl.col("event_type").eq_missing(pl.lit(q["event_type"], pl.String))
    found = later_prints.filter(~pl.col("raced") & (pl.col("count") > 0) & kind).head(1)
    earlier = judged.filter(same & (pl.col("correlation_id") == q["correlation_id"]) & (pl.col("line") < q["line"]))
    polls = earlier.filter(pl.col("helper") == "silent_poll").tail(1)
    return Race(
        q,
        missed,
        found.row(0, named=True) if found.height else None,
        None,
        blocks.get((q["file"], q["spec_index"])),
        poll=polls.row(0, named=True) if polls.height else None,
        first_try=earlier.filter((pl.col("helper") != "silent_poll") & kind).is_empty(),
    )


def _races(analysis: Analysis) -> list[Race]:
    queries = _queries(analysis)
    if queries.is_empty():
        return []
    buffered = _buffered(analysis)
    judged = _judge(queries, buffered)
    raced = judged.filter(pl.col("raced"))
    blocks = spec_blocks(analysis.events) if raced.height else {}
    # One finding per correlation ID. A printed query is direct evidence, so the first raced one tells
    # the story; a silent poll only when no printed query of that ID was raced.
    first = (
        raced.with_columns((pl.col("helper") == "silent_poll").alias("_silent"))
        .sort("_silent", "file", "line")
        .unique("correlation_id", keep="first", maintain_order=True)
        .drop("_silent")
        .sort("file", "line")
    )
    return [_race(q, judged, buffered, blocks) for q in first.iter_rows(named=True)]


def _wait(lo_ns: int | None, hi_ns: int | None) -> str:
    """A wait known to lie in [lo, hi]: `about 480 ms`, `at most 11 ms`, `between 1.0 s and 3.0 s`."""
    if hi_ns is None:
        return "at least " + seconds(lo_ns or 0) if lo_ns else "an unknown time"
    lo = max(lo_ns or 0, 0)
    if lo == 0:
        return f"at most {seconds(hi_ns)}"
    if hi_ns - lo <= max(20_000_000, hi_ns // 5):
        return f"about {seconds((lo + hi_ns) // 2)}"
    return f"between {seconds(lo)} and {seconds(hi_ns)}"


def _row_at(frame: pl.DataFrame, file: str, line: int | None) -> dict[str, Any] | None:
    if line is None:
        return None
    rows = frame.filter((pl.col("file") == file) & (pl.col("line") == line))
    return rows.row(0, named=True) if rows.height else None


def _tick_before(analysis: Analysis, e: dict[str, Any]) -> dict[str, Any] | None:
    ticks = analysis.pipeline.ticks.filter(
        (pl.col("file") == e["file"]) & (pl.col("spec_index") == e["spec_index"]) & (pl.col("line") < e["line"])
    )
    return ticks.sort("line").row(-1, named=True) if ticks.height else None


def _write(analysis: Analysis, e: dict[str, Any]) -> dict[str, Any] | None:
    if e["write_file"] is None or e["link"] != 1:
        return None
    return _row_at(analysis.pipeline.writes, e["write_file"], e["write_line"])


@dataclass(frozen=True)
class Story:
    """What the logs show of the missed event, in words and lines."""

    text: str
    buffer_wait: str
    rows: tuple[dict[str, Any], ...]


def _story(analysis: Analysis, race: Race) -> Story:
    q, e = race.query, race.missed
    before = _tick_before(analysis, e)
    what = e["event_type"] or "an event"
    when = f"buffered at {clock(e['ts'], precise=False)}"
    if before is not None and before["tick_at"] is not None:
        when += f", after the tick at {clock(before['tick_at'])}"
    rows: list[dict[str, Any]] = [r for r in (before, e) if r is not None]
    tick_first = e["flush_line"] is not None and e["flush_line"] < q["line"]
    print_first = e["next_print"] is not None and e["next_print"] < q["line"]
    flush = _row_at(analysis.pipeline.ticks, e["file"], e["flush_line"])
    wait = "No tick flushed it later in the spec's timeline."
    if flush is not None and before is not None and before["tick_at"] is not None:
        held = ns_between(before["tick_at"], flush["tick_at"])
        wait = f"It waited up to {seconds(held or 0)} in the buffer (until the tick at {clock(flush['tick_at'])})."
    if print_first and (not tick_first or e["next_print"] < e["flush_line"]):
        shown = _row_at(flush_prints(analysis.events), e["file"], e["next_print"])
        rows.extend(r for r in (shown,) if r is not None)
        text = (
            f"{what} was {when}; `Audit store flushed successfully` was printed after it, yet the query "
            "did not see it (Flush() returned without writing it)"
        )
        return Story(text, wait, tuple(rows))
    if not tick_first:
        text = f"{what} was {when}, and no flushing tick was logged between it and the query (file order)"
        return Story(text, wait, tuple(rows))
    assert flush is not None  # tick_first implies a flushing tick row
    rows.append(flush)
    text = f"{what} was {when}, and left the buffer with the tick at {clock(flush['tick_at'])} (batch of {flush['batch']})"
    write = _write(analysis, e)
    if write is None:
        return Story(text + "; no DataStorage write could be linked to that flush", wait, tuple(rows))
    skew = analysis.pipeline.skew_ns or 0
    gap = ns_between(q["ts_hi"], write["ts"])
    late = " after the query's interval," if gap is not None and gap - skew > 0 else ""
    text += (
        f"; DataStorage logged the linked write at {clock(write['ts'])} (its clock),{late} "
        "inferred from batch size and time"
    )
    return Story(text, wait, (*rows, write))


def _outcome(race: Race) -> tuple[str, Severity, tuple[dict[str, Any], ...]]:
    """How the test fared after the miss: its wait, the severity and the lines that show it."""
    q, block = race.query, race.block
    if race.later is not None:
        later = race.later
        lo, hi = ns_between(q["ts_hi"], later["ts_lo"]), ns_between(q["ts_lo"], later["ts_hi"])
        where = span(later["ts_lo"], later["ts_hi"])
        return f"The test waited {_wait(lo, hi)} until a query {where} found it.", Severity.LOW, (later,)
    rows: tuple[dict[str, Any], ...] = (race.assertion,) if race.assertion is not None else ()
    if block is not None and block.failed and block.fail_line is not None and block.fail_at is not None:
        lo, hi = ns_between(q["ts_hi"], block.fail_at), ns_between(q["ts_lo"], block.fail_at)
        marker = {"file": block.file, "line": block.fail_line, "raw": block.fail_raw}
        lead = "No query found it; the spec"
        if race.assertion is not None:
            a = race.assertion
            got = a["count"] if a["count"] is not None else "an error"
            lead = f"The spec then queried {a['event_type'] or 'its events'} once, without retrying, got {got}, and"
        elif race.poll is not None and race.first_try:
            poll = race.poll
            lead = (
                f"It came right after a poll that accepted any event of the ID (STEP at {clock(poll['ts_lo'])}, "
                "nothing printed) and was not retried: the spec"
            )
        elif race.first_try:
            lead = "The spec did not query again: it"
        return (
            f"{lead} {block.state} at {clock(block.fail_at)}, {_wait(lo, hi)} after the miss.",
            Severity.HIGH,
            (*rows, marker),
        )
    state = block.state if block is not None else "unknown"
    return f"No later query found it before the spec ended ({state}).", Severity.LOW, rows


def _finding(analysis: Analysis, race: Race) -> Finding:
    q = race.query
    story = _story(analysis, race)
    outcome, severity, tail = _outcome(race)
    if q["helper"] == "silent_poll":
        head = (
            f"The spec polled for any event of correlation_id={q['correlation_id']} without printing "
            f"({span(q['ts_lo'], q['ts_hi'])} UTC, until the next step) while {q['unflushed']} of its "
            f"{q['eligible']} buffered event(s) had not been flushed: {story.text}."
        )
        shown = [{"file": q["file"], "line": q["poll_line"], "raw": q["poll_raw"]}, *story.rows, q]
    else:
        head = (
            f"A query for {q['event_type']} (correlation_id={q['correlation_id']}) "
            f"{span(q['ts_lo'], q['ts_hi'])} UTC returned {q['count']} while {q['eligible']} matching "
            f"event(s) had been buffered before it: {story.text}."
        )
        shown = [*story.rows, q]
        if race.poll is not None and race.first_try:
            shown.append({"file": race.poll["file"], "line": race.poll["poll_line"], "raw": race.poll["poll_raw"]})
    # The write line lives in another file; keep the test-log lines in file order, then the write.
    lines = sorted((r for r in shown if r["file"] == q["file"]), key=lambda r: int(r["line"]))
    others = [r for r in shown if r["file"] != q["file"]]
    rows = [*lines, *others, *tail]
    evidence = tuple(quote(r["file"], r["line"], r["raw"]) for r in rows)
    if len(evidence) > MAX_EVIDENCE:  # keep the opening lines and the outcome
        evidence = evidence[: MAX_EVIDENCE - len(tail)] + evidence[len(evidence) - len(tail) :]
    return Finding(
        rule=RULE.id,
        severity=severity,
        summary=f"{head} {story.buffer_wait} {outcome}",
        correlation_id=q["correlation_id"],
        evidence=evidence,
    )


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report each correlation ID whose test query ran while a matching event was buffered but unwritten.

    Args:
        analysis: the analysed bundle.

    Returns:
        One finding per raced correlation ID.
    """
    for race in _races(analysis):
        yield _finding(analysis, race)


RULE = Rule(
    id="flush-query-race",
    title="A test queried while an event was still buffered",
    severity=Severity.HIGH,
    requires=("ginkgo",),
    check=check,
    doc=__doc__ or "",
)
