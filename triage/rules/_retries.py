"""The store's retry model: how long a write attempt takes, its backoff, and when a retried batch is
dropped (store.go: three attempts, attempt² seconds of backoff between them)."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from triage.facts.analysis import Analysis
from triage.table.exprs import attr
from triage.table.vocabulary import (
    FAILED_WRITE,
)

MAX_ATTEMPTS = 3  # store.go MaxRetries: total attempts before a batch is dropped


CLIENT_TIMEOUT_S = 5.0  # the store's DataStorage client gives up on a request after 5 s
# A refused connection or a reset (EOF) fails at once; this bounds such an attempt generously.
FAST_FAILURE_S = 1.5
FAST_FAILURES = ("connection refused", "EOF")


def backoff_after(attempt: int) -> float:
    """Seconds the January store sleeps after a failed attempt: attempt² (1 s, then 4 s)."""
    return float(attempt * attempt) if attempt < MAX_ATTEMPTS else 0.0


def attempt_bound(error: object) -> float:
    """The longest one write attempt can take, judged by how the last one failed.

    Args:
        error: the `error` field of a `Failed to write audit batch` line.

    Returns:
        Seconds: short for refused or reset connections, the client timeout otherwise.
    """
    return FAST_FAILURE_S if reason(error) in FAST_FAILURES else CLIENT_TIMEOUT_S


def retry_window(
    attempt: int, logged_at: datetime, per_attempt: float, into_second: float
) -> tuple[float, float]:
    """When a write still retrying after `attempt` ends: at the earliest, and with attempts of `per_attempt`.

    Args:
        attempt: the last failed attempt (1-based).
        logged_at: the time its `Failed to write audit batch` line printed (seconds precision).
        per_attempt: how long each remaining attempt takes.
        into_second: where in its printed second the failure is placed (0 to 1).

    Returns:
        (earliest, end) as POSIX seconds; the earliest takes every remaining attempt as instant.
    """
    sleeps = sum(backoff_after(k) for k in range(attempt, MAX_ATTEMPTS))
    start = logged_at.timestamp()
    return start + sleeps, start + into_second + sleeps + (MAX_ATTEMPTS - attempt) * per_attempt


def full_retry_s(per_attempt: float) -> float:
    """How long a fresh batch takes to be dropped when every attempt takes `per_attempt`."""
    return sum(backoff_after(k) for k in range(1, MAX_ATTEMPTS)) + MAX_ATTEMPTS * per_attempt


def typical_attempt_s(analysis: Analysis) -> float | None:
    """How long a failing write attempt took in this run, from consecutive attempts of one batch.

    Attempt k+1 prints k² seconds of backoff plus its own duration after attempt k; the lines have
    whole seconds, so the mean over all pairs is the estimate.

    Args:
        analysis: the analysed bundle.

    Returns:
        Seconds (within 0 and the client timeout), None when no batch failed twice.
    """
    failed = analysis.pipeline.store_errors.filter(pl.col("msg_key") == FAILED_WRITE).select(
        "file", "spec_index", "line", "ts", attr("attempt", pl.Int64()), attr("batch_size", pl.Int64())
    )
    group = ["file", "spec_index"]
    pairs = (
        failed.sort("file", "spec_index", "line")
        .with_columns(
            pl.col("attempt").shift().over(group).alias("prev_attempt"),
            pl.col("batch_size").shift().over(group).alias("prev_size"),
            pl.col("ts").shift().over(group).alias("prev_ts"),
        )
        .filter(
            (pl.col("attempt") == pl.col("prev_attempt") + 1) & (pl.col("batch_size") == pl.col("prev_size"))
        )
        .select(
            (
                (pl.col("ts") - pl.col("prev_ts")).dt.total_milliseconds() / 1000
                - pl.col("prev_attempt").pow(2)
            ).alias("took")
        )
    )
    if pairs.is_empty():
        return None
    mean = pairs["took"].mean()
    return min(max(float(mean), 0.0), CLIENT_TIMEOUT_S) if isinstance(mean, float) else None


def reason(error: object) -> str:
    """The telling part of a store write error: `connection refused`, `status 400`, `EOF`."""
    text = str(error or "")
    for needle in ("connection refused", "EOF", "timeout", "no such host"):
        if needle in text:
            return needle
    status = text.find("returned status ")
    if status >= 0:
        return "status " + text[status + len("returned status ") :].split(":")[0]
    return text[:60] or "no error text"
