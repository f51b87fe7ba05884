"""Tests for the Ginkgo JSON report (`ginkgo --json-report`) as a test-run source."""

# ruff: noqa: E501  -- the report's captured lines keep their real length

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from triage.api import analyze
from triage.bundle.lines import split_lines
from triage.bundle.sources import Source
from triage.facts.testrun import SpecState, summarize_tests
from triage.parsers import ginkgo_report
from triage.parsers.recognise import classify
from triage.report.render import to_json
from triage.table.schema import validate_events

ROOT = "/home/runner/work/kubernaut/kubernaut/test/integration/signalprocessing/"


def _loc(name: str, line: int) -> dict[str, object]:
    return {"FileName": ROOT + name, "LineNumber": line}


def _spec(texts: list[str], leaf: str, state: str, process: int, **extra: object) -> dict[str, object]:
    return {
        "ContainerHierarchyTexts": texts or None,
        "ContainerHierarchyLocations": [_loc("audit_integration_test.go", 40)] if texts else None,
        "LeafNodeType": extra.pop("node", "It"),
        "LeafNodeLocation": extra.pop("location", _loc("audit_integration_test.go", 100)),
        "LeafNodeText": leaf,
        "State": state,
        "StartTime": extra.pop("start", "2026-01-14T10:25:01.123456-05:00"),
        "EndTime": "2026-01-14T10:25:04.5-05:00" if state != "pending" else "0001-01-01T00:00:00Z",
        "RunTime": extra.pop("runtime", 3_376_544_000),
        "ParallelProcess": process,
        "NumAttempts": 1,
        **extra,
    }


# A parallel run on two processes, `--fail-fast`: a suite node whose output holds the suite's banners,
# a spec on process 2 that fails with Gomega's output and logs controller and audit-store lines, a
# spec interrupted on process 1, a passed spec and a pending one.
SUITE_REPORT = [
    {
        "SuitePath": "/home/runner/work/kubernaut/kubernaut/test/integration/signalprocessing",
        "SuiteDescription": "SignalProcessing Controller Integration Suite (ENVTEST)",
        "SuiteLabels": [],
        "SuiteSucceeded": False,
        "SuiteHasProgrammaticFocus": False,
        "SpecialSuiteFailureReasons": ["Interrupted by Other Ginkgo Process"],
        "PreRunStats": {"TotalSpecs": 6, "SpecsThatWillRun": 5},
        "StartTime": "2026-01-14T10:24:10.000001-05:00",
        "EndTime": "2026-01-14T10:25:09.9-05:00",
        "RunTime": 59_899_999_000,
        "SuiteConfig": {"RandomSeed": 1768404312, "FailFast": True, "ParallelProcess": 1, "ParallelTotal": 2},
        "SpecReports": [
            _spec(
                [],
                "",
                "passed",
                1,
                node="SynchronizedBeforeSuite",
                location=_loc("suite_test.go", 95),
                CapturedGinkgoWriterOutput=(
                    "━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━\n"
                    "SignalProcessing Integration Test Suite - Automated Setup\n"
                    "━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━\n"
                    "Creating test infrastructure...\n"
                    "  • envtest (in-memory K8s API server)\n"
                    "  • PostgreSQL (port 15436)\n"
                    "✅ All external services started and healthy\n"
                ),
            ),
            _spec(
                ["BR-SP-090: Audit Integration"],
                "should create 'phase.transition' audit events",
                "failed",
                2,
                location=_loc("audit_integration_test.go", 600),
                Failure={
                    "Message": "Timed out after 10.001s.\nExpected\n    <int>: 5\nto equal\n    <int>: 4",
                    "Location": _loc("audit_integration_test.go", 636),
                    "TimelineLocation": {"Offset": 420, "Order": 9, "Time": "2026-01-14T10:25:04.4-05:00"},
                    "FailureNodeContext": "leaf-node",
                    "FailureNodeType": "It",
                },
                CapturedGinkgoWriterOutput=(
                    "2026-01-14T10:25:01-05:00\tINFO\tReconciling SignalProcessing\t"
                    '{"controller": "signalprocessing-controller", "name": "audit-test-sp-04"}\n'
                    '{"level":"info","ts":"2026-01-14T10:25:02-05:00","logger":"audit-store","msg":"✅ Event buffered successfully",'
                    '"event_type":"signalprocessing.phase.transition","correlation_id":"audit-test-rr-04","buffer_size_after":1,"total_buffered":29}\n'
                    "✅ Found 5 event(s) for signalprocessing.phase.transition (correlation_id=audit-test-rr-04)\n"
                ),
            ),
            _spec(["BR-SP-090: Audit Integration"], "should emit enrichment event", "interrupted", 1),
            _spec(["Severity Determination"], "should persist severity", "passed", 2),
            _spec(["Severity Determination"], "should record policy hash", "pending", 1, runtime=0),
        ],
    }
]
SOURCE = Source(Path("report.json"), "report.json", "ginkgo_report", "test-run", "test")


