"""Tests for the zap production JSON parser."""

# ruff: noqa: E501  -- verbatim log lines are kept whole

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.bundle.lines import split_lines
from triage.bundle.sources import Source
from triage.parsers import ParseResult, zap, zap_json
from triage.table.schema import validate_events

REALINES = Path("/work/shared/realines/zap_json.jsonl")
SOURCE = Source(Path("signalprocessing_datastorage_test.log"), "ds.log", "zap_json", "datastorage", "test")
LEVELS = {
    "debug": "debug",
    "info": "info",
    "warn": "warn",
    "error": "error",
    "dpanic": "panic",
    "panic": "panic",
    "fatal": "fatal",
    "Level(-2)": "trace",
}

# Verbatim († ) JSON lines of the format reference, section 2.
REFERENCE_LINES = [
    '{"level":"info","ts":"2026-01-14T20:48:44-05:00","logger":"audit-store","msg":"✅ Event buffered '
    'successfully","event_type":"signalprocessing.phase.transition","correlation_id":"audit-test-rr-04",'
    '"buffer_size_after":1,"total_buffered":29}',
    '{"level":"info","ts":"2026-01-15T21:04:07-05:00","logger":"audit-store","msg":"⏰ Timer tick received",'
    '"tick_number":3,"batch_size_before_flush":8,"buffer_utilization":0,"expected_interval":1,'
    '"actual_interval":1.000908875,"drift":0.000908875,"tick_time":"2026-01-15T21:04:07.516650875-05:00"}',
    '{"level":"error","ts":"2026-01-15T21:04:07-05:00","logger":"audit-store","msg":"Dropping audit batch due '
    'to non-retryable error (invalid data)","batch_size":8,"is_4xx_error":true}',
]

MIXED = "\n".join(
    [
        '{"level":"info","ts":"2026-01-14T15:24:50.101Z","logger":"datastorage","caller":"server/server.go:157",'
        '"msg":"PostgreSQL connection established","max_open_conns":25,"max_idle_conns":5}',
        "",
        "2026-01-14T15:24:53.447Z\tERROR\tdatastorage\tserver/audit_events_batch_handler.go:201\t"
        'Batch database write failed\t{"count": 8, "duration_seconds": 0.012}',
        "github.com/jordigilh/kubernaut/pkg/datastorage/server.(*Server).handleCreateAuditEventsBatch",
        "\t/workspace/pkg/datastorage/server/audit_events_batch_handler.go:201",
        "net/http.HandlerFunc.ServeHTTP",
        "\t/usr/local/go/src/net/http/server.go:2294",
        '{"level":"error","ts":"2026-01-14T15:24:54.000Z","msg":"broken", "a":}',
        "Starting Data Storage Service server",
        '{"level":"Level(-2)","ts":1769779135.5,"logger":"audit.audit-store","msg":"⏱️  Timer tick (no events to flush)"}',
    ]
)


def parse_text(text: str, source: Source = SOURCE) -> ParseResult:
    """Parse text as a file of the source's kind."""
    return zap.parse(split_lines(text.encode()).frame, source)


def assert_accounted(text: str, result: ParseResult) -> None:
    """Every line is in exactly one record span, or unparsed, or blank."""
    lines = split_lines(text.encode()).frame
    owner: dict[int, str] = {}
    for row in result.events.select("line", "n_lines").iter_rows():
        for number in range(row[0], row[0] + row[1]):
            assert number not in owner, f"line {number} in two records"
            owner[number] = "record"
    for number in result.unparsed["line"].to_list():
        assert number not in owner, f"line {number} both recorded and unparsed"
        owner[number] = "unparsed"
    for number, raw in lines.iter_rows():
        if number not in owner:
            assert raw.strip() == "", f"line {number} neither recorded nor unparsed: {raw!r}"
    assert set(owner) <= set(lines["line"].to_list())


