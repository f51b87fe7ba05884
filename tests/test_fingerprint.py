"""Fingerprints: the same problem in two runs gets the same id, different problems never do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.api import analyze
from triage.report.fingerprint import (
    finding_fingerprints,
    normalize_id,
    relative_location,
    spec_fingerprint,
)
from triage.report.render import to_json
from triage.simulate import simulate

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "fixtures" / "golden"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("audit-sent-1a2b3c4d", "audit-sent-94960910"),
        ("rr-1737049200123456789", "rr-1737049299000000001"),
        ("sp-3f2b1c4e-9a8d-4e7f-b6a5-0c1d2e3f4a5b", "sp-00000000-1111-4222-8333-444455556666"),
        ("test-ns-x7k2p", "test-ns-b4z9q"),
        ("run-20260114-102512-a", "run-20260820-140354-a"),
    ],
)
def test_run_specific_parts_of_an_id_share_a_pattern(first: str, second: str) -> None:
    """IDs that differ only in a hex, UnixNano, UUID, namespace-hash or date part have one pattern."""
    assert normalize_id(first) == normalize_id(second)
    assert normalize_id(first) != first


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("audit-test-rr-04", "audit-test-rr-05"),
        ("sev-audit-rr-027", "sev-audit-rr-028"),
        ("rr-lifecycle-started", "rr-lifecycle-completed"),
        ("audit-sent-1a2b3c4d", "audit-failed-1a2b3c4d"),
    ],
)
def test_ids_that_name_different_resources_keep_apart(first: str, second: str) -> None:
    """Small ordinals and words are kept, so IDs of different specs' resources keep different patterns."""
    assert normalize_id(first) != normalize_id(second)


def test_spec_fingerprint_ignores_the_machine_path_and_the_node_marker() -> None:
    """A spec printed on two machines, with and without `[It]`, has one fingerprint; another line, another."""
    name = "BR-SP-090: Audit when errors occur [It] should create 'error.occurred' audit event"
    mac = "/Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/sp/audit_test.go:662"
    ci = "/home/runner/work/kubernaut/kubernaut/test/integration/sp/audit_test.go:662"
    assert relative_location(mac) == relative_location(ci) == "test/integration/sp/audit_test.go:662"
    assert spec_fingerprint(name, mac) == spec_fingerprint(name.replace(" [It] ", " "), ci)
    assert spec_fingerprint(name, mac) != spec_fingerprint(name, mac.replace(":662", ":782"))


def _truth(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _problems(bundle: Path, truth: Path) -> dict[tuple[str, str], str]:
    """(true cause, spec location) -> fingerprint of the finding given as its cause, where one is given."""
    report = analyze(bundle)
    prints = dict(zip(report.findings, finding_fingerprints(report), strict=True))
    causes = {
        relative_location(s["location"]): s["cause"]
        for s in _truth(truth)["tests"]["specs"]
        if s.get("cause")
    }
    out = {}
    for verdict in report.verdicts:
        location = relative_location(verdict.spec.location)
        if location in causes and verdict.cause is not None:
            out[causes[location], location] = prints[verdict.cause]
    return out


def test_count_problems_keep_their_fingerprints_across_seeds(tmp_path: Path) -> None:
    """In three simulated Notification runs, fingerprints are equal exactly when cause and spec are."""
    runs = [
        _problems(tmp_path / str(seed), simulate("count-mismatch", tmp_path / str(seed), seed=seed))
        for seed in (12, 13, 16)
    ]
    assert all(len(run) == 3 for run in runs), runs  # a spec counting one event too few, too many, shared
    pairs = {(problem, fingerprint) for run in runs for problem, fingerprint in run.items()}
    assert len({problem for problem, _ in pairs}) == len(pairs) == len({fp for _, fp in pairs})


def test_a_fixed_writer_leaves_only_its_finding_behind(tmp_path: Path) -> None:
    """The flush-stuck run and the same suite without the fault share every finding but the stuck writer."""
    stuck = analyze(ROOT / "fixtures" / "compare" / "flush-fix-before")
    fixed = analyze(ROOT / "fixtures" / "compare" / "flush-fix-after")
    before = dict(zip(finding_fingerprints(stuck), stuck.findings, strict=True))
    after = dict(zip(finding_fingerprints(fixed), fixed.findings, strict=True))
    assert [f.rule for fp, f in before.items() if fp not in after] == ["unflushed-events"]
    assert all(fp in before for fp in after)


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("[0-9]*.json")), ids=lambda p: p.stem)
def test_fingerprints_are_unique_within_each_report(golden: Path) -> None:
    """No two findings, and no two failed specs, of one report share a fingerprint."""
    report = _truth(golden)
    findings = [f["fingerprint"] for f in report["findings"]]
    specs = [s["fingerprint"] for s in (report["tests"] or {"specs": []})["specs"]]
    assert len(set(findings)) == len(findings)
    assert len(set(specs)) == len(specs)


def _race_prints(bundle: Path) -> dict[str, str]:
    """Spec fingerprint -> fingerprint of the flush-query-race finding given as its cause."""
    data = to_json(analyze(bundle))
    return {
        s["fingerprint"]: data["findings"][s["cause"]["finding"]]["fingerprint"]
        for s in data["tests"]["specs"]
        if s["cause"] and s["cause"]["rule"] == "flush-query-race"
    }


def test_the_same_race_in_two_runs_has_one_fingerprint(tmp_path: Path) -> None:
    """A race in one spec keeps its fingerprint across seeds, though the suite numbers its resource anew."""
    for seed in (5, 6):
        simulate("race-timeout", tmp_path / str(seed), seed=seed)
    first, second = (_race_prints(tmp_path / str(seed)) for seed in (5, 6))
    ids = [analyze(tmp_path / str(seed)).findings[0].correlation_id for seed in (5, 6)]
    assert ids[0] != ids[1]  # sev-audit-rr-010 and sev-audit-rr-003: one spec, two counter values
    assert len(first) == 1
    assert first == second


def test_a_race_in_another_spec_has_another_fingerprint() -> None:
    """Races about different correlation IDs of one run never share a fingerprint."""
    data = json.loads((GOLDEN / "03-races-pass-after-retries.json").read_text(encoding="utf-8"))
    races = [f for f in data["findings"] if f["rule"] == "flush-query-race"]
    assert len({f["correlation_id"] for f in races}) == len(races) > 1
    assert len({f["fingerprint"] for f in races}) == len(races)