def _text(report: object = SUITE_REPORT) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def _parse(text: str) -> ginkgo_report.ParseResult:
    return ginkgo_report.parse(split_lines(text.encode()).frame, SOURCE)


def _attrs(events: pl.DataFrame, record: str) -> list[dict[str, object]]:
    return [json.loads(a) for a in events.filter(pl.col("record") == record)["attrs"]]


def test_report_specs_carry_state_location_and_process() -> None:
    """Every spec report becomes a spec record with its state, leaf location and parallel process."""
    result = _parse(_text())
    validate_events(result.events)
    specs = result.events.filter(pl.col("record") == "spec")
    assert specs["spec_index"].to_list() == [1, 2, 3, 4, 5]
    assert specs["spec"][1] == "BR-SP-090: Audit Integration should create 'phase.transition' audit events"
    assert specs["spec"][0] == "[SynchronizedBeforeSuite]"
    attrs = _attrs(result.events, "spec")
    assert [(a["state"], a["process"]) for a in attrs] == [
        ("passed", 1),
        ("failed", 2),
        ("interrupted", 1),
        ("passed", 2),
        ("pending", 1),
    ]
    assert attrs[0]["node"] == "SynchronizedBeforeSuite"
    assert attrs[1]["location"] == ROOT + "audit_integration_test.go:600"
    assert "duration_s" not in attrs[4]
    lines = _text().split("\n")
    for line in specs["line"]:
        assert '"LeafNodeType":' in lines[line - 1]


def test_failure_record_holds_gomega_message_and_location() -> None:
    """A spec's Failure becomes a failure record citing the report's Message line, in the spec's block."""
    result = _parse(_text())
    failure = result.events.filter(pl.col("record") == "failure")
    assert failure.height == 1
    assert (failure["spec_index"][0], failure["message"][0]) == (2, "Timed out after 10.001s.")
    (attrs,) = _attrs(result.events, "failure")
    assert attrs["location"] == ROOT + "audit_integration_test.go:636"
    assert str(attrs["text"]).endswith("to equal\n    <int>: 4")
    assert '"Message":' in _text().split("\n")[failure["line"][0] - 1]


def test_captured_output_is_parsed_in_its_spec_block_after_the_last_line() -> None:
    """Captured output lines are numbered after the report's last line, parsed like a timeline, and quoted back."""
    text = _text()
    result = _parse(text)
    assert result.unparsed.height == 0
    last = len(split_lines(text.encode()).frame)
    output = result.events.filter(pl.col("line") > last).sort("line")
    assert output["line"].to_list() == list(range(last + 1, last + 11))
    assert output["spec_index"].to_list() == [1] * 7 + [2] * 3
    assert output["record"].to_list() == ["output"] * 7 + ["log", "log", "helper"]
    buffered = output.filter(pl.col("logger") == "audit-store")
    assert buffered["correlation_id"].to_list() == ["audit-test-rr-04"]
    assert buffered["ts"][0].isoformat() == "2026-01-14T15:25:02+00:00"
    assert output["spec"][9] == "BR-SP-090: Audit Integration should create 'phase.transition' audit events"
    assert result.facts["utc_offsets"] == {-18000: 9}


