"""Normalization: an explicit, ordered list of pure steps over the whole event table.

Each step is `step(events) -> events`; settings are bound with functools.partial.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial

import polars as pl

from triage.table.schema import validate_events

Step = Callable[[pl.DataFrame], pl.DataFrame]


def apply_host_offsets(events: pl.DataFrame, offsets: Mapping[str, int]) -> pl.DataFrame:
    """Move zone-less times (Ginkgo's `@ 01/14/26 10:25:09.674`) from host local time to UTC.

    Parsers emit such times as if they were UTC with `ts_assumed` set. The host's offset is the one
    the same file's zoned records carry.

    Args:
        events: the event table.
        offsets: seconds east of UTC per file; files not listed are left as UTC.

    Returns:
        The table with assumed times shifted.
    """
    if not offsets:
        return events
    offset = pl.col("file").replace_strict(dict(offsets), default=0, return_dtype=pl.Int64)
    shifted = pl.col("ts") - pl.duration(seconds=offset, time_unit="ns")
    return events.with_columns(
        pl.when(pl.col("ts_assumed")).then(shifted).otherwise(pl.col("ts")).alias("ts")
    )


def order_events(events: pl.DataFrame) -> pl.DataFrame:
    """Order rows by file, then line: the reading order, which evidence and timelines start from.

    Files parsed in name order are usually in this order already; checking costs a fraction of sorting,
    which would copy every column.
    """
    file, line = pl.col("file"), pl.col("line")
    in_order = (file > file.shift()) | ((file == file.shift()) & (line >= line.shift()))
    if events.select(in_order.fill_null(True).all()).item():
        return events
    return events.sort("file", "line", maintain_order=True)


def default_steps(offsets: Mapping[str, int]) -> tuple[Step, ...]:
    """The normalization steps in the order they run.

    Args:
        offsets: host UTC offsets per test-log file, in seconds.

    Returns:
        The steps.
    """
    return (partial(apply_host_offsets, offsets=offsets), order_events, validate_events)


def normalize(events: pl.DataFrame, steps: Sequence[Step]) -> pl.DataFrame:
    """Run the steps in order.

    Args:
        events: the concatenated parser output.
        steps: e.g. default_steps(...).

    Returns:
        The normalized table.
    """
    for step in steps:
        events = step(events)
    return events


def format_offset(seconds: int) -> str:
    """`-18000` -> `UTC-05:00`."""
    sign = "-" if seconds < 0 else "+"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"
