"""Exports and history: Parquet runs in Hive partitions, and what `triage history` says of a series."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner, Result

from tests.history_series import RACE_SPEC, build_series
from tests.realworld import case, needs_realworld
from triage.api import analyze
from triage.cli import main
from triage.report.export import TABLES
from triage.report.fingerprint import relative_location

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "fixtures" / "golden"
SECRET = "ghp_Zx81kQm3Vd0aPf7Lr2Ty9Wc4Hb6Jn5Ug1Es"


def _cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The eight-day series: bundles under `dayN`, exports under `exports`, JSON reports under `reports`."""
    root = tmp_path_factory.mktemp("series")
    (root / "reports").mkdir()
    for day, bundle in enumerate(build_series(root), 1):
        result = _cli("analyze", str(bundle), "--export", str(root / "exports"), "-o", "/dev/null")
        assert result.exit_code == 0, result.output
        report = root / "reports" / f"day{day}.json"
        assert _cli("analyze", str(bundle), "--format", "json", "-o", str(report)).exit_code == 0
    return root


def _history(*paths: Path | str, fmt: str = "json") -> dict[str, Any]:
    result = _cli("history", *map(str, paths), "--format", fmt)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _labels(doc: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(rule or `spec`, spec location or fingerprint) -> label."""
    out = {(c["rule"], c["fingerprint"]): c["label"] for c in doc["causes"]}
    out.update({("spec", relative_location(s["location"])): s["label"] for s in doc["specs"]})
    return out


@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_history_of_the_series_matches_its_golden_file(series: Path, fmt: str, update_golden: bool) -> None:
    """`triage history` over the eight exported runs prints the reviewed golden history."""
    result = _cli("history", str(series / "exports"), "--format", fmt)
    assert result.exit_code == 0, result.output
    golden = GOLDEN / f"history-series.{'md' if fmt == 'markdown' else 'json'}"
    if update_golden:
        golden.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == golden.read_text(encoding="utf-8")


def test_the_series_is_labelled_flaky_fixed_known_and_new(series: Path) -> None:
    """A race that comes and goes is flaky, a missing event fixed, a doubled one known, slow writes new."""
    doc = _history(series / "exports")
    specs = {relative_location(s["location"]): s for s in doc["specs"]}
    assert specs[RACE_SPEC]["label"] == "flaky"
    assert (specs[RACE_SPEC]["failed_runs"], specs[RACE_SPEC]["passed_runs"]) == (3, 5)
    assert specs["test/integration/signalprocessing/audit_integration_test.go:180"]["label"] == "fixed"
    assert specs["test/integration/signalprocessing/audit_integration_test.go:570"]["label"] == "known"
    causes = {(c["rule"], c["first_seen"][:10]): c for c in doc["causes"]}
    race = causes["flush-query-race", "2026-02-02"]
    assert (race["label"], race["runs_seen"], race["last_seen"][:10]) == ("flaky", 3, "2026-02-07")
    assert causes["unexpected-event-count", "2026-02-03"]["label"] == "fixed"
    assert causes["unexpected-event-count", "2026-02-05"]["label"] == "known"
    assert causes["unexpected-event-count", "2026-02-05"]["runs_seen"] == 4
    assert causes["slow-write", "2026-02-08"]["label"] == "new"
    assert [c["runs_seen"] for c in doc["causes"]] == sorted(
        (c["runs_seen"] for c in doc["causes"]), reverse=True
    )


def test_fixed_after_moves_the_line_between_fixed_and_flaky(series: Path) -> None:
    """The missing event (days 3-5) is fixed when the newest two runs decide; with four it came and went."""
    two = _labels(
        json.loads(_cli("history", str(series / "exports"), "--format", "json", "--fixed-after", "2").stdout)
    )
    four = _labels(
        json.loads(_cli("history", str(series / "exports"), "--format", "json", "--fixed-after", "4").stdout)
    )
    spec = ("spec", "test/integration/signalprocessing/audit_integration_test.go:180")
    assert two[spec] == "fixed"
    assert four[spec] == "flaky"


def test_saved_reports_give_the_same_history_and_a_run_counts_once(series: Path) -> None:
    """JSON reports of the series give the exports' history; an export and a report of one run count once."""
    exported = _history(series / "exports")
    saved = _history(str(series / "reports" / "*.json"))
    both = _history(series / "exports", series / "reports")
    assert saved["runs"] == exported["runs"] == both["runs"] == 8
    for doc in (saved, both):
        assert _labels(doc) == _labels(exported)
        assert [c["runs_seen"] for c in doc["causes"]] == [c["runs_seen"] for c in exported["causes"]]


def test_analyze_with_history_says_how_often_each_problem_was_seen(series: Path, tmp_path: Path) -> None:
    """The newest run analysed with the seven before says how often and since when each problem was seen."""
    earlier = tmp_path / "earlier"
    shutil.copytree(series / "exports", earlier)
    for path in earlier.rglob("*20260208*"):
        path.unlink()
    result = _cli("analyze", str(series / "day8"), "--history", str(earlier), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    seen = {f["rule"]: f["history"] for f in data["findings"] if f["severity"] != "info"}
    assert seen["unexpected-event-count"] == {
        "seen": 4,
        "runs": 8,
        "first_seen": "2026-02-05T10:00:00",
        "label": "known",
    }
    assert seen["slow-write"]["seen"] == 1
    assert seen["slow-write"]["label"] == "new"
    (spec,) = data["tests"]["specs"]
    assert spec["history"]["seen"] == 4
    markdown = _cli("analyze", str(series / "day8"), "--history", str(earlier)).stdout
    assert "Seen in 4 of the last 8 runs, first on 2026-02-05T10:00:00 (known)." in markdown


def test_an_export_is_the_same_bytes_every_time(series: Path, tmp_path: Path) -> None:
    """Exporting one run twice writes identical files, one per table, in Hive partitions."""
    for name in ("a", "b"):
        assert (
            _cli(
                "analyze", str(series / "day4"), "--export", str(tmp_path / name), "-o", "/dev/null"
            ).exit_code
            == 0
        )
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.parquet"))
    assert [p.parts[:3] for p in files] == [
        (table, "service=signalprocessing", "date=2026-02-04") for table in sorted(TABLES)
    ]
    for path in files:
        assert (tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes()


def test_the_events_table_keeps_no_line_text_and_one_dataset_holds_many_runs(series: Path) -> None:
    """The exported events have no message text; one lazy scan reads every run's rows by partition."""
    events = pl.scan_parquet(series / "exports" / "events" / "**" / "*.parquet", hive_partitioning=True)
    columns = events.collect_schema().names()
    assert not {"message", "msg_key", "raw", "attrs"} & set(columns)
    per_day = events.group_by("date").agg(pl.col("run_id").n_unique()).collect()
    assert per_day.height == 8
    assert per_day["run_id"].to_list() == [1] * 8
    runs = pl.read_parquet(series / "exports" / "runs" / "**" / "*.parquet", hive_partitioning=True)
    assert runs["failed"].to_list() == [0, 1, 1, 2, 2, 1, 2, 1]


def test_no_secret_reaches_an_export(series: Path, tmp_path: Path) -> None:
    """A token a finding quotes is redacted in every exported table."""
    bundle = tmp_path / "bundle"
    shutil.copytree(series / "day1", bundle)
    (log,) = bundle.glob("*/*datastorage_test.log")
    with log.open("a", encoding="utf-8") as handle:
        handle.write(
            f"2026-01-14T16:24:30.000Z\tERROR\tdatastorage\tserver/handlers.go:88\t"
            f'Failed to authenticate\t{{"header": "Authorization: Bearer {SECRET}"}}\n'
        )
    assert SECRET in json.dumps(
        [f.summary + "".join(e.text for e in f.evidence) for f in analyze(bundle).findings]
    )
    assert _cli("analyze", str(bundle), "--export", str(tmp_path / "out"), "-o", "/dev/null").exit_code == 0
    for path in (tmp_path / "out").rglob("*.parquet"):
        text = json.dumps(pl.read_parquet(path).to_dicts(), default=str)
        assert SECRET not in text, path
        assert SECRET.encode() not in path.read_bytes()


def test_bad_files_are_named_in_warnings_and_the_rest_is_read(series: Path, tmp_path: Path) -> None:
    """A corrupted Parquet file, a JSON that is no report, a newer report and export are each passed over."""
    data = tmp_path / "data"
    shutil.copytree(series / "exports", data)
    (broken,) = (data / "specs").rglob("*20260203*.parquet")
    broken.write_bytes(b"PAR1 not really parquet")
    (data / "notes.json").write_text('{"ts": 1, "msg": "a zap line"}\n', encoding="utf-8")
    (data / "stray.parquet").write_bytes(broken.read_bytes())
    future = json.loads((series / "reports" / "day2.json").read_text(encoding="utf-8"))
    (data / "future.json").write_text(json.dumps({**future, "schema_version": 2}), encoding="utf-8")
    (newer,) = (data / "runs").rglob("*20260201*.parquet")
    pl.read_parquet(newer).with_columns(pl.lit(2, pl.Int32).alias("export_schema_version")).write_parquet(
        newer
    )
    result = CliRunner().invoke(main, ["history", str(data), "--format", "json"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 5, result.stderr
    assert any(str(broken) in w and "Parquet" in w for w in warnings)
    assert any("notes.json" in w and "not a triage JSON report" in w for w in warnings)
    assert any(str(newer) in w and "schema version 2" in w for w in warnings)
    assert any("future.json" in w and "schema_version 2" in w for w in warnings)
    assert any("stray.parquet" in w and "neither a table of an export" in w for w in warnings)
    doc = json.loads(result.stdout)
    assert doc["runs"] == 7
    assert doc["warnings"] == [w.removeprefix("warning: ") for w in warnings]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args", [["history", "/nonexistent/runs"], ["history", "{empty}"]])
def test_no_run_is_a_one_line_error(tmp_path: Path, args: list[str]) -> None:
    """A missing path, or a directory with no run in it, is one line on stderr and exit code 2."""
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, [a.format(empty=tmp_path / "empty") for a in args])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1


def _sql_blocks() -> dict[str, str]:
    """README's SQL blocks by their first line's comment (`DuckDB: views`, `flaky specs`, ...)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", text, re.S)
    return {block.splitlines()[0].removeprefix("-- ").split(":")[0]: block for block in blocks}


def test_the_readme_duckdb_queries_agree_with_triage_history(
    series: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README's DuckDB queries over the exported series return what `triage history` says."""
    duckdb = pytest.importorskip("duckdb")
    blocks = _sql_blocks()
    monkeypatch.chdir(series)
    con = duckdb.connect()
    con.execute(blocks["DuckDB"])
    doc = _history(series / "exports")
    flaky = con.execute(blocks["flaky specs"]).fetchall()
    assert flaky == [
        (s["service"], s["fingerprint"], s["failed_runs"], s["passed_runs"])
        for s in doc["specs"]
        if s["label"] == "flaky"
    ]
    assert len(flaky) == 1
    causes = con.execute(blocks["recurring causes"]).fetchall()
    assert causes == [
        (c["service"], c["fingerprint"], c["rule"], c["runs_seen"], c["first_seen"], c["last_seen"])
        for c in doc["causes"][:10]
    ]
    new = con.execute(blocks["new failures"]).fetchall()
    assert new == sorted(
        [("cause", c["service"], c["fingerprint"]) for c in doc["causes"] if c["label"] == "new"]
        + [("spec", s["service"], s["fingerprint"]) for s in doc["specs"] if s["label"] == "new"]
    )
    assert new


@needs_realworld
def test_two_real_signalprocessing_runs_make_a_history(tmp_path: Path) -> None:
    """Two real runs exported and read back: the newer run's drop is new, the older one's count is not."""
    for name in ("k02", "k03"):
        result = _cli("analyze", str(case(name) / "bundle"), "--export", str(tmp_path), "-o", "/dev/null")
        assert result.exit_code == 0, result.output
    doc = _history(tmp_path)
    assert (doc["runs"], doc["warnings"]) == (2, [])
    labels = {(c["rule"], c["first_seen"][:10]): c["label"] for c in doc["causes"]}
    assert labels["dropped-events", "2026-01-15"] == "new"
    assert labels["unexpected-event-count", "2026-01-14"] == "known"  # its spec is not in the newer excerpt
