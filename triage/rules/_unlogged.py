"""Flush/query races in timelines without audit-store lines (the store's per-event lines below Info).

Without `Event buffered successfully` and tick lines, what remains is the test's own prints (query
results and `Audit store flushed successfully`), the controller's phase lines and the failure. Two
shapes are races the logs can still show, each stated as observed and inferred:

* a query for type T and ID X returned fewer events than a later query of the same T and X found:
  observed; the event reached DataStorage between the two. It was already emitted at the miss
  (inferred) when the test had flushed the store before it or the controller had logged the phase
  that emits T (its words share a stem with T's, e.g. `Processing Classifying phase` and
  `classification.decision`), or, more weakly, any later step before the miss;
* a spec that failed while every query for T and X found too few, after the controller had logged
  the phase that emits T: inferred that T was emitted and not yet queryable when the test gave up.
  Where a batch write failed in the spec, only when that phase line follows the failure: a batch
  holds what was buffered before it was sent, so T was not in it;
* a spec that queried T once, right after its `Flush()` returned, and failed on that answer, after
  the controller had logged the phase that emits T, or a reconcile after the Flush() that logged no
  phase of its own (unnamed work, which may have emitted T): a one-shot query races the write even
  after a flush (medium). A Flush() writes everything buffered before it, so with neither line T was
  not yet emitted when the test counted: a count the `unexpected-event-count` rule reports;
* a spec that failed while every query for T and X found too few, after the controller had logged
  a step, while a store's flush timer stalled over its last miss (a `TIMER BUG DETECTED` line whose
  tick interval covers it) or the stores' writers were stuck (DataStorage's last batch write before
  the last miss, a `Flush()` or `Close()` timing out later): what the controller emitted waited in
  the buffer (medium: inferred, the step need not be T's). A spec whose assertion counted fewer than it
  expected (`Expected <int>: 2 to be >= <int>: 4`) on T's last answer counts every query of T as
  short, even when they all found the same number.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from triage.facts.analysis import Analysis
from triage.rules._queries import SpecBlock, clock, query_prints, span, spec_blocks
from triage.rules._store import failing_blocks
from triage.rules._stuck import StuckWriter, stuck_writer
from triage.rules.base import Evidence, quote
from triage.table.exprs import matches
from triage.table.vocabulary import STORE_LOGGER, TIMER_BUG

PHASE = r"(?i)\bphase\b"
COUNTED = re.compile(r"Expected\s+<int>: (-?\d+)\s+to (equal|be >=|be >)\s+<int>: (-?\d+)")
STEM = 5  # letters two words share for a phase line to name the event type's step
GENERIC = frozenset({"audit", "event", "events", "phase"})


@dataclass(frozen=True)
class UnloggedRace:
    """A query that missed events in a timeline without store lines, and what the logs show around it.

    Attributes:
        miss: the first query print that found too few.
        found: the later print of the same type and ID that found more, None when none did.
        misses: how many prints found too few before `found` (or before the spec ended).
        flushed: the last `Audit store flushed successfully` print before the miss, None when none.
        phase: the controller's phase line that names the event type's step, before the last miss.
        block: the spec block.
        progress: the controller's last phase line before the first miss, whatever step it names.
        acted: the controller's first line after the `Flush()` print and after its last phase line
            before the miss (a reconcile that named no phase), None when none.
        stopped: when the spec failed without finding the events after the stores' writers had
            stopped (DataStorage's last batch write before the last miss, a Flush() or Close() timing
            out later): that write, or an empty row when DataStorage never wrote; None otherwise.
        stall: when the spec failed without finding the events while a store's flush timer stalled
            over its last miss: the `TIMER BUG DETECTED` line; None otherwise.
    """

    miss: dict[str, Any]
    found: dict[str, Any] | None
    misses: int
    last_miss: dict[str, Any]
    flushed: dict[str, Any] | None
    phase: dict[str, Any] | None
    block: SpecBlock | None
    progress: dict[str, Any] | None = None
    acted: dict[str, Any] | None = None
    stopped: dict[str, Any] | None = None
    stall: dict[str, Any] | None = None

    @property
    def one_shot(self) -> bool:
        """True when the spec queried once, right after its Flush() returned, and failed on that answer."""
        return self.found is None and self.misses == 1 and self.flushed is not None

    @property
    def emitted(self) -> bool:
        """True when something shows the controller was past the event's step at the miss."""
        return self.flushed is not None or self.phase is not None or self.progress is not None


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[^a-z]+", text.lower()) if len(w) >= 4}


