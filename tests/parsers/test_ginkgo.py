"""Tests for the Ginkgo v2 test-run log parser."""

# ruff: noqa: E501  -- the embedded run log keeps Ginkgo's long lines verbatim

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.bundle.lines import split_lines
from triage.bundle.sources import Source
from triage.parsers import ParseResult, ginkgo
from triage.table.schema import validate_events

REALINES = Path("/work/shared/realines/ginkgo.jsonl")
SOURCE = Source(
    Path("integration-signalprocessing.log"), "integration-signalprocessing.log", "ginkgo", "test-run", "test"
)

# A parallel `ginkgo -v --fail-fast` run shaped as Ginkgo 2.27.2 prints it (default_reporter.go): a
# failed, an interrupted, a passed and a pending spec, two skipped denoters, suite nodes with must-gather
# lines, embedded controller console and audit-store JSON lines, and the summary. Lines 1 and 100 are
# make/go output; line 2 is the command CI echoes.
RUN_LOG = """\
go: downloading github.com/onsi/ginkgo/v2 v2.27.2
ginkgo -v --timeout=15m --procs=12 --fail-fast ./test/integration/signalprocessing/...
Running Suite: SignalProcessing Controller Integration Suite (Level 2) - /Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/signalprocessing
=================================================================================================================================================
Random Seed: 1768404312 - will randomize all specs

Will run 5 of 6 specs
Running in parallel across 12 processes
------------------------------
[SynchronizedBeforeSuite] PASSED [45.102 seconds]
[SynchronizedBeforeSuite]\x20
/Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/signalprocessing/suite_test.go:120

  Timeline >>
     ✅ PostgreSQL accepting connections (attempt 1/30)
  2026-01-14T10:25:09-05:00\tINFO\tsetup\tstarting manager
  << Timeline
------------------------------
• [FAILED] [31.542 seconds]
Severity Determination Integration Tests BR-SP-105: Audit Event Integration (DD-TESTING-001) [It] should emit audit event with policy-defined fallback severity
/Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/signalprocessing/severity_integration_test.go:296

  Timeline >>
  STEP: Creating SignalProcessing with unmapped severity @ 01/14/26 11:24:34.812
  2026-01-14T11:24:34-05:00\tDEBUG\tReconciling SignalProcessing\t{"controller": "signalprocessing-controller", "controllerGroup": "kubernaut.ai", "controllerKind": "SignalProcessing", "SignalProcessing": {"name":"audit-test-sp-04","namespace":"audit-test-phase-3f2a9c1d"}, "namespace": "audit-test-phase-3f2a9c1d", "name": "audit-test-sp-04", "reconcileID": "5d1c6a0e-4f4b-4d8e-9a51-2f0b1c9e7a11"}
  {"level":"info","ts":"2026-01-14T11:24:34-05:00","logger":"audit-store","msg":"✅ Event buffered successfully","event_type":"signalprocessing.phase.transition","correlation_id":"audit-test-rr-04","buffer_size_after":1,"total_buffered":29}
  2026-01-14T11:24:40-05:00\tERROR\tReconciler error\t{"controller": "signalprocessing-controller", "error": "boom"}
  sigs.k8s.io/controller-runtime/pkg/internal/controller.(*Controller).reconcileHandler
  \t/Users/jgil/go/pkg/mod/sigs.k8s.io/controller-runtime@v0.22.4/pkg/internal/controller/controller.go:474
  ✅ Audit store flushed successfully
  ⏳ No events yet for signalprocessing.signal.processed (correlation_id=audit-test-rr-04)
  ✅ Found 2 event(s) for signalprocessing.phase.transition (correlation_id=audit-test-rr-04)
  ⏳ Query error for signalprocessing.signal.processed (correlation_id=audit-test-rr-04): Get "http://localhost:18094/api/v1/audit/events": context deadline exceeded
  ⚠️ Flush warning (non-fatal, Eventually will retry): context deadline exceeded
  [FAILED] in [It] - /Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/signalprocessing/severity_integration_test.go:334 @ 01/14/26 11:25:06.354
  << Timeline

  [FAILED] Timed out after 30.001s.
  Expected
      <int>: 0
  to be >=
      <int>: 1
  In [It] at: /Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/signalprocessing/severity_integration_test.go:334 @ 01/14/26 11:25:06.354
------------------------------
• [INTERRUPTED] [12.017 seconds]
Audit Integration [It] should emit enrichment event
/Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/signalprocessing/audit_integration_test.go:412

  Timeline >>
  STEP: Waiting for enrichment @ 01/14/26 11:25:01.1
  [INTERRUPTED] in [It] - /Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/signalprocessing/audit_integration_test.go:412 @ 01/14/26 11:25:06.4
  << Timeline

  [INTERRUPTED] Interrupted by Other Ginkgo Process
  In [It] at: /Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/signalprocessing/audit_integration_test.go:412 @ 01/14/26 11:25:06.4
------------------------------
• [2.345 seconds]
Audit Integration should emit phase transition events
/Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/signalprocessing/audit_integration_test.go:200

  Timeline >>
  STEP: Creating SignalProcessing @ 01/14/26 11:24:30
  ✅ Found 4 event(s) for signalprocessing.phase.transition (correlation_id=audit-test-rr-01)
  << Timeline
------------------------------
P [PENDING]
Audit Integration should record classification decisions
/Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/signalprocessing/audit_integration_test.go:520
------------------------------
SS
------------------------------
[SynchronizedAfterSuite] PASSED [3.210 seconds]
[SynchronizedAfterSuite]\x20
/Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/signalprocessing/suite_test.go:640

  Timeline >>
  STEP: Tearing down shared infrastructure (Process 1 only) @ 01/14/26 11:25:07.01
  📦 Collecting container logs for post-mortem analysis...
  📦 Collecting container logs to /tmp/kubernaut-must-gather/signalprocessing-integration-20260114-112507/...
     ✅ signalprocessing_datastorage_test → /tmp/kubernaut-must-gather/signalprocessing-integration-20260114-112507/signalprocessing_signalprocessing_datastorage_test.log
     ✅ signalprocessing_datastorage_test inspect → /tmp/kubernaut-must-gather/signalprocessing-integration-20260114-112507/signalprocessing_signalprocessing_datastorage_test_inspect.json
     ⏭️  Skipping signalprocessing_redis_test (container not found)
  ✅ Must-gather collection complete: /tmp/kubernaut-must-gather/signalprocessing-integration-20260114-112507/
  {"level":"info","ts":"2026-01-14T11:25:08-05:00","logger":"audit-store","msg":"Audit store closed","buffered_count":75,"written_count":75,"dropped_count":0,"failed_batch_count":0}
  << Timeline
------------------------------

Summarizing 2 Failures:
  [FAIL] Severity Determination Integration Tests BR-SP-105: Audit Event Integration (DD-TESTING-001) [It] should emit audit event with policy-defined fallback severity
  /Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/signalprocessing/severity_integration_test.go:334
  [INTERRUPTED] Audit Integration [It] should emit enrichment event
  /Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/signalprocessing/audit_integration_test.go:412

Ran 3 of 6 Specs in 95.838 seconds
FAIL! - Interrupted by Other Ginkgo Process -- 1 Passed | 2 Failed | 1 Pending | 2 Skipped

Ginkgo ran 1 suite in 1m41.207s

Test Suite Failed
make: *** [Makefile:312: test-integration-signalprocessing] Error 1"""


