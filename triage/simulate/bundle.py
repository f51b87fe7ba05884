"""simulate(): run the model and write the bundle and its ground truth, streaming to files."""

from __future__ import annotations

import math
import random
import shutil
from collections.abc import Generator
from dataclasses import replace
from pathlib import Path
from typing import Any

from triage.simulate.catalogue import SpecDef
from triage.simulate.datastorage import DataStorage, DsConfig
from triage.simulate.ginkgo import GinkgoLog, SuiteHeader
from triage.simulate.infra import postgres_log, redis_log
from triage.simulate.inspect import ContainerState, inspect_json
from triage.simulate.kernel import Sim
from triage.simulate.knobs import Knobs
from triage.simulate.layout import CONTAINERS, BundleNames
from triage.simulate.reports import Report
from triage.simulate.runner import Layout, Proc, Runner
from triage.simulate.scenarios import get_scenario
from triage.simulate.services import Service, get_service
from triage.simulate.timefmt import SECOND, local_stamp, offset_text, utc_iso_micros
from triage.simulate.truth import EventSpill, findings, mark_races, spec_cause, write_truth

BYTES_PER_EXTRA_SPEC = 19_000  # measured: bundle growth per added passing spec (3 processes)
BYTES_PER_DEBUG_LINE_PER_SPEC = 3_000  # measured: what each debug_lines adds to such a spec


