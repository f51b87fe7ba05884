"""Findings word every time alike: the time of day in UTC, no finer than its source, marked UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from triage.rules.wording import clock, clock_span, plural, time_of_day, when

AT = datetime(2026, 1, 14, 15, 25, 9, 481_337, tzinfo=UTC)


def test_a_time_says_utc_and_keeps_at_most_milliseconds() -> None:
    """A nanosecond time prints milliseconds, a seconds-only source whole seconds, both marked UTC."""
    assert clock(AT, "ns") == "15:25:09.481 UTC"
    assert clock(AT, "s") == "15:25:09 UTC"
    assert clock(None, "ms") == "an unknown time"


def test_a_time_of_unknown_precision_drops_a_zero_fraction() -> None:
    """Without a known precision, a time on a whole second prints whole seconds."""
    assert time_of_day(AT.replace(microsecond=0), None) == "15:25:09"
    assert time_of_day(AT, None) == "15:25:09.481"


def test_a_row_is_worded_at_its_own_precision() -> None:
    """`when` reads the row's time and precision columns."""
    assert when({"ts": AT, "ts_precision": "s"}) == "15:25:09 UTC"
    assert when({"ts": None}) == "an unknown time"


def test_an_interval_names_utc_once() -> None:
    """An interval within a second shares its seconds, a longer one names both ends; each says UTC once."""
    assert clock_span(AT, AT.replace(microsecond=493_000)) == "15:25:09.481–.493 UTC"
    assert clock_span(AT, AT.replace(second=11, microsecond=0)) == "between 15:25:09.481 and 15:25:11 UTC"
    assert clock_span(None, AT) == "around 15:25:09.481 UTC"
    assert clock_span(None, None) == "at an unknown time"


def test_plural_counts() -> None:
    """One thing is singular, others plural, irregular plurals given."""
    assert plural(1, "event") == "1 event"
    assert plural(2, "batch", "batches") == "2 batches"
