"""`triage compare BEFORE AFTER`: figures side by side, findings and specs matched by fingerprint."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from tests.realworld import case, needs_realworld
from triage.cli import main
from triage.runs.compare import compare
from triage.runs.render import render_comparison
from triage.runs.sides import CompareError, check_report
from triage.simulate.fixtures import COMPARE_PAIR, regenerate_compare

ROOT = Path(__file__).resolve().parent.parent
PAIR = ROOT / "fixtures" / "compare"
GOLDEN = ROOT / "fixtures" / "golden"
BEFORE, AFTER = (f"fixtures/compare/{name}" for name, _, _ in COMPARE_PAIR)


def _cli(*args: str) -> Any:
    return CliRunner().invoke(main, ["compare", *args])


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_compare_of_the_flush_fix_matches_its_golden_file(
    fmt: str, monkeypatch: pytest.MonkeyPatch, update_golden: bool
) -> None:
    """The flush-stuck run compared with its fixed rerun is byte for byte its reviewed golden file."""
    monkeypatch.chdir(ROOT)  # the comparison names the bundles as given: keep them repository-relative
    result = _cli(BEFORE, AFTER, "--format", "markdown" if fmt == "md" else "json")
    assert result.exit_code == 0, result.output
    golden = GOLDEN / f"compare-flush-fix.{fmt}"
    if update_golden:
        golden.write_text(result.output, encoding="utf-8")
    assert result.output == golden.read_text(encoding="utf-8")


def test_golden_comparison_says_what_the_fix_changed() -> None:
    """The golden comparison finds the stuck writer gone, the failed spec passing, DataStorage writing."""
    data = json.loads((GOLDEN / "compare-flush-fix.json").read_text(encoding="utf-8"))
    assert [f["rule"] for f in data["findings"]["gone"]] == ["unflushed-events"]
    assert data["findings"]["new"] == [] and data["worse"] == []
    fixed = [s for s in data["specs"] if (s["before"], s["after"]) == ("failed", "passed")]
    assert [s["cause_before"] for s in fixed] == ["unflushed-events"]
    metrics = {m["key"]: m for m in data["metrics"]}
    assert (metrics["pass_rate"]["verdict"], metrics["ds_events_written"]["verdict"]) == ("better", "better")
    assert metrics["write_rate"]["verdict"] == "unknown"  # process 1's Close() timed out: no counters before
    html = (
        MarkdownIt("commonmark").enable("table").render((GOLDEN / "compare-flush-fix.md").read_text("utf-8"))
    )
    assert html.count("<table>") == 6


def test_compare_pair_regenerates_identically(tmp_path: Path) -> None:
    """The committed before/after runs regenerate byte for byte from their scenario, seed and knobs."""
    regenerate_compare(tmp_path)
    got = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert got == sorted(p.relative_to(PAIR) for p in PAIR.rglob("*") if p.is_file())
    for rel in got:
        assert (tmp_path / rel).read_bytes() == (PAIR / rel).read_bytes(), rel


def test_a_saved_json_report_compares_like_its_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A saved --format json report as a side, pretty or on one line, compares as its bundle does."""
    monkeypatch.chdir(ROOT)
    saved = CliRunner().invoke(main, ["analyze", BEFORE, "--format", "json"]).output
    pretty, compact = tmp_path / "before.json", tmp_path / "before-compact.json"
    pretty.write_text(saved, encoding="utf-8")
    compact.write_text(json.dumps(json.loads(saved)) + "\n", encoding="utf-8")
    direct = _cli(BEFORE, AFTER, "--format", "json").output
    assert _cli(str(pretty), AFTER, "--format", "json").output == direct
    assert _cli(str(compact), AFTER, "--format", "json").output == direct


