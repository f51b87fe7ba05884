"""Ginkgo material from real runs (`../shared/realworld`, skipped when absent): what a correct analysis
reads from each case."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from tests.realworld import REALWORLD, needs_realworld
from triage.api import analyze
from triage.bundle.lines import read_lines
from triage.bundle.sources import Source
from triage.facts.testrun import SpecState
from triage.parsers import ginkgo
from triage.report.render import render, to_json

pytestmark = needs_realworld

K01 = (REALWORLD or Path()) / "k01-ro-ginkgo-json-report-20251212"


def _case(name: str) -> Path:
    path = next(REALWORLD.glob(name), None)
    if path is None:
        pytest.skip(f"{name} is not in {REALWORLD}")
    return path


def test_k01_report_gives_results_processes_and_the_gomega_failure() -> None:
    """k01's report.json: 35 specs, 33 to run, 1 failed, 2 pending, serial, every line understood."""
    report = analyze(_case("k01-*/report.json"))
    (account,) = report.accounts
    assert (account.source.kind, account.unparsed_lines) == ("ginkgo_report", 0)
    (run,) = report.tests
    assert (run.total, run.will_run, run.ran, run.passed, run.failed, run.pending) == (35, 33, 33, 32, 1, 2)
    assert (run.interrupted, run.processes, run.status.value) == (0, 1, "failed")
    (failed,) = run.specs
    assert failed.state is SpecState.FAILED and failed.process == 1
    assert failed.name.endswith(
        "Namespace Isolation (Gap 3.3) should process RRs in different namespaces independently"
    )
    assert failed.location is not None and failed.location.endswith("operational_test.go:118")
    assert failed.failure_location is not None and failed.failure_location.endswith("operational_test.go:250")
    assert failed.failure_message is not None
    assert failed.failure_message.endswith("Expected <string>: Blocked to equal <string>: Failed")
    assert all(o.status == "ran" for o in report.outcomes)


def test_k01_audit_store_lines_cite_the_captured_output() -> None:
    """k01's captured `AUDIT DATA LOSS` line is a log record of its spec, and its citation quotes it back."""
    report = analyze(_case("k01-*/report.json"))
    loss = report.events.filter(pl.col("message").cast(pl.String).str.starts_with("AUDIT DATA LOSS"))
    assert loss.height == 1
    line = int(loss["line"][0])
    assert line > report.accounts[0].lines
    spec = report.events.filter(
        (pl.col("record") == "spec") & (pl.col("spec_index") == loss["spec_index"][0])
    )
    assert spec["spec"].cast(pl.String)[0].startswith("Audit Integration Tests Audit Failure Scenarios")
    assert '"msg":"AUDIT DATA LOSS' in report.analysis.texts.text("report.json", line)


@pytest.mark.parametrize("name", ["all-specs-ginkgowriter.log", "failed-spec-ginkgowriter.log"])
def test_k01_derived_output_is_understood(name: str) -> None:
    """k01's captured output written out parses as test-process output: banners and prints understood."""
    path = _case("k01-*") / "derived" / name
    source = Source(path, name, "ginkgo", "test-run", "test")
    result = ginkgo.parse(read_lines(path).frame, source)
    assert result.unparsed.height == 0
    records = dict(result.events.group_by("record").len().rows())
    starts = re.compile(r"^(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S*\t|\{\"level\")")
    zap_lines = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if starts.match(line))
    assert records["log"] == zap_lines
    banners = result.events.filter(
        pl.col("message").cast(pl.String).is_in(["Creating test infrastructure..."])
    )
    assert banners["record"].to_list() == (["output"] if name.startswith("all") else [])


@pytest.mark.parametrize("target", ["bundle", "excerpt-lines.log"])
def test_k03_interrupted_run_is_one_failure_and_eight_interruptions(target: str) -> None:
    """k03: `Interrupted by Other Ginkgo Process -- 54 Passed | 9 Failed` is 1 failed and 8 interrupted."""
    report = analyze(_case("k03-*") / target)
    assert all(a.unparsed_lines == 0 for a in report.accounts)
    (run,) = report.tests
    assert (run.ran, run.total, run.passed, run.failed, run.interrupted) == (63, 92, 54, 1, 8)
    assert run.reason == "Interrupted by Other Ginkgo Process"
    markdown = render(report, "markdown")
    assert "1 spec(s) failed and 8 were interrupted" in markdown
    assert "(run failed: Interrupted by Other Ginkgo Process)" in markdown


def test_e04_serial_log_cut_before_its_summary() -> None:
    """e04: serial `-v` blocks, top-level STEPs and [BeforeSuite] understood; specs run unknown, not 0."""
    report = analyze(_case("e04-*/ginkgo-v.log"))
    (account,) = report.accounts
    assert (account.source.kind, account.unparsed_lines) == ("ginkgo", 0)
    (run,) = report.tests
    assert (run.ran, run.total, run.status.value) == (None, 6, "incomplete")
    steps = report.events.filter(pl.col("record") == "step")
    assert steps.height == 3 and steps["spec_index"].to_list() == [2, 2, 2]
    assert to_json(report)["tests"]["ran"] is None
    assert "How many specs ran is unknown" in render(report, "markdown")


def test_e05_report_after_suite_failure_and_two_digit_fraction() -> None:
    """e05: recognised as Ginkgo, the ReportAfterSuite failure reported, `@ …16.99` read to the hundredth."""
    report = analyze(_case("e05-*/ginkgo-parallel.log"))
    (account,) = report.accounts
    assert (account.source.kind, account.unparsed_lines) == ("ginkgo", 0)
    (run,) = report.tests
    assert [spec.name for spec in run.specs] == [
        "[ReportAfterSuite] Invariant Metrics",
        "[ReportAfterSuite] Kubernetes e2e suite report",
    ]
    assert run.specs[0].failure_message is not None
    assert run.specs[0].failure_message.startswith(
        "Test Report unavailable because a Ginkgo parallel process"
    )
    failure = report.events.filter(pl.col("record") == "failure")
    assert failure["ts"][0].isoformat() == "2026-01-08T14:11:16.990000+00:00"
    assert failure["ts_precision"].cast(pl.String)[0] == "ms"


def test_k02_bundle_test_log_is_fully_understood() -> None:
    """k02: the framed test log is Ginkgo, every line understood, its one failed spec read."""
    report = analyze(_case("k02-*") / "bundle")
    (run,) = report.tests
    assert (run.ran, run.failed, run.interrupted) == (1, 1, 0)
    assert all(a.unparsed_lines == 0 for a in report.accounts if a.source.kind == "ginkgo")