def simulate(scenario: str, outdir: Path, *, seed: int | None = None, **knobs: Any) -> Path:
    """Simulate a run and write its must-gather bundle into `outdir`, truth beside it.

    Args:
        scenario: A scenario name from SCENARIOS (CLI or fixture name).
        outdir: The bundle directory (created; must be empty or absent).
        seed: Random seed; the scenario's fixture seed when None.
        **knobs: Knob overrides (see Knobs).

    Returns:
        The path of `<outdir>.expected.json`.

    Raises:
        KnobError: For an unknown scenario or knob, or an unusable value.
    """
    sc = get_scenario(scenario)
    k = sc.knobs.with_overrides(**knobs)
    run_seed = sc.seed if seed is None else seed
    outdir.mkdir(parents=True, exist_ok=True)
    truth_path = outdir.parent / (outdir.name + ".expected.json")
    work = outdir / ".work"
    work.mkdir(exist_ok=True)
    try:
        _run(sc.name, k, run_seed, sc.start_us, sc.utc_offset_minutes, outdir, work, truth_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return truth_path


def _queue(k: Knobs, rng: random.Random) -> tuple[list[SpecDef], int]:
    catalogue = get_service(k.service).catalogue
    chosen = [s for s in catalogue if s.kind in ("audit", "severity-audit", "audit-check") or s.pending]
    chosen += [s for s in catalogue if s not in chosen][: max(0, k.specs - len(chosen))]
    chosen = [s for s in catalogue if s in chosen][: k.specs] if k.specs < len(chosen) else chosen
    extra = 0
    if k.size_mb > 0:
        per_spec = BYTES_PER_EXTRA_SPEC + k.debug_lines * BYTES_PER_DEBUG_LINE_PER_SPEC
        extra = max(0, math.ceil(k.size_mb * 1_000_000 / per_spec) - len(chosen))
        fillers = [s for s in catalogue if s.kind in ("sp", "plain") and not s.serial]
        for i in range(extra):
            base = fillers[i % len(fillers)]
            chosen.append(replace(base, text=f"{base.text} [soak {i + 1:06d}]"))
    groups: dict[str, list[SpecDef]] = {}
    for spec in sorted(chosen, key=lambda s: (s.file, s.line, s.text)):
        groups.setdefault(spec.containers[0], []).append(spec)
    order = sorted(groups)
    rng.shuffle(order)  # Ginkgo randomizes top-level containers with the suite's seed
    return [s for name in order for s in groups[name]], len(chosen)


def _run(
    name: str, k: Knobs, seed: int, start: int, offset: int, outdir: Path, work: Path, truth_path: Path
) -> None:
    rng = random.Random(seed)
    svc = get_service(k.service)
    names = BundleNames(svc.name, k.naming, k.test_log)
    queue, total = _queue(k, rng)
    sim = Sim(start)
    ds_up = start + int((95 if k.processes >= 8 else 38) * SECOND + rng.uniform(0, 4) * SECOND)
    cfg = DsConfig(
        port=svc.port("datastorage"),
        latency_ms=k.ds_latency_ms,
        era=k.era,
        up_at=ds_up,
        never_up=k.has("datastorage-down"),
        skew_us=k.clock_skew_us,
    )
    ds_file = (work / "datastorage.log").open("w", encoding="utf-8")
    ds = DataStorage(sim, cfg, random.Random(rng.random()), ds_file.write)
    test_file = (work / "test.log").open("w", encoding="utf-8")
    glog = GinkgoLog(test_file.write, offset)
    spill = EventSpill(work)
    timing: dict[str, int] = {}

    def collect(t_us: int) -> str:
        return names.run_dir(local_stamp(t_us, offset, "%Y%m%d-%H%M%S"))

    layout = Layout(
        names.service,
        tuple(names.container(c) for c in CONTAINERS),
        names.container(k.missing_container) if k.missing_container else "",
    )
    runner = Runner(sim, k, rng, ds, offset, queue, spill.add, layout, collect, glog.report)
    current = k.era == "current"
    glog.preamble(
        [
            f"{svc.suite_dir.rsplit('/test/', 1)[0]}/bin/ginkgo -v"
            + (" --race --coverprofile=coverage_integration_" + names.service + ".out" if current else "")
            + f" --timeout=15m --procs={k.processes}"
            + (" --fail-fast" if k.fail_fast else (" --keep-going" if current else ""))
            + f" ./test/integration/{names.service}/..."
        ]
    )
    pending = sum(1 for s in queue if s.pending)
    glog.begin(
        SuiteHeader(
            svc.suite_description, svc.suite_dir, 1768000000 + seed, total - pending, total, k.processes
        )
    )

    def infra(proc: Proc) -> Generator[Any, Any, None]:
        yield from _infra(sim, proc, ds, rng, k, timing, svc)

    runner.start(infra)
    sim.run()
    for proc in runner.procs:
        proc.store.finish()
    mark_races(runner.reports, runner.watched)
    queries = [q for r in runner.reports for q in r.queries]
    counts = _counts(runner.reports)
    run_s = (runner.end_at - start) / SECOND
    reason = "Interrupted by Other Ginkgo Process" if runner.abort_at is not None else ""
    glog.end(
        counts["passed"] + counts["failed"],
        total,
        run_s,
        counts,
        reason,
        runner.end_at - start + int(rng.uniform(1.5, 3.5) * SECOND),
    )
    test_file.close()
    ds_file.close()
    _write_bundle(outdir, work, names, runner, ds, k, rng, timing, offset)
    _write_truth(truth_path, name, seed, k, offset, names, runner, ds, spill, queries, counts, timing)
    spill.cleanup()


def _infra(
    sim: Sim,
    proc: Proc,
    ds: DataStorage,
    rng: random.Random,
    k: Knobs,
    timing: dict[str, int],
    svc: Service,
) -> Generator[Any, Any, None]:
    ports = dict(svc.ports)
    bar = "━" * 60
    proc.step("Cleaning up stale containers from previous runs")
    yield int(rng.uniform(0.8, 2.0) * SECOND)
    proc.gw(sim.now, "✅ Stale containers cleaned up")
    for line in (
        bar,
        f"{svc.title} Integration Test Suite - Automated Setup",
        bar,
        "Creating test infrastructure...",
        "  • envtest (in-memory K8s API server)",
        f"  • PostgreSQL (port {ports['postgres']})",
        f"  • Redis (port {ports['redis']})",
        f"  • Data Storage API (port {ports['datastorage']})",
        bar,
    ):
        proc.gw(sim.now, line)
    proc.step(f"Starting {svc.title} integration infrastructure (DD-TEST-002)")
    yield int(rng.uniform(1, 2) * SECOND)
    timing["postgres"] = sim.now
    yield int(rng.uniform(1, 2) * SECOND)
    timing["redis"] = sim.now
    checks = []
    for _ in range(rng.randrange(2, 4)):
        yield int(rng.uniform(1, 1.2) * SECOND)
        checks.append(sim.now)
    timing["health_checks"] = len(checks)
    for i, t in enumerate(checks):
        timing[f"health_{i}"] = t
    yield int(rng.uniform(0.5, 1) * SECOND)
    timing["migrate"] = sim.now
    timing["datastorage"] = max(sim.now + SECOND, ds.cfg.up_at - int(1.6 * SECOND))
    yield max(0, timing["datastorage"] - sim.now)
    sim.spawn(ds.boot(f"host.containers.internal:{ports['redis']}", ports["postgres"]))
    healthy = False
    for _ in range(15):
        yield 2 * SECOND
        healthy = yield from ds.health_check(f"10.89.0.1:{rng.randrange(40000, 61000)}")
        if healthy:
            break
    proc.gw(sim.now, "✅ All services started and healthy (PostgreSQL, Redis, Immudb, DataStorage)")
    proc.step("Verifying infrastructure container status")
    proc.gw(sim.now, bar)
    proc.gw(sim.now, "📋 Infrastructure Status Verification")
    proc.gw(sim.now, bar)
    up = (sim.now - timing["postgres"]) // SECOND
    proc.gw(sim.now, f"🐘 PostgreSQL: Up {up} seconds\n")
    proc.gw(sim.now, f"🔴 Redis: Up {up - 1} seconds\n")
    ds_status = (
        f"Up {(sim.now - timing['datastorage']) // SECOND} seconds"
        if healthy
        else "Exited (1) 20 seconds ago"
    )
    proc.gw(sim.now, f"💾 Data Storage: {ds_status}\n")
    proc.gw(sim.now, "⚠️  Migrations: Failed to check status: exit status 125")
    proc.gw(sim.now, bar)
    proc.gw(sim.now, "🏥 Data Storage Health Check")
    proc.gw(
        sim.now,
        "✅ Data Storage health: HTTP 200 (ready)"
        if healthy
        else "❌ Data Storage health check failed: exit status 7",
    )
    proc.gw(sim.now, bar)
    proc.gw(sim.now, "✅ Phase 1 Complete: Shared infrastructure ready")
    proc.gw(sim.now, bar)
    _ = k


def _counts(reports: list[Report]) -> dict[str, int]:
    specs = [r for r in reports if r.spec is not None]
    return {
        "passed": sum(r.state == "passed" for r in specs),
        "failed": sum(r.state in ("failed", "timedout", "panicked", "interrupted") for r in specs),
        "pending": sum(r.state == "pending" for r in specs),
        "skipped": sum(r.state == "skipped" for r in specs),
    }


def _write_bundle(
    outdir: Path,
    work: Path,
    names: BundleNames,
    runner: Runner,
    ds: DataStorage,
    k: Knobs,
    rng: random.Random,
    timing: dict[str, int],
    offset: int,
) -> None:
    run_dir = outdir / runner.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    ports = dict(get_service(k.service).ports)
    # The containers print, and podman (in the VM beside them) records, times from the containers' clock.
    skew = k.clock_skew_us
    at = runner.must_gather_at + skew
    health = sorted(timing[f"health_{i}"] + skew for i in range(timing.get("health_checks", 0)))
    contents = {
        "datastorage": (work / "datastorage.log").read_text(encoding="utf-8") if False else None,
        "postgres": postgres_log(timing["postgres"] + skew, timing["migrate"] + skew, health, rng),
        "redis": redis_log(timing["redis"] + skew),
    }
    env_common = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "container=podman")
    states = {
        "datastorage": ContainerState(
            names.container("datastorage"),
            f"localhost/kubernaut/datastorage:{names.service}-{ds.host[:8]}",
            timing["datastorage"] + skew,
            at,
            ports["datastorage"],
            "8080/tcp",
            (
                *env_common,
                "CONFIG_PATH=/etc/datastorage/config.yaml",
                f"DATABASE_URL=postgres://slm_user:slm_password@host.containers.internal:{ports['postgres']}"
                "/action_history?sslmode=disable",
            ),
            ("/usr/local/bin/datastorage",),
            oom_at=None if ds.cfg.oom_at is None else ds.cfg.oom_at + skew,
            never_started=ds.cfg.never_up,
            healthcheck=("CMD-SHELL", '["/usr/bin/curl", "-f", "http://localhost:8080/health"]'),
        ),
        "postgres": ContainerState(
            names.container("postgres"),
            "docker.io/library/postgres:16-alpine",
            timing["postgres"] + skew,
            at,
            ports["postgres"],
            "5432/tcp",
            (
                *env_common,
                "POSTGRES_USER=slm_user",
                "POSTGRES_PASSWORD=slm_password",
                "POSTGRES_DB=action_history",
                "PGDATA=/var/lib/postgresql/data",
                "PG_VERSION=16.11",
            ),
            ("docker-entrypoint.sh", "postgres"),
            healthcheck=("CMD-SHELL", "pg_isready -U slm_user"),
        ),
        "redis": ContainerState(
            names.container("redis"),
            "docker.io/library/redis:7-alpine",
            timing["redis"] + skew,
            at,
            ports["redis"],
            "6379/tcp",
            (*env_common, "REDIS_VERSION=7.4.7"),
            ("docker-entrypoint.sh", "redis-server"),
        ),
    }
    for short in CONTAINERS:
        if names.container(short) == runner.layout.missing:
            continue
        stem = run_dir / names.log_stem(short)
        log_path = stem.with_name(stem.name + ".log")
        if short == "datastorage":
            shutil.move(str(work / "datastorage.log"), log_path)
        else:
            log_path.write_text(contents[short] or "", encoding="utf-8")
        stem.with_name(stem.name + "_inspect.json").write_text(
            inspect_json(states[short], rng, f"{names.service}_test_network"), encoding="utf-8"
        )
    rel = names.test_log_path(runner.run_dir)
    if rel is not None:
        shutil.move(str(work / "test.log"), outdir / rel)
    _ = (k, offset)