def parse_text(text: str) -> ParseResult:
    """Parse text as a Ginkgo test-run log."""
    return ginkgo.parse(split_lines(text.encode()).frame, SOURCE)


STRUCTURAL = (r"^\s*$", r"^\s*-{30,}$", r"^={3,}$", r"^\s*(Timeline >>|<< Timeline)$")


def assert_accounted(text: str, result: ParseResult) -> None:
    """Every line is in exactly one record span, or unparsed, or a structural line Ginkgo prints."""
    owner: dict[int, str] = {}
    for line, n_lines in result.events.select("line", "n_lines").iter_rows():
        for number in range(line, line + n_lines):
            assert number not in owner, f"line {number} in two records"
            owner[number] = "record"
    for number in result.unparsed["line"].to_list():
        assert number not in owner, f"line {number} recorded and unparsed"
        owner[number] = "unparsed"
    frame = split_lines(text.encode()).frame
    rest = frame.filter(~pl.col("line").is_in(list(owner)))
    structural = pl.any_horizontal([pl.col("raw").str.contains(p) for p in STRUCTURAL]) | pl.col("raw").is_in(
        [
            "  Captured StdOut/StdErr Output >>",
            "  << Captured StdOut/StdErr Output",
            "  Report Entries >>",
            "  << Report Entries",
        ]
    )
    assert rest.filter(~structural).height == 0, rest.filter(~structural).rows()


