"""Tests for the shapes of Ginkgo v2 text output beside the parallel `-v` log: serial `-v` blocks, suite
report nodes, interrupted runs, logs cut before the summary, `@` times, the command line and banners."""

# ruff: noqa: E501  -- Ginkgo's lines are kept at their real length

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from triage.api import analyze
from triage.bundle.lines import split_lines
from triage.bundle.sources import Source
from triage.facts.testrun import RunStatus, SpecState, summarize_tests
from triage.parsers import ParseResult, ginkgo
from triage.report.render import render, to_json

SOURCE = Source(
    Path("integration-notification.log"), "integration-notification.log", "ginkgo", "test-run", "test"
)
ROOT = "/home/runner/work/kubernaut/kubernaut/test/integration/notification/"

# `ginkgo -v --keep-going` run serially: each spec's name and location are printed when it starts, its
# timeline streams without `Timeline >>` markers, and its state header closes it.
SERIAL_LOG = f"""\
ginkgo -v --keep-going --timeout=10m ./test/integration/notification/...
Running Suite: Notification Controller Integration Suite - {ROOT[:-1]}
==========================================================================================
Random Seed: 1768000000

Will run 3 of 3 specs
------------------------------
[BeforeSuite]\x20
{ROOT}suite_test.go:71
  STEP: Starting envtest @ 01/10/26 14:16:01.2
━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
Creating test infrastructure...
  • envtest (in-memory K8s API server)
[BeforeSuite] PASSED [4.211 seconds]
------------------------------
Notification Delivery should deliver to the console channel
{ROOT}delivery_test.go:88
  STEP: Creating a NotificationRequest @ 01/10/26 14:16:05.41
  2026-01-10T14:16:05-05:00\tINFO\tReconciling NotificationRequest\t{{"controller": "notification", "name": "nr-1"}}
  {{"level":"info","ts":"2026-01-10T14:16:05-05:00","logger":"audit-store","msg":"✅ Event buffered successfully","event_type":"notification.message.sent","correlation_id":"nr-1","buffer_size_after":1,"total_buffered":1}}
• [0.812 seconds]
------------------------------
Notification Delivery should record a failed delivery
{ROOT}delivery_test.go:131
  STEP: Creating a NotificationRequest for a closed channel @ 01/10/26 14:16:06.2
  ⏳ No events yet for notification.message.failed (correlation_id=nr-2)
  [FAILED] in [It] - {ROOT}delivery_test.go:150 @ 01/10/26 14:16:16.3
• [FAILED] [10.103 seconds]
Notification Delivery should record a failed delivery
{ROOT}delivery_test.go:131

  [FAILED] Timed out after 10.000s.
  Expected
      <int>: 0
  to equal
      <int>: 1
  In [It] at: {ROOT}delivery_test.go:150 @ 01/10/26 14:16:16.3
------------------------------

Summarizing 1 Failure:
  [FAIL] Notification Delivery [It] should record a failed delivery
  {ROOT}delivery_test.go:150

Ran 2 of 3 Specs in 15.2 seconds
FAIL! -- 1 Passed | 1 Failed | 0 Pending | 0 Skipped
"""


def parse_text(text: str) -> ParseResult:
    """Parse text as a Ginkgo test-run log."""
    return ginkgo.parse(split_lines(text.encode()).frame, SOURCE)