def test_captured_lines_are_read_back_from_the_report(tmp_path: Path) -> None:
    """`captured_line` gives back the text a captured-output record cites, and None past the output."""
    path = tmp_path / "report.json"
    path.write_text(_text(), encoding="utf-8")
    last = len(split_lines(path.read_bytes()).frame)
    assert ginkgo_report.captured_line(path, last + 4) == "Creating test infrastructure..."
    assert ginkgo_report.captured_line(path, last + 10) == (
        "✅ Found 5 event(s) for signalprocessing.phase.transition (correlation_id=audit-test-rr-04)"
    )
    assert ginkgo_report.captured_line(path, last + 11) is None
    assert ginkgo_report.captured_line(path, last) is None


def test_summary_counts_like_ginkgo_and_interrupted_apart() -> None:
    """The run's totals count It specs only, and the interrupted spec apart from the failed one."""
    run = summarize_tests(_parse(_text()).events)
    assert run is not None
    assert (run.suite, run.processes, run.will_run, run.total) == (
        "SignalProcessing Controller Integration Suite (ENVTEST)",
        2,
        5,
        6,
    )
    assert (run.ran, run.passed, run.failed, run.interrupted, run.pending, run.skipped) == (3, 1, 1, 1, 1, 0)
    assert (run.reason, run.flags) == ("Interrupted by Other Ginkgo Process", ("--procs=2", "--fail-fast"))
    failed, interrupted = run.specs
    assert (failed.state, failed.process, failed.correlation_ids) == (
        SpecState.FAILED,
        2,
        ("audit-test-rr-04",),
    )
    assert failed.failure_message == "Timed out after 10.001s. Expected <int>: 5 to equal <int>: 4"
    assert failed.failure_location == ROOT + "audit_integration_test.go:636"
    assert (interrupted.state, interrupted.process) == (SpecState.INTERRUPTED, 1)


def test_unreadable_report_is_a_note_not_a_crash() -> None:
    """A report that is not valid JSON leaves every line not understood and says why."""
    text = _text()[:-40]
    result = _parse(text)
    assert result.events.height == 0
    assert result.unparsed.height == len(split_lines(text.encode()).frame)
    assert str(result.facts["notes"]).startswith("['Ginkgo JSON report unreadable: not valid JSON")


def test_report_is_recognised_by_content_not_name() -> None:
    """A JSON array of suite reports is a Ginkgo report whatever its name; podman inspect JSON is not."""
    assert classify(_text().encode())[0] == "ginkgo_report"
    assert classify(json.dumps(SUITE_REPORT).encode())[0] == "ginkgo_report"
    inspect = json.dumps([{"Id": "4a4e", "Name": "sp_datastorage", "State": {"Status": "running"}}], indent=4)
    assert classify(inspect.encode())[0] == "podman_inspect"


def test_bundle_with_only_a_report_runs_the_rules(tmp_path: Path) -> None:
    """A report named like anything is analysed: the test results are read and the rules run, none skipped."""
    (tmp_path / "results.out").write_text(_text(), encoding="utf-8")
    report = analyze(tmp_path)
    document = to_json(report)
    assert document["sources"][0]["kind"] == "ginkgo_report"
    assert document["sources"][0]["unparsed_lines"] == 0
    tests = document["tests"]
    assert (tests["ran"], tests["failed"], tests["interrupted"], tests["status"]) == (3, 1, 1, "failed")
    assert [spec["process"] for spec in tests["specs"]] == [2, 1]
    assert [o["status"] for o in document["rules"] if o["rule"] == "unexpected-event-count"] == ["ran"]


def test_a_v_log_of_the_reported_run_is_not_read_twice(tmp_path: Path) -> None:
    """Beside a report, the `-v` log of the same suite and seed is a duplicate; another seed's log is read."""
    (tmp_path / "report.json").write_text(_text(), encoding="utf-8")
    header = "Running Suite: SignalProcessing Controller Integration Suite (ENVTEST) - {ROOT}\n=====\nRandom Seed: {seed}\n\nWill run 5 of 6 specs\n"
    (tmp_path / "integration-signalprocessing.log").write_text(header.format(ROOT=ROOT, seed=1768404312))
    (tmp_path / "rerun.log").write_text(header.format(ROOT=ROOT, seed=1768409999))
    sources = {s["file"]: s["kind"] for s in to_json(analyze(tmp_path))["sources"]}
    assert sources == {
        "integration-signalprocessing.log": "duplicate",
        "report.json": "ginkgo_report",
        "rerun.log": "ginkgo",
    }