def attrs_of(result: ParseResult, line: int) -> dict[str, object]:
    """The decoded attrs of the record starting at a line."""
    value = result.events.filter(pl.col("line") == line)["attrs"].item()
    decoded: dict[str, object] = json.loads(value)
    return decoded


def test_run_log_records_have_expected_kinds_and_blocks() -> None:
    """Each line of a realistic run becomes the right kind of record, in the right spec block."""
    result = parse_text(RUN_LOG)
    validate_events(result.events)
    assert_accounted(RUN_LOG, result)
    rows = result.events.select("line", "n_lines", "record", "spec_index").rows()
    expected = [
        (2, 1, "suite", None),
        (3, 1, "suite", None),
        (5, 1, "suite", None),
        (7, 1, "suite", None),
        (8, 1, "suite", None),
        (10, 3, "spec", 1),
        (15, 1, "output", 1),
        (16, 1, "log", 1),
        (19, 3, "spec", 2),
        (24, 1, "step", 2),
        (25, 1, "log", 2),
        (26, 1, "log", 2),
        (27, 3, "log", 2),
        (30, 1, "helper", 2),
        (31, 1, "helper", 2),
        (32, 1, "helper", 2),
        (33, 1, "helper", 2),
        (34, 1, "helper", 2),
        (35, 1, "failure", 2),
        (38, 6, "failure", 2),
        (45, 3, "spec", 3),
        (50, 1, "step", 3),
        (51, 1, "failure", 3),
        (54, 2, "failure", 3),
        (57, 3, "spec", 4),
        (62, 1, "step", 4),
        (63, 1, "helper", 4),
        (66, 3, "spec", 5),
        (70, 1, "spec", None),
        (72, 3, "spec", 6),
        (77, 1, "step", 6),
        *[(n, 1, "collector", 6) for n in range(78, 84)],
        (84, 1, "log", 6),
        (88, 1, "summary", None),
        (89, 2, "summary", None),
        (91, 2, "summary", None),
        (94, 1, "summary", None),
        (95, 1, "summary", None),
        (97, 1, "summary", None),
        (99, 1, "summary", None),
    ]
    assert rows == expected
    assert result.unparsed["line"].to_list() == [1, 100]
    assert result.events["service"].unique().to_list() == ["test-run"]


def test_spec_headers_carry_state_duration_location_and_name() -> None:
    """Spec records hold the state, runtime, location and full name, and every record in a block carries the name."""
    result = parse_text(RUN_LOG)
    failed = attrs_of(result, 19)
    assert failed == {
        "state": "failed",
        "duration_s": 31.542,
        "location": "/Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/signalprocessing/severity_integration_test.go:296",
    }
    assert attrs_of(result, 45)["state"] == "interrupted"
    assert attrs_of(result, 57) == {
        "state": "passed",
        "duration_s": 2.345,
        "location": "/Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/signalprocessing/audit_integration_test.go:200",
    }
    assert attrs_of(result, 66)["state"] == "pending"
    assert "duration_s" not in attrs_of(result, 66)
    assert attrs_of(result, 72)["node"] == "SynchronizedAfterSuite"
    assert attrs_of(result, 70) == {"passed": 0, "skipped": 2, "pending": 0}
    block = result.events.filter(pl.col("spec_index") == 2)
    assert block["spec"].unique().to_list() == [
        "Severity Determination Integration Tests BR-SP-105: Audit Event Integration (DD-TESTING-001) [It] should emit audit event with policy-defined fallback severity"
    ]
    assert result.events.filter(pl.col("line") == 72)["spec"].item() == "[SynchronizedAfterSuite]"
    levels = result.events.filter(pl.col("record") == "spec")["level"].to_list()
    assert levels == ["info", "error", "warn", "info", "info", None, "info"]


