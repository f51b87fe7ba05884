"""Normalization steps: zone-less times move to UTC by the host offset; order is file then line."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from triage.table.normalize import apply_host_offsets, default_steps, normalize
from triage.table.schema import conform, validate_events


def _events(rows: list[dict[str, object]]) -> pl.DataFrame:
    base = {"source_kind": "ginkgo", "record": "step", "n_lines": 1, "raw": "x", "ts_assumed": False}
    return conform(pl.DataFrame([{**base, **row} for row in rows]))


def test_assumed_times_shift_by_the_host_offset_and_zoned_ones_stay() -> None:
    """A Ginkgo `@ 10:25:09.674` from an EST host becomes 15:25:09.674 UTC."""
    local = datetime(2026, 1, 14, 10, 25, 9, 674000, tzinfo=UTC)
    zoned = datetime(2026, 1, 14, 15, 25, 9, tzinfo=UTC)
    events = _events(
        [
            {"file": "t.log", "line": 1, "ts": local, "ts_assumed": True},
            {"file": "t.log", "line": 2, "ts": zoned, "ts_assumed": False},
            {"file": "other.log", "line": 1, "ts": local, "ts_assumed": True},
        ]
    )
    out = apply_host_offsets(events, {"t.log": -5 * 3600})
    assert out["ts"].to_list() == [
        datetime(2026, 1, 14, 15, 25, 9, 674000, tzinfo=UTC),
        zoned,
        local,
    ]


def test_default_steps_order_by_file_then_line_and_keep_the_schema() -> None:
    """The normalized table is in reading order and passes the schema check."""
    events = _events([{"file": "b", "line": 2}, {"file": "a", "line": 9}, {"file": "b", "line": 1}])
    out = validate_events(normalize(events, default_steps({})))
    assert list(zip(out["file"], out["line"], strict=True)) == [("a", 9), ("b", 1), ("b", 2)]
