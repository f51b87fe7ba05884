"""Every generated line is one the real programs could print: messages, keys and their order, levels,
timestamp shapes and file names (checked against store.go at 76f12b574, DataStorage at a59c5629e,
Ginkgo v2.27.2 and the format reference)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

# Store messages at Info/Error in the SP integration suite, with their keys in call order (store.go).
STORE_KEYS: dict[str, list[str]] = {
    "Audit store initialized": ["service", "buffer_size", "batch_size", "flush_interval", "max_retries"],
    "🔍 StoreAudit called": [
        "event_type",
        "event_action",
        "correlation_id",
        "buffer_capacity",
        "buffer_current_size",
    ],
    "✅ Validation passed, attempting to buffer event": ["event_type", "buffer_size_before"],
    "✅ Event buffered successfully": ["event_type", "correlation_id", "buffer_size_after", "total_buffered"],
    "Audit buffer full, event dropped": ["event_type", "correlation_id", "buffered_count", "dropped_count"],
    "Closing audit store, flushing remaining events": [],
    "Audit store closed": ["buffered_count", "written_count", "dropped_count", "failed_batch_count"],
    "🚀 Audit background writer started": ["flush_interval", "batch_size", "buffer_size", "start_time"],
    "✅ Shutdown flush completed": ["flushed_count"],
    "🛑 Audit background writer stopped": ["total_runtime", "total_ticks"],
    "⏰ Timer tick received": [
        "tick_number",
        "batch_size_before_flush",
        "buffer_utilization",
        "expected_interval",
        "actual_interval",
        "drift",
        "tick_time",
    ],
    "🚨 TIMER BUG DETECTED: Tick interval significantly exceeded expected": [
        "expected_interval",
        "actual_interval",
        "drift",
        "drift_multiplier",
        "stacktrace",
    ],
    "Failed to write audit batch": ["attempt", "batch_size", "error", "stacktrace"],
    "Dropping audit batch due to non-retryable error (invalid data)": [
        "batch_size",
        "is_4xx_error",
        "stacktrace",
    ],
    "AUDIT DATA LOSS: Dropping batch after max retries (infrastructure unavailable)": [
        "batch_size",
        "max_retries",
        "error_type",
        "mitigation",
        "error",
        "stacktrace",
    ],
    "⚠️  Slow audit batch write detected": ["batch_size", "write_duration", "warning", "stacktrace"],
}
RFC3339_S = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")
RFC3339_NANO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?([-+]\d\d:\d\d|Z)$")
DS_CONSOLE = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\t\x1b\[3[14]m(INFO|ERROR)\x1b\[0m\t(datastorage[\w.-]*)\t"
    r"([\w/]+\.go:\d+)\t([^\t]+)(\t\{.*\})?$"
)
DS_KEYS: dict[str, list[str]] = {
    "HTTP request": ["request_id", "method", "path", "remote_addr", "status", "bytes", "duration"],
    "Batch audit events created with hash chains": ["count", "correlation_ids"],
    "Batch audit events created successfully": ["count", "duration_seconds"],
    "Audit events queried successfully": ["count", "total", "limit", "offset"],
    "Request validation failed": ["method", "path", "operation_id", "error"],
    "Batch database write failed": ["count", "duration_seconds", "error"],
    "PostgreSQL connection established": ["max_open_conns", "max_idle_conns"],
}
PG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \S+) \[(\d+)\] ([A-Z]+):  (.*)$")
REDIS_LINE = re.compile(r"^\d+:[CMSX] \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} [*#.-] .+$")
CONTROLLER = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d\t(DEBUG|INFO|ERROR)\t[^\t]+\t\{.*\}$")
STEP = re.compile(r"^  STEP: .+ @ \d\d/\d\d/\d\d \d\d:\d\d:\d\d(\.\d{1,3})?$")


def _files(bundle: Path, pattern: str) -> list[Path]:
    return sorted(bundle.rglob(pattern))


def _store_records(test_log: Path) -> list[dict[str, Any]]:
    records = []
    for line in test_log.read_text(encoding="utf-8").splitlines():
        if line.startswith('  {"level":'):
            records.append(
                json.loads(line[2:], object_pairs_hook=lambda pairs: dict(pairs) | {"_keys": pairs})
            )
    return records


def test_bundle_layout_uses_real_names(small_bundle: tuple[Path, dict[str, Any]]) -> None:
    """The run dir, double-prefixed container files and CI test log carry the real names."""
    bundle, truth = small_bundle
    run_dir = bundle / truth["bundle"]["run_dir"]
    assert re.fullmatch(r"signalprocessing-integration-\d{8}-\d{6}", run_dir.name)
    names = sorted(p.name for p in run_dir.iterdir())
    assert names == sorted(
        f"signalprocessing_signalprocessing_{c}_test{suffix}"
        for c in ("datastorage", "postgres", "redis")
        for suffix in (".log", "_inspect.json")
    )
    assert (bundle / "integration-signalprocessing.log").is_file()
    assert not any(p.name.endswith(".expected.json") for p in bundle.rglob("*"))


def test_store_lines_have_real_messages_keys_and_levels(fault_bundle: tuple[Path, dict[str, Any]]) -> None:
    """Each store JSON line is a catalogued Info/Error message with its keys in store.go's order."""
    bundle, _ = fault_bundle
    records = _store_records(bundle / "integration-signalprocessing.log")
    assert len(records) > 100
    seen = set()
    for rec in records:
        keys = [k for k, _ in rec["_keys"]]
        assert keys[:2] == ["level", "ts"]
        assert RFC3339_S.match(rec["ts"])
        msg = rec["msg"]
        seen.add(msg)
        assert msg in STORE_KEYS, msg
        header = (
            ["level", "ts", "msg"] if msg == "Audit store initialized" else ["level", "ts", "logger", "msg"]
        )
        assert keys == header + STORE_KEYS[msg], msg
        assert rec["level"] == ("error" if "stacktrace" in keys else "info")
        if msg == "⏰ Timer tick received":
            assert RFC3339_NANO.match(rec["tick_time"])
            assert rec["expected_interval"] == 0.1
    assert {"⏰ Timer tick received", "✅ Event buffered successfully", "Failed to write audit batch"} <= seen