def test_failure_blocks_and_markers() -> None:
    """A failure block keeps its first line as message, its full text and In-line location; markers keep theirs."""
    result = parse_text(RUN_LOG)
    block = result.events.filter(pl.col("line") == 38).row(0, named=True)
    assert block["message"] == "Timed out after 30.001s."
    assert block["ts"] == datetime(2026, 1, 14, 11, 25, 6, 354000, tzinfo=UTC)
    assert (block["ts_assumed"], block["ts_precision"], block["level"]) == (True, "ms", "error")
    attrs = attrs_of(result, 38)
    assert attrs["node"] == "It"
    assert str(attrs["location"]).endswith("severity_integration_test.go:334")
    assert str(attrs["text"]).splitlines()[1:5] == ["Expected", "    <int>: 0", "to be >=", "    <int>: 1"]
    assert attrs["marker"] is False
    marker = attrs_of(result, 35)
    assert (marker["state"], marker["node"], marker["marker"]) == ("failed", "It", True)
    interrupted = result.events.filter(pl.col("line") == 54).row(0, named=True)
    assert (interrupted["message"], interrupted["level"]) == ("Interrupted by Other Ginkgo Process", "warn")
    assert interrupted["ts"] == datetime(2026, 1, 14, 11, 25, 6, 400000, tzinfo=UTC)


def test_embedded_zap_lines_are_decoded_with_stack_traces() -> None:
    """Indented controller console and audit-store JSON lines decode; a trace after an error folds into it."""
    result = parse_text(RUN_LOG)
    logs = result.events.filter(pl.col("record") == "log")
    assert logs.select("line", "level", "logger", "message").rows() == [
        (16, "info", "setup", "starting manager"),
        (25, "debug", None, "Reconciling SignalProcessing"),
        (26, "info", "audit-store", "✅ Event buffered successfully"),
        (27, "error", None, "Reconciler error"),
        (84, "info", "audit-store", "Audit store closed"),
    ]
    assert logs["ts_assumed"].to_list() == [False] * 5
    assert logs["correlation_id"][2] == "audit-test-rr-04"
    assert json.loads(logs["attrs"][3])["stacktrace"].endswith("controller.go:474")
    assert result.facts["utc_offsets"] == {-18000: 5}


def test_helper_prints_carry_correlation_ids_and_counts() -> None:
    """Test-helper prints yield the correlation ID, the event type queried and the count found."""
    result = parse_text(RUN_LOG)
    helpers = result.events.filter(pl.col("record") == "helper")
    assert helpers.select("line", "correlation_id", "event_type", "level").rows() == [
        (30, None, None, "info"),
        (31, "audit-test-rr-04", "signalprocessing.signal.processed", "info"),
        (32, "audit-test-rr-04", "signalprocessing.phase.transition", "info"),
        (33, "audit-test-rr-04", "signalprocessing.signal.processed", "warn"),
        (34, None, None, "warn"),
        (63, "audit-test-rr-01", "signalprocessing.phase.transition", "info"),
    ]
    assert attrs_of(result, 31) == {
        "helper": "no_events",
        "subject": "signalprocessing.signal.processed",
        "count": 0,
    }
    assert attrs_of(result, 32)["count"] == 2
    assert (
        attrs_of(result, 33)["error"]
        == 'Get "http://localhost:18094/api/v1/audit/events": context deadline exceeded'
    )
    assert attrs_of(result, 34) == {"helper": "flush_warning", "error": "context deadline exceeded"}