def names_step(event_type: str, message: str, common: frozenset[str] = frozenset()) -> bool:
    """True when a phase line's words share a stem with the event type's (its service prefix aside).

    Args:
        event_type: e.g. `signalprocessing.classification.decision`.
        message: e.g. `Processing Classifying phase`.
        common: words every phase line of the timeline says (`processing`): they name no step.

    Returns:
        Whether a word of each starts with the same STEM letters (or both are `phase`).
    """
    kinds = _words(".".join(event_type.split(".")[1:]))
    said = _words(message)
    if "phase" in kinds and "phase" in said:
        return True
    kinds, said = kinds - GENERIC, said - GENERIC - common
    return any(a[:STEM] == b[:STEM] for a in kinds for b in said if len(a) >= STEM and len(b) >= STEM)


def _blocks_of(*frames: pl.DataFrame) -> set[tuple[str, int]]:
    """The spec blocks (file, spec_index) that rows of `frames` lie in."""
    rows = pl.concat([f.select("file", "spec_index") for f in frames]).unique()
    return {(str(f), int(i)) for f, i in rows.drop_nulls().iter_rows()}


def unlogged_races(analysis: Analysis) -> list[UnloggedRace]:
    """Races shown by query prints alone, in spec blocks without store lines.

    Args:
        analysis: the analysed bundle.

    Returns:
        One race per correlation ID (its first), in file and line order.
    """
    prints = query_prints(analysis).filter(
        pl.col("correlation_id").is_not_null()
        & pl.col("event_type").is_not_null()
        & pl.col("count").is_not_null()
        & pl.col("spec_index").is_not_null()
    )
    if prints.is_empty():
        return []
    pipe = analysis.pipeline
    logged = _blocks_of(pipe.buffered, pipe.ticks)  # the buffered lines tell these blocks' races
    failing = failing_blocks(analysis)  # a batch failed here: what was never found may be lost
    blocks = spec_blocks(analysis)
    events = analysis.events
    flushes = analysis.pipeline.explicit_flushes
    stuck = stuck_writer(analysis)
    counted = _counted_short(analysis) if stuck is not None else {}
    out: list[UnloggedRace] = []
    done: set[str] = set()
    for (file, index, cid, kind), group in sorted(
        prints.group_by("file", "spec_index", "correlation_id", "event_type"),
        key=lambda g: (str(g[0][0]), int(str(g[0][1])), int(g[1]["line"].min() or 0)),  # type: ignore[arg-type]
    ):
        key = (str(file), int(str(index)))
        if key in logged or str(cid) in done:
            continue
        rows = group.sort("line").to_dicts()
        best = max(int(r["count"]) for r in rows)
        block = blocks.get(key)
        found = next((r for r in rows if int(r["count"]) == best and best > 0), None)
        short = [r for r in rows if int(r["count"]) < best or best == 0]
        short = [r for r in short if found is None or r["line"] < found["line"]]
        failed = block is not None and block.failed
        # The spec failed counting fewer than it expected, on this query's last answer.
        below = failed and counted.get(key) == int(rows[-1]["count"])
        if below:
            found, short = None, rows
        if not short:
            continue
        same = (pl.col("file") == file) & (pl.col("spec_index") == index)
        if found is None and not failed and not _cut_short(block, events, same, short[0], str(kind)):
            continue
        miss, last = short[0], short[-1]
        flushed = flushes.filter(same & (pl.col("line") < miss["line"])).sort("line").tail(1)
        lines = _phase_lines(events, same, int(last["line"]))
        progress = [r for r in lines if r["line"] < miss["line"]]
        named = _naming(lines, str(kind))
        if found is None and key in failing and (named is None or named["line"] < failing[key]):
            continue  # the events may have been in the batch that failed: the loss rules' matter
        acted = (
            _unnamed_work(events, same, int(flushed["line"][0]), int(miss["line"])) if flushed.height else []
        )
        race = UnloggedRace(
            miss,
            found,
            len(short),
            last,
            flushed.row(0, named=True) if flushed.height else None,
            named,
            block,
            progress[-1] if progress else None,
            acted[0] if acted else None,
        )
        if below or (found is None and race.phase is None and not (race.one_shot and race.acted)):
            stopped = _stopped_before(stuck, last) if race.progress is not None else None
            stall = stall_over(analysis, last) if race.progress is not None and stopped is None else None
            if stopped is None and stall is None:
                continue  # retried until the spec gave up, nothing showing T was emitted: missing, not raced
            # The controller went on past a step while nothing reached DataStorage: what it emitted waited.
            race = replace(race, stopped=stopped, stall=stall)
        out.append(race)
        done.add(str(cid))
    return out