def test_fields_of_unexpected_types_read_as_absent() -> None:
    """Odd values (null spec lists, a process given as text, a non-object config) never break the parse."""
    odd = json.loads(json.dumps(SUITE_REPORT))
    odd[0]["SuiteConfig"] = "parallel"
    odd[0]["SpecReports"][1]["ParallelProcess"] = "two"
    odd[0]["SpecReports"][1]["CapturedGinkgoWriterOutput"] = None
    odd.append({"SuitePath": "/x", "SuiteDescription": "Empty Suite", "SpecReports": None})
    run = summarize_tests(_parse(json.dumps(odd)).events)
    assert run is not None
    (failed, _) = run.specs
    assert (failed.process, failed.correlation_ids, run.processes) == (None, (), 1)


def test_a_report_of_several_suites_sums_their_counts() -> None:
    """`ginkgo -r` reports several suites in one file: the totals are theirs together, specs numbered on."""
    second = json.loads(json.dumps(SUITE_REPORT[0]))
    second["SuiteDescription"], second["SuiteSucceeded"] = "Gateway Integration Suite", True
    second["SpecialSuiteFailureReasons"] = None
    result = _parse(_text([SUITE_REPORT[0], second]))
    assert result.events.filter(pl.col("record") == "spec")["spec_index"].to_list() == list(range(1, 11))
    run = summarize_tests(result.events)
    assert run is not None
    assert (run.ran, run.total, run.passed, run.failed, run.interrupted, run.pending) == (6, 12, 2, 2, 2, 2)
    assert (run.status.value, run.reason) == ("failed", "Interrupted by Other Ginkgo Process")
    assert _parse("[]\n").events.height == 0


def test_captured_output_that_looks_like_ginkgo_adds_no_spec() -> None:
    """A spec's output that prints separators or a spec-like header stays that spec's output."""
    odd = json.loads(json.dumps(SUITE_REPORT))
    odd[0]["SpecReports"][3]["CapturedGinkgoWriterOutput"] = (
        "------------------------------\n• [FAILED] [1.000 seconds]\nfake spec\n/x/y_test.go:1\nRan 1 of 1 Specs in 1.0 seconds\n"
    )
    result = _parse(_text(odd))
    assert result.unparsed.height == 0
    assert result.events.filter(pl.col("record") == "spec").height == 5
    run = summarize_tests(result.events)
    assert run is not None and (run.ran, run.passed, run.failed) == (3, 1, 1)
    last = len(split_lines(_text(odd).encode()).frame)
    tail = result.events.filter(pl.col("line") > last + 10)
    assert set(tail["spec_index"]) == {4} and set(tail["record"].cast(pl.String)) <= {"output"}


def test_stores_follow_the_process_the_report_names(tmp_path: Path) -> None:
    """Spec timelines go to the store of the process the report names, not to one inferred from counters."""
    report = json.loads(json.dumps(SUITE_REPORT))
    specs = report[0]["SpecReports"]
    # Two specs on two processes whose total_buffered values would chain into one store if inferred.
    for spec, process, total in ((specs[1], 2, 29), (specs[3], 1, 31)):
        spec["ParallelProcess"] = process
        spec["CapturedGinkgoWriterOutput"] = (
            '{"level":"info","ts":"2026-01-14T10:25:02-05:00","logger":"audit-store","msg":"✅ Event buffered successfully",'
            f'"event_type":"signalprocessing.phase.transition","correlation_id":"audit-test-rr-0{process}","buffer_size_after":1,"total_buffered":{total}}}\n'
        )
    specs[3]["StartTime"], specs[3]["EndTime"] = "2026-01-14T10:25:05-05:00", "2026-01-14T10:25:06-05:00"
    (tmp_path / "report.json").write_text(_text(report))
    stores = analyze(tmp_path / "report.json").analysis.stores
    assert [(s.name, s.specs) for s in stores] == [
        ("process 1", ("Severity Determination should persist severity",)),
        ("process 2", ("BR-SP-090: Audit Integration should create 'phase.transition' audit events",)),
    ]
    assert {s.basis for s in stores} == {"the process Ginkgo's report names for each spec"}
