"""Timestamp and duration formatting in the exact shapes the simulated programs print.

All simulated times are integer microseconds since the Unix epoch (UTC). Nanosecond digits, where a
format needs them, come from a per-call `ns` remainder so that values stay deterministic.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

MS = 1_000
SECOND = 1_000_000

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@lru_cache(maxsize=64)
def _zone(offset_minutes: int) -> timezone:
    return timezone(timedelta(minutes=offset_minutes))


def offset_text(offset_minutes: int, colon: bool = True) -> str:
    """Return a UTC offset as Go prints it with `Z07:00` (or `Z0700` when colon is False).

    Args:
        offset_minutes: Offset from UTC in minutes.
        colon: Whether to separate hours and minutes with a colon.

    Returns:
        `Z` for UTC, otherwise e.g. `-05:00`.
    """
    if offset_minutes == 0:
        return "Z"
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}" if colon else f"{sign}{hours:02d}{minutes:02d}"


@lru_cache(maxsize=4096)
def _second_text(second: int, offset_minutes: int) -> str:
    return datetime.fromtimestamp(second, _zone(offset_minutes)).strftime("%Y-%m-%dT%H:%M:%S")


def rfc3339_seconds(t_us: int, offset_minutes: int) -> str:
    """Format like Go's RFC3339 in a fixed zone, e.g. `2026-01-14T10:25:09-05:00`.

    Args:
        t_us: Time in microseconds since the epoch.
        offset_minutes: Zone offset in minutes.

    Returns:
        The timestamp text.
    """
    return _second_text(t_us // SECOND, offset_minutes) + offset_text(offset_minutes)


def rfc3339_nano(t_us: int, offset_minutes: int, ns: int = 0) -> str:
    """Format like Go's RFC3339Nano (trailing zeros of the fraction trimmed).

    Args:
        t_us: Time in microseconds since the epoch.
        offset_minutes: Zone offset in minutes.
        ns: Extra nanoseconds (0-999) below the microsecond.

    Returns:
        The timestamp text, e.g. `2026-01-15T21:04:07.516650875-05:00`.
    """
    frac = f"{(t_us % SECOND) * 1000 + ns:09d}".rstrip("0")
    text = _second_text(t_us // SECOND, offset_minutes)
    return f"{text}.{frac}{offset_text(offset_minutes)}" if frac else text + offset_text(offset_minutes)


def iso8601_millis_utc(t_us: int) -> str:
    """Format like zap's ISO8601TimeEncoder for a UTC time, e.g. `2026-01-14T15:24:53.447Z`.

    Args:
        t_us: Time in microseconds since the epoch.

    Returns:
        The timestamp text.
    """
    return f"{_second_text(t_us // SECOND, 0)}.{(t_us % SECOND) // MS:03d}Z"


def ginkgo_at(t_us: int, offset_minutes: int) -> str:
    """Format like Ginkgo's `01/02/06 15:04:05.999` (local, no zone, trailing zeros trimmed).

    Args:
        t_us: Time in microseconds since the epoch.
        offset_minutes: Zone offset of the test host in minutes.

    Returns:
        The timestamp text, e.g. `01/14/26 10:25:09.674`.
    """
    moment = datetime.fromtimestamp(t_us // SECOND, _zone(offset_minutes))
    frac = f"{(t_us % SECOND) // MS:03d}".rstrip("0")
    base = moment.strftime("%m/%d/%y %H:%M:%S")
    return f"{base}.{frac}" if frac else base


def postgres_ts(t_us: int) -> str:
    """Format like PostgreSQL's `%m` in UTC, e.g. `2026-01-14 15:24:50.123 UTC`.

    Args:
        t_us: Time in microseconds since the epoch.

    Returns:
        The timestamp text.
    """
    return f"{_second_text(t_us // SECOND, 0).replace('T', ' ')}.{(t_us % SECOND) // MS:03d} UTC"


def redis_ts(t_us: int) -> str:
    """Format like Redis' log time, e.g. `14 Jan 2026 15:24:52.264`.

    Args:
        t_us: Time in microseconds since the epoch.

    Returns:
        The timestamp text.
    """
    moment = datetime.fromtimestamp(t_us // SECOND, UTC)
    return (
        f"{moment.day:02d} {_MONTHS[moment.month - 1]} {moment.year} "
        f"{moment.strftime('%H:%M:%S')}.{(t_us % SECOND) // MS:03d}"
    )


def local_stamp(t_us: int, offset_minutes: int, fmt: str) -> str:
    """Format a local time with a strftime pattern (for directory names and truth).

    Args:
        t_us: Time in microseconds since the epoch.
        offset_minutes: Zone offset in minutes.
        fmt: A strftime pattern.

    Returns:
        The formatted text.
    """
    return datetime.fromtimestamp(t_us / SECOND, _zone(offset_minutes)).strftime(fmt)


def utc_iso_micros(t_us: int) -> str:
    """Format a UTC time as ISO 8601 with microseconds and `Z`, the ground truth's time shape.

    Args:
        t_us: Time in microseconds since the epoch.

    Returns:
        E.g. `2026-01-14T15:25:09.674000Z`.
    """
    return f"{_second_text(t_us // SECOND, 0)}.{t_us % SECOND:06d}Z"


def go_float(value: float) -> str:
    """Format a float the way Go's strconv 'f' with precision -1 does (as zap's JSON encoder does).

    Args:
        value: The number.

    Returns:
        The shortest round-trip decimal without exponent, e.g. `1`, `0.1`, `0.000908875`.
    """
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = f"{value:.20f}".rstrip("0")
    if text.endswith(".0"):
        text = text[:-2]
    return text.rstrip(".")


def seconds_json(duration_us: int, ns: int = 0) -> str:
    """Format a duration as zap's SecondsDurationEncoder does in JSON (float seconds).

    Args:
        duration_us: Duration in microseconds.
        ns: Extra nanoseconds (0-999).

    Returns:
        E.g. `0.1`, `1.000908875`, `-0.0359375`.
    """
    total_ns = duration_us * 1000 + (ns if duration_us >= 0 else -ns)
    return go_float(total_ns / 1e9)


def go_duration(duration_us: int, ns: int = 0) -> str:
    """Format a duration as Go's time.Duration.String() does.

    Args:
        duration_us: Duration in microseconds.
        ns: Extra nanoseconds (0-999).

    Returns:
        E.g. `5.33175ms`, `1.000908875s`, `908.875µs`, `2m4.5s`, `0s`.
    """
    total = duration_us * 1000 + (ns if duration_us >= 0 else -ns)
    if total == 0:
        return "0s"
    sign = "-" if total < 0 else ""
    total = abs(total)
    if total < 1000:
        return f"{sign}{total}ns"
    if total < 1_000_000:
        return f"{sign}{_trim(total, 1000)}µs"
    if total < 1_000_000_000:
        return f"{sign}{_trim(total, 1_000_000)}ms"
    hours, rest = divmod(total, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    text = f"{_trim(rest, 1_000_000_000)}s"
    if hours:
        return f"{sign}{hours}h{minutes}m{text}"
    if minutes:
        return f"{sign}{minutes}m{text}"
    return sign + text


def _trim(value: int, unit: int) -> str:
    whole, frac = divmod(value, unit)
    digits = len(str(unit)) - 1
    frac_text = f"{frac:0{digits}d}".rstrip("0")
    return f"{whole}.{frac_text}" if frac_text else str(whole)
