"""Tests for Ginkgo's JUnit XML report (`ginkgo --junit-report`) as a test-run source."""

# ruff: noqa: E501  -- the report keeps Ginkgo's long lines

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from triage.api import analyze
from triage.bundle.lines import split_lines
from triage.bundle.sources import Source
from triage.facts.testrun import SpecState, summarize_tests
from triage.parsers import ginkgo_junit
from triage.parsers.recognise import classify
from triage.report.render import to_json

ROOT = "/home/runner/work/kubernaut/kubernaut/test/integration/signalprocessing/"

# As Go's encoding/xml writes Ginkgo's JUnit report (indent "  " + "    ", newlines in text as &#xA;):
# a suite node, a failed, an interrupted, a passed and a pending spec of a `--fail-fast` run on 2 processes.
JUNIT = f"""\
<?xml version="1.0" encoding="UTF-8"?>
  <testsuites tests="5" disabled="1" errors="1" failures="1" time="59.9">
      <testsuite name="SignalProcessing Controller Integration Suite (ENVTEST)" package="{ROOT[:-1]}" tests="5" disabled="1" skipped="0" errors="1" failures="1" time="59.9" timestamp="2026-01-14T10:24:10">
          <properties>
              <property name="SuiteSucceeded" value="false"></property>
              <property name="SuiteHasProgrammaticFocus" value="false"></property>
              <property name="SpecialSuiteFailureReason" value="Interrupted by Other Ginkgo Process"></property>
              <property name="RandomSeed" value="1768404312"></property>
              <property name="FailFast" value="true"></property>
              <property name="ParallelTotal" value="2"></property>
          </properties>
          <testcase name="[SynchronizedBeforeSuite]" classname="SignalProcessing Controller Integration Suite (ENVTEST)" status="passed" time="45.1">
              <system-err>━━━━━━━━━━━━━━&#xA;Creating test infrastructure...&#xA;</system-err>
          </testcase>
          <testcase name="[It] BR-SP-090: Audit Integration should create &#39;phase.transition&#39; audit events [audit, integration]" classname="SignalProcessing Controller Integration Suite (ENVTEST)" status="failed" time="3.108">
              <failure message="Expected&#xA;    &lt;int&gt;: 5&#xA;to equal&#xA;    &lt;int&gt;: 4" type="failed">[FAILED] Expected&#xA;    &lt;int&gt;: 5&#xA;to equal&#xA;    &lt;int&gt;: 4&#xA;In [It] at: {ROOT}audit_integration_test.go:636 @ 01/14/26 10:25:04.4&#xA;</failure>
          </testcase>
          <testcase name="[It] BR-SP-090: Audit Integration should emit enrichment event" classname="SignalProcessing Controller Integration Suite (ENVTEST)" status="interrupted" time="1.2">
              <error message="interrupted" type="interrupted">Interrupted by Other Ginkgo Process&#xA;In [It] at: {ROOT}audit_integration_test.go:412 @ 01/14/26 10:25:04.5&#xA;</error>
          </testcase>
          <testcase name="[It] Severity Determination should persist severity" classname="SignalProcessing Controller Integration Suite (ENVTEST)" status="passed" time="2.0"></testcase>
          <testcase name="[It] Severity Determination should record policy hash" classname="SignalProcessing Controller Integration Suite (ENVTEST)" status="pending" time="0">
              <skipped message="pending"></skipped>
          </testcase>
      </testsuite>
  </testsuites>
"""
SOURCE = Source(Path("junit.xml"), "junit.xml", "ginkgo_junit", "test-run", "test")


def _parse(text: str = JUNIT) -> ginkgo_junit.ParseResult:
    return ginkgo_junit.parse(split_lines(text.encode()).frame, SOURCE)


def test_junit_records_cite_their_elements() -> None:
    """Suite, spec, failure and summary records cite the lines of their elements, specs in report order."""
    result = _parse()
    assert result.unparsed.height == 0
    rows = result.events.select("line", "record", "spec_index").rows()
    assert rows == [
        (3, "suite", None),
        (12, "spec", 1),
        (15, "spec", 2),
        (16, "failure", 2),
        (18, "spec", 3),
        (19, "failure", 3),
        (21, "spec", 4),
        (22, "spec", 5),
        (25, "summary", None),
    ]
    assert set(result.events["source_kind"].cast(pl.String)) == {"ginkgo"}
    spec = json.loads(result.events.filter(pl.col("line") == 12)["attrs"][0])
    assert spec == {"state": "passed", "duration_s": 45.1, "node": "SynchronizedBeforeSuite"}


def test_junit_results_count_like_ginkgo() -> None:
    """Totals, states, Gomega's failure message and location, and the suite config's flags are read."""
    run = summarize_tests(_parse().events)
    assert run is not None
    assert (run.ran, run.passed, run.failed, run.interrupted, run.pending, run.skipped) == (3, 1, 1, 1, 1, 0)
    assert (run.processes, run.flags, run.reason) == (
        2,
        ("--procs=2", "--fail-fast"),
        "Interrupted by Other Ginkgo Process",
    )
    failed, interrupted = run.specs
    assert (
        failed.name
        == "BR-SP-090: Audit Integration should create 'phase.transition' audit events [audit, integration]"
    )
    assert (failed.state, failed.failure_message) == (SpecState.FAILED, "Expected <int>: 5 to equal <int>: 4")
    assert failed.failure_location == ROOT + "audit_integration_test.go:636"
    assert (interrupted.state, interrupted.failure_message) == (
        SpecState.INTERRUPTED,
        "Interrupted by Other Ginkgo Process",
    )


def test_malformed_junit_is_a_note_not_a_crash() -> None:
    """A JUnit report that is not well-formed XML leaves its lines not understood and says why."""
    result = _parse(JUNIT[:-30])
    assert result.events.height == 0
    assert result.unparsed.height == len(split_lines(JUNIT[:-30].encode()).frame)
    assert str(result.facts["notes"]).startswith("['JUnit report unreadable")


def test_junit_is_recognised_by_content_and_yields_to_the_v_log(tmp_path: Path) -> None:
    """Ginkgo's JUnit is recognised whatever its name, and a `-v` log of the same run is read instead."""
    assert classify(JUNIT.encode())[0] == "ginkgo_junit"
    assert (
        classify(
            b'<?xml version="1.0"?>\n<testsuites><testsuite name="x"><testcase name="t"/></testsuite></testsuites>'
        )[0]
        != "ginkgo_junit"
    )
    (tmp_path / "results.xml").write_text(JUNIT)
    alone = to_json(analyze(tmp_path))
    assert (alone["sources"][0]["kind"], alone["tests"]["failed"], alone["tests"]["interrupted"]) == (
        "ginkgo_junit",
        1,
        1,
    )
    (tmp_path / "integration-signalprocessing.log").write_text(
        f"Running Suite: SignalProcessing Controller Integration Suite (ENVTEST) - {ROOT}\n====\nRandom Seed: 1768404312\n\nWill run 4 of 5 specs\n"
    )
    both = {s["file"]: s["kind"] for s in to_json(analyze(tmp_path))["sources"]}
    assert both == {"integration-signalprocessing.log": "ginkgo", "results.xml": "duplicate"}
