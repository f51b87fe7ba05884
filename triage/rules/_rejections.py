"""DataStorage's 4xx answers to the store's batch writes, in the test host's time, and their link to
the store's drop lines.

DataStorage logs no correlation ID: a 400 `HTTP request` for the batch endpoint is paired with the
`Request validation failed` line logged just before it, moved onto the host's clock by the estimated
offset, and linked to the first drop line in its second whose batch has the event index DataStorage
named. The link is inferred, never observed.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from triage.facts.analysis import Analysis
from triage.rules._store import as_dt, ds_skew
from triage.table.rows import as_int
from triage.table.vocabulary import BATCH_PATH, DS_HTTP_REQUEST, DS_VALIDATION_FAILED

# The store prints its drop line within the second DataStorage answered (the line has whole seconds).
LINK_BEFORE = timedelta(milliseconds=500)
LINK_AFTER = timedelta(milliseconds=1050)
# The failing event's index in DataStorage's validation error.
INDEX = re.compile(r'Error at \\?"/(\d+)/')


@dataclass(frozen=True)
class Rejection:
    """A DataStorage 400 on the batch endpoint and the validation line before it, if any."""

    http: Mapping[str, object]
    validation: Mapping[str, object] | None
    host_at: datetime
    index: int | None


@dataclass(frozen=True)
class Rejections:
    """DataStorage rejections in host-time order, with their times apart for bisecting."""

    items: tuple[Rejection, ...]
    times: tuple[datetime, ...]


def find_rejections(analysis: Analysis) -> Rejections:
    """DataStorage's 4xx batch responses in host time, each with the validation line logged before it.

    Args:
        analysis: the analysed bundle.

    Returns:
        The rejections in host-time order.
    """
    rejects = analysis.pipeline.rejects
    if rejects.is_empty():
        return Rejections((), ())
    rejects = analysis.texts.attach(rejects)  # few lines: the path and the failing index are in the text
    skew = ds_skew(analysis)
    http = rejects.filter(
        (pl.col("msg_key") == DS_HTTP_REQUEST)
        & (pl.col("status") >= 400)
        & (pl.col("status") < 500)
        & pl.col("ts").is_not_null()
        & pl.col("raw").str.contains(BATCH_PATH, literal=True)
    ).sort("line")
    checks = (
        rejects.filter(pl.col("msg_key") == DS_VALIDATION_FAILED)
        .select(
            "file",
            pl.col("line").alias("v_line"),
            pl.col("raw").alias("v_raw"),
            pl.col("ts").alias("v_ts"),
            pl.col("ts_precision").alias("v_precision"),
        )
        .sort("v_line")
    )
    paired = http.join_asof(
        checks, left_on="line", right_on="v_line", by="file", strategy="backward", check_sortedness=False
    )
    out = []
    for row in paired.iter_rows(named=True):
        check_row: Mapping[str, object] | None = None
        index = None
        if row["v_ts"] is not None and abs((as_dt(row["ts"]) - as_dt(row["v_ts"])).total_seconds()) < 1:
            raw = str(row["v_raw"])
            check_row = {"file": row["file"], "line": row["v_line"], "ts": row["v_ts"]}
            check_row = {**check_row, "ts_precision": row["v_precision"]}
            found = INDEX.search(raw)
            index = int(found.group(1)) if found else None
        out.append(Rejection(row, check_row, as_dt(row["ts"]) - skew, index))
    out.sort(key=lambda r: (r.host_at, str(r.http["file"]), as_int(r.http["line"])))
    return Rejections(tuple(out), tuple(r.host_at for r in out))


def link(
    drop: Mapping[str, object], rejections: Rejections, linked: set[tuple[str, int]]
) -> Rejection | None:
    """The first unclaimed DataStorage 400 in the drop line's second whose failing index fits the batch.

    Args:
        drop: the drop line's row (`ts`, `batch_size`).
        rejections: all of DataStorage's rejections.
        linked: the (file, line) of rejections already linked; the one returned is added.

    Returns:
        The rejection, or None when none fits.
    """
    if drop["ts"] is None:
        return None
    at = as_dt(drop["ts"])
    size = as_int(drop["batch_size"], 0)
    start = bisect_left(rejections.times, at - LINK_BEFORE)
    for rej in rejections.items[start:]:
        if rej.host_at > at + LINK_AFTER:
            break
        key = (str(rej.http["file"]), as_int(rej.http["line"]))
        if key in linked:
            continue
        if rej.index is not None and size and rej.index >= size:
            continue  # DataStorage named an event index this batch does not have
        linked.add(key)
        return rej
    return None
