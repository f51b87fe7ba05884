"""Tests for the expressions the parsers share."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.parsers._common import _STACK_FILE, fraction_precision, matching, utc_offset_seconds
from triage.parsers.ginkgo_syntax import SEPARATOR

_TEXTS = st.one_of(
    st.none(),
    st.sampled_from(["-" * 30, "-" * 29, "\t/app/main.go:12", "  x/y.go:3 +0x1d", "", "é", "12:00:00.5Z"]),
    st.text(max_size=12),
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(_TEXTS, st.booleans()), max_size=20), st.sampled_from([SEPARATOR, _STACK_FILE, r"x*"])
)
def test_matching_is_a_pattern_test_on_the_rows_a_mask_leaves(
    rows: list[tuple[str | None, bool]], pattern: str
) -> None:
    """Testing a masked column tells whether each row it keeps matches, and False on the others."""
    frame = pl.DataFrame(
        {"text": [t for t, _ in rows], "keep": [k for _, k in rows]},
        schema={"text": pl.String, "keep": pl.Boolean},
    )
    got = frame.select(matching(pl.when(pl.col("keep")).then(pl.col("text")), pattern)).to_series()
    expected = frame.select(
        pl.col("keep") & pl.col("text").str.contains(pattern).fill_null(False)
    ).to_series()
    assert got.to_list() == expected.to_list()


def test_precision_and_offset_of_printed_times() -> None:
    """A time's precision comes from its fraction digits and its UTC offset from its zone, in seconds."""
    times = [
        "2026-01-14T10:25:12Z",
        "2026-01-14T10:25:12.5-0500",
        "2026-01-14T10:25:12.1234+05:30",
        "01/14/26 10:25:12.123456789",
        None,
    ]
    frame = pl.DataFrame({"t": times}, schema={"t": pl.String})
    out = frame.select(fraction_precision(pl.col("t")).alias("p"), utc_offset_seconds(pl.col("t")).alias("o"))
    assert out["p"].to_list() == ["s", "ms", "us", "ns", "s"]
    assert out["o"].to_list() == [0, -5 * 3600, 5 * 3600 + 30 * 60, None, None]
