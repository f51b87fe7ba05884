"""The model's bookkeeping: determinism, seeds, counts that must agree, Ginkgo totals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from triage.api import analyze
from triage.simulate import KnobError, simulate


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_same_bytes(tmp_path: Path) -> None:
    """Two runs with the same scenario, knobs and seed write identical files."""
    a = simulate("flush-bug", tmp_path / "a" / "b", seed=3, processes=2, specs=10)
    b = simulate("flush-bug", tmp_path / "c" / "b", seed=3, processes=2, specs=10)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "c")
    assert a.read_bytes() == b.read_bytes()


def test_different_seeds_differ(tmp_path: Path) -> None:
    """Another seed changes the logs."""
    simulate("healthy", tmp_path / "a", seed=1, processes=2, specs=10)
    simulate("healthy", tmp_path / "b", seed=2, processes=2, specs=10)
    assert _tree(tmp_path / "a") != _tree(tmp_path / "b")


def test_store_counts_agree_with_event_outcomes(fault_bundle: tuple[Path, dict[str, Any]]) -> None:
    """Per store, buffered = written + dropped-by-DataStorage-or-retries + unflushed, and written matches."""
    _, truth = fault_bundle
    for store in truth["stores"]:
        events = [e for e in truth["events"] if e["process"] == store["process"]]
        outcomes = [e["outcome"] for e in events]
        assert store["buffered"] == len([o for o in outcomes if o != "dropped_buffer_full"])
        assert store["written"] == outcomes.count("written")
        assert store["dropped"] == outcomes.count("dropped_buffer_full")
    assert truth["datastorage"]["events_written"] == sum(s["written"] for s in truth["stores"])
    assert truth["datastorage"]["rejected_400"] > 0 and truth["datastorage"]["failed_500"] > 0


def test_event_times_are_ordered(fault_bundle: tuple[Path, dict[str, Any]]) -> None:
    """Events are sorted by buffering time and written events were flushed before they were committed."""
    _, truth = fault_bundle
    events = truth["events"]
    assert [e["buffered_at"] for e in events] == sorted(e["buffered_at"] for e in events)
    for e in events:
        if e["outcome"] == "written":
            assert e["buffered_at"] <= e["flushed_at"] < e["written_at"]
        if e["outcome"] == "unflushed":
            assert e["written_at"] is None
    assert any(not e["logged"] for e in events)  # the sampler hid some buffered lines


def test_ginkgo_totals_add_up(tmp_path: Path) -> None:
    """ran = passed + failed + interrupted, ran + pending + skipped = total, as the log says."""
    truth = json.loads(simulate("jan14-1025", tmp_path / "b", seed=464, specs=60).read_text(encoding="utf-8"))
    t = truth["tests"]
    assert t["ran"] == t["passed"] + t["failed"] + t["interrupted"]
    assert t["ran"] + t["pending"] + t["skipped"] == t["total"] == len(t["specs"]) == 60
    text = (tmp_path / "b" / "integration-signalprocessing.log").read_text(encoding="utf-8")
    assert f"Ran {t['ran']} of {t['total']} Specs in " in text
    assert f"{t['passed']} Passed | {t['failed'] + t['interrupted']} Failed | {t['pending']} Pending" in text


def test_races_are_backed_by_queries(tmp_path: Path) -> None:
    """Every flush-query-race finding names a query that found fewer events than were buffered."""
    truth = json.loads(simulate("flush-bug", tmp_path / "b").read_text(encoding="utf-8"))
    races = {f["correlation_id"] for f in truth["findings"]["must"] if f["rule"] == "flush-query-race"}
    assert races
    for cid in races:
        raced = [q for q in truth["queries"] if q["correlation_id"] == cid and q["raced"]]
        assert raced and all((q["found"] or 0) < q["buffered_before"] for q in raced)
    clean = {f["correlation_id"] for f in truth["findings"]["must_not"] if f["rule"] == "flush-query-race"}
    assert clean and not clean & races


def test_bad_knobs_are_refused(tmp_path: Path) -> None:
    """Unknown scenarios, knobs and faults raise KnobError with one line."""
    for kwargs in ({"processes": 0}, {"faults": ("nope",)}, {"era": "june"}, {"colour": True}):
        with pytest.raises(KnobError) as info:
            simulate("healthy", tmp_path / "x", **kwargs)
        assert "\n" not in str(info.value)
    with pytest.raises(KnobError):
        simulate("no-such-scenario", tmp_path / "y")


def test_debug_lines_trade_specs_for_bytes_at_a_fixed_size(tmp_path: Path) -> None:
    """A chattier controller fills the same size with fewer specs and IDs; the extra lines are its own."""

    def run(n: int) -> tuple[int, int, int, str]:
        out = tmp_path / f"d{n}"
        truth = json.loads(simulate("healthy", out, size_mb=2, debug_lines=n).read_text(encoding="utf-8"))
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        ids = len({e["correlation_id"] for e in truth["events"]})
        return size, truth["tests"]["ran"], ids, (out / "integration-signalprocessing.log").read_text("utf-8")

    quiet, chatty = run(0), run(8)
    assert quiet[1] > 1.5 * chatty[1] and quiet[2] > 1.5 * chatty[2]
    assert 0.75 < chatty[0] / quiet[0] < 1.25  # about the same bytes
    assert "Evaluating phase handlers" not in quiet[3]
    reconciles = chatty[3].count("\tDEBUG\tReconciling SignalProcessing\t")
    assert chatty[3].count("\tDEBUG\tEvaluating phase handlers\t") == 2 * reconciles  # lines 2 and 6 of 8
    # The analysis understands every one of them: they add records, not lines it cannot read.
    reports = [analyze(tmp_path / d) for d in ("d0", "d8")]
    accounts = [next(a for a in r.accounts if a.source.kind == "ginkgo") for r in reports]
    assert accounts[1].unparsed_lines == accounts[0].unparsed_lines
    evaluating = reports[1].events.filter(
        (pl.col("message") == "Evaluating phase handlers") & (pl.col("level") == "debug")
    )
    assert evaluating.height == 2 * reconciles
    with pytest.raises(KnobError):
        simulate("healthy", tmp_path / "bad", debug_lines=-1)
