"""Tests for the zap development console parser."""

# ruff: noqa: E501  -- verbatim log lines are kept whole

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.bundle.lines import split_lines
from triage.bundle.sources import Source
from triage.parsers import ParseResult, zap, zap_console
from triage.table.exprs import decode_json
from triage.table.schema import validate_events

REALINES = Path("/work/shared/realines/zap_console.jsonl")
SOURCE = Source(Path("sp_datastorage.log"), "sp_datastorage.log", "zap_console", "datastorage", "test")

# Verbatim († ) console lines of the format reference (sections 2 and 7); the last two are copies
# whose tabs became spaces.
DATASTORAGE_TAB = (
    "2026-01-14T19:35:01.592Z\tINFO\tdatastorage\tserver/server.go:157\tPostgreSQL connection established\t"
    '{"max_open_conns": 100, "max_idle_conns": 50, "conn_max_lifetime": "5m", "conn_max_idle_time": "10m"}'
)
DATASTORAGE_SPACES = (
    "2026-01-31T23:12:17.555Z  INFO  datastorage  server/handlers.go:197  HTTP request  "
    '{"request_id": "554ff40ee932/7RnVlVwVPd-000001", "method": "GET", "path": "/health", '
    '"remote_addr": "10.89.0.5:34422", "status": 503, "bytes": 94, "duration": "5.33175ms"}'
)
SINGLE_SPACED = '2026-01-14T13:52:00.843Z INFO datastorage Batch audit events created {"count": 1}'
TWO_SPACED_NO_LOGGER = '2026-01-31T00:08:05.381Z  INFO  Batch audit events created with hash chains {"count": 33, "correlation_ids": 14}'
CONTROLLER = (
    "2026-01-14T10:25:09-05:00\tDEBUG\tReconciling SignalProcessing\t"
    '{"controller": "signalprocessing-controller", "controllerGroup": "kubernaut.ai", "controllerKind": '
    '"SignalProcessing", "SignalProcessing": {"name":"audit-test-sp-04","namespace":"audit-test-phase-3f2a9c1d"}, '
    '"namespace": "audit-test-phase-3f2a9c1d", "name": "audit-test-sp-04", "reconcileID": "…"}'
)
RECONCILER_ERROR = "\n".join(
    [
        "2026-01-14T10:25:11-05:00\tERROR\tReconciler error\t"
        '{"controller": "signalprocessing-controller", "reconcileID": "7f0c", "error": "context canceled"}',
        "sigs.k8s.io/controller-runtime/pkg/internal/controller.(*Controller).reconcileHandler",
        "\t/go/pkg/mod/sigs.k8s.io/controller-runtime@v0.22.4/pkg/internal/controller/controller.go:474",
        "sigs.k8s.io/controller-runtime/pkg/internal/controller.(*Controller).processNextWorkItem",
        "\t/go/pkg/mod/sigs.k8s.io/controller-runtime@v0.22.4/pkg/internal/controller/controller.go:421",
        "2026-01-14T10:25:12-05:00\tWARN\tLEVEL(-2) is not this\t{}",
        "2026-01-14T10:25:12-05:00\tLEVEL(-2)\taudit-store\tTimer tick (no events to flush)",
        '{"level":"info","ts":"2026-01-14T10:25:12-05:00","logger":"audit-store","msg":"Audit store closed"}',
        "Starting Data Storage Service server",
        "\t/orphan/file.go:12",
    ]
)


def parse_text(text: str) -> ParseResult:
    """Parse text as a zap console file."""
    return zap.parse(split_lines(text.encode()).frame, SOURCE)


def assert_accounted(text: str, result: ParseResult) -> None:
    """Every line is in exactly one record span, or unparsed, or blank."""
    owner: dict[int, str] = {}
    for line, n_lines in result.events.select("line", "n_lines").iter_rows():
        for number in range(line, line + n_lines):
            assert number not in owner
            owner[number] = "record"
    for number in result.unparsed["line"].to_list():
        assert number not in owner
        owner[number] = "unparsed"
    for number, raw in split_lines(text.encode()).frame.iter_rows():
        assert number in owner or raw.strip() == "", f"line {number} unaccounted: {raw!r}"