def expected_ts(value: Any) -> datetime:
    """The instant a printed zap ts denotes, computed with the standard library."""
    if isinstance(value, float | int):
        micros = round(value * 1_000_000)
        return datetime.fromtimestamp(micros // 1_000_000, UTC).replace(microsecond=micros % 1_000_000)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def test_real_lines_decode_with_expected_fields() -> None:
    """Every captured real JSON line decodes to its documented level, time, message, logger and fields."""
    for entry in map(json.loads, REALINES.read_text().splitlines()):
        expect = entry["expect"]
        result = parse_text(entry["line"])
        validate_events(result.events)
        assert result.unparsed.height == 0
        event = result.events.row(0, named=True)
        assert event["level"] == LEVELS[expect["level"]]
        assert event["ts"] == expected_ts(expect["ts"])
        assert event["message"] == expect["message"]
        assert event["logger"] == expect.get("logger")
        assert json.loads(event["attrs"]) == expect["fields"]
        assert list(json.loads(event["attrs"])) == list(expect["fields"])
        decoded = zap_json.decode_rows(pl.DataFrame({"t": [entry["line"]]}), "t")
        assert decoded["caller"][0] == expect.get("caller")


def test_reference_lines_decode() -> None:
    """The verbatim JSON lines of the format reference decode with their correlation ID and event type."""
    result = parse_text("\n".join(REFERENCE_LINES))
    events = result.events
    assert result.unparsed.height == 0
    assert events["correlation_id"].to_list() == ["audit-test-rr-04", None, None]
    assert events["event_type"].to_list() == ["signalprocessing.phase.transition", None, None]
    assert events["msg_key"].to_list() == [
        "Event buffered successfully",
        "Timer tick received",
        "Dropping audit batch due to non-retryable error (invalid data)",
    ]
    assert events["ts_precision"].to_list() == ["s", "s", "s"]
    assert json.loads(events["attrs"][2]) == {"batch_size": 8, "is_4xx_error": True}
    assert result.facts["utc_offsets"] == {-18000: 3}


def test_mixed_file_folds_stack_traces_and_reports_unparsed() -> None:
    """A JSON log mixing console lines, a stack trace, blanks, a broken record and text is accounted for."""
    result = parse_text(MIXED)
    validate_events(result.events)
    assert_accounted(MIXED, result)
    events = result.events
    assert events["line"].to_list() == [1, 3, 10]
    assert events["n_lines"].to_list() == [1, 5, 1]
    assert result.unparsed["line"].to_list() == [8, 9]
    error = events.row(1, named=True)
    assert (error["level"], error["logger"], error["message"]) == (
        "error",
        "datastorage",
        "Batch database write failed",
    )
    attrs = json.loads(error["attrs"])
    assert attrs["count"] == 8
    assert attrs["stacktrace"].splitlines()[0].endswith("handleCreateAuditEventsBatch")
    assert attrs["stacktrace"].count("\n") == 3
    tick = events.row(2, named=True)
    assert (tick["level"], tick["ts_precision"], tick["msg_key"]) == (
        "trace",
        "ms",
        "Timer tick (no events to flush)",
    )
    assert tick["ts"] == datetime(2026, 1, 30, 13, 18, 55, 500000, tzinfo=UTC)
    assert result.facts["utc_offsets"] == {0: 2}


def test_decode_rows_tells_which_rows_did_not_decode() -> None:
    """decode_rows keeps every input row, decodes the zap ones and flags the rest."""
    rows = pl.DataFrame(
        {"t": [REFERENCE_LINES[0], "plain text", '{"level":"info",', '{"level":"warn","msg":"m"}']}
    )
    out = zap_json.decode_rows(rows, "t")
    assert out.height == 4
    assert out["decoded"].to_list() == [True, False, False, True]
    assert out["level"].to_list() == ["info", None, None, "warn"]
    assert out["ts"][3] is None


_scalar = st.one_of(st.integers(-(10**6), 10**6), st.booleans(), st.text(max_size=20), st.none())
_fields = st.dictionaries(
    st.from_regex(r"[a-z][a-z_]{0,12}", fullmatch=True).filter(
        lambda k: k not in {"level", "ts", "logger", "caller", "msg"}
    ),
    _scalar,
    max_size=5,
)


@settings(max_examples=60, deadline=None)
@given(
    level=st.sampled_from(sorted(LEVELS)),
    epoch=st.floats(1.6e9, 1.8e9),
    iso=st.booleans(),
    logger=st.from_regex(r"[a-z][a-z.-]{0,15}", fullmatch=True),
    msg=st.text(max_size=40),
    fields=_fields,
)
def test_generated_records_round_trip(
    level: str, epoch: float, iso: bool, logger: str, msg: str, fields: dict[str, Any]
) -> None:
    """A generated zap JSON record decodes back to its level, time, logger, message and fields in order."""
    when = datetime.fromtimestamp(round(epoch, 3), UTC)
    ts: Any = when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" if iso else epoch
    record = {"level": level, "ts": ts, "logger": logger, "msg": msg, **fields}
    line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    result = parse_text(line)
    validate_events(result.events)
    assert result.unparsed.height == 0
    event = result.events.row(0, named=True)
    assert event["level"] == LEVELS[level]
    assert abs((event["ts"] - expected_ts(ts)).total_seconds()) < 1e-6
    assert (event["logger"], event["message"]) == (logger, msg)
    assert list(json.loads(event["attrs"]).items()) == list(fields.items())


_fragments = st.sampled_from(
    [
        "",
        "{",
        "}",
        '{"level":',
        '"msg":"x"',
        "\t",
        "  ",
        "2026-01-14T15:24:53.447Z",
        "INFO",
        "\tmain.go:1",
        "main.main",
        '{"a":1}',
        "\\",
        '"',
        "é✅",
    ]
)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.one_of(_fragments, st.text(max_size=12)), max_size=6).map("".join), max_size=12))
def test_arbitrary_text_never_raises_and_is_accounted(rows: list[str]) -> None:
    """Any text parses without error, passes the schema check, and each line is accounted for once."""
    text = "\n".join(row.replace("\r", "").replace("\n", "") for row in rows)
    result = parse_text(text)
    validate_events(result.events)
    assert_accounted(text, result)


def test_an_epoch_time_out_of_range_loses_its_time_not_its_file() -> None:
    """A record whose epoch `ts` no instant can hold keeps its fields without a time; its neighbours parse."""
    text = "\n".join(
        [
            '{"level":"info","ts":1769779135.5,"logger":"audit-store","msg":"Timer tick received"}',
            '{"level":"info","ts":9223372036855,"logger":"audit-store","msg":"Event buffered successfully"}',
            '{"level":"info","ts":-1e300,"logger":"audit-store","msg":"Event buffered successfully"}',
        ]
    )
    result = parse_text(text)
    assert_accounted(text, result)
    assert result.unparsed.is_empty()
    events = result.events
    assert events["msg_key"].to_list() == ["Timer tick received", *["Event buffered successfully"] * 2]
    assert events["ts"].to_list() == [datetime(2026, 1, 30, 13, 18, 55, 500000, tzinfo=UTC), None, None]