def test_collector_lines_name_containers_and_paths() -> None:
    """Must-gather progress lines give the action, the container and the written path."""
    result = parse_text(RUN_LOG)
    assert attrs_of(result, 79) == {
        "action": "collecting",
        "path": "/tmp/kubernaut-must-gather/signalprocessing-integration-20260114-112507",
    }
    assert attrs_of(result, 80)["container"] == "signalprocessing_datastorage_test"
    assert str(attrs_of(result, 81)["path"]).endswith("_inspect.json")
    assert attrs_of(result, 82) == {"action": "skipped", "container": "signalprocessing_redis_test"}
    assert attrs_of(result, 83)["action"] == "complete"


def test_steps_are_zone_less_times_taken_as_utc() -> None:
    """STEP times are read as UTC with ts_assumed, ms precision for any printed fraction and s without one."""
    result = parse_text(RUN_LOG)
    steps = result.events.filter(pl.col("record") == "step")
    assert steps["ts"].to_list() == [
        datetime(2026, 1, 14, 11, 24, 34, 812000, tzinfo=UTC),
        datetime(2026, 1, 14, 11, 25, 1, 100000, tzinfo=UTC),
        datetime(2026, 1, 14, 11, 24, 30, tzinfo=UTC),
        datetime(2026, 1, 14, 11, 25, 7, 10000, tzinfo=UTC),
    ]
    assert steps["ts_precision"].to_list() == ["ms", "ms", "s", "ms"]
    assert steps["ts_assumed"].to_list() == [True] * 4
    assert steps["message"][3] == "Tearing down shared infrastructure (Process 1 only)"


def test_summary_lines() -> None:
    """The summary block, Ran, FAIL!, Ginkgo ran and Test Suite lines carry their numbers."""
    result = parse_text(RUN_LOG)
    assert attrs_of(result, 88) == {"failures": 2}
    entry = attrs_of(result, 91)
    assert (entry["state"], entry["node"]) == ("interrupted", "It")
    assert entry["name"] == "Audit Integration [It] should emit enrichment event"
    assert str(entry["location"]).endswith("audit_integration_test.go:412")
    assert attrs_of(result, 94) == {"ran": 3, "total": 6, "duration_s": 95.838}
    assert attrs_of(result, 95) == {
        "status": "FAIL!",
        "reason": "Interrupted by Other Ginkgo Process",
        "passed": 1,
        "failed": 2,
        "pending": 1,
        "skipped": 2,
    }
    assert attrs_of(result, 97) == {"suites": 1, "elapsed": "1m41.207s"}
    assert attrs_of(result, 99) == {"result": "failed"}
    assert result.events.filter(pl.col("line") == 95)["level"].item() == "error"


def test_reference_summary_block() -> None:
    """The verbatim summary of the format reference, whose status line has no counts, parses fully."""
    text = "\n".join(
        [
            "Summarizing 3 Failures:",
            "  [FAIL] Audit Events Schema Integration Tests [It] should prevent deletion of parent events with children (immutability)",
            "  /Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/datastorage/audit_events_schema_test.go:221",
            "",
            "  [INTERRUPTED] Workflow Label Scoring Integration Tests [It] should apply 0.05 boost for PDB-protected workflows",
            "Ran 14 of 157 Specs in 17.679 seconds",
            "FAIL! - Interrupted by Other Ginkgo Process",
            "Ran 57 of 92 Specs in 119.058 seconds",
        ]
    )
    result = parse_text(text)
    assert_accounted(text, result)
    assert result.unparsed.height == 0
    assert result.events.select("line", "n_lines").rows() == [(1, 1), (2, 2), (5, 1), (6, 1), (7, 1), (8, 1)]
    assert attrs_of(result, 2)["state"] == "failed"
    assert attrs_of(result, 7) == {"status": "FAIL!", "reason": "Interrupted by Other Ginkgo Process"}
    assert attrs_of(result, 8) == {"ran": 57, "total": 92, "duration_s": 119.058}


