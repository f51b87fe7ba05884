"""What the containers were doing: their inspected state and how healthy their logs look.

Both summaries read only the event table, so they work on any bundle the parsers produced.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from triage.facts.expected import Expected, for_kinds, matching_messages
from triage.table.attrs import Attrs
from triage.table.schema import LEVELS

# Source kinds whose files are container logs (the Ginkgo log and inspect documents are not).
CONTAINER_LOG_KINDS = ("postgres", "redis", "zap_json", "zap_console")
ERROR_LEVELS = ("error", "fatal", "panic")
FIRST_ERRORS = 5


# Loggers of the audit store inside the test process or a controller; DataStorage's own self-audit
# store logs as `datastorage.audit-store`.
CLIENT_STORE_LOGGER = r"^(?:[^.]+\.)*audit(?:-store)?$"
DATASTORAGE_LOGGER = r"^datastorage(?:\.|$)"
# Services discovery gives to output that is not a container's: the test process's and a controller's.
NOT_CONTAINERS = ("test-run", "controller")


@dataclass(frozen=True)
class ContainerState:
    """One inspected container.

    Attributes:
        service: the service the inspect file belongs to.
        name: the container name (without docker's leading slash).
        image: the image name the container runs.
        status: podman's State.Status (running, exited, ...).
        running: State.Running.
        exit_code: State.ExitCode.
        oom_killed: State.OOMKilled.
        restart_count: RestartCount.
        started_at: State.StartedAt in UTC, ISO 8601 with Z; None when never started.
        finished_at: State.FinishedAt in UTC; None while it has not finished.
        health: State.Health.Status (healthy, unhealthy, starting), None without a health check.
        failing_streak: State.Health.FailingStreak.
        last_health_output: output of the latest health probe, stripped.
        ports: published ports as `8080/tcp->0.0.0.0:18094`.
        file: the inspect file.
        line: the line where the container's object starts.
    """

    service: str | None
    name: str | None
    image: str | None
    status: str | None
    running: bool | None
    exit_code: int | None
    oom_killed: bool | None
    restart_count: int | None
    started_at: str | None
    finished_at: str | None
    health: str | None
    failing_streak: int | None
    last_health_output: str | None
    ports: tuple[str, ...]
    file: str
    line: int


@dataclass(frozen=True)
class ErrorSample:
    """An error record quoted as evidence."""

    file: str
    line: int
    message: str


@dataclass(frozen=True)
class LogHealth:
    """Counts of one container log's records.

    Attributes:
        file: the log file.
        service: the container's service.
        source_kind: the log's format.
        records: all records.
        levels: (level, count) for every level present, in LEVELS order.
        errors: error, fatal and panic records that are not known noise.
        warnings: warn records that are not known noise.
        noise: records matching `noise()` (known start-up messages), whatever their level.
        first_errors: the first FIRST_ERRORS error records (not noise), in line order.
    """

    file: str
    service: str | None
    source_kind: str
    records: int
    levels: tuple[tuple[str, int], ...]
    errors: int
    warnings: int
    noise: int
    first_errors: tuple[ErrorSample, ...]


_CONTAINER_ATTRS = pl.Struct(
    {
        "name": pl.String,
        "image": pl.String,
        "status": pl.String,
        "running": pl.Boolean,
        "exit_code": pl.Int64,
        "oom_killed": pl.Boolean,
        "restart_count": pl.Int64,
        "started_at": pl.String,
        "finished_at": pl.String,
        "health_status": pl.String,
        "failing_streak": pl.Int64,
        "ports": pl.List(pl.String),
    }
)
_HEALTH_ATTRS = pl.Struct({"container": pl.String, "output": pl.String})


def summarize_containers(events: pl.DataFrame, attrs: Attrs | None = None) -> tuple[ContainerState, ...]:
    """Collect every inspected container with its latest health-probe output.

    Args:
        events: the event table.
        attrs: the store of its records' `attrs`; None when `events` has its `attrs` column.

    Returns:
        One ContainerState per "container" record, sorted by service, name, file and line.
    """
    inspected = (attrs or Attrs()).attach(events.filter(pl.col("record").is_in(["container", "health"])))
    containers = (
        inspected.filter(pl.col("record") == "container")
        .select(
            "file",
            "line",
            "service",
            pl.col("attrs").str.json_decode(_CONTAINER_ATTRS).alias("a"),
        )
        .unnest("a")
    )
    # The latest probe by time, then by position, stands for the container's current health.
    probes = (
        inspected.filter(pl.col("record") == "health")
        .select("file", "ts", "line", pl.col("attrs").str.json_decode(_HEALTH_ATTRS).alias("a"))
        .unnest("a")
        .sort("file", "container", "ts", "line", nulls_last=False)
        .group_by("file", "container", maintain_order=True)
        .agg(last_health_output=pl.col("output").last().str.strip_chars())
        .rename({"container": "name"})
    )
    rows = (
        containers.join(probes, on=["file", "name"], how="left", nulls_equal=True)
        .with_columns(pl.col("ports").fill_null([]))
        .sort("service", "name", "file", "line", nulls_last=False)
        .to_dicts()
    )
    return tuple(
        ContainerState(
            service=row["service"],
            name=row["name"],
            image=row["image"],
            status=row["status"],
            running=row["running"],
            exit_code=row["exit_code"],
            oom_killed=row["oom_killed"],
            restart_count=row["restart_count"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            health=row["health_status"],
            failing_streak=row["failing_streak"],
            last_health_output=row["last_health_output"],
            ports=tuple(row["ports"]),
            file=row["file"],
            line=row["line"],
        )
        for row in rows
    )


def noise() -> tuple[Expected, ...]:
    """The start-up noise of container logs: the entries of the expected table that no spec provokes."""
    return tuple(e for e in for_kinds(*CONTAINER_LOG_KINDS) if not e.provoked)


def is_noise(records: pl.DataFrame) -> pl.Expr:
    """True for records that match an entry of `noise()` (known, benign start-up messages).

    The messages are matched once each, not once per record.
    """
    messages = records.get_column("message").unique().cast(pl.String).drop_nulls()
    matched = pl.lit(False)
    for entry in noise():
        said = matching_messages(messages, entry)
        matched = matched | (
            pl.col("source_kind").cast(pl.String).is_in(entry.kinds)
            & pl.col("message").is_in(said.implode()).fill_null(False)
        )
    return matched


def container_files(events: pl.DataFrame) -> list[str]:
    """The files that are container logs, decided by what wrote them.

    PostgreSQL and Redis logs are containers' by their format. A zap log is DataStorage's when its
    records carry DataStorage's logger; a zap log with the audit store's lines of the test process or
    a controller is their output, whatever its name; any other zap log counts when the must-gather
    named it after a container (its service is known and is neither the test run nor a controller).

    Args:
        events: the event table.

    Returns:
        Their names, sorted.
    """
    logs = (
        events.lazy()
        .filter(
            (pl.col("record") == "log") & pl.col("source_kind").cast(pl.String).is_in(CONTAINER_LOG_KINDS)
        )
        .group_by("file", "source_kind", "service", "logger")
        .len()
        .collect()
        .with_columns(pl.col("logger").cast(pl.String).fill_null(""), pl.col("service").cast(pl.String))
    )
    by_file = logs.group_by("file").agg(
        kind=pl.col("source_kind").cast(pl.String).first(),
        service=pl.col("service").drop_nulls().first(),
        datastorage=pl.col("logger").str.contains(DATASTORAGE_LOGGER).any(),
        process=(
            pl.col("logger").str.contains(CLIENT_STORE_LOGGER)
            & ~pl.col("logger").str.contains(DATASTORAGE_LOGGER)
        ).any(),
    )
    named = pl.col("service").is_not_null() & ~pl.col("process")
    keep = pl.col("kind").is_in(["postgres", "redis"]) | (
        ~pl.col("service").fill_null("").is_in(NOT_CONTAINERS) & (pl.col("datastorage") | named)
    )
    return sorted(str(f) for f in by_file.filter(keep)["file"].to_list())


def container_records(events: pl.DataFrame) -> pl.DataFrame:
    """The log records of the containers (not the test run's or a controller's), in table order.

    PostgreSQL and Redis logs take their format's name as their service, whatever the file is called.

    Args:
        events: the event table.

    Returns:
        Their file, line, service, source kind, time, level (as text), message, message key and attrs
        (or attrs id), and `noise` (Boolean).
    """
    kind = pl.col("source_kind").cast(pl.String)
    records = (
        events.lazy()
        .filter((pl.col("record") == "log") & pl.col("file").is_in(container_files(events)))
        .select(
            "file",
            "line",
            pl.when(kind.is_in(["postgres", "redis"]))
            .then(kind)
            .otherwise(pl.col("service").cast(pl.String))
            .alias("service"),
            "source_kind",
            "ts",
            "ts_precision",
            "level",
            "message",
            "msg_key",
            pl.col("^attrs(_id)?$"),
        )
        .collect()
    )
    return records.with_columns(noise=is_noise(records), level=pl.col("level").cast(pl.String))


def log_health(events: pl.DataFrame) -> tuple[LogHealth, ...]:
    """Count each container log's records by level, with known start-up noise counted apart.

    Args:
        events: the event table (EVENT_SCHEMA).

    Returns:
        One LogHealth per container log file (postgres, redis and zap logs outside the test run),
        sorted by file.
    """
    logs = container_records(events)
    is_error = pl.col("level").is_in(ERROR_LEVELS) & ~pl.col("noise")
    totals = (
        logs.group_by("file")
        .agg(
            service=pl.col("service").first(),
            source_kind=pl.col("source_kind").cast(pl.String).first(),
            records=pl.len(),
            errors=is_error.sum(),
            warnings=((pl.col("level") == "warn") & ~pl.col("noise")).sum(),
            noise=pl.col("noise").sum(),
        )
        .sort("file")
    )
    levels = logs.filter(pl.col("level").is_not_null()).group_by("file", "level").len()
    order = {level: index for index, level in enumerate(LEVELS)}
    errors = (
        logs.filter(is_error).sort("file", "line").group_by("file", maintain_order=True).head(FIRST_ERRORS)
    )
    out: list[LogHealth] = []
    for row in totals.to_dicts():
        file = row["file"]
        counts = sorted(
            ((r["level"], r["len"]) for r in levels.filter(pl.col("file") == file).to_dicts()),
            key=lambda pair: order.get(pair[0], len(order)),
        )
        samples = tuple(
            ErrorSample(file=file, line=r["line"], message=r["message"] or "")
            for r in errors.filter(pl.col("file") == file).to_dicts()
        )
        out.append(
            LogHealth(
                file=file,
                service=row["service"],
                source_kind=row["source_kind"],
                records=row["records"],
                levels=tuple(counts),
                errors=row["errors"],
                warnings=row["warnings"],
                noise=row["noise"],
                first_errors=samples,
            )
        )
    return tuple(out)