def test_real_lines_decode_with_expected_fields() -> None:
    """Every captured real console line decodes to its documented level, time, message, logger and fields."""
    for entry in map(json.loads, REALINES.read_text().splitlines()):
        expect = entry["expect"]
        result = parse_text(entry["line"])
        validate_events(result.events)
        assert result.unparsed.height == 0, entry["line"]
        event = result.events.row(0, named=True)
        assert event["level"] == expect["level"].lower()
        printed = expect["ts"].replace("Z", "+00:00")
        if printed[-5] in "+-" and ":" not in printed[-5:]:
            printed = printed[:-2] + ":" + printed[-2:]
        assert event["ts"] == datetime.fromisoformat(printed).astimezone(UTC)
        assert event["message"] == expect["message"], entry["line"]
        assert event["logger"] == expect.get("logger"), entry["line"]
        assert json.loads(event["attrs"]) == expect.get("fields", {})


def test_datastorage_line_has_logger_caller_and_fields() -> None:
    """A DataStorage line yields logger, caller (via decode_rows), message, ms precision and its fields."""
    result = parse_text(DATASTORAGE_TAB)
    event = result.events.row(0, named=True)
    assert (event["logger"], event["message"], event["ts_precision"]) == (
        "datastorage",
        "PostgreSQL connection established",
        "ms",
    )
    assert event["ts"] == datetime(2026, 1, 14, 19, 35, 1, 592000, tzinfo=UTC)
    assert json.loads(event["attrs"])["conn_max_lifetime"] == "5m"
    decoded = zap_console.decode_rows(split_lines(DATASTORAGE_TAB.encode()).frame, "raw")
    assert decoded["caller"].to_list() == ["server/server.go:157"]


def test_space_separated_copies_are_accepted() -> None:
    """Lines whose tabs became two or more spaces, or single spaces, still split into their parts."""
    result = parse_text("\n".join([DATASTORAGE_SPACES, SINGLE_SPACED, TWO_SPACED_NO_LOGGER]))
    assert result.unparsed.height == 0
    rows = result.events.select("logger", "message", "attrs").rows()
    assert rows[0][:2] == ("datastorage", "HTTP request")
    assert json.loads(rows[0][2])["duration"] == "5.33175ms"
    assert rows[1] == ("datastorage", "Batch audit events created", '{"count": 1}')
    assert rows[2][:2] == (None, "Batch audit events created with hash chains")
    assert json.loads(rows[2][2]) == {"count": 33, "correlation_ids": 14}
    caller = zap_console.decode_rows(split_lines(DATASTORAGE_SPACES.encode()).frame, "raw")["caller"]
    assert caller.to_list() == ["server/handlers.go:197"]


def test_controller_line_keeps_nested_fields_and_local_offset() -> None:
    """An envtest controller line has no logger or caller, keeps nested fields and its -05:00 offset."""
    result = parse_text(CONTROLLER)
    event = result.events.row(0, named=True)
    assert (event["level"], event["logger"], event["message"]) == (
        "debug",
        None,
        "Reconciling SignalProcessing",
    )
    assert event["ts"] == datetime(2026, 1, 14, 15, 25, 9, tzinfo=UTC)
    assert json.loads(event["attrs"])["SignalProcessing"] == {
        "name": "audit-test-sp-04",
        "namespace": "audit-test-phase-3f2a9c1d",
    }
    assert result.facts["utc_offsets"] == {-18000: 1}


