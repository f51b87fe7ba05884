"""Timestamp and duration shapes, checked against values quoted in the format reference."""

from __future__ import annotations

from triage.simulate.timefmt import (
    ginkgo_at,
    go_duration,
    iso8601_millis_utc,
    postgres_ts,
    redis_ts,
    rfc3339_nano,
    rfc3339_seconds,
    seconds_json,
)

# 2026-01-14T15:25:09.674Z in microseconds since the epoch.
T = 1768404309674000


def test_go_duration_matches_go_strings() -> None:
    """Durations print as Go's time.Duration.String() does (the verbatim `5.33175ms`)."""
    assert go_duration(5331, 750) == "5.33175ms"
    assert go_duration(1_000_908, 875) == "1.000908875s"
    assert go_duration(908, 875) == "908.875µs"
    assert go_duration(2_000_000) == "2s"
    assert go_duration(124_512_839, 105) == "2m4.512839105s"


def test_seconds_json_matches_zap_float_seconds() -> None:
    """JSON durations are float seconds without exponent, as in the verbatim tick line."""
    assert seconds_json(1_000_908, 875) == "1.000908875"
    assert seconds_json(1_000_000) == "1"
    assert seconds_json(64_062, 500) == "0.0640625"
    assert seconds_json(5) == "0.000005"


def test_local_and_utc_timestamp_shapes() -> None:
    """Each program's timestamp shape matches the reference examples."""
    assert rfc3339_seconds(T, -300) == "2026-01-14T10:25:09-05:00"
    assert rfc3339_nano(T, -300, 875) == "2026-01-14T10:25:09.674000875-05:00"
    assert rfc3339_nano(T - 674000, -300) == "2026-01-14T10:25:09-05:00"
    assert iso8601_millis_utc(T) == "2026-01-14T15:25:09.674Z"
    assert ginkgo_at(T, -300) == "01/14/26 10:25:09.674"
    assert ginkgo_at(T - 4000, -300) == "01/14/26 10:25:09.67"
    assert postgres_ts(T) == "2026-01-14 15:25:09.674 UTC"
    assert redis_ts(T) == "14 Jan 2026 15:25:09.674"