def _check_real_line(kind: str, groups: list[str | None], result: ParseResult, line: int) -> None:
    """Compare one parsed real line with the groups the reference expects."""
    event = result.events.filter(pl.col("line") == line).row(0, named=True)
    attrs = json.loads(event["attrs"])
    if kind == "ran":
        assert (attrs["ran"], attrs["total"], attrs["duration_s"]) == (
            int(groups[0] or 0),
            int(groups[1] or 0),
            float(groups[2] or 0),
        )
    elif kind == "status":
        got = [attrs.get(k) for k in ("status", "reason", "passed", "failed", "pending", "skipped")]
        assert got == [groups[0], groups[1], *(int(g or 0) for g in groups[2:])]
    elif kind == "failed_msg":
        assert (event["record"], attrs["state"], event["message"]) == ("failure", "failed", groups[1])
    elif kind == "summary_head":
        assert attrs == {"failures": int(groups[0] or 0)}
    elif kind == "ginkgo_ran":
        assert attrs == {"suites": int(groups[0] or 0), "elapsed": groups[1]}
    elif kind == "seed":
        assert attrs == {"seed": int(groups[0] or 0), "randomize_all": groups[1] is not None}
    elif kind == "will_run":
        assert attrs == {"will_run": int(groups[0] or 0), "total": int(groups[1] or 0)}
    elif kind == "suite":
        assert attrs == {"suite": groups[0], "path": groups[1]}
    elif kind == "parallel":
        assert attrs == {"processes": int(groups[0] or 0)}
    elif kind == "summary_entry":
        state = "failed" if groups[0] == "FAIL" else str(groups[0]).lower()
        assert (attrs["state"], attrs["node"], attrs["name"]) == (
            state,
            "It",
            f"{groups[1]} [It] {groups[2]}",
        )
    elif kind == "step":
        assert event["record"] == "step" and event["message"] == groups[0]
        assert event["ts"] == datetime.strptime(str(groups[1]), "%m/%d/%y %H:%M:%S.%f").replace(tzinfo=UTC)
    else:
        raise AssertionError(f"unknown kind {kind}")


def test_real_lines_yield_expected_groups() -> None:
    """Every captured real Ginkgo line parses into a record carrying the values the reference expects."""
    for entry in map(json.loads, REALINES.read_text().splitlines()):
        kind = entry["expect"]["kind"]
        # Summary entries only exist under a Summarizing header.
        text = ("Summarizing 1 Failure:\n" if kind == "summary_entry" else "") + entry["line"]
        result = parse_text(text)
        validate_events(result.events)
        assert result.unparsed.height == 0, entry["line"]
        _check_real_line(kind, entry["expect"]["groups"], result, text.count("\n") + 1)


_fragments = st.sampled_from(
    [
        "-" * 30,
        "• [FAILED] [1.5 seconds]",
        "P [PENDING]",
        "SS",
        "  Timeline >>",
        "  << Timeline",
        "  [FAILED] x",
        "  In [It] at: a.go:1 @ 01/14/26 10:25:09.6",
        "Summarizing 2 Failures:",
        "  [FAIL] a [It] b",
        "a.go:3",
        "Ran 1 of 2 Specs in 1.0 seconds",
        "FAIL! -- 1 Passed | 0 Failed | 0 Pending | 1 Skipped",
        "  STEP: s @ 01/14/26 10:25:09",
        '  {"level":"info","ts":"2026-01-14T10:25:09-05:00","msg":"m"}',
        "  2026-01-14T10:25:09Z\tERROR\tx",
        "  main.main",
        "  \tmain.go:1",
        "",
        "  ",
        "⏳ No events yet for a.b (correlation_id=c)",
        "[SynchronizedAfterSuite] PASSED [1.0 seconds]",
    ]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(_fragments, st.text(max_size=20)), max_size=25))
def test_arbitrary_text_never_raises_and_is_accounted(rows: list[str]) -> None:
    """Any text, Ginkgo-shaped or not, parses without error, passes the schema check and is accounted for once."""
    text = "\n".join(row.replace("\r", "").replace("\n", "") for row in rows)
    result = parse_text(text)
    validate_events(result.events)
    assert_accounted(text, result)
