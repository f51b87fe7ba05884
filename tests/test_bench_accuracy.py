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
    """Two seeds run end to end: a row per rule, per era and per service, causes, and both runs in JSON."""
    out = tmp_path / "acc.json"
    assert accuracy.main(["--seeds", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("2 runs, ")
    for rule in ALL_RULES:
        assert any(line.split()[0] == rule.id for line in printed.splitlines() if line.strip()), rule.id
    assert "findings above info on healthy runs:" in printed
    assert "failed specs whose reported cause matches the truth:" in printed
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [r["seed"] for r in doc["runs"]] == [1, 2]
    assert [r["scenario"] for r in doc["runs"]] == [accuracy.plan(1).scenario, accuracy.plan(2).scenario]
    eras = {r["knobs"]["era"] for r in doc["runs"]}
    assert all(any(line.startswith(f"{era} ") for line in printed.splitlines()) for era in eras)


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


def test_plan_spreads_seeds_over_every_scenario_era_service_and_fault() -> None:
    """The default seeds cover every scenario, era, service and fault, combine faults, stay small."""
    from triage.simulate import FAULTS, SCENARIOS
    from triage.simulate.knobs import ERAS
    from triage.simulate.services import SERVICE_NAMES

    seeds = [first + i for first, n in accuracy.DEFAULT_RANGES for i in range(n)]
    assert len(seeds) >= 150 and len(accuracy.DEFAULT_RANGES) == 2
    plans = [accuracy.plan(seed) for seed in seeds]
    assert {p.scenario for p in plans} == {s.name for s in SCENARIOS}
    assert {f for p in plans for f in p.knobs["faults"]} == set(FAULTS)
    assert {p.knobs["era"] for p in plans} == set(ERAS)
    assert {p.knobs["service"] for p in plans} == set(SERVICE_NAMES)
    assert sum(len(p.knobs["faults"]) >= 2 for p in plans) >= 30
    assert all(p.knobs["processes"] <= 4 and p.knobs["specs"] <= 16 for p in plans)
    assert sum(not p.knobs["faults"] and not p.knobs["missing_container"] for p in plans) >= 20


def test_a_cause_matches_when_the_reported_rule_explains_the_true_cause() -> None:
    """A spec's cause is read from the report's `cause` (rule id or object) and matched by RULE_EXPLAINS."""
    loc = "/src/test/integration/notification/a_test.go:10"
    truth = {
        "tests": {
            "specs": [
                {"name": "A counts deliveries", "location": loc, "cause": "duplicate-events"},
                {"name": "A counts others", "location": loc + "0", "cause": "unflushed-events"},
                {"name": "A waits", "location": loc + "1", "cause": "write-delayed"},
                {"name": "A passes", "location": loc + "2"},
            ]
        }
    }
    doc = {
        "tests": {
            "specs": [
                {
                    "name": "A [It] counts deliveries",
                    "location": loc,
                    "cause": {"rule": "unexpected-event-count"},
                },
                {"name": "A [It] counts others", "location": loc + "0", "cause": "flush-query-race"},
            ]
        },
        "findings": [],
    }
    scores = accuracy.score_causes(truth, doc)
    assert [(c.truth, c.reported, c.matched) for c in scores] == [
        ("duplicate-events", "unexpected-event-count", True),
        ("unflushed-events", "flush-query-race", False),
        ("write-delayed", None, False),
    ]


def test_failed_specs_of_a_report_that_lists_no_spec_are_counted_apart() -> None:
    """A report listing no spec (no test output in the bundle) has its failed specs counted as unseen."""
    loc = "/src/test/integration/notification/a_test.go:10"
    truth = {
        "tests": {"specs": [{"name": "A counts deliveries", "location": loc, "cause": "missing-events"}]}
    }
    (unseen,) = accuracy.score_causes(truth, {"tests": {"specs": []}, "findings": []})
    assert (unseen.matched, unseen.seen) == (False, False)
    listed = {"tests": {"specs": [{"name": "A [It] counts deliveries", "location": loc}]}, "findings": []}
    (seen,) = accuracy.score_causes(truth, listed)
    assert (seen.matched, seen.seen) == (False, True)
    runs = [accuracy.RunResult(1, "count-mismatch", {"era": "later"}, False, {}, [], [unseen, seen])]
    printed = accuracy.table(runs)
    assert "failed specs whose reported cause matches the truth: 0 of 2" in printed
    assert "of the failed specs triage can see: 0 of 1 (0.000); unseen" in printed
    assert "left out): 1" in printed
    assert any(
        line.startswith("rule by era") and "later prec/recall" in line for line in printed.splitlines()
    )


def test_a_report_without_causes_is_read_from_the_findings_about_the_spec() -> None:
    """Without a `cause` field the first finding above info about the spec's correlation IDs is its cause."""
    spec = {"name": "x", "location": "y", "correlation_ids": ["rr-1"]}
    findings = [
        {"rule": "dropped-events", "severity": "high", "correlation_id": None},
        {"rule": "flush-query-race", "severity": "info", "correlation_id": "rr-1"},
        {"rule": "unexpected-event-count", "severity": "high", "correlation_id": "rr-1"},
    ]
    assert accuracy.reported_cause(spec, findings) == "unexpected-event-count"
    assert accuracy.reported_cause({**spec, "cause": None}, findings) is None
