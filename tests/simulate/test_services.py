"""The current era, the services besides SignalProcessing, the test patterns and each failed spec's cause."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from triage.simulate import simulate
from triage.simulate.services import SERVICES, get_service

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "bundles"
PER_EVENT = ("StoreAudit called", "Validation passed", "Event buffered successfully", "Timer tick received")


def _run(tmp: Path, name: str, **knobs: Any) -> tuple[Path, dict[str, Any], str, str]:
    out = tmp / name
    truth = json.loads(simulate(knobs.pop("scenario", "healthy"), out, **knobs).read_text(encoding="utf-8"))
    test_log = (out / truth["bundle"]["test_log"]).read_text(encoding="utf-8")
    ds = next((out / truth["bundle"]["run_dir"]).glob("*datastorage*.log")).read_text(encoding="utf-8")
    return out, truth, test_log, ds


def _store_messages(text: str) -> list[str]:
    return [
        json.loads(line.strip())["msg"]
        for line in text.splitlines()
        if line.strip().startswith("{") and '"logger":"audit-store"' in line
    ]


def _failed(truth: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in truth["tests"]["specs"] if s["state"] == "failed"]


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
def test_current_era_prints_no_per_event_store_line(tmp_path: Path, service: str) -> None:
    """In the current era the test log has no buffered, validation or tick lines, yet keeps the rest."""
    _, truth, log, ds = _run(
        tmp_path, service, seed=3, specs=10, era="current", service=service, fail_fast=False
    )
    messages = _store_messages(log)
    assert not [m for m in messages if any(p in m for p in PER_EVENT)]
    assert "Audit store closed" in messages and "🚀 Audit background writer started" in messages
    # the controller's phase lines remain
    assert re.search(r"\tDEBUG\tProcessing \w+ phase\t|\tINFO\t🔍 PHASE TRANSITION LOGIC START\t", log)
    assert " --race " in log.splitlines()[0] and " --keep-going " in log.splitlines()[0]
    assert "Batch audit events created successfully" in ds
    assert all('"user":' in line for line in ds.splitlines() if '"msg":"HTTP request"' in line)
    assert sum(s["buffered"] for s in truth["stores"]) > 0


def test_older_eras_keep_their_store_lines(tmp_path: Path) -> None:
    """January keeps every per-event line; later drops them but its DataStorage requests name no user."""
    _, _, january, _ = _run(tmp_path, "jan", seed=3, specs=10, era="january")
    assert "✅ Event buffered successfully" in _store_messages(january)
    _, _, later, ds = _run(tmp_path, "later", seed=3, specs=10, era="later")
    assert not [m for m in _store_messages(later) if "buffered successfully" in m]
    assert '"msg":"HTTP request"' in ds and '"user":' not in ds


@pytest.mark.parametrize("service", ["remediationorchestrator", "notification"])
def test_each_service_writes_its_own_events_names_and_ports(tmp_path: Path, service: str) -> None:
    """A service's run uses its own event types, controller, containers, ports and suite paths only."""
    svc = get_service(service)
    out, truth, log, _ = _run(tmp_path, service, seed=5, specs=12, service=service)
    types = {e["event_type"] for e in truth["events"]}
    lifecycle = {t for _, ts in svc.lifecycle for t in ts}
    assert types and types <= lifecycle
    assert "signalprocessing." not in log and "signalprocessing-controller" not in log
    if svc.reconcile_lines == "controller-runtime":
        assert f'"controller": "{svc.controller}"' in log and f"\tDEBUG\tReconciling {svc.kind}\t" in log
    else:
        assert "\tINFO\t🔍 RECONCILE START DEBUG\t" in log and "\tDEBUG\tReconciling" not in log
    assert f"/test/integration/{service}/" in log
    assert f"Data Storage API (port {svc.port('datastorage')})" in log
    files = [p.name for p in (out / truth["bundle"]["run_dir"]).iterdir()]
    assert all(name.startswith(f"{service}_") for name in files) and len(files) == 6
    assert f'"service":"{service}"' in log or f'"service": "{service}"' in log


def test_helpers_print_as_each_service_prints(tmp_path: Path) -> None:
    """Per query SP prints `✅ Found`, RemediationOrchestrator `Query successful`, Notification nothing."""
    _, _, sp, _ = _run(tmp_path, "sp", seed=2, specs=10)
    assert re.search(
        r"✅ Found \d+ event\(s\) for signalprocessing\.\S+ \(correlation_id=audit-test-rr-0\d\)", sp
    )
    _, truth, ro, _ = _run(tmp_path, "ro", seed=2, specs=10, service="remediationorchestrator")
    queried = {q["correlation_id"] for q in truth["queries"]}
    assert re.search(
        r"✅ Query successful: found \d+ events \(correlation=rr-[a-z-]+, type=orchestrator\.", ro
    )
    assert all(f"correlation={cid}," in ro for cid in queried)
    _, truth, nt, _ = _run(tmp_path, "nt", seed=2, specs=10, service="notification", era="current")
    assert truth["queries"] and not any(q["correlation_id"] in nt for q in truth["queries"])
    assert "Query successful" not in nt and "No events yet" not in nt


