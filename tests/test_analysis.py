"""What the rules and the report derive from one analysis is worked out once and shared."""

from __future__ import annotations

import threading
from dataclasses import replace
from functools import cache
from pathlib import Path

import polars as pl
import pytest

from triage.api import Report, analyze
from triage.facts.analysis import Analysis, per_analysis
from triage.report.verdict import spec_indices
from triage.rules._store import store_activities
from triage.table.vocabulary import DROPS, FAILED_WRITE, SLOW_WRITE

BUNDLES = Path(__file__).resolve().parent.parent / "fixtures" / "bundles"


@cache
def _report(name: str) -> Report:
    return analyze(BUNDLES / name)


def test_a_shared_fact_is_computed_once_per_analysis_and_anew_for_another() -> None:
    """A per_analysis function runs once for an analysis however often it is asked, and again for another."""
    calls: list[Analysis] = []

    @per_analysis
    def heights(analysis: Analysis) -> tuple[int, int]:
        calls.append(analysis)
        return analysis.events.height, analysis.pipeline.buffered.height

    analysis = _report("01-jan14-1025").analysis
    first = heights(analysis)
    assert heights(analysis) is first
    assert first == (analysis.events.height, analysis.pipeline.buffered.height)
    other = replace(analysis, events=analysis.events.head(10))
    assert heights(other) == (10, analysis.pipeline.buffered.height)
    assert calls == [analysis, other]


def test_threads_asking_at_once_share_one_computation() -> None:
    """Rules on several threads asking for the same fact wait for the first computation and get its value."""
    started = threading.Event()
    release = threading.Event()
    calls: list[int] = []

    @per_analysis
    def slow(analysis: Analysis) -> list[int]:
        calls.append(1)
        started.set()
        release.wait(5)
        return [analysis.events.height]

    analysis = replace(_report("01-jan14-1025").analysis)
    got: list[list[int]] = []
    threads = [threading.Thread(target=lambda: got.append(slow(analysis))) for _ in range(3)]
    threads[0].start()
    started.wait(5)
    for t in threads[1:]:
        t.start()
    release.set()
    for t in threads:
        t.join(5)
    assert len(calls) == 1
    assert len(got) == 3 and all(g is got[0] for g in got)


def test_a_computation_that_fails_is_tried_again_by_the_next_caller() -> None:
    """A shared fact whose computation raised is not kept: the next caller computes it."""
    attempts: list[Analysis] = []

    @per_analysis
    def flaky(analysis: Analysis) -> int:
        attempts.append(analysis)
        if len(attempts) == 1:
            raise ValueError("first")
        return len(attempts)

    analysis = replace(_report("01-jan14-1025").analysis)
    with pytest.raises(ValueError, match="first"):
        flaky(analysis)
    assert flaky(analysis) == 2
    assert flaky(analysis) == 2


@pytest.mark.parametrize("name", ["01-jan14-1025", "04-race-timeout"])
def test_spec_indices_are_those_of_each_failed_specs_header_row(name: str) -> None:
    """Each failed spec maps to the spec_index of the `spec` record at its file and line, read in one pass."""
    report = _report(name)
    specs = [s for run in report.tests for s in run.specs]
    assert specs
    indices = spec_indices(report.events, specs)
    for spec in specs:
        header = report.events.filter(
            (pl.col("file") == spec.file) & (pl.col("line") == spec.line) & (pl.col("record") == "spec")
        )
        expected = header["spec_index"][0] if header.height else None
        assert indices.get((spec.file, spec.line)) == expected


@pytest.mark.parametrize("name", ["01-jan14-1025", "06-rejections-400", "08-timer-stall"])
def test_store_activities_of_many_timelines_hold_each_timelines_own_store_lines(name: str) -> None:
    """Read together, each timeline gets exactly its own buffered, tick and outcome lines, in line order."""
    analysis = _report(name).analysis
    pipe = analysis.pipeline
    timelines = sorted(
        {(str(f), int(i)) for f, i in pipe.buffered.select("file", "spec_index").iter_rows()}
        | {(str(f), int(i)) for f, i in pipe.store_errors.select("file", "spec_index").iter_rows()}
    )
    assert len(timelines) > 1
    missing = ("nowhere.log", 1)
    activities = store_activities(analysis, [*timelines, missing])
    for file, index in timelines:
        same = (pl.col("file") == file) & (pl.col("spec_index") == index)
        lines = sorted(
            [
                *pipe.buffered.filter(same)["line"].to_list(),
                *pipe.ticks.filter(same)["line"].to_list(),
                *pipe.store_errors.filter(same & pl.col("msg_key").is_in([FAILED_WRITE, SLOW_WRITE, *DROPS]))[
                    "line"
                ].to_list(),
            ]
        )
        got = activities[file, index]
        assert got["line"].to_list() == lines
        assert set(got["spec_index"].to_list()) == {index}
        assert set(got["kind"].to_list()) <= {"buffered", "tick", "failed", "dropped", "slow"}
    assert activities[missing].is_empty()
    assert activities[missing].columns == activities[timelines[0]].columns
