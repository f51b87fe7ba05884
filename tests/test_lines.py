"""Reading files as numbered lines: every byte sequence gives lines and notes, never an exception."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.bundle.lines import (
    _READER_FROM,
    ANSI_PATTERN,
    BlockReader,
    _read_with_polars,
    _split_with_python,
    read_lines,
    split_lines,
)


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


def _reference(data: bytes) -> tuple[list[str], tuple[str, ...]]:
    # The plain definition of the line split: decode, drop a BOM and the final newline, split on "\n",
    # drop one "\r" per line, remove ANSI colour codes.
    notes: list[str] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        replaced = text.count(chr(0xFFFD)) - data.count(chr(0xFFFD).encode())  # one already there is content
        notes.append(f"{replaced} invalid UTF-8 byte sequence(s) replaced with U+FFFD")
    text = text.removeprefix("\ufeff")
    if not text:
        return [], tuple(notes)
    if text.endswith("\n"):
        text = text[:-1]
    else:
        notes.append("last line has no line ending (file truncated?)")
    if "\r" in text:
        notes.append("CRLF line endings")
    parts = [part.removesuffix("\r") for part in text.split("\n")]
    return [re.sub(ANSI_PATTERN, "", part) for part in parts], tuple(notes)


_TRICKY = st.lists(
    st.sampled_from(
        [
            b"\n",
            b"\r",
            b"\r\n",
            b"a",
            b" ",
            b'"',
            b",",
            b"#",
            b"\x1f",
            b"\x1e",
            b"\x1d",
            b"\x1c",
            b"\x01",
            b"\x00",
            b"\xef\xbb\xbf",
            b"\xff",
            b"\xe2\x9c",
            b"\x1b[34m",
            b"\x1b[0m",
            "✅ é".encode(),
            "\ufffd".encode(),
            b"\t{}",
        ]
    ),
    max_size=60,
).map(b"".join)


@given(_TRICKY)
def test_lines_and_notes_match_the_plain_split(data: bytes) -> None:
    """Whichever reader is used, lines and notes are those of the plain decode-and-split definition."""
    lines = split_lines(data)
    expected, notes = _reference(data)
    assert lines.frame["raw"].to_list() == expected
    assert lines.frame["line"].to_list() == list(range(1, len(expected) + 1))
    assert lines.notes == notes


@given(_TRICKY)
def test_the_csv_reader_gives_the_lines_of_the_plain_split_whenever_it_reads(data: bytes) -> None:
    """Short text skips the reader: where the reader takes the bytes, its lines are the split's."""
    for at_start in (True, False):
        raw = _read_with_polars(data, at_start)
        if raw is not None:
            assert raw.to_list() == _split_with_python(data, at_start)[0].to_list()


def test_quotes_separators_and_lone_carriage_returns_stay_in_the_line() -> None:
    """CSV quoting, separator bytes and a carriage return inside a line are content, not structure."""
    lines = split_lines(b'"open quote, comma\n\x1fa\x1eb\x1dc\x1cd\x01e\na\rb\r\n\xef\xbb\xbfmid\n')
    assert lines.frame["raw"].to_list() == [
        '"open quote, comma',
        "\x1fa\x1eb\x1dc\x1cd\x01e",
        "a\rb",
        "\ufeffmid",
    ]


def test_a_large_clean_file_reads_every_line(tmp_path: Path) -> None:
    """A multi-megabyte log with colour codes on some lines keeps its line count and loses the codes."""
    body = b"".join(
        b'{"level":"info","msg":"line %d"}\n' % i
        if i % 7
        else b"2026-01-14T15:24:53.447Z\t\x1b[34mINFO\x1b[0m\tx\n"
        for i in range(100_000)
    )
    path = tmp_path / "big.log"
    path.write_bytes(body)
    lines = read_lines(path)
    assert lines.count == 100_000
    assert lines.frame["raw"][0] == "2026-01-14T15:24:53.447Z\tINFO\tx"
    assert lines.frame["raw"][99_999] == '{"level":"info","msg":"line 99999"}'
    assert lines.notes == ()


@settings(max_examples=200)
@given(_TRICKY, st.integers(1, 12))
def test_reading_in_blocks_gives_the_lines_and_notes_of_reading_whole(data: bytes, block: int) -> None:
    """Blocks of a few bytes, cut anywhere, number and decode lines as one read of the file does."""
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "f.log"
    path.write_bytes(data)
    whole = split_lines(data)
    reader = BlockReader(path, block_bytes=block)
    frames = list(reader)
    assert all(frame.height for frame in frames)
    blocks = pl.concat(frames) if frames else whole.frame.clear()
    assert blocks.rows() == whole.frame.rows()
    assert (reader.count, reader.notes) == (whole.count, whole.notes)
    shutil.rmtree(tmp)


def test_blocks_the_csv_reader_takes_with_a_cut_line_read_as_the_whole_file(tmp_path: Path) -> None:
    """Blocks large enough for the CSV reader, cut at every byte of a line, read the lines of one read."""
    line = "2026-01-14T15:24:53.447Z\tINFO\t✅ Événement reçu\r\n".encode()
    lines = range(3 * _READER_FROM // len(line))
    body = b"".join(line if i % 3 else line.replace(b"\r\n", b"\n") for i in lines)
    path = tmp_path / "big.log"
    path.write_bytes(body)
    whole = split_lines(body)
    # Each block holds more than the reader's threshold of whole lines, and its cut falls on every byte.
    for block in range(_READER_FROM + len(line), _READER_FROM + 2 * len(line)):
        reader = BlockReader(path, block_bytes=block)
        frames = list(reader)
        assert len(frames) > 2
        assert pl.concat(frames).rows() == whole.frame.rows(), block
        assert (reader.count, reader.notes) == (whole.count, whole.notes)
