"""Reading files as numbered lines: every byte sequence gives lines and notes, never an exception."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from triage.lines import split_lines


def test_lines_are_numbered_from_one_and_keep_blank_lines() -> None:
    """Blank lines are lines too, so numbers match an editor's."""
    lines = split_lines(b"first\n\nthird\n")
    assert lines.frame.rows() == [(1, "first"), (2, ""), (3, "third")]
    assert lines.notes == ()


def test_a_final_line_without_newline_counts_and_is_noted() -> None:
    """A truncated last line is still a line, and the report says the file looks truncated."""
    lines = split_lines(b"one\ntw")
    assert lines.count == 2
    assert any("truncated" in note for note in lines.notes)


def test_crlf_endings_are_removed_and_noted() -> None:
    """Windows line endings do not leak a carriage return into the text."""
    lines = split_lines(b"a\r\nb\r\n")
    assert lines.frame["raw"].to_list() == ["a", "b"]
    assert "CRLF line endings" in lines.notes


def test_invalid_utf8_is_replaced_and_counted() -> None:
    """Bytes that are not UTF-8 become U+FFFD and the count is noted."""
    lines = split_lines(b"ok\n\xff\xfe bad\n")
    assert lines.frame["raw"][1] == "\ufffd\ufffd bad"
    assert lines.notes[0].startswith("2 invalid UTF-8")


def test_ansi_colour_codes_are_stripped() -> None:
    """The January DataStorage level colours do not reach parsers."""
    lines = split_lines(b"2026-01-14T15:24:53.447Z\t\x1b[34mINFO\x1b[0m\tdatastorage\n")
    assert lines.frame["raw"][0] == "2026-01-14T15:24:53.447Z\tINFO\tdatastorage"


def test_an_empty_file_has_no_lines() -> None:
    """Zero bytes are zero lines."""
    assert split_lines(b"").count == 0


@given(st.binary(max_size=2000))
def test_any_bytes_give_as_many_lines_as_newlines_plus_a_tail(data: bytes) -> None:
    """The line count is the newline count, plus one for a final unterminated line."""
    body = data.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark is not content
    expected = body.count(b"\n") + (0 if body.endswith(b"\n") or not body else 1)
    assert split_lines(data).count == expected
