"""Container summaries: inspected state per container and per-log level counts with start-up noise apart."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from triage.bundle.lines import split_lines
from triage.bundle.sources import Source
from triage.facts.containers import (
    FIRST_ERRORS,
    ContainerState,
    ErrorSample,
    log_health,
    noise,
    summarize_containers,
)
from triage.parsers import podman_inspect, postgres, redis
from triage.table.schema import conform, validate_events

HEALTH_OUTPUT = "/bin/sh: line 1: [/usr/bin/curl,: No such file or directory"


def _inspect(name: str, image: str, port: str, *, health: list[tuple[str, int, str]] | None = None) -> str:
    """A trimmed podman 5 inspect document (same keys and 5-space indent as podman prints)."""
    state: dict[str, object] = {
        "OciVersion": "1.2.0",
        "Status": "running",
        "Running": True,
        "OOMKilled": False,
        "ExitCode": 0,
        "StartedAt": "2026-01-14T10:23:41.512904371-05:00",
        "FinishedAt": "0001-01-01T00:00:00Z",
    }
    if health is not None:
        state["Health"] = {
            "Status": "unhealthy",
            "FailingStreak": len(health),
            "Log": [
                {"Start": start, "End": start, "ExitCode": code, "Output": output}
                for start, code, output in health
            ],
        }
    doc = {
        "Id": "7c3f9a2e51d84b06",
        "State": state,
        "ImageName": image,
        "Name": name,
        "RestartCount": 0,
        "NetworkSettings": {"Ports": {port: [{"HostIp": "", "HostPort": "18094"}]}},
        "Config": {"Env": ["PATH=/usr/bin", "POSTGRES_PASSWORD=test_password"]},
    }
    return json.dumps([doc], indent=5) + "\n"


def _source(container: str, kind: str) -> Source:
    suffix = "_inspect.json" if kind == "podman_inspect" else ".log"
    name = f"signalprocessing_signalprocessing_{container}_test{suffix}"
    return Source(Path(name), name, kind, container, "test")


def _events() -> pl.DataFrame:
    parsed = []
    # Deliberately out of order, so that the sorting is exercised.
    for container, image, port, health in (
        ("redis", "docker.io/library/redis:7-alpine", "6379/tcp", None),
        (
            "datastorage",
            "localhost/kubernaut/datastorage:signalprocessing-3f2a9c1d",
            "8080/tcp",
            [
                ("2026-01-14T10:25:13.120994127-05:00", 1, HEALTH_OUTPUT + "\n"),
                ("2026-01-14T10:24:43.118270912-05:00", 1, "older probe"),
            ],
        ),
        ("postgres", "docker.io/library/postgres:16-alpine", "5432/tcp", None),
    ):
        text = _inspect(f"signalprocessing_{container}_test", image, port, health=health)
        source = _source(container, "podman_inspect")
        parsed.append(podman_inspect.parse(split_lines(text.encode()).frame, source).events)
    return pl.concat(parsed)


def test_containers_are_summarized_in_service_order() -> None:
    """Each inspected container becomes a ContainerState, sorted by service then name."""
    states = summarize_containers(_events())
    assert [s.service for s in states] == ["datastorage", "postgres", "redis"]
    ds = states[0]
    assert ds == ContainerState(
        service="datastorage",
        name="signalprocessing_datastorage_test",
        image="localhost/kubernaut/datastorage:signalprocessing-3f2a9c1d",
        status="running",
        running=True,
        exit_code=0,
        oom_killed=False,
        restart_count=0,
        started_at="2026-01-14T15:23:41.512904371Z",
        finished_at=None,
        health="unhealthy",
        failing_streak=2,
        last_health_output=HEALTH_OUTPUT,
        ports=("8080/tcp->0.0.0.0:18094",),
        file="signalprocessing_signalprocessing_datastorage_test_inspect.json",
        line=2,
    )


def test_latest_probe_by_time_gives_the_last_output() -> None:
    """The last health output is the probe with the latest start time, not the last one in the file."""
    (ds,) = [s for s in summarize_containers(_events()) if s.service == "datastorage"]
    assert ds.last_health_output == HEALTH_OUTPUT


def test_containers_without_health_check_have_no_health() -> None:
    """Postgres and Redis, inspected without a health check, have null health and no probe output."""
    states = {s.service: s for s in summarize_containers(_events())}
    for service in ("postgres", "redis"):
        assert states[service].health is None
        assert states[service].failing_streak is None
        assert states[service].last_health_output is None


def test_no_container_records_give_no_states() -> None:
    """An event table without inspect records summarizes to nothing."""
    assert summarize_containers(conform(pl.DataFrame({"file": [], "line": [], "raw": []}))) == ()


POSTGRES_LOG = """\
2026-01-14 15:23:42.331 UTC [35] WARNING:  no usable system locales were found
initdb: warning: enabling "trust" authentication for local connections
2026-01-14 15:23:43.447 UTC [1] LOG:  database system is ready to accept connections
2026-01-14 15:23:45.123 UTC [63] FATAL:  database "slm_user" does not exist
2026-01-14 15:23:46.123 UTC [64] FATAL:  database "slm_user" does not exist
2026-01-14 15:23:50.881 UTC [70] ERROR:  role "slm_user" already exists
2026-01-14 15:23:50.881 UTC [70] STATEMENT:  CREATE ROLE slm_user LOGIN PASSWORD 'slm_user';
2026-01-14 15:30:01.002 UTC [88] ERROR:  duplicate key value violates unique constraint "audit_events_pkey"
2026-01-14 15:30:01.002 UTC [88] DETAIL:  Key (event_id)=(1) already exists.
2026-01-14 15:31:00.000 UTC [1] LOG:  checkpoint starting: time
2026-01-14 15:31:05.000 UTC [90] WARNING:  there is no transaction in progress
"""

REDIS_LOG = """\
1:C 14 Jan 2026 15:23:52.118 # WARNING Memory overcommit must be enabled! Without it, a background save \
or replication may fail under low memory condition.
1:C 14 Jan 2026 15:23:52.118 # Warning: no config file specified, using the default config. In order to \
specify a config file use redis-server /path/to/redis.conf
1:M 14 Jan 2026 15:23:52.121 * Ready to accept connections tcp
"""


def _log_events() -> pl.DataFrame:
    pg = postgres.parse(split_lines(POSTGRES_LOG.encode()).frame, _source("postgres", "postgres")).events
    rd = redis.parse(split_lines(REDIS_LOG.encode()).frame, _source("redis", "redis")).events
    ds = conform(
        pl.DataFrame(
            {
                "file": ["signalprocessing_signalprocessing_datastorage_test.log"] * 8,
                "line": list(range(1, 9)),
                "n_lines": [1] * 8,
                "source_kind": ["zap_console"] * 8,
                "service": ["datastorage"] * 8,
                "record": ["log"] * 8,
                "level": ["info", "error", "error", "error", "error", "error", "error", "warn"],
                "message": ["HTTP request"]
                + [f"Batch database write failed {n}" for n in range(6)]
                + ["slow"],
                "raw": ["x"] * 8,
            }
        )
    )
    test_run = conform(
        pl.DataFrame(
            {
                "file": ["test-run.log"],
                "line": [1],
                "n_lines": [1],
                "source_kind": ["zap_json"],
                "service": ["test-run"],
                "record": ["log"],
                "level": ["error"],
                "message": ["Failed to write audit batch"],
                "raw": ["x"],
            }
        )
    )
    return validate_events(pl.concat([pg, rd, ds, test_run, _events()]))


def test_log_health_counts_levels_per_container_log() -> None:
    """Each container log gets record and per-level counts; the test-run log and inspect files are not."""
    health = {h.service: h for h in log_health(_log_events())}
    assert sorted(health) == ["datastorage", "postgres", "redis"]
    pg = health["postgres"]
    assert pg.file == "signalprocessing_signalprocessing_postgres_test.log"
    assert pg.source_kind == "postgres"
    assert pg.records == 9  # STATEMENT and DETAIL joined their parents
    assert pg.levels == (("info", 2), ("warn", 3), ("error", 2), ("fatal", 2))


def test_known_startup_noise_is_counted_apart() -> None:
    """The probe FATAL, the migration role ERROR and the image locale/trust warnings are noise, not errors."""
    pg = next(h for h in log_health(_log_events()) if h.service == "postgres")
    assert pg.noise == 5
    assert pg.errors == 1
    assert pg.warnings == 1
    assert pg.first_errors == (
        ErrorSample(
            file="signalprocessing_signalprocessing_postgres_test.log",
            line=8,
            message='duplicate key value violates unique constraint "audit_events_pkey"',
        ),
    )
    rd = next(h for h in log_health(_log_events()) if h.service == "redis")
    assert (rd.noise, rd.warnings, rd.errors) == (2, 0, 0)


def test_first_errors_are_capped_and_in_line_order() -> None:
    """Only the first FIRST_ERRORS error records are sampled, in line order, while all are counted."""
    ds = next(h for h in log_health(_log_events()) if h.service == "datastorage")
    assert ds.errors == 6
    assert ds.warnings == 1
    assert ds.noise == 0
    assert [e.line for e in ds.first_errors] == list(range(2, 2 + FIRST_ERRORS))


def test_noise_entries_explain_themselves() -> None:
    """Every start-up noise entry applies to a container log format, has a pattern and says why."""
    assert noise()
    for entry in noise():
        assert set(entry.kinds) <= {"postgres", "redis", "zap_json", "zap_console"}
        assert entry.pattern and not entry.provoked
        assert len(entry.why) > 20