def test_stack_trace_folds_into_error_record() -> None:
    """Stack-trace lines after an error belong to it; a file line after a plain-text line is unparsed."""
    result = parse_text(RECONCILER_ERROR)
    validate_events(result.events)
    assert_accounted(RECONCILER_ERROR, result)
    events = result.events
    assert events.select("line", "n_lines").rows() == [(1, 5), (6, 1), (7, 1), (8, 1)]
    attrs = json.loads(events["attrs"][0])
    assert attrs["error"] == "context canceled"
    assert attrs["stacktrace"].splitlines()[1].endswith("controller.go:474")
    assert events["level"].to_list() == ["error", "warn", "trace", "info"]
    assert events["message"][1] == "LEVEL(-2) is not this"
    assert result.unparsed["line"].to_list() == [9, 10]


def test_brace_tail_that_is_not_json_stays_in_the_message() -> None:
    """A trailing part shaped like an object that does not decode is part of the message, not fields."""
    result = parse_text("2026-01-14T10:25:12Z\tINFO\tsetup\tvalue is\t{not json}")
    event = result.events.row(0, named=True)
    assert (event["logger"], event["message"], event["attrs"]) == ("setup", "value is\t{not json}", "{}")


_fragments = st.sampled_from(
    [
        "2026-01-14T10:25:12Z",
        "2026-01-14T10:25:12.5-0500",
        "\t",
        "  ",
        " ",
        "INFO",
        "LEVEL(-2)",
        "x.go:12",
        "{",
        "}",
        '{"a": 1}',
        "main.main",
        "\tmain.go:1",
        "é",
        "\\",
    ]
)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.one_of(_fragments, st.text(max_size=10)), max_size=7).map("".join), max_size=12))
def test_arbitrary_text_never_raises_and_is_accounted(rows: list[str]) -> None:
    """Any text parses without error, passes the schema check, and each line is accounted for once."""
    text = "\n".join(row.replace("\r", "").replace("\n", "") for row in rows)
    result = parse_text(text)
    validate_events(result.events)
    assert_accounted(text, result)


FIELD_TAILS = [
    '{"controller": "signalprocessing-controller", "SignalProcessing": {"name":"sp-1","namespace":"ns"}, "reconcileID": "8f1c"}',
    '{"config_path": "/etc/datastorage/config.yaml"}',
    '{"service": "data-storage", "port": 8080, "ratio": -0.5e-3, "debug": true, "tls": false, "peer": null}',
    '{"correlation_id": "rr-1", "event_type": "a.b"}',
    '{"nested": {"correlation_id": "inner"}}',
    '{"ids": [1, 2, "x"], "empty": [], "obj": {}}',
    '{"deep": {"a": {"b": 1}}}',
    '{"deep": [[1]], "list": [{"a": 1}]}',
    '{"error": "dial tcp: \\"refused\\"\\n", "path": "a\\/b"}',
    '{"unicode": "\\u00e9", "event\\u005ftype": "hidden"}',
    '{"emoji": "✅ é"}',
    "{ }",
    "{}",
    '{"a" : 1 , "b" : 2 }',
    '{"a":1,}',
    '{"a": 01}',
    '{"a": 1e309}',
    '{"a": 123456789012345678901}',
    '{"a": .5}',
    '{"a": "tab\there"}',
    '{"a": 1}\t',
    '{"a": 1} {"b": 2}',
    "{not json}",
    None,
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(FIELD_TAILS[:-1]), st.integers(0, 200), _fragments), max_size=20))
def test_known_fields_read_as_the_json_decoder_reads_them(edits: list[tuple[str, int, str]]) -> None:
    """The fields a console record's object holds are those the JSON decoder gives, whatever the text."""
    texts = FIELD_TAILS + [
        text[: at % (len(text) + 1)] + piece + text[at % (len(text) + 1) :] for text, at, piece in edits
    ]
    series = pl.Series("_fields", texts, dtype=pl.String)
    expected = decode_json(series, zap_console.FIELDS_DTYPE)
    got = zap_console.known_fields(series)
    assert got.dtype == expected.dtype
    assert got.is_null().to_list() == expected.is_null().to_list()
    assert got.struct.unnest().to_dicts() == expected.struct.unnest().to_dicts()
