"""Tests for the test-run summary read from Ginkgo events."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import polars as pl

from triage.bundle.lines import split_lines
from triage.bundle.sources import Source
from triage.facts.testrun import RunStatus, SpecState, summarize_test_runs, summarize_tests
from triage.parsers import ginkgo
from triage.table.schema import empty_events

# The realistic run log lives with the parser tests; load it from there rather than copy it.
_spec = importlib.util.spec_from_file_location(
    "ginkgo_cases", Path(__file__).parent / "parsers" / "test_ginkgo.py"
)
assert _spec is not None and _spec.loader is not None
_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cases)
RUN_LOG: str = _cases.RUN_LOG

ROOT = "/Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/signalprocessing/"


def events_of(text: str, name: str = "integration-signalprocessing.log") -> pl.DataFrame:
    """The events the Ginkgo parser makes of a text."""
    source = Source(Path(name), name, "ginkgo", "test-run", "test")
    return ginkgo.parse(split_lines(text.encode()).frame, source).events


def test_full_run_totals_split_failed_from_interrupted() -> None:
    """A complete run takes its totals from the Ran and FAIL! lines and counts interrupted specs apart."""
    run = summarize_tests(events_of(RUN_LOG))
    assert run is not None
    assert (run.suite, run.processes, run.will_run) == (
        "SignalProcessing Controller Integration Suite (Level 2)",
        12,
        5,
    )
    assert (run.ran, run.total, run.passed, run.failed, run.interrupted) == (3, 6, 1, 1, 1)
    assert (run.pending, run.skipped, run.duration_s, run.status) == (1, 2, 95.838, RunStatus.FAILED)
    failed, interrupted = run.specs
    assert failed.state is SpecState.FAILED
    assert failed.name.endswith("[It] should emit audit event with policy-defined fallback severity")
    assert failed.location == ROOT + "severity_integration_test.go:296"
    assert (failed.duration_s, failed.correlation_ids) == (31.542, ("audit-test-rr-04",))
    assert failed.failure_message == "Timed out after 30.001s. Expected <int>: 0 to be >= <int>: 1"
    assert failed.failure_location == ROOT + "severity_integration_test.go:334"
    assert (failed.file, failed.line) == ("integration-signalprocessing.log", 19)
    assert interrupted.state is SpecState.INTERRUPTED
    assert interrupted.failure_message == "Interrupted by Other Ginkgo Process"
    assert (interrupted.correlation_ids, interrupted.line) == ((), 45)


def test_truncated_run_counts_spec_blocks() -> None:
    """A log cut before the summary leaves the number that ran unknown and counts the blocks it shows."""
    truncated = "\n".join(RUN_LOG.split("\n")[:70])
    run = summarize_tests(events_of(truncated))
    assert run is not None
    assert (run.ran, run.total, run.passed, run.failed, run.interrupted) == (None, 6, 1, 1, 1)
    assert (run.pending, run.skipped, run.duration_s, run.status) == (1, 2, None, RunStatus.INCOMPLETE)
    assert [spec.line for spec in run.specs] == [19, 45]


def test_summary_entries_without_blocks_become_specs() -> None:
    """Failures named only in the Summarizing list are reported with their summary location."""
    text = "\n".join(
        [
            "Summarizing 2 Failures:",
            "  [FAIL] Audit Events Schema Integration Tests [It] should prevent deletion of parent events",
            "  /src/test/integration/datastorage/audit_events_schema_test.go:221",
            "  [INTERRUPTED] Workflow Label Scoring Integration Tests [It] should apply 0.05 boost",
            "  /src/test/integration/datastorage/workflow_label_scoring_test.go:88",
            "",
            "Ran 14 of 157 Specs in 17.679 seconds",
            "FAIL! - Interrupted by Other Ginkgo Process",
        ]
    )
    run = summarize_tests(events_of(text))
    assert run is not None
    assert (run.ran, run.total, run.failed, run.interrupted, run.passed) == (14, 157, 1, 1, 0)
    assert run.suite is None and run.processes is None
    assert [(spec.state, spec.line, spec.location) for spec in run.specs] == [
        (SpecState.FAILED, 2, "/src/test/integration/datastorage/audit_events_schema_test.go:221"),
        (SpecState.INTERRUPTED, 4, "/src/test/integration/datastorage/workflow_label_scoring_test.go:88"),
    ]


def test_panicked_counts_as_failed() -> None:
    """Ginkgo's Failed count minus the interrupted entries gives failed; a panicked spec is among them."""
    text = "\n".join(
        [
            "------------------------------",
            "• [PANICKED] [0.120 seconds]",
            "Store [It] panics",
            "/src/store_test.go:10",
            "",
            "  [PANICKED] Test Panicked",
            "  In [It] at: /usr/local/go/src/runtime/panic.go:262 @ 01/14/26 10:25:09.6",
            "------------------------------",
            "Summarizing 2 Failures:",
            "  [PANICKED!] Store [It] panics",
            "  /usr/local/go/src/runtime/panic.go:262",
            "  [INTERRUPTED] Store [It] waits",
            "  /src/store_test.go:30",
            "Ran 2 of 2 Specs in 1.000 seconds",
            "FAIL! - Interrupted by Other Ginkgo Process -- 0 Passed | 2 Failed | 0 Pending | 0 Skipped",
            "Test Suite Failed",
        ]
    )
    run = summarize_tests(events_of(text))
    assert run is not None
    assert (run.failed, run.interrupted, run.passed, run.status) == (1, 1, 0, RunStatus.FAILED)
    assert [(spec.name, spec.state) for spec in run.specs] == [
        ("Store [It] panics", SpecState.PANICKED),
        ("Store [It] waits", SpecState.INTERRUPTED),
    ]
    assert run.specs[0].failure_message == "Test Panicked"


def test_each_file_is_summarized_and_none_without_ginkgo() -> None:
    """Several logs give one summary each in name order; a table without Ginkgo events gives None."""
    both = pl.concat([events_of(RUN_LOG, "b.log"), events_of("Ran 1 of 1 Specs in 0.5 seconds", "a.log")])
    runs = summarize_test_runs(both)
    assert [(run.file, run.ran) for run in runs] == [("a.log", 1), ("b.log", 3)]
    assert summarize_tests(both, file="b.log") == runs[1]
    assert summarize_tests(empty_events()) is None