def _cut_short(
    block: SpecBlock | None, events: pl.DataFrame, same: pl.Expr, miss: dict[str, Any], kind: str
) -> bool:
    """True when a spec Ginkgo interrupted while it waited had logged the controller's step of the type
    before its first miss: the wait was cut short, and the miss still shows a race (a passing spec
    found what it waited for, so a miss that nothing later found in one says nothing)."""
    if block is None or block.state != "interrupted":
        return False
    return _naming(_phase_lines(events, same, int(miss["line"])), kind) is not None


def _counted_short(analysis: Analysis) -> dict[tuple[str, int], int]:
    """Per failed spec block, the count its assertion got when it expected more (`Expected <int>: 2 to
    equal <int>: 4` or `to be >= <int>: 4` gives 2)."""
    events = analysis.events
    failures = analysis.attrs.attach(
        events.filter(
            (pl.col("source_kind") == "ginkgo")
            & (pl.col("record") == "failure")
            & pl.col("spec_index").is_not_null()
        )
    )
    out: dict[tuple[str, int], int] = {}
    for file, index, attrs in failures.select("file", "spec_index", "attrs").iter_rows():
        match = COUNTED.search(str(json.loads(attrs or "{}").get("text") or ""))
        if match is None:
            continue
        got, want = int(match.group(1)), int(match.group(3))
        if got < want or (match.group(2) == "be >" and got == want):
            out.setdefault((str(file), int(index)), got)
    return out


def stall_over(analysis: Analysis, last: dict[str, Any]) -> dict[str, Any] | None:
    """The `TIMER BUG DETECTED` line of a flush-timer stall over a query's whole interval, None if none.

    The line is logged when the stall ends, `actual_interval` seconds after the last tick before it.

    Args:
        analysis: the analysed bundle.
        last: a query print row (`ts_lo`, `ts_hi`: the interval it ran in).

    Returns:
        The stall's line, or None.
    """
    lo = last["ts_lo"] if last["ts_lo"] is not None else last["ts_hi"]
    hi = last["ts_hi"] if last["ts_hi"] is not None else last["ts_lo"]
    if lo is None or hi is None:
        return None
    stalls = analysis.pipeline.store_errors.filter(pl.col("msg_key").str.starts_with(TIMER_BUG)).drop_nulls(
        "ts"
    )
    held = pl.col("attrs").str.json_path_match("$.actual_interval").cast(pl.Float64, strict=False)
    began = pl.col("ts") - pl.duration(microseconds=(held * 1e6).cast(pl.Int64))
    # The whole interval the query ran in; the line's time may be cut to the second the stall ended in.
    covering = stalls.filter(
        held.is_not_null() & (began <= lo) & (pl.col("ts") + pl.duration(seconds=1) >= hi)
    )
    return covering.sort("file", "line").row(0, named=True) if covering.height else None


def _stopped_before(stuck: StuckWriter | None, last: dict[str, Any]) -> dict[str, Any] | None:
    """DataStorage's last write when the writers had stopped by a query (`{}` when it never wrote)."""
    if stuck is None:
        return None
    if stuck.stopped_at is None or stuck.last_write is None:
        return {}
    at = last["ts_hi"] if last["ts_hi"] is not None else last["ts_lo"]
    return dict(stuck.last_write) if at is not None and stuck.stopped_at < at else None


def emitted_before(analysis: Analysis, file: str, spec_index: int, before: int, event_type: str) -> bool:
    """Whether a spec block's lines show an event type possibly emitted, and unwritten, before a query.

    The controller logged the phase that emits the type, or a reconcile after the test's last
    `Flush()` returned that logged no phase of its own (a Flush() writes everything buffered before
    it; a phase line names what its pass emitted).

    Args:
        analysis: the analysed bundle.
        file: the spec block's file.
        spec_index: the spec block.
        before: the query's line.
        event_type: e.g. `signalprocessing.classification.decision`.

    Returns:
        True when such a line precedes `before`.
    """
    same = (pl.col("file") == file) & (pl.col("spec_index") == spec_index)
    events = analysis.events
    if _naming(_phase_lines(events, same, before), event_type) is not None:
        return True
    flushes = analysis.pipeline.explicit_flushes.filter(same & (pl.col("line") < before)).sort("line")
    return bool(flushes.height) and bool(_unnamed_work(events, same, int(flushes["line"][-1]), before))


def _unnamed_work(events: pl.DataFrame, same: pl.Expr, after: int, before: int) -> list[dict[str, Any]]:
    """The controller's lines between two lines that follow its last phase line there (none named)."""
    rows = _controller_lines(events, same, after, before)
    phases = [i for i, r in enumerate(rows) if re.search(PHASE, r["message"] or "")]
    return rows[phases[-1] + 1 :] if phases else rows


