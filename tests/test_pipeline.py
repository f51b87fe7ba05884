"""Pipeline reconstruction on simulated bundles, checked against the simulator's ground truth."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import polars as pl
import pytest

from triage.api import Report, analyze
from triage.bundle.lines import split_lines
from triage.table.exprs import _WIDTH, next_in_timeline, with_time_bounds

BUNDLES = Path(__file__).resolve().parent.parent / "fixtures" / "bundles"


@cache
def _report(name: str) -> Report:
    return analyze(BUNDLES / name)


def _truth_events(name: str) -> dict[tuple[str, str], list[dict]]:
    truth = json.loads((BUNDLES / f"{name}.expected.json").read_text(encoding="utf-8"))
    out: dict[tuple[str, str], list[dict]] = {}
    for e in sorted(truth["events"], key=lambda e: e["buffered_at"]):
        out.setdefault((e["correlation_id"], e["event_type"]), []).append(e)
    return out


def test_rr05_error_event_has_no_flush_before_the_query_that_missed_it() -> None:
    """audit-test-rr-05's error.occurred was buffered after the last flushing tick and before the query."""
    pipe = _report("01-jan14-1025").analysis.pipeline
    event = pipe.buffered.filter(
        (pl.col("correlation_id") == "audit-test-rr-05")
        & (pl.col("event_type") == "signalprocessing.error.occurred")
    ).row(0, named=True)
    query = pipe.queries.filter(pl.col("correlation_id") == "audit-test-rr-05").row(0, named=True)
    assert event["flush_line"] is None and event["explicit_flush_line"] is None
    assert event["line"] < query["line"]
    assert query["helper"] == "no_events"


@pytest.mark.parametrize("name", ["01-jan14-1025", "02-healthy", "08-timer-stall"])
def test_unambiguous_write_links_agree_with_the_truth(name: str) -> None:
    """Single-candidate flush-to-write links give the true write time (within 2 ms) 90 % of the time."""
    truth = _truth_events(name)
    seen: dict[tuple[str, str], int] = {}
    right = wrong = 0
    for row in _report(name).analysis.pipeline.buffered.sort("ts", "line").iter_rows(named=True):
        key = (row["correlation_id"], row["event_type"])
        index = seen.get(key, 0)
        seen[key] = index + 1
        if row["link"] != 1 or index >= len(truth.get(key, [])):
            continue
        written = truth[key][index]["written_at"]
        true_at = datetime.fromisoformat(written.replace("Z", "+00:00")) if written else None
        good = true_at is not None and abs((row["written_at"] - true_at).total_seconds()) < 0.002
        right, wrong = right + good, wrong + (not good)
    assert right >= 50
    assert right / (right + wrong) >= 0.9


def test_clock_offset_between_host_and_containers_is_estimated_near_zero_on_one_machine() -> None:
    """The simulated host and containers share a clock, so the estimated skew is within a few ms."""
    skew = _report("02-healthy").analysis.pipeline.skew_ns
    assert skew is not None and abs(skew) < 5_000_000


def test_queries_get_the_interval_between_their_neighbours() -> None:
    """A query print has no time; its interval is bounded by the timed lines around it and is short."""
    for row in _report("01-jan14-1025").analysis.pipeline.queries.iter_rows(named=True):
        assert row["ts_lo"] is not None and row["ts_hi"] is not None
        assert row["ts_lo"] <= row["ts_hi"]


def test_every_pipeline_row_quotes_its_source_line() -> None:
    """Rows keep file and line, and the line read again is the record's line (evidence is checkable)."""
    report = _report("01-jan14-1025")
    pipe = report.analysis.pipeline
    texts: dict[str, list[str]] = {}
    for frame in (pipe.buffered, pipe.ticks, pipe.writes, pipe.queries, pipe.closed):
        assert frame.height
        for file, line in frame.select("file", "line").iter_rows():
            if file not in texts:
                texts[file] = (
                    split_lines((BUNDLES / "01-jan14-1025" / file).read_bytes()).frame["raw"].to_list()
                )
            assert report.analysis.texts.text(file, line) == texts[file][line - 1]


