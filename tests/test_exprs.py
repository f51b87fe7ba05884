"""Shared decoding helpers: JSON texts decode alike whole, in slices, and one by one."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.table import exprs
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