def _controller_lines(
    events: pl.DataFrame, same: pl.Expr, after: int | None, before: int
) -> list[dict[str, Any]]:
    """The controller's log lines in a block between two lines (from its start when `after` is None)."""
    rows = events.filter(
        same
        & (pl.col("line") < before)
        & (pl.col("line") > (after if after is not None else -1))
        & (pl.col("record") == "log")
        & ~matches(events, "logger", STORE_LOGGER).fill_null(False)
    ).select("file", "line", "ts", "ts_precision", pl.col("message").cast(pl.String))
    return rows.sort("line").to_dicts()


def _phase_lines(events: pl.DataFrame, same: pl.Expr, before: int) -> list[dict[str, Any]]:
    """The controller's phase lines in a block before a line, in line order."""
    return [r for r in _controller_lines(events, same, None, before) if re.search(PHASE, r["message"] or "")]


def _naming(lines: list[dict[str, Any]], event_type: str) -> dict[str, Any] | None:
    """The last phase line that names the event type's step (words every phase line says aside)."""
    said = [_words(r["message"]) for r in lines]
    common = frozenset(set.intersection(*said)) if len(said) > 1 else frozenset()
    named = [r for r in lines if names_step(event_type, r["message"], common)]
    return named[-1] if named else None


def describe(race: UnloggedRace) -> tuple[str, tuple[Evidence, ...]]:
    """The race in words, observed apart from inferred, and the lines that show it.

    Args:
        race: a race found by `unlogged_races`.

    Returns:
        The summary and the evidence.
    """
    m = race.miss
    what = f"{m['event_type']} (correlation_id={m['correlation_id']})"
    observed = [
        f"a query for {what} {span(m['ts_lo'], m['ts_hi'])} returned {m['count']}"
        + (f", and {race.misses - 1} more after it" if race.misses > 1 else "")
    ]
    rows: list[dict[str, Any]] = [m]
    if race.found is not None:
        f = race.found
        observed.append(f"a later query {span(f['ts_lo'], f['ts_hi'])} found {f['count']}")
        rows.append(f)
    elif race.block is not None and race.block.fail_line is not None:
        again = "without querying again" if race.one_shot else "without finding it"
        observed.append(f"the spec {race.block.state} at {clock(race.block.fail_at)} {again}")
        rows.append({"file": race.block.file, "line": race.block.fail_line})
    reasons = []
    if race.flushed is not None:
        reasons.append("the test's Flush() had returned before the first miss")
        rows.append(race.flushed)
    if race.stopped is not None:
        w = race.stopped
        reasons.append(
            f"DataStorage's last batch write was at {clock(w['ts'], precise=False)}, before the last miss"
            if w
            else "no DataStorage batch write is in the logs"
        )
        reasons.append("the test's Flush() or the store's Close() timed out later: the writers were stuck")
        if w:
            rows.append(w)
    if race.stall is not None:
        st = race.stall
        held = json.loads(st["attrs"] or "{}").get("actual_interval")
        span_s = f" ({float(held):.1f} s between ticks)" if isinstance(held, (int, float)) else ""
        reasons.append(
            f"a store's flush timer stalled over the last miss: `TIMER BUG DETECTED` at "
            f"{clock(st['ts'], precise=False)}{span_s}, so nothing it buffered was written meanwhile"
        )
        rows.append(st)
    if race.progress is not None and (race.stopped is not None or race.stall is not None):
        p = race.progress
        reasons.append(f"the controller had logged `{p['message']}` at {clock(p['ts'], precise=False)}")
        rows.append(p)
    if race.phase is not None:
        p = race.phase
        reasons.append(f"the controller had logged `{p['message']}` at {clock(p['ts'], precise=False)}")
        rows.append(p)
    elif race.acted is not None and race.one_shot:
        p = race.acted
        reasons.append(f"the controller logged `{p['message']}` after the Flush() returned")
        rows.append(p)
    elif race.progress is not None and race.found is not None:
        p = race.progress
        reasons.append(
            f"the controller had logged `{p['message']}` at {clock(p['ts'], precise=False)}, its last step "
            "before the miss"
        )
        rows.append(p)
    inferred = (
        f"inferred: the event was already emitted ({'; '.join(reasons)}) but not yet written to DataStorage"
        if reasons
        else "inferred: the event reached DataStorage between the two queries; the logs cannot show when "
        "it was emitted"
    )
    summary = (
        f"Observed: {'; '.join(observed)}; the spec's timeline holds no buffered line (the store's per-event "
        f"lines are below Info in this log), so none shows when the event was buffered. "
        f"{inferred[0].upper()}{inferred[1:]}."
    )
    ordered = sorted(rows, key=lambda r: (str(r["file"]), int(r["line"])))
    return summary, tuple(dict.fromkeys(quote(r["file"], r["line"]) for r in ordered))
