"""bench/accuracy.py: the accuracy benchmark runs end to end and scores by the truth's rules."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from triage.rules import ALL_RULES, RuleOutcome, get_rule
from triage.rules.base import Evidence, Finding, Severity

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "accuracy.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_accuracy", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


accuracy = _load()


def _outcome(rule_id: str, status: str, *found: tuple[Severity, str | None]) -> RuleOutcome:
    rule = get_rule(rule_id)
    assert rule is not None
    ev = (Evidence("f.log", 1, "x"),)
    return RuleOutcome(rule, status, None, tuple(Finding(rule_id, s, "s", cid, ev) for s, cid in found))


def test_two_seeds_print_a_row_per_rule_and_write_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two seeds run end to end: the table has a row per rule and the JSON holds both runs."""
    out = tmp_path / "acc.json"
    assert accuracy.main(["--seeds", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("2 runs, ")
    for rule in ALL_RULES:
        assert any(line.split()[0] == rule.id for line in printed.splitlines() if line.strip()), rule.id
    assert "findings above info on healthy runs:" in printed
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [r["seed"] for r in doc["runs"]] == [1, 2]
    assert [r["scenario"] for r in doc["runs"]] == ["jan14-1025", "healthy"]


def test_score_counts_must_and_must_not_entries_as_the_truth_defines() -> None:
    """Only findings above info count; a null correlation ID matches any finding of the rule."""
    truth = {
        "findings": {
            "must": [
                {"rule": "flush-query-race", "correlation_id": "rr-1"},
                {"rule": "flush-query-race", "correlation_id": "rr-2"},
                {"rule": "container-unhealthy", "correlation_id": None},
            ],
            "must_not": [
                {"rule": "flush-query-race", "correlation_id": "rr-3"},
                {"rule": "dropped-events", "correlation_id": None},
                {"rule": "timer-stall", "correlation_id": None},
            ],
        }
    }
    outcomes = [
        _outcome(
            "flush-query-race",
            "ran",
            (Severity.HIGH, "rr-1"),
            (Severity.INFO, "rr-2"),
            (Severity.LOW, "rr-3"),
        ),
        _outcome("container-unhealthy", "ran", (Severity.HIGH, None)),
        _outcome("dropped-events", "ran", (Severity.INFO, None)),
        _outcome("timer-stall", "skipped"),
    ]
    tallies, notes = accuracy.score(truth, outcomes)
    race = tallies["flush-query-race"]
    assert (race.tp, race.fn, race.fp, race.tn) == (1, 1, 1, 0)
    assert (tallies["container-unhealthy"].tp, tallies["container-unhealthy"].fn) == (1, 0)
    assert (tallies["dropped-events"].fp, tallies["dropped-events"].tn) == (0, 1)
    assert tallies["timer-stall"].skipped == 1
    assert notes == ["missed flush-query-race(rr-2)", "violated flush-query-race(rr-3)"]


def test_plan_spreads_seeds_over_every_scenario_and_fault() -> None:
    """The default seeds cover every scenario and every fault kind, each bundle at most 4 processes."""
    from triage.simulate import FAULTS, SCENARIOS

    plans = [accuracy.plan(seed) for seed in range(1, accuracy.DEFAULT_SEEDS + 1)]
    assert {p.scenario for p in plans} == {s.name for s in SCENARIOS}
    assert {f for p in plans for f in p.knobs["faults"]} == set(FAULTS)
    assert all(p.knobs["processes"] <= 4 and p.knobs["specs"] <= 16 for p in plans)
    assert any(not p.knobs["faults"] and not p.knobs["missing_container"] for p in plans)