def test_datastorage_console_lines_are_well_formed(fault_bundle: tuple[Path, dict[str, Any]]) -> None:
    """DataStorage lines are coloured zap console records with caller, known keys and Go stack frames."""
    bundle, _ = fault_bundle
    (log,) = _files(bundle, "*_datastorage_test.log")
    messages = set()
    for line in log.read_text(encoding="utf-8").splitlines():
        if line.startswith(("\t", "github.com/", "net/http.")):
            continue  # development-mode stack trace under an Error record
        m = DS_CONSOLE.match(line)
        assert m, line
        msg = m.group(5)
        messages.add(msg)
        if msg in DS_KEYS and m.group(6):
            keys = list(json.loads(m.group(6).strip()).keys())
            assert keys == DS_KEYS[msg], msg
    assert {
        "HTTP request",
        "Batch audit events created with hash chains",
        "Request validation failed",
    } <= messages
    assert "Batch database write failed" in messages


def test_postgres_and_redis_lines_match_their_formats(small_bundle: tuple[Path, dict[str, Any]]) -> None:
    """Prefixed PostgreSQL lines match the reference regex and Redis lines the Redis format."""
    bundle, _ = small_bundle
    (pg,) = _files(bundle, "*_postgres_test.log")
    text = pg.read_text(encoding="utf-8")
    prefixed = [line for line in text.splitlines() if line[:2] == "20"]
    assert all(PG_LINE.match(line) for line in prefixed)
    assert 'FATAL:  database "slm_user" does not exist' in text
    assert 'ERROR:  role "slm_user" already exists' in text
    assert "PostgreSQL init process complete; ready for start up." in text
    (redis,) = _files(bundle, "*_redis_test.log")
    lines = redis.read_text(encoding="utf-8").splitlines()
    assert all(REDIS_LINE.match(line) for line in lines)
    assert lines[-1].endswith("* Ready to accept connections tcp")


def test_inspect_json_has_the_fields_triage_reads(small_bundle: tuple[Path, dict[str, Any]]) -> None:
    """Inspect files are one-element arrays with State.Health, Config.Env credentials and Ports."""
    bundle, _ = small_bundle
    (ds,) = _files(bundle, "*_datastorage_test_inspect.json")
    doc = json.loads(ds.read_text(encoding="utf-8"))[0]
    assert doc["State"]["Running"] is True
    assert (
        doc["State"]["Health"]["Log"][0]["Output"]
        == "/bin/sh: line 1: [/usr/bin/curl,: No such file or directory"
    )
    assert any(e.startswith("DATABASE_URL=postgres://slm_user:") for e in doc["Config"]["Env"])
    assert doc["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"] == "18094"
    (pg,) = _files(bundle, "*_postgres_test_inspect.json")
    pg_doc = json.loads(pg.read_text(encoding="utf-8"))[0]
    assert "POSTGRES_PASSWORD=slm_password" in pg_doc["Config"]["Env"]
    assert pg_doc["ImageName"] == "docker.io/library/postgres:16-alpine"


def test_ginkgo_log_lines_follow_the_default_reporter(small_bundle: tuple[Path, dict[str, Any]]) -> None:
    """Every test-log line is reporter framing, a STEP, or indented GinkgoWriter output."""
    bundle, _ = small_bundle
    lines = (bundle / "integration-signalprocessing.log").read_text(encoding="utf-8").splitlines()
    framing = re.compile(
        r"^(-{30}|• \[\d+\.\d{3} seconds\]|• \[(FAILED|INTERRUPTED|TIMEDOUT)\] \[\d+\.\d{3} seconds\]|"
        r"P \[PENDING\]|\[Synchronized(Before|After)Suite\] (PASSED \[\d+\.\d{3} seconds\])?|"
        r"/Users/\S+\.go:\d+|S+|Running Suite: .+|=+|Random Seed: \d+|Will run \d+ of \d+ specs|"
        r"Running in parallel across \d+ processes|Ran \d+ of \d+ Specs in \d+\.\d{3} seconds|"
        r"(SUCCESS!|FAIL!)( - .+)? -- \d+ Passed \| \d+ Failed \| \d+ Pending \| \d+ Skipped|"
        r"Ginkgo ran 1 suite in .+s|Test Suite (Passed|Failed)|Summarizing \d+ Failures?:|"
        r"  << Timeline|  Timeline >>|/Users/\S+/bin/ginkgo .+|)$"
    )
    for prev, line in zip(["", *lines], lines, strict=False):
        if framing.match(line) or STEP.match(line) or line.startswith("  "):
            assert not (line == "-" * 30 and prev == "-" * 30)
            continue
        # the hierarchy line under a header: container texts and the leaf text
        assert prev.startswith(("•", "P [PENDING]")), line
    body = [line[2:] for line in lines if line.startswith("  20") and "\t" in line]
    assert body and all(CONTROLLER.match(line) for line in body)
