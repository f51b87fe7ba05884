"""End to end on the committed simulated bundles: the report agrees with the simulator's ground truth."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from triage.cli import main

BUNDLES = Path(__file__).resolve().parent.parent / "fixtures" / "bundles"
SCENARIOS = sorted(p.name for p in BUNDLES.iterdir() if p.is_dir())


def _truth(name: str) -> dict:
    return json.loads((BUNDLES / f"{name}.expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reports() -> dict[str, dict]:
    out = {}
    for name in SCENARIOS:
        result = CliRunner().invoke(main, ["analyze", str(BUNDLES / name), "--format", "json"])
        assert result.exit_code == 0, result.output
        out[name] = json.loads(result.stdout)
    return out


def test_there_are_committed_bundles() -> None:
    """The example bundles the README points at exist."""
    assert "01-jan14-1025" in SCENARIOS
    assert len(SCENARIOS) >= 9


@pytest.mark.parametrize("name", SCENARIOS)
def test_ginkgo_totals_match_the_ground_truth(name: str, reports: dict[str, dict]) -> None:
    """Ran, total, passed, failed, interrupted, pending and skipped equal what the simulator ran."""
    truth = _truth(name)["tests"]
    got = reports[name]["tests"]
    keys = ("ran", "total", "passed", "failed", "interrupted", "pending", "skipped")
    assert {k: got[k] for k in keys} == {k: truth[k] for k in keys}


@pytest.mark.parametrize("name", SCENARIOS)
def test_failed_and_interrupted_specs_match_the_ground_truth(name: str, reports: dict[str, dict]) -> None:
    """Every failed or interrupted spec is listed with its state and location."""
    truth = _truth(name)["tests"]["specs"]
    not_passed = [s for s in truth if s["state"] not in ("passed", "pending", "skipped")]
    expected = sorted((s["name"], s["state"], s["location"]) for s in not_passed)
    got = sorted(
        # Ginkgo prints the [It] label only for specs that did not pass; the truth keeps the bare name.
        (s["name"].replace(" [It] ", " "), s["state"], s["location"])
        for s in reports[name]["tests"]["specs"]
    )
    assert got == expected


CORRELATION = re.compile(r'correlation_id(?:=|":")([\w.-]+)')


@pytest.mark.parametrize("name", SCENARIOS)
def test_spec_correlation_ids_are_those_printed_in_its_block(name: str, reports: dict[str, dict]) -> None:
    """A spec's correlation IDs are exactly those its block prints, read here with a plain regex."""
    for spec in reports[name]["tests"]["specs"]:
        lines = (BUNDLES / name / spec["file"]).read_text(encoding="utf-8").splitlines()
        block = []
        for text in lines[spec["line"] :]:
            if text.startswith("------------------------------"):
                break
            block.append(text)
        assert spec["correlation_ids"] == sorted(set(CORRELATION.findall("\n".join(block)))), spec["name"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_file_is_listed_with_exact_line_accounting(name: str, reports: dict[str, dict]) -> None:
    """Each file appears once with its true line count, and parsed + not understood = lines."""
    root = BUNDLES / name
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    sources = {s["file"]: s for s in reports[name]["sources"]}
    assert sorted(sources) == files
    for file, source in sources.items():
        data = (root / file).read_bytes()
        lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
        assert source["lines"] == lines, file
        assert source["parsed_lines"] + source["unparsed_lines"] == lines, file


@pytest.mark.parametrize("name", SCENARIOS)
def test_container_logs_in_real_formats_are_fully_understood(name: str, reports: dict[str, dict]) -> None:
    """The simulator writes only lines the real services print, so no container line is left unread."""
    for source in reports[name]["sources"]:
        if source["kind"] != "ginkgo":
            assert source["unparsed_lines"] == 0, (source["file"], source["unparsed_samples"])


@pytest.mark.parametrize("name", SCENARIOS)
def test_only_the_preamble_of_the_test_log_is_not_understood(name: str, reports: dict[str, dict]) -> None:
    """In the test log, only lines Ginkgo did not print (the command echo) are left unread."""
    for source in reports[name]["sources"]:
        if source["kind"] == "ginkgo":
            assert source["unparsed_lines"] <= 2, source["unparsed_samples"]
            for sample in source["unparsed_samples"]:
                assert sample["line"] <= 3, sample


@pytest.mark.parametrize("name", SCENARIOS)
def test_bundle_metadata_comes_from_the_run_directory(name: str, reports: dict[str, dict]) -> None:
    """Service and collection time are read from the run directory's name."""
    truth = _truth(name)["bundle"]
    got = reports[name]["bundle"]
    assert (got["service"], got["collected_at"]) == (truth["service"], truth["collected_at"])


def test_markdown_report_is_deterministic() -> None:
    """The same bundle gives the same bytes twice."""
    path = str(BUNDLES / SCENARIOS[0])
    first = CliRunner().invoke(main, ["analyze", path]).output
    second = CliRunner().invoke(main, ["analyze", path]).output
    assert first == second
