"""Per-process reconstruction: spec timelines are grouped into audit stores as the ground truth ran them."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from triage.api import Report, analyze

BUNDLES = Path(__file__).resolve().parent.parent / "fixtures" / "bundles"
SCENARIOS = sorted(p.name for p in BUNDLES.iterdir() if p.is_dir())


@cache
def _report(name: str) -> Report:
    return analyze(BUNDLES / name)


def _process_of_spec(name: str) -> dict[str, int]:
    truth = json.loads((BUNDLES / f"{name}.expected.json").read_text(encoding="utf-8"))
    return {s["name"]: s["process"] for s in truth["tests"]["specs"]}


@pytest.mark.parametrize("name", SCENARIOS)
def test_each_store_holds_specs_of_one_process_and_no_process_is_split(name: str) -> None:
    """Every inferred store's specs ran on one process, and each process's specs land in one store."""
    process = _process_of_spec(name)
    stores_of_process: dict[int, set[str]] = {}
    for store in _report(name).analysis.stores:
        ran_on = {
            process[s.replace(" [It] ", " ")] for s in store.specs if s.replace(" [It] ", " ") in process
        }
        assert len(ran_on) <= 1, (store.name, ran_on)
        for p in ran_on:
            stores_of_process.setdefault(p, set()).add(store.name)
    assert all(len(names) == 1 for names in stores_of_process.values()), stores_of_process


def _store_lines_and_a_close(name: str) -> bool:
    """Whether the run logged its store's lines at Info (January) and process 1's Close() finished."""
    truth = json.loads((BUNDLES / f"{name}.expected.json").read_text(encoding="utf-8"))
    return truth["knobs"]["era"] == "january" and any(s["closed"] for s in truth["stores"])


@pytest.mark.parametrize("name", [n for n in SCENARIOS if _store_lines_and_a_close(n)])
def test_the_store_that_logged_audit_store_closed_is_process_1(name: str) -> None:
    """The store whose timelines hold `Audit store closed` is named process 1 and ran on process 1."""
    process = _process_of_spec(name)
    closing = [s for s in _report(name).analysis.stores if s.closed]
    assert [s.name for s in closing] == ["process 1"]
    ran_on = {
        process[s.replace(" [It] ", " ")] for s in closing[0].specs if s.replace(" [It] ", " ") in process
    }
    assert ran_on <= {1}


def test_the_later_format_shows_no_store_lines_so_no_store_is_claimed() -> None:
    """With the store's hot-path lines below Info, nothing can be attributed and nothing is invented."""
    assert _report("09-later-format").analysis.stores == ()


def test_the_jan14_closing_counters_belong_to_a_different_store_than_the_failures() -> None:
    """In the 2026-01-14 run the failing specs ran on stores other than process 1 (the old triage's trap)."""
    report = _report("01-jan14-1025")
    failing = {s.name for run in report.tests for s in run.specs if s.state == "failed"}
    owners = {store.name for store in report.analysis.stores for spec in store.specs if spec in failing}
    assert owners and "process 1" not in owners
