"""Timelines per correlation ID: one UTC order across sources, observed and inferred rows marked."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

from triage.api import Report, analyze
from triage.facts.timeline import build_timelines

BUNDLES = Path(__file__).resolve().parent.parent / "fixtures" / "bundles"


@cache
def _timelines() -> pl.DataFrame:
    report: Report = analyze(BUNDLES / "01-jan14-1025")
    return build_timelines(report.analysis)


def test_rr05_timeline_runs_from_its_steps_to_the_failure() -> None:
    """audit-test-rr-05's timeline starts with its spec's first STEP and ends with the failure."""
    rows = _timelines().filter(pl.col("correlation_id") == "audit-test-rr-05")
    kinds = rows["kind"].to_list()
    assert kinds[0] == "step"
    assert kinds[-1] == "failure"
    assert "query" in kinds and "buffered" in kinds and "flush" in kinds


def test_test_log_rows_keep_file_order() -> None:
    """Within the test log a timeline never reorders lines: a process writes its timeline in order."""
    for _, rows in _timelines().filter(pl.col("source") == "test log").group_by("correlation_id", "file"):
        assert rows["line"].to_list() == sorted(rows["line"].to_list())


def test_datastorage_rows_are_marked_inferred_and_test_log_rows_observed() -> None:
    """DataStorage never logs correlation IDs, so its rows are inferences and say so."""
    rows = _timelines()
    assert rows.filter(pl.col("source") == "DataStorage")["basis"].str.starts_with("inferred").all()
    assert rows.filter(pl.col("source") == "test log")["basis"].str.starts_with("observed").all()


def test_timelines_of_some_ids_are_those_rows_of_every_ids_timelines() -> None:
    """Building only the IDs a report shows gives exactly their rows of the full build."""
    report = analyze(BUNDLES / "05-flush-bug")
    every = build_timelines(report.analysis)
    ids = sorted(every["correlation_id"].unique().to_list())
    assert len(ids) > 3
    some = {ids[0], ids[len(ids) // 2], ids[-1]}
    assert build_timelines(report.analysis, some).equals(
        every.filter(pl.col("correlation_id").is_in(list(some)))
    )
    assert build_timelines(report.analysis, ()).is_empty()
