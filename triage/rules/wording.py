"""How findings word times and counts, in one style wherever a rule or the report writes them.

A time is the time of day in UTC, never finer than its source printed it nor than milliseconds, and
says it is UTC: `10:25:09.481 UTC`, `10:25:09 UTC` for a seconds-only source.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

UNKNOWN_TIME = "an unknown time"


def time_of_day(value: datetime | None, precision: object) -> str:
    """The bare time of day, for table cells and diagrams whose heading says UTC.

    Args:
        value: the instant (UTC).
        precision: the source's precision ("s", "ms", "us", "ns"; "interval" for a bounded time);
            None when unknown: a time without a fraction of a second is then shown in whole seconds.

    Returns:
        `10:25:09.481`, `10:25:09` when the source printed whole seconds, or "?" when unknown.
    """
    if value is None:
        return "?"
    if str(precision) == "s" or (precision is None and value.microsecond == 0):
        return f"{value:%H:%M:%S}"
    return f"{value:%H:%M:%S}.{value.microsecond // 1000:03d}"


def clock(value: datetime | None, precision: object) -> str:
    """A time for a sentence: `10:25:09.481 UTC`, `10:25:09 UTC`.

    Args:
        value: the instant (UTC).
        precision: the source's precision ("s", "ms", "us", "ns"), None when unknown (`time_of_day`).

    Returns:
        The time of day with " UTC", or "an unknown time".
    """
    return UNKNOWN_TIME if value is None else f"{time_of_day(value, precision)} UTC"


def when(row: Mapping[str, object], key: str = "ts", precision: object = None) -> str:
    """A row's time as `clock` prints it, at the row's own precision unless one is given."""
    value = row.get(key)
    return clock(value if isinstance(value, datetime) else None, precision or row.get("ts_precision"))


def clock_span(lo: datetime | None, hi: datetime | None, precision: object = None) -> str:
    """The interval something happened in, for a sentence.

    `10:25:09.481` and `.493` joined by an en dash, or `between A and B`, then ` UTC`.

    Args:
        lo: earliest possible time.
        hi: latest possible time.
        precision: the precision both are printed at, None when unknown (`time_of_day`).

    Returns:
        Text.
    """
    if lo is None and hi is None:
        return f"at {UNKNOWN_TIME}"
    if lo is None or hi is None:
        return f"around {clock(lo or hi, precision)}"
    a, b = time_of_day(lo, precision), time_of_day(hi, precision)
    if a == b:
        return f"{a} UTC"
    if "." in a and "." in b and a[:8] == b[:8]:
        return f"{a}–{b[8:]} UTC"
    return f"between {a} and {b} UTC"


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 event`, `3 events`, `2 batches`."""
    return f"{count} {word if count == 1 else (many or word + 's')}"
