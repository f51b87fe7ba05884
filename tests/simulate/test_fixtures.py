"""The committed example bundles regenerate byte for byte and show what their names promise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.simulate import SCENARIOS, simulate

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "bundles"


def _truth(fixture: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / f"{fixture}.expected.json").read_text(encoding="utf-8"))
    return data


def _must(truth: dict[str, Any]) -> set[tuple[str, str | None]]:
    return {(f["rule"], f["correlation_id"]) for f in truth["findings"]["must"]}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.fixture)
def test_fixture_regenerates_identically(scenario: Any, tmp_path: Path) -> None:
    """Regenerating a fixture from its scenario and seed gives identical bytes for every file."""
    truth = simulate(scenario.name, tmp_path / scenario.fixture, seed=scenario.seed)
    committed = ROOT / scenario.fixture
    got = {
        p.relative_to(tmp_path / scenario.fixture): p
        for p in (tmp_path / scenario.fixture).rglob("*")
        if p.is_file()
    }
    want = {p.relative_to(committed): p for p in committed.rglob("*") if p.is_file()}
    assert sorted(got) == sorted(want)
    for rel, path in got.items():
        assert path.read_bytes() == want[rel].read_bytes(), rel
    assert truth.read_bytes() == (ROOT / f"{scenario.fixture}.expected.json").read_bytes()


def test_fixture_set_is_small() -> None:
    """All committed fixtures together stay under 6 MB."""
    assert sum(p.stat().st_size for p in ROOT.rglob("*") if p.is_file()) < 6_000_000


def test_jan14_reconstructs_the_documented_run() -> None:
    """01 has the documented run dir, zone, totals, failures and the closed-store trap."""
    truth = _truth("01-jan14-1025")
    assert truth["bundle"]["run_dir"] == "signalprocessing-integration-20260114-102512"
    assert truth["host_utc_offset"] == "-05:00"
    t = truth["tests"]
    assert (t["ran"], t["total"], t["passed"], t["failed"], t["interrupted"], t["pending"], t["skipped"]) == (
        57,
        92,
        49,
        2,
        6,
        2,
        33,
    )
    assert {
        ("flush-query-race", "audit-test-rr-05"),
        ("unexpected-event-count", "audit-test-rr-04"),
    } <= _must(truth)
    failed = [s for s in t["specs"] if s["state"] == "failed"]
    assert {s["correlation_ids"][0] for s in failed} == {"audit-test-rr-04", "audit-test-rr-05"}
    assert all(s["process"] != 1 for s in failed)
    (closed,) = [s for s in truth["stores"] if s["closed"]]
    assert closed["process"] == 1 and closed["buffered"] == closed["written"]
    log = (ROOT / "01-jan14-1025" / "integration-signalprocessing.log").read_text(encoding="utf-8")
    assert (
        "FAIL! - Interrupted by Other Ginkgo Process -- 49 Passed | 8 Failed | 2 Pending | 33 Skipped\n"
        in log
    )
    assert "Ran 57 of 92 Specs in " in log and "Summarizing 8 Failures:\n" in log
    assert "  [FAILED] BR-SP-090: MUST emit exactly 4 phase transitions" in log
    assert "  Expected\n      <int>: 5\n  to equal\n      <int>: 4\n" in log
    assert "⏳ No events yet for signalprocessing.error.occurred (correlation_id=audit-test-rr-05)" in log
    assert log.count("  [INTERRUPTED] Interrupted by Other Ginkgo Process\n") == 6


def test_race_timeout_times_out_after_thirty_seconds() -> None:
    """04 fails with Gomega's `Timed out after 30.00Ns.` and a raced query."""
    truth = _truth("04-race-timeout")
    log = (ROOT / "04-race-timeout" / "integration-signalprocessing.log").read_text(encoding="utf-8")
    assert "  [FAILED] Timed out after 30.00" in log
    assert any(rule == "flush-query-race" for rule, _ in _must(truth))


def test_scenarios_show_their_faults() -> None:
    """Each fault scenario's truth requires the findings its name promises, and the healthy one none."""
    assert _must(_truth("02-healthy")) == set()
    assert any(r == "flush-query-race" for r, _ in _must(_truth("03-races-pass-after-retries")))
    assert _truth("03-races-pass-after-retries")["tests"]["failed"] == 0
    assert any(r == "flush-query-race" for r, _ in _must(_truth("05-flush-bug")))
    assert {("dropped-events", None), ("write-rate-gap", None)} <= _must(_truth("06-rejections-400"))
    assert ("container-unhealthy", None) in _must(_truth("07-datastorage-down"))
    assert ("timer-stall", None) in _must(_truth("08-timer-stall"))
    later = (ROOT / "09-later-format").rglob("*_datastorage_test.log")
    first = next(later).read_text(encoding="utf-8").splitlines()[0]
    assert (
        first.startswith('{"level":"info","ts":"2026-05-02T') and '"caller":"datastorage/main.go:72"' in first
    )