def test_an_archive_side_compares_like_its_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A side given as a .tar.gz of the bundle gives the same figures, findings and specs as the directory."""
    monkeypatch.chdir(ROOT)
    archive = tmp_path / "after.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(ROOT / AFTER, arcname="after")
    direct = json.loads(_cli(BEFORE, AFTER, "--format", "json").output)
    packed = json.loads(_cli(BEFORE, str(archive), "--format", "json").output)
    assert packed["after"]["path"] == str(archive)
    for key in ("metrics", "findings", "specs", "containers", "improved", "worse"):
        assert packed[key] == direct[key], key


@needs_realworld
def test_two_real_signalprocessing_runs_compare_by_their_problems() -> None:
    """A real duplicate-transition run against a real 400-drop run: that count is gone, the drop is new."""
    result = _cli(str(case("k03") / "bundle"), str(case("k02") / "bundle"), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    gone = {(f["rule"], f["correlation_id"]) for f in data["findings"]["gone"] if f["before"] != "info"}
    assert ("unexpected-event-count", "audit-test-rr-04") in gone
    assert [f["rule"] for f in data["findings"]["new"] if f["after"] != "info"] == ["dropped-events"]
    assert data["ran"]["per_spec"]  # the second excerpt shows one spec: counts are judged per spec ran


def _report(specs: Any = (), passed_fps: Any = (), **tests: Any) -> dict[str, Any]:
    """A minimal valid JSON report of a run with the given test figures, failed specs and passed specs."""
    base: dict[str, Any] = {"ran": 10, "total": 10, "passed": 10, "failed": 0, "interrupted": 0}
    return {
        "schema_version": 1,
        "bundle": {"path": "run", "service": "signalprocessing", "run_dir": None, "collected_at": None},
        "tests": {**base, **tests, "specs": list(specs), "passed_fingerprints": list(passed_fps)},
        "audit": {
            "buffered": None,
            "written": None,
            "dropped": None,
            "failed_batches": None,
            "ds_batch_writes": 10,
            "ds_events_written": 20,
        },
        "findings": [],
        "containers": [],
        "sources": [{"file": "ds.log", "kind": "zap_json", "service": "datastorage"}],
    }


def _spec(fingerprint: str, state: str = "failed") -> dict[str, Any]:
    return {
        "name": f"spec {fingerprint}",
        "state": state,
        "location": "/x/test/a_test.go:1",
        "fingerprint": fingerprint,
    }


def test_runs_of_different_sizes_are_judged_per_spec_ran() -> None:
    """A run ten times larger with more failures but fewer per spec is better on failures, and says so."""
    small = _report(ran=10, passed=9, failed=1)
    large = _report(ran=100, passed=95, failed=5)
    large["audit"]["ds_events_written"] = (
        100  # 2 per spec before, 1 per spec after: fewer, whatever the raw count
    )
    c = compare(small, large)
    metrics = {m.key: m for m in c.metrics}
    assert c.per_spec
    assert (metrics["failed"].verdict, metrics["failed"].change) == ("better", "0.10 → 0.05 per spec ran")
    assert metrics["ds_events_written"].verdict == "worse"
    assert metrics["pass_rate"].verdict == "better" and not metrics["pass_rate"].per_spec


def test_counts_of_runs_of_unknown_size_are_shown_not_judged() -> None:
    """Counts of a run cut before Ginkgo's summary are shown unjudged, and another suite's run is flagged."""
    cut = _report(ran=None, passed=3, failed=0)
    full = _report(ran=10, passed=8, failed=2)
    full["bundle"]["service"] = "notification"
    c = compare(cut, full)
    metrics = {m.key: m for m in c.metrics}
    assert (metrics["failed"].verdict, metrics["passed"].verdict) == ("shown", "shown")
    assert c.worse == () and c.improved == ()
    assert c.caution and "different suites" in c.caution[0]


def test_a_run_without_datastorage_log_has_no_datastorage_figures() -> None:
    """A run whose bundle holds no DataStorage log shows its batch writes as unknown, not as zero."""
    with_log, without = _report(), _report()
    without["sources"] = []
    metrics = {m.key: m for m in compare(with_log, without).metrics}
    assert (metrics["ds_batch_writes"].before, metrics["ds_batch_writes"].after) == (10, None)
    assert metrics["ds_events_written"].verdict == "unknown"


def test_specs_that_flipped_are_listed_both_ways() -> None:
    """A spec that failed and then passed is an improvement; one that passed and then failed is worse."""
    before = _report(ran=3, passed=2, failed=1, specs=[_spec("aaaa")], passed_fps=["bbbb", "cccc"])
    after = _report(ran=3, passed=2, failed=1, specs=[_spec("bbbb")], passed_fps=["aaaa", "cccc"])
    c = compare(before, after)
    assert [(s.fingerprint, s.before, s.after) for s in c.specs] == [
        ("aaaa", "failed", "passed"),
        ("bbbb", "passed", "failed"),
    ]
    assert "1 spec failed before and passed after" in c.improved
    assert "1 spec passed before and failed after" in c.worse


def test_info_findings_are_listed_but_never_judged() -> None:
    """A new info observation is listed as new, yet nothing is called worse for it."""
    before, after = _report(), _report()
    after["findings"] = [
        {
            "rule": "clock-skew",
            "severity": "info",
            "correlation_id": None,
            "summary": "0.1 ms",
            "fingerprint": "f1",
        }
    ]
    c = compare(before, after)
    assert [f.fingerprint for f in c.appeared] == ["f1"] and c.worse == ()


def _bad_reports() -> list[tuple[str, str, str]]:
    good = _report()
    wrong_version = {**good, "schema_version": 2}
    no_fingerprint = copy.deepcopy(good)
    no_fingerprint["findings"] = [{"rule": "x", "severity": "high", "correlation_id": None, "summary": "s"}]
    wrong_type = copy.deepcopy(good)
    wrong_type["tests"]["failed"] = "one"
    not_list = copy.deepcopy(good)
    not_list["findings"] = {"rule": "x"}
    return [
        ("wrong-version", json.dumps(wrong_version, indent=1), "schema_version 2"),
        ("no-fingerprint", json.dumps(no_fingerprint, indent=1), "findings[0].fingerprint is missing"),
        ("wrong-type", json.dumps(wrong_type, indent=1), "tests.failed is missing or not an integer"),
        ("not-a-list", json.dumps(not_list, indent=1), "findings is missing or not a list"),
        ("not-a-report", json.dumps({"apiVersion": "v1", "kind": "Pod"}, indent=1), "no schema_version"),
        ("truncated", json.dumps(good, indent=1)[:200], "JSON error at line"),
        ("deep", "{" + '"a":[' * 100_000, "JSON error at line"),
    ]


@pytest.mark.parametrize(("name", "text", "message"), _bad_reports(), ids=lambda v: v if len(v) < 20 else "")
def test_a_bad_report_is_a_one_line_error_with_exit_2(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    """A report of another schema version, with missing or mistyped fields, or broken exits 2, one line."""
    bad = tmp_path / f"{name}.json"
    bad.write_text(text, encoding="utf-8")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_report()), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "triage", "compare", str(good), str(bad)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and str(bad) in proc.stderr and message in proc.stderr, proc.stderr


def test_missing_side_exits_2_and_worse_exits_1_on_request(tmp_path: Path) -> None:
    """A missing path exits 2; --fail-on-worse exits 1 when something got worse and 0 otherwise."""
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(_report()), encoding="utf-8")
    bad.write_text(json.dumps(_report(passed=8, failed=2)), encoding="utf-8")
    assert _cli(str(good), str(tmp_path / "missing")).exit_code == 2
    assert _cli(str(good), str(bad), "--fail-on-worse").exit_code == 1
    assert _cli(str(bad), str(good), "--fail-on-worse").exit_code == 0
    out = tmp_path / "out.md"
    assert _cli(str(bad), str(good), "-o", str(out)).output == ""
    assert out.read_text(encoding="utf-8").startswith("# Compare:")


def test_no_secret_in_a_report_reaches_the_comparison(tmp_path: Path) -> None:
    """A secret quoted in a side's finding is redacted in the Markdown and the JSON comparison."""
    secret = "ghp_Zx81kQm3Vd0aPf7Lr2Ty9Wc4Hb6Jn5Ug1Es"
    before, after = _report(), _report()
    before["findings"] = [
        {
            "rule": "container-unhealthy",
            "severity": "high",
            "correlation_id": None,
            "summary": f"datastorage: Authorization: Bearer {secret} refused",
            "fingerprint": "f1",
        }
    ]
    sides = []
    for name, report in (("b.json", before), ("a.json", after)):
        (tmp_path / name).write_text(json.dumps(report), encoding="utf-8")
        sides.append(str(tmp_path / name))
    for fmt in ("markdown", "json"):
        result = _cli(*sides, "--format", fmt)
        assert result.exit_code == 0 and "REDACTED" in result.output and secret not in result.output


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside nested dicts and lists."""
    found = [prefix]
    if isinstance(value, dict):
        found += [p for k, v in value.items() for p in _paths(v, (*prefix, k))]
    elif isinstance(value, list):
        found += [p for i, v in enumerate(value) for p in _paths(v, (*prefix, i))]
    return found


@settings(max_examples=150)
@given(data=st.data())
def test_a_mangled_report_is_refused_or_compared_never_a_crash(data: st.DataObject) -> None:
    """A report with any value replaced by arbitrary JSON is refused in one line or compared and rendered."""
    report = _report(specs=[_spec("aaaa")], passed_fps=["bbbb"], ran=2, passed=1, failed=1)
    report["findings"] = [
        {"rule": "x", "severity": "high", "correlation_id": "c", "summary": "s", "fingerprint": "f1"}
    ]
    report["containers"] = [{"service": "redis", "status": "running", "exit_code": 0, "health": None}]
    path = data.draw(st.sampled_from(_paths(report)[1:]))
    target = report
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = data.draw(JSON_VALUES)
    try:
        check_report(report, "mangled.json")
    except CompareError as exc:
        assert "mangled.json" in str(exc) and "\n" not in str(exc)
        return
    for fmt in ("markdown", "json"):
        assert render_comparison(compare(report, _report()), fmt)
