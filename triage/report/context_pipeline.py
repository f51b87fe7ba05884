"""The Markdown context's audit-pipeline and container sections: the audit stores per Ginkgo process,
DataStorage's batch writes and queries with the write-rate chart, and each container's health.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from triage.report.mermaid import bar_chart, sparkline
from triage.report.model import Report
from triage.report.views import ContainerRow, StoreRow
from triage.report.wording import quantiles
from triage.table.vocabulary import BATCH_PATH, QUERY_PATH

CHART_BUCKETS = 24


def write_lines(report: Report) -> tuple[tuple[str, ...], str, str]:
    """DataStorage's side of the pipeline in words, and the events it wrote over time.

    Args:
        report: the analysis result.

    Returns:
        (lines on batch writes, queries, failures and the clock offset; the Mermaid bar chart of events
        written per interval; the same as a one-line sparkline), the last two empty without writes.
    """
    pipe = report.analysis.pipeline
    requests = pipe.requests
    lines = []
    batch = requests.filter(pl.col("path") == BATCH_PATH)
    if pipe.writes.height or batch.height:
        events = int(pipe.writes["count"].sum() or 0)
        statuses = ", ".join(
            f"{n} x {s}"
            for s, n in batch.group_by("status").len().sort("status").iter_rows()
            if s is not None
        )
        latency = quantiles(pipe.writes["duration_seconds"] * 1000)
        lines.append(
            f"Batch writes: {pipe.writes.height} succeeded carrying {events} events; "
            f"write time {latency}; HTTP statuses: {statuses or 'none logged'}."
        )
    else:
        lines.append("No DataStorage batch write was logged.")
    queries = requests.filter((pl.col("method") == "GET") & (pl.col("path") == QUERY_PATH))
    if queries.height:
        lines.append(f"Queries: {queries.height}, {quantiles(queries['duration_ms'])}.")
    if pipe.rejects.height:
        lines.append(f"Failed batch requests or write failures logged: {pipe.rejects.height}.")
    if pipe.skew_ns is not None:
        lines.append(
            f"Clock offset DataStorage minus test host, estimated from flush/write pairs: "
            f"{pipe.skew_ns / 1e6:+.1f} ms."
        )
    chart, spark = "", ""
    if pipe.writes.height:
        ts = pipe.writes.filter(pl.col("ts").is_not_null())
        start, end = ts["ts"].min(), ts["ts"].max()
        assert isinstance(start, datetime) and isinstance(end, datetime)
        span = max(1, int((end - start).total_seconds()) + 1)
        width = max(1, -(-span // CHART_BUCKETS))
        buckets = ts.with_columns(
            ((pl.col("ts") - pl.lit(start)).dt.total_seconds() // width).cast(pl.Int64).alias("b")
        )
        per = dict(buckets.group_by("b").agg(pl.col("count").sum()).iter_rows())
        n = span // width + (1 if span % width else 0)
        values = [int(per.get(i, 0)) for i in range(n)]
        labels = [(start + timedelta(seconds=i * width)).strftime("%H:%M:%S") for i in range(n)]
        chart = bar_chart(f"Events written per {width} s (UTC)", labels, values, "events")
        spark = f"{labels[0]} {sparkline(values)} {labels[-1]} UTC, peak {max(values)} events per {width} s"
    return tuple(lines), chart, spark


def store_rows(report: Report) -> tuple[tuple[StoreRow, ...], str]:
    """The audit stores, one row per Ginkgo process, and what their counters can and cannot say.

    Args:
        report: the analysis result.

    Returns:
        (the rows, a Markdown caveat or an empty string).
    """
    pipe = report.analysis.pipeline
    closed = pipe.closed.row(-1, named=True) if pipe.closed.height else None
    rows = []
    for s in report.analysis.stores:
        closing = "not logged (only process 1 calls Close())"
        if s.closed and closed:
            closing = (
                f"buffered {closed['buffered_count']}, written {closed['written_count']}, "
                f"dropped {closed['dropped_count']}, failed batches {closed['failed_batch_count']}"
            )
        rows.append(
            StoreRow(
                s.name, len(s.spec_indices), str(s.max_total_buffered or "none logged"), closing, s.basis
            )
        )
    caveat = ""
    if closed and len(report.analysis.stores) > 1:
        caveat = (
            "The `Audit store closed` counters describe process 1's store only. Each Ginkgo process has its "
            "own store, so they say nothing about the other stores and must not be compared with their "
            "`total_buffered` values."
        )
    elif not report.analysis.stores:
        caveat = (
            "No buffered or timer-tick lines of an audit store were logged (current formats log them below "
            "Info), so stores could not be reconstructed."
        )
    return tuple(rows), caveat


def container_rows(report: Report) -> tuple[ContainerRow, ...]:
    """Each inspected container's state, health and log counts, then inspect documents that could not be read.

    Args:
        report: the analysis result.

    Returns:
        The rows.
    """
    rows = []
    for c in report.containers:
        logs = [h for h in report.log_health if h.service == c.service]
        log = "; ".join(f"{h.errors} error(s), {h.warnings} warning(s), {h.noise} known noise" for h in logs)
        state = c.status or "unknown"
        if c.exit_code not in (None, 0):
            state += f", exit code {c.exit_code}"
        if c.oom_killed:
            state += ", OOM-killed"
        if c.restart_count:
            state += f", {c.restart_count} restart(s)"
        health = c.health or "no health check"
        if c.failing_streak:
            health += f" (failing streak {c.failing_streak})"
        rows.append(
            ContainerRow(
                service=c.service or "unknown",
                image=c.image or "unknown",
                state=state,
                health=health,
                log=log or "no log collected",
                evidence=f"{c.file}:{c.line}",
            )
        )
    return tuple(rows) + _unreadable_inspects(report)


def _unreadable_inspects(report: Report) -> tuple[ContainerRow, ...]:
    """Inspect documents that are present but could not be read: never shown as absent."""
    read = {c.file for c in report.containers}
    return tuple(
        ContainerRow(
            service=a.source.service or a.source.container or "unknown",
            image="unknown",
            state=note.removeprefix("present but "),
            health="unknown",
            log="unknown",
            evidence=f"{a.source.name}:1",
        )
        for a in report.accounts
        if a.source.kind == "podman_inspect" and a.source.name not in read
        for note in a.notes[:1]
        if note.startswith("present but unreadable")
    )
