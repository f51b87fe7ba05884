"""The console decoder's line splitting equals the plain regex definitions it replaces."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.bundle.lines import split_lines
from triage.bundle.sources import Source
from triage.parsers import zap, zap_console
from triage.parsers._common import ISO_TS_PATTERN, with_per_value

# The whole-line definitions: a capture group spanning the line is exact but slow on long lines.
HEAD = re.compile(r"(" + ISO_TS_PATTERN + r")(\t| +)([A-Za-z]+(?:\(-?\d+\))?)(?:(?:\t| +)(.*))?")
TAB_FIELDS = re.compile(r"(.*)\t(\{.*\})")
SPACED_FIELDS = re.compile(r'(.*?)\s+(\{".*\}|\{\})')

_PIECES = ["\t", " ", "  ", "{", "}", '{"a": 1}', "{}", "INFO", "Level(-2)", "x", "é✅", "\n", ":", '"']
_LINES = st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)
_HEADS = st.sampled_from(
    ["2026-01-14T19:35:01.592Z", "2026-01-14T10:25:09-05:00", "2026-01-14T10:25:09+0100"]
)


def _frame(texts: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"text": texts}, schema={"text": pl.String})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_HEADS, _LINES), max_size=8))
def test_head_split_matches_the_whole_line_pattern(parts: list[tuple[str, str]]) -> None:
    """Time, separator, level and rest are those the anchored whole-line pattern captures."""
    texts = [head + tail for head, tail in parts]
    got = zap_console.split_head(_frame(texts), "text").select("_ts", "_sep", "_level", "_rest").rows()
    for text, row in zip(texts, got, strict=True):
        m = HEAD.fullmatch(text)
        expected = (m[1], m[2], m[3], m[4] or "") if m else (None, None, None, None)
        assert row == expected, text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_LINES, st.booleans()), max_size=8))
def test_fields_split_matches_the_whole_line_patterns(rows: list[tuple[str, bool]]) -> None:
    """The fields object is split at the last tab-brace, or at the first spaced brace in copies."""
    frame = pl.DataFrame(
        {"rest": [r for r, _ in rows], "tabbed": [t for _, t in rows]},
        schema={"rest": pl.String, "tabbed": pl.Boolean},
    )
    got = zap_console.split_fields(frame, "rest", "tabbed").select("_body", "_fields").rows()
    for (rest, tabbed), row in zip(rows, got, strict=True):
        m = (TAB_FIELDS if tabbed else SPACED_FIELDS).fullmatch(rest)
        assert row == ((m[1], m[2]) if m else (None, None)), (rest, tabbed)


def test_fields_split_keeps_multibyte_text_whole() -> None:
    """Splitting by byte position around the tab leaves emoji in the message intact."""
    rest = '✅ Event buffered successfully\t{"event_type": "é", "n": {"a": 1}}'
    frame = _frame([rest]).with_columns(pl.lit(True).alias("tabbed"))
    got = zap_console.split_fields(frame, "text", "tabbed").select("_body", "_fields").row(0)
    assert got == ("✅ Event buffered successfully", '{"event_type": "é", "n": {"a": 1}}')


def test_stack_frames_fold_into_the_record_above_only() -> None:
    """Frame lines after a record join it; frame lines after an unparsed line stay on their own."""
    text = (
        "2026-01-14T19:35:01.592Z\tERROR\tdatastorage\tserver/a.go:1\tboom\n"
        "main.run\n"
        "\t/src/main.go:10\n"
        "not a record\n"
        "main.other\n"
        "\t/src/main.go:20\n"
        "2026-01-14T19:35:02.592Z\tINFO\tdatastorage\tserver/a.go:2\tfine\n"
    )
    source = Source(Path("ds.log"), "ds.log", "zap_console", "datastorage", "test")
    result = zap.parse(split_lines(text.encode()).frame, source)
    assert result.events.select("line", "n_lines").rows() == [(1, 3), (7, 1)]
    assert '"stacktrace":"main.run\\n\\t/src/main.go:10"' in result.events["attrs"][0]
    assert result.unparsed["line"].to_list() == [4, 5, 6]


def test_per_value_columns_are_computed_once_and_keep_row_order() -> None:
    """Columns derived per distinct value land on every row holding it, nulls included, in order."""
    frame = pl.DataFrame({"k": ["b", None, "a", "b", None], "n": [1, 2, 3, 4, 5]})
    out = with_per_value(frame, "k", [pl.col("k").str.to_uppercase().alias("upper")])
    assert out.rows() == [("b", 1, "B"), (None, 2, None), ("a", 3, "A"), ("b", 4, "B"), (None, 5, None)]