def _write_truth(
    path: Path,
    name: str,
    seed: int,
    k: Knobs,
    offset: int,
    names: BundleNames,
    runner: Runner,
    ds: DataStorage,
    spill: EventSpill,
    queries: list[Any],
    counts: dict[str, int],
    timing: dict[str, int],
) -> None:
    specs = [r for r in runner.reports if r.spec is not None]
    causes = {
        r.spec.full_text: cause
        for r in specs
        if r.spec is not None and (cause := spec_cause(r, runner.watched)) is not None
    }
    spec_rows = sorted(
        (
            {
                "name": r.spec.full_text,
                "state": r.state,
                "location": r.spec.location,
                "process": r.process,
                "correlation_ids": sorted(set(r.correlation_ids)),
                **({"cause": causes[r.spec.full_text]} if r.spec.full_text in causes else {}),
            }
            for r in specs
            if r.spec is not None
        ),
        key=lambda d: (d["location"], d["name"]),
    )
    closer = runner.procs[0].store.stats
    stores = [
        {
            "process": p.index,
            "buffered": p.store.stats.buffered,
            "written": p.store.stats.written,
            "dropped": sum(1 for _ in ()) + p.store.stats.dropped + 0,
            "failed_batches": p.store.stats.failed_batches,
            "closed": p.store.stats.closed,
        }
        for p in runner.procs
    ]
    missing = bool(k.missing_container)
    unhealthy = ds.cfg.oom_at is not None or ds.cfg.never_up or missing
    timer = [t for p in runner.procs for t in p.store.stats.timer_bugs]
    slow = [t for p in runner.procs for t in p.store.stats.slow_writes]
    captured = {
        "timer-stall": (len(timer), sum(1 for _, kept in timer if kept)),
        "slow-write": (len(slow), sum(1 for _, kept in slow if kept)),
    }
    sampled = sum(p.store.sampled_captured for p in runner.procs)
    gap = closer.written < closer.buffered - closer.dropped if closer.closed else None
    # The offset shows only where the store's ticks meet batch requests DataStorage answered.
    answered = ds.stats.batch_writes + ds.stats.rejected_400 + ds.stats.failed_500
    collected = k.missing_container != "datastorage"
    observable = k.era == "january" and k.test_log != "none" and collected and answered >= 3
    found = findings(
        runner.reports,
        queries,
        spill.outcomes,
        gap,
        unhealthy,
        captured,
        sampled,
        k.clock_skew_ms,
        observable,
        spill.unflushed_seen,
        k.test_log != "none",
        causes,
        runner.flush_failures_seen,
        {q.correlation_id for q in queries if q.printed}
        | {cid for cid, events in runner.watched.items() if any(e.seen for e in events)},
        bool(gap) and not closer.failed_batches and runner.procs[0].index in spill.unflushed_processes,
    )
    head = {
        "scenario": name,
        "seed": seed,
        "knobs": k.as_dict(),
        "host_utc_offset": offset_text(offset),
        "bundle": {
            "service": names.service,
            "run_dir": runner.run_dir,
            "collected_at": local_stamp(runner.must_gather_at, offset, "%Y-%m-%dT%H:%M:%S"),
            "test_log": names.test_log_path(runner.run_dir),
        },
        "tests": {
            "ran": counts["passed"] + counts["failed"],
            "total": len(specs),
            "passed": counts["passed"],
            "failed": sum(r.state in ("failed", "timedout", "panicked") for r in specs),
            "interrupted": sum(r.state == "interrupted" for r in specs),
            "pending": counts["pending"],
            "skipped": counts["skipped"],
            "specs": spec_rows,
        },
        "stores": stores,
    }
    query_rows = sorted(
        (
            {
                "correlation_id": q.correlation_id,
                "event_type": q.event_type,
                "at": utc_iso_micros(q.at),
                "found": q.found,
                "buffered_before": q.buffered_before,
                "raced": q.raced,
                "spec": q.spec,
            }
            for q in queries
        ),
        key=lambda d: (d["at"], d["correlation_id"]),
    )
    tail = {
        "queries": query_rows,
        "datastorage": {
            "batch_writes": ds.stats.batch_writes,
            "events_written": ds.stats.events_written,
            "rejected_400": ds.stats.rejected_400,
            "failed_500": ds.stats.failed_500,
            "queries": ds.stats.queries,
            "log_lines": ds.lines,
            "oom_killed_at": None if ds.cfg.oom_at is None else utc_iso_micros(ds.cfg.oom_at),
        },
        "findings": found,
    }
    write_truth(path, head, spill.merged(), tail)
    _ = timing