def test_eventually_with_a_value_queries_once_and_fails_on_the_stale_count() -> None:
    """The eventually-value spec queries DataStorage once; its failure is a race, counted before the write."""
    truth = json.loads((ROOT / "11-current-format.expected.json").read_text(encoding="utf-8"))
    (failed,) = _failed(truth)
    cid = failed["correlation_ids"][0]
    queries = [q for q in truth["queries"] if q["correlation_id"] == cid]
    assert len(queries) == 1 and failed["cause"] == "flush-query-race"
    written = [e["written_at"] for e in truth["events"] if e["correlation_id"] == cid and e["written_at"]]
    assert any(w > queries[0]["at"] for w in written)


def test_count_mismatch_bundle_records_each_true_cause() -> None:
    """Extra events of the spec's own resource or another spec's, and a missing event, get their causes."""
    truth = json.loads((ROOT / "12-count-mismatch.expected.json").read_text(encoding="utf-8"))
    causes = {s["cause"]: s for s in _failed(truth)}
    assert set(causes) == {"duplicate-events", "shared-correlation-id", "missing-events"}
    shared = causes["shared-correlation-id"]["correlation_ids"][0]
    owners = [s for s in truth["tests"]["specs"] if shared in s["correlation_ids"]]
    assert len(owners) == 2
    dup = causes["duplicate-events"]["correlation_ids"][0]
    assert len([e for e in truth["events"] if e["correlation_id"] == dup]) == 3  # two channels, one twice
    # The suite's queries print no correlation ID here: the counts are asked of the run, not of their IDs.
    must = {(m["rule"], m["correlation_id"]) for m in truth["findings"]["must"]}
    listed = must | {(m["rule"], m["correlation_id"]) for m in truth["findings"]["must_not"]}
    assert ("unexpected-event-count", None) in must
    assert not {("unexpected-event-count", s["correlation_ids"][0]) for s in causes.values()} & listed
    assert all(s["cause"] is None or s["state"] == "failed" for s in truth["tests"]["specs"] if "cause" in s)


def test_flush_stuck_piles_events_up_and_close_times_out() -> None:
    """A hung writer: hundreds buffered, dozens written, Flush() and Close() time out, no closing counters."""
    truth = json.loads((ROOT / "10-flush-stuck.expected.json").read_text(encoding="utf-8"))
    buffered = sum(s["buffered"] for s in truth["stores"])
    written = sum(s["written"] for s in truth["stores"])
    assert buffered >= 200 and 10 <= written <= buffered // 3
    assert not any(s["closed"] for s in truth["stores"])
    log = (ROOT / "10-flush-stuck" / truth["bundle"]["test_log"]).read_text(encoding="utf-8")
    assert "Timeout waiting for audit store to close" in log and '"msg":"Audit store closed"' not in log
    assert "⚠️ Flush warning (non-fatal, Eventually will retry): flush timeout" in log
    assert {s["cause"] for s in _failed(truth)} == {"unflushed-events"}
    assert {"rule": "unflushed-events", "correlation_id": None} in truth["findings"]["must"]


def test_faults_combine_and_a_serial_run_still_shares_correlation_ids(tmp_path: Path) -> None:
    """On one process, a filler that ran before the audit spec lends its events to that spec's count."""
    _, truth, _, _ = _run(
        tmp_path,
        "serial",
        seed=12,
        processes=1,
        specs=14,
        service="notification",
        faults=("shared-correlation", "slow-writes"),
        fail_fast=False,
    )
    shared = "test-remediation-correlation"
    owners = [s for s in truth["tests"]["specs"] if shared in s["correlation_ids"]]
    assert len(owners) == 2
    audit = next(s for s in owners if "correlation ID" in s["name"])
    assert audit["state"] == "failed" and audit["cause"] == "shared-correlation-id"


def test_timer_stall_starves_the_writer_of_any_service(tmp_path: Path) -> None:
    """The timer-stall fault starves a store in any service: writes wait out the stall, ticks report it."""
    for service in ("remediationorchestrator", "notification"):
        _, truth, log, _ = _run(
            tmp_path, service, seed=4, specs=8, service=service, faults=("timer-stall",), stall_seconds=6.0
        )
        waits = [
            datetime.fromisoformat(e["written_at"]) - datetime.fromisoformat(e["buffered_at"])
            for e in truth["events"]
            if e["written_at"]
        ]
        assert max(waits) >= timedelta(seconds=5.9), service
        if service == "remediationorchestrator":  # its tests never flush, so the late tick is measured
            assert "🚨 TIMER BUG DETECTED: Tick interval significantly exceeded expected" in log
            assert {"rule": "timer-stall", "correlation_id": None} in truth["findings"]["must"]