def test_serial_blocks_hold_their_timeline_and_close_with_the_header() -> None:
    """Serial `-v` blocks start at the name, hold their steps and lines, and the state header gives the state."""
    result = parse_text(SERIAL_LOG)
    assert result.unparsed.height == 0, result.unparsed.rows()
    specs = result.events.filter(pl.col("record") == "spec")
    assert specs.select("line", "spec_index", "spec").rows() == [
        (14, 1, "[BeforeSuite]"),
        (21, 2, "Notification Delivery should deliver to the console channel"),
        (28, 3, "Notification Delivery should record a failed delivery"),
    ]
    states = [json.loads(a)["state"] for a in specs["attrs"]]
    assert states == ["passed", "passed", "failed"]
    assert json.loads(specs["attrs"][1])["location"] == ROOT + "delivery_test.go:88"
    by_line = dict(result.events.select("line", "spec_index").rows())
    assert [by_line[n] for n in (10, 11, 12, 13, 18, 19, 20, 25, 26, 27)] == [1, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    records = dict(result.events.select("line", "record").rows())
    assert [records[n] for n in (10, 11, 12, 13, 18, 19, 20, 26, 27)] == [
        "step",
        "output",
        "output",
        "output",
        "step",
        "log",
        "log",
        "helper",
        "failure",
    ]


def test_serial_failure_reads_like_a_parallel_one() -> None:
    """A serial run's failed spec has its header line, failure message and location, and the command's flags."""
    run = summarize_tests(parse_text(SERIAL_LOG).events)
    assert run is not None
    assert (run.ran, run.passed, run.failed, run.interrupted, run.status) == (2, 1, 1, 0, RunStatus.FAILED)
    assert (run.processes, run.flags) == (1, ("-v", "--keep-going", "--timeout=10m"))
    (failed,) = run.specs
    assert (failed.line, failed.state, failed.location) == (
        28,
        SpecState.FAILED,
        ROOT + "delivery_test.go:131",
    )
    assert failed.failure_message == "Timed out after 10.000s. Expected <int>: 0 to equal <int>: 1"
    assert failed.failure_location == ROOT + "delivery_test.go:150"
    assert failed.correlation_ids == ("nr-2",)


def test_log_cut_inside_a_spec_leaves_totals_unknown() -> None:
    """A log that ends inside a spec has an open spec record and an unknown number of specs run, not 0."""
    cut = "\n".join(SERIAL_LOG.split("\n")[:26])
    result = parse_text(cut)
    assert result.unparsed.height == 0
    open_spec = result.events.filter((pl.col("record") == "spec") & (pl.col("line") == 23))
    assert json.loads(open_spec["attrs"][0]) == {"location": ROOT + "delivery_test.go:131"}
    run = summarize_tests(result.events)
    assert run is not None
    assert (run.ran, run.total, run.will_run, run.status) == (None, 3, 3, RunStatus.INCOMPLETE)
    assert (run.passed, run.failed, run.specs) == (1, 0, ())
    assert run.unfinished == ("Notification Delivery should record a failed delivery",)


def test_cut_log_says_unknown_in_json_and_markdown(tmp_path: Path) -> None:
    """The JSON output gives `ran` null and the Markdown says how many ran is unknown."""
    (tmp_path / "integration-notification.log").write_text("\n".join(SERIAL_LOG.split("\n")[:26]) + "\n")
    report = analyze(tmp_path)
    tests = to_json(report)["tests"]
    assert (tests["ran"], tests["total"], tests["status"]) == (None, 3, "incomplete")
    assert tests["unfinished"] == ["Notification Delivery should record a failed delivery"]
    markdown = render(report, "markdown")
    assert "How many specs ran is unknown: the log ends before Ginkgo's summary" in markdown
    assert (
        "The log ends while this spec runs: Notification Delivery should record a failed delivery" in markdown
    )
    assert "Ran 0" not in markdown and "All 0 specs" not in markdown


INTERRUPTED_TAIL = f"""\
------------------------------
• [FAILED] [3.108 seconds]
Audit Integration should create 'phase.transition' audit events
{ROOT}audit_test.go:600

  [FAILED] Expected
      <int>: 5
  to equal
      <int>: 4
  In [It] at: {ROOT}audit_test.go:636 @ 01/14/26 20:48:45.101
------------------------------

Ran 12 of 20 Specs in 70.774 seconds
FAIL! - Interrupted by Other Ginkgo Process -- 8 Passed | 4 Failed | 1 Pending | 7 Skipped
"""


def test_interrupted_run_counts_failures_without_blocks_as_interrupted() -> None:
    """Of Ginkgo's 4 failed in an interrupted run showing one failed spec, 1 failed and 3 were interrupted."""
    run = summarize_tests(parse_text(INTERRUPTED_TAIL).events)
    assert run is not None
    assert (run.ran, run.passed, run.failed, run.interrupted) == (12, 8, 1, 3)
    assert (run.status, run.reason) == (RunStatus.FAILED, "Interrupted by Other Ginkgo Process")


def test_interrupted_by_user_counts_the_summary_entries() -> None:
    """With a Summarizing list, its [INTERRUPTED] entries are the interrupted specs, and the reason is kept."""
    text = INTERRUPTED_TAIL.replace(
        "\nRan 12",
        f"Summarizing 3 Failures:\n  [FAIL] Audit Integration [It] should create 'phase.transition' audit events\n  {ROOT}audit_test.go:636\n"
        f"  [INTERRUPTED] Audit Integration [It] should emit enrichment event\n  {ROOT}audit_test.go:412\n"
        f"  [INTERRUPTED] Audit Integration [It] should emit classification event\n  {ROOT}audit_test.go:450\n\nRan 12",
    ).replace("Other Ginkgo Process -- 8 Passed | 4 Failed", "User -- 9 Passed | 3 Failed")
    run = summarize_tests(parse_text(text).events)
    assert run is not None
    assert (run.passed, run.failed, run.interrupted, run.reason) == (9, 1, 2, "Interrupted by User")
    assert [s.state for s in run.specs] == [SpecState.FAILED, SpecState.INTERRUPTED, SpecState.INTERRUPTED]


def test_markdown_says_the_run_was_interrupted(tmp_path: Path) -> None:
    """The report's results and verdict say the run was interrupted and how many specs that stopped."""
    (tmp_path / "integration-signalprocessing.log").write_text(INTERRUPTED_TAIL)
    markdown = render(analyze(tmp_path), "markdown")
    assert "(run failed: Interrupted by Other Ginkgo Process)" in markdown
    assert "**1 spec(s) failed and 3 were interrupted when another Ginkgo process failed" in markdown


REPORT_AFTER_SUITE = f"""\
------------------------------
[ReportAfterSuite] [FAILED] [0.000 seconds]
[ReportAfterSuite] Autogenerated ReportAfterSuite for --junit-report
{ROOT}suite_test.go:40

  [FAILED] Test Report unavailable because a Ginkgo parallel process disappeared
    The aggregated report could not be fetched for a ReportAfterSuite node.
  In [ReportAfterSuite] at: {ROOT}suite_test.go:40 @ 01/08/26 14:11:16.9
------------------------------
"""


def test_report_after_suite_failure_is_a_suite_node_failure() -> None:
    """A failed ReportAfterSuite node is reported with its message, and counted as no spec."""
    result = parse_text(REPORT_AFTER_SUITE)
    assert result.unparsed.height == 0
    run = summarize_tests(result.events)
    assert run is not None
    (node,) = run.specs
    assert node.name == "[ReportAfterSuite] Autogenerated ReportAfterSuite for --junit-report"
    assert node.failure_message == (
        "Test Report unavailable because a Ginkgo parallel process disappeared The aggregated report could"
        " not be fetched for a ReportAfterSuite node."
    )
    assert (run.failed, run.ran) == (0, None)


@pytest.mark.parametrize("digits", range(0, 10))
def test_at_times_take_any_number_of_fraction_digits(digits: int) -> None:
    """`@` times with 0-9 fraction digits are read to that precision."""
    fraction = "123456789"[:digits]
    stamp = "01/08/26 14:11:16" + (f".{fraction}" if digits else "")
    result = parse_text(REPORT_AFTER_SUITE.replace("01/08/26 14:11:16.9", stamp))
    failure = result.events.filter(pl.col("record") == "failure")
    expected = datetime.fromisoformat("2026-01-08T14:11:16+00:00").timestamp() + (
        int(fraction) / 10**digits if digits else 0
    )
    assert failure["ts"][0].timestamp() == pytest.approx(expected, abs=1e-6)
    assert failure["ts_precision"][0] == ("s", "ms", "ms", "ms", "us", "us", "us", "ns", "ns", "ns")[digits]


def test_command_line_variants_are_suite_records() -> None:
    """The command line CI echoes is recognised by path, prompt or `go run`, and its flags are kept."""
    for command, flags in (
        (
            "/home/runner/work/kubernaut/kubernaut/bin/ginkgo -v --procs=4 --fail-fast ./test/...",
            ("-v", "--procs=4", "--fail-fast"),
        ),
        ("$ ginkgo --keep-going -r", ("--keep-going", "-r")),
        ("go run github.com/onsi/ginkgo/v2/ginkgo@v2.27.2 -v --procs=2 ./...", ("-v", "--procs=2")),
    ):
        result = parse_text(command + "\n" + INTERRUPTED_TAIL)
        assert result.unparsed.height == 0, command
        run = summarize_tests(result.events)
        assert run is not None and run.flags == flags


def test_unframed_ginkgowriter_output_is_understood() -> None:
    """Bare GinkgoWriter output (no Ginkgo frame) is the suite's own output: banners and prints are understood."""
    text = (
        "━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━\n"
        "Starting RO Integration Test Infrastructure\n"
        "  PostgreSQL:     localhost:15435\n"
        "ro-postgres-integration\n"
        "2026-01-10T14:16:05-05:00\tINFO\tsetup\tstarting manager\n"
        '{"level":"info","ts":"2026-01-10T14:16:05-05:00","logger":"audit-store","msg":"Audit store closed","buffered_count":1}\n'
    )
    result = parse_text(text)
    assert result.unparsed.height == 0
    assert result.events["record"].to_list() == ["output", "output", "output", "output", "log", "log"]


def test_banners_outside_blocks_of_a_framed_log_are_understood() -> None:
    """In a framed log, the suite's banners between blocks are output; other stray text stays not understood."""
    text = (
        INTERRUPTED_TAIL.split("\nRan")[0]
        + "\n━━━━━━━━━━━━━━━━━━━━\nTearing down test infrastructure...\n  • PostgreSQL (port 15436)\n✅ Cleanup complete\nmake: *** [Makefile:312] Error 1\n"
    )
    result = parse_text(text)
    assert result.unparsed["raw"].to_list() == ["make: *** [Makefile:312] Error 1"]


def test_unframed_json_that_no_decoder_reads_stays_not_understood() -> None:
    """Bare output's JSON object lines that are no zap record (a record wrapped in two) stay not understood."""
    text = (
        "2026-01-04T17:44:20Z\tERROR\taudit.audit-store\tFailed to write audit batch\n"
        '{"attempt": 1, "batch_size": 2, "error": "network error: connection refused"}\n'
        "✅ Audit store flushed successfully\n"
    )
    result = parse_text(text)
    assert result.unparsed["line"].to_list() == [2]
    assert result.events["record"].to_list() == ["log", "helper"]
