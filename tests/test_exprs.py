"""Shared decoding helpers: JSON texts decode alike whole, in slices, and one by one."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from triage.table import exprs
from triage.table.attrs import pack
from triage.table.exprs import decode_json

DTYPE = pl.Struct({"n": pl.Int64(), "s": pl.String()})
_TEXTS = st.one_of(
    st.builds(
        lambda n, s: f'{{"n": {n}, "s": "{s}", "x": [1, 2]}}', st.integers(-5, 5), st.sampled_from("ab✅")
    ),
    st.sampled_from(['{"s": "only"}', "{}", '{"n": 1,', "not json", '{"n": "1"}', '{"s": null}']),
)


def _one_by_one(texts: list[str]) -> list[object]:
    out: list[object] = []
    for text in texts:
        try:
            out.append(pl.Series([text]).str.json_decode(DTYPE).to_list()[0])
        except pl.exceptions.PolarsError:
            out.append(None)
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(_TEXTS, max_size=20))
def test_slices_and_bad_texts_decode_as_each_text_alone(texts: list[str]) -> None:
    """A bad text anywhere, at a slice edge too, nulls only its own row."""
    expected = _one_by_one(texts)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(exprs, "DECODE_ROWS", 3)
        sliced = decode_json(pl.Series("t", texts, dtype=pl.String), DTYPE)
    whole = decode_json(pl.Series("t", texts, dtype=pl.String), DTYPE)
    assert sliced.dtype == whole.dtype == DTYPE
    assert sliced.to_list() == whole.to_list() == expected


def test_long_frames_decode_in_slices_as_in_one_pass() -> None:
    """Rows decoded a few at a time on two threads get the values one pass gives, from a store or `attrs`."""
    texts = [
        f'{{"n": {i}, "s": "t{i % 3}"}}' if i % 4 else ("not json" if i % 8 else '{"n": "x"}')
        for i in range(40)
    ]
    events = pl.DataFrame(
        {"record": ["log" if i % 5 else "spec" for i in range(40)], "line": range(40), "attrs": texts}
    )
    packed, store = pack(events, compress_from=0)
    fields = {"n": pl.Int64(), "s": pl.String()}
    picks = [1, 2, 3, 5, 8, 13, 21, 34, 35, 36, 39]
    whole = exprs.with_attrs(events[picks], ["line"], fields)
    assert whole.get_column("n").to_list() == [1, 2, 3, 5, None, 13, 21, 34, 35, None, 39]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(exprs, "SLICE_ROWS", 3)
        assert_frame_equal(exprs.with_attrs(events[picks], ["line"], fields), whole)
        assert_frame_equal(exprs.with_attrs(packed[picks], ["line"], fields, store), whole)
        assert_frame_equal(exprs.with_attrs(packed[picks[::-1]], ["line"], fields, store), whole.reverse())