@pytest.mark.parametrize("name", ["01-jan14-1025", "05-flush-bug", "09-later-format"])
def test_time_bounds_of_a_few_rows_equal_those_of_their_whole_timeline(name: str) -> None:
    """Bounds looked up for chosen rows equal the definition: in line order through each spec block,
    the latest time so far carried forward and the earliest precision-widened time still to come
    carried backward; outside blocks, the nearest times around."""
    test_log = _report(name).events.filter(pl.col("service") == "test-run")
    width = pl.col("ts_precision").cast(pl.String).replace_strict(_WIDTH, default=0, return_dtype=pl.Int64)
    block = ["file", "spec_index"]
    in_block = pl.col("spec_index").is_not_null()
    ts, hi = pl.col("ts"), pl.col("ts") + pl.duration(nanoseconds=width, time_unit="ns")
    expected = test_log.sort("file", "line").with_columns(
        pl.when(in_block)
        .then(ts.cum_max().forward_fill())
        .otherwise(ts.forward_fill())
        .over(block, order_by="line")
        .alias("ts_lo"),
        pl.when(in_block)
        .then(hi.cum_min(reverse=True).backward_fill())
        .otherwise(hi.backward_fill())
        .over(block, order_by="line")
        .alias("ts_hi"),
    )
    untimed = expected.filter(pl.col("ts").is_null())
    assert untimed.height > 50 and untimed["ts_lo"].null_count() < untimed.height
    for rows in (expected.drop("ts_lo", "ts_hi"), untimed.drop("ts_lo", "ts_hi").reverse()):
        got = with_time_bounds(rows, test_log)
        want = expected.join(
            rows.select("file", "line"), on=["file", "line"], how="semi", maintain_order="left"
        )
        want = rows.join(
            want.select("file", "line", "ts_lo", "ts_hi"), on=["file", "line"], maintain_order="left"
        )
        assert got.select("file", "line", "ts_lo", "ts_hi").equals(
            want.select("file", "line", "ts_lo", "ts_hi")
        )


@pytest.mark.parametrize("spec_index", [3, None])
def test_a_seconds_only_time_does_not_widen_a_bound_a_finer_time_above_it_sets(
    spec_index: int | None,
) -> None:
    """In a spec block, lines are in the order they happened: a `10:25:09` zap line after a STEP at
    .279 happened after .279, and so did an untimed line after both. Outside blocks only the nearest
    times bound a line."""
    t = datetime(2026, 1, 14, 15, 25, 9, tzinfo=UTC)
    ms = timedelta(milliseconds=1)
    rows = pl.DataFrame(
        {
            "file": ["test.log"] * 4,
            "spec_index": [spec_index] * 4,
            "line": [10, 11, 12, 13],
            "ts": [t + 279 * ms, t, None, t + 467 * ms],
            "ts_precision": ["ms", "s", None, "ms"],
        },
        schema_overrides={"spec_index": pl.UInt32(), "line": pl.UInt32(), "ts": pl.Datetime("ns", "UTC")},
    )
    got = with_time_bounds(rows).filter(pl.col("line") == 12).row(0, named=True)
    assert (got["ts_lo"], got["ts_hi"]) == ((t + 279 * ms, t + 468 * ms) if spec_index else (t, t + 468 * ms))


@pytest.mark.parametrize("name", ["01-jan14-1025", "04-race-timeout", "06-rejections-400"])
def test_the_table_and_the_buffered_lines_are_in_file_and_line_order(name: str) -> None:
    """Steps that add columns to these frames keep their order instead of sorting them again."""
    report = _report(name)
    for frame in (report.events, report.analysis.pipeline.buffered):
        keys = frame.select("file", "line")
        assert keys.height > 0
        assert keys.equals(keys.sort("file", "line"))


def test_next_in_timeline_keeps_left_order_and_stays_inside_each_timeline() -> None:
    left = pl.DataFrame(
        {
            "file": ["b.log", "a.log", "a.log", "a.log", "b.log"],
            "spec_index": [1, 2, 1, 1, 1],
            "line": [5, 40, 12, 3, 50],
            "tag": ["b5", "a40", "a12", "a3", "b50"],
        },
        schema_overrides={"file": pl.Categorical(), "spec_index": pl.UInt32(), "line": pl.UInt32()},
    )
    right = pl.DataFrame(
        {
            "file": ["a.log", "a.log", "a.log", "b.log"],
            "spec_index": [1, 1, 2, 1],
            "at": [12, 30, 45, 9],
            "line": [112, 130, 145, 109],  # a column left has too
        },
        schema_overrides={"file": pl.Categorical(), "spec_index": pl.UInt32(), "at": pl.UInt32()},
    )
    out = next_in_timeline(left, "line", right, "at")
    assert out["tag"].to_list() == left["tag"].to_list()
    # a3 -> 12 (same spec); a12 -> 12 (at or after); a40 -> 45 in spec 2, not 30; b50 -> none after it.
    assert out["at"].to_list() == [9, 45, 12, 12, None]
    assert out["line_right"].to_list() == [109, 145, 112, 112, None]
    assert out["line"].to_list() == left["line"].to_list()
