"""Line encoders reproduce verbatim captured lines byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

from triage.simulate.formats import Dur, console_line, json_line

REALINES = Path("/work/shared/realines")


def _real(name: str, contains: str) -> str:
    for row in (REALINES / name).read_text(encoding="utf-8").splitlines():
        line: str = json.loads(row)["line"]
        if contains in line:
            return line
    raise AssertionError(f"no line with {contains!r} in {name}")


def test_buffered_line_matches_capture() -> None:
    """The store's buffered line has the captured key order and spelling."""
    want = _real("zap_json.jsonl", '"total_buffered":29')
    got = json_line(
        "info",
        "2026-01-14T20:48:44-05:00",
        "audit-store",
        "",
        "✅ Event buffered successfully",
        (
            ("event_type", "signalprocessing.phase.transition"),
            ("correlation_id", "audit-test-rr-04"),
            ("buffer_size_after", 1),
            ("total_buffered", 29),
        ),
    )
    assert got == want


def test_tick_line_matches_capture() -> None:
    """The timer tick line's durations and tick_time render as in the captured line."""
    want = _real("zap_json.jsonl", '"tick_number":3')
    got = json_line(
        "info",
        "2026-01-15T21:04:07-05:00",
        "audit-store",
        "",
        "⏰ Timer tick received",
        (
            ("tick_number", 3),
            ("batch_size_before_flush", 8),
            ("buffer_utilization", 0),
            ("expected_interval", Dur(1_000_000)),
            ("actual_interval", Dur(1_000_908, 875)),
            ("drift", Dur(908, 875)),
            ("tick_time", "2026-01-15T21:04:07.516650875-05:00"),
        ),
    )
    assert got == want


def test_failed_write_line_puts_error_after_fields() -> None:
    """zapr appends `error` after the call's key/value pairs, as in the captured 400 line."""
    want = _real("zap_json.jsonl", "Failed to write audit batch")
    got = json_line(
        "error",
        "2026-01-15T21:04:07-05:00",
        "audit-store",
        "",
        "Failed to write audit batch",
        (("attempt", 1), ("batch_size", 8)),
        "Data Storage Service returned status 400: HTTP 400 error from Data Storage API",
    )
    assert got == want


def test_console_line_matches_reference() -> None:
    """DataStorage's console line (colour stripped) matches the reference's verbatim line."""
    want = (
        "2026-01-14T19:35:01.592Z\tINFO\tdatastorage\tserver/server.go:157\t"
        "PostgreSQL connection established\t"
        '{"max_open_conns": 100, "max_idle_conns": 50, '
        '"conn_max_lifetime": "5m", "conn_max_idle_time": "10m"}'
    )
    got = console_line(
        "2026-01-14T19:35:01.592Z",
        "INFO",
        "datastorage",
        "server/server.go:157",
        "PostgreSQL connection established",
        (
            ("max_open_conns", 100),
            ("max_idle_conns", 50),
            ("conn_max_lifetime", "5m"),
            ("conn_max_idle_time", "10m"),
        ),
    )
    assert got == want
    coloured = console_line("t", "INFO", "datastorage", "c.go:1", "m", (), colour=True)
    assert coloured == "t\t\x1b[34mINFO\x1b[0m\tdatastorage\tc.go:1\tm"
