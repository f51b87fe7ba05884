"""Each rule on its own fixture: simulated cases that must fire and near misses that must not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.api import analyze
from triage.bundle.lines import split_lines
from triage.rules import ALL_RULES, get_rule
from triage.simulate import simulate

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "rules"


def _cases() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for listing in sorted(ROOT.glob("*/cases.json")):
        for case in json.loads(listing.read_text(encoding="utf-8"))["cases"]:
            out.append((listing.parent.name, case))
    return out


CASES = _cases()


def test_every_rule_has_a_fixture_with_a_firing_case_and_a_near_miss() -> None:
    """Each registered rule has cases under fixtures/rules/<id>/, at least one firing and one not."""
    for rule in ALL_RULES:
        truths = [
            json.loads((ROOT / rid / f"{case['name']}.expected.json").read_text(encoding="utf-8"))
            for rid, case in CASES
            if rid == rule.id
        ]
        must = [t for t in truths if any(f["rule"] == rule.id for f in t["findings"]["must"])]
        must_not = [t for t in truths if any(f["rule"] == rule.id for f in t["findings"]["must_not"])]
        assert must and must_not, rule.id


@pytest.mark.parametrize(("rule_id", "case"), CASES, ids=[f"{r}/{c['name']}" for r, c in CASES])
def test_rule_finds_what_the_truth_says_and_quotes_real_lines(rule_id: str, case: dict[str, Any]) -> None:
    """The rule alone reports every must entry, no must_not entry, and its evidence quotes the cited lines."""
    bundle = ROOT / rule_id / case["name"]
    truth = json.loads((ROOT / rule_id / f"{case['name']}.expected.json").read_text(encoding="utf-8"))
    rule = get_rule(rule_id)
    assert rule is not None
    report = analyze(bundle, select=(rule_id,))
    found = {(f.rule, f.correlation_id) for f in report.findings if f.severity.label != "info"}
    for entry in truth["findings"]["must"]:
        if entry["rule"] == rule_id:
            key = (rule_id, entry["correlation_id"])
            assert key in found or (
                entry["correlation_id"] is None and any(r == rule_id for r, _ in found)
            ), key
    for entry in truth["findings"]["must_not"]:
        if entry["rule"] == rule_id:
            key = (rule_id, entry["correlation_id"])
            assert key not in found and (entry["correlation_id"] is not None or not found), key
    for finding in report.findings:
        assert finding.evidence, finding
        for ev in finding.evidence:
            text = split_lines((bundle / ev.file).read_bytes()).frame["raw"][ev.line - 1]
            assert ev.text in text, (ev.file, ev.line)


@pytest.mark.parametrize(("rule_id", "case"), CASES, ids=[f"{r}/{c['name']}" for r, c in CASES])
def test_rule_fixture_regenerates_identically(rule_id: str, case: dict[str, Any], tmp_path: Path) -> None:
    """A rule fixture is the simulator's output for its recorded scenario, seed and knobs, byte for byte."""
    knobs = {k: tuple(v) if isinstance(v, list) else v for k, v in case.get("knobs", {}).items()}
    truth = simulate(case["scenario"], tmp_path / case["name"], seed=case["seed"], **knobs)
    committed = ROOT / rule_id / case["name"]
    got = {
        p.relative_to(tmp_path / case["name"]): p.read_bytes()
        for p in (tmp_path / case["name"]).rglob("*")
        if p.is_file()
    }
    want = {p.relative_to(committed): p.read_bytes() for p in committed.rglob("*") if p.is_file()}
    assert got == want
    assert truth.read_bytes() == (ROOT / rule_id / f"{case['name']}.expected.json").read_bytes()
