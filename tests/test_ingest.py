"""Reading and parsing sources in blocks and pieces on threads: same result, every line accounted for."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import triage.parsers
from triage.bundle.discovery import discover
from triage.bundle.sources import Source
from triage.parsers import ParseResult
from triage.parsers.ingest import SourceAccount, ingest
from triage.parsers.recognise import RECOGNISER
from triage.table.attrs import ID

BUNDLES = Path(__file__).resolve().parents[1] / "fixtures" / "bundles"


def _assert_same(
    one: list[tuple[SourceAccount, ParseResult | None]], other: list[tuple[SourceAccount, ParseResult | None]]
) -> None:
    assert [replace(a, blocks=()) for a, _ in one] == [replace(a, blocks=()) for a, _ in other]
    for (_, left), (_, right) in zip(one, other, strict=True):
        assert (left is None) == (right is None)
        if left is not None and right is not None:
            assert left.attrs is not None and right.attrs is not None
            # ids are laid out per piece (its log records, then its others): compare the texts they hold
            assert_frame_equal(
                left.attrs.attach(left.events).drop(ID), right.attrs.attach(right.events).drop(ID)
            )
            assert_frame_equal(left.unparsed, right.unparsed)
            assert left.facts == right.facts


@pytest.mark.parametrize("bundle", ["01-jan14-1025", "09-later-format"])
def test_small_blocks_and_pieces_give_what_one_read_of_each_file_gives(bundle: str) -> None:
    """Blocks of 4 KiB parsed in pieces of 200 lines on two threads change no account and no event."""
    sources = discover(BUNDLES / bundle, recogniser=RECOGNISER).sources
    whole = ingest(sources, workers=1, block_bytes=1 << 30, rows=1 << 30)
    pieces = ingest(sources, workers=2, block_bytes=4096, rows=200)
    assert sum(a.lines for a, _ in whole) > 5 * 200
    _assert_same(whole, pieces)


def test_the_blocks_of_an_account_cover_its_file_in_order() -> None:
    """Each account's blocks follow on in bytes and in line numbers and together hold the whole file."""
    sources = discover(BUNDLES / "01-jan14-1025", recogniser=RECOGNISER).sources
    for account, _ in ingest(sources, block_bytes=4096, rows=100):
        size = account.source.path.stat().st_size
        if not size:
            continue
        blocks = account.blocks
        assert blocks[0].start == 0 and blocks[0].first_line == 1 and blocks[0].at_start
        for before, after in itertools.pairwise(blocks):
            assert after.start == before.start + before.size and not after.at_start
            assert after.first_line == before.first_line + before.lines
        assert blocks[-1].start + blocks[-1].size == size
        assert blocks[-1].first_line + blocks[-1].lines - 1 == account.lines


def test_every_line_is_parsed_or_counted(tmp_path: Path) -> None:
    """A file's lines are the lines parsed plus the lines not understood, read in any block size."""
    sources = discover(BUNDLES / "01-jan14-1025", recogniser=RECOGNISER).sources
    for account, _ in ingest(sources, block_bytes=1024, rows=100):
        text = account.source.path.read_bytes()
        assert account.lines == text.count(b"\n") + (0 if text.endswith(b"\n") or not text else 1)
        assert account.lines == account.parsed_lines + account.unparsed_lines


def test_an_unreadable_source_is_noted_and_the_others_go_on(tmp_path: Path) -> None:
    """A source whose path cannot be opened becomes a note; the next source is still parsed."""
    sources = discover(BUNDLES / "01-jan14-1025", recogniser=RECOGNISER).sources
    broken = replace(sources[0], path=tmp_path)  # a directory cannot be read as a file
    (gone, none), *rest = ingest([broken, *sources[1:]])
    assert none is None and gone.lines == 0
    assert gone.notes == ("present but unreadable: Is a directory",)
    assert all(result is not None for _, result in rest)


def test_a_parser_that_fails_leaves_its_lines_counted_as_not_understood(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A crash in one piece of a file counts its lines as not understood and quotes its first filled ones."""
    sources = [
        s for s in discover(BUNDLES / "01-jan14-1025", recogniser=RECOGNISER).sources if s.kind == "ginkgo"
    ]
    real = triage.parsers.parser_for("ginkgo")
    assert real is not None
    calls = 0

    def flaky(lines: pl.DataFrame, source: Source) -> ParseResult:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ValueError("boom")
        return real(lines, source)

    monkeypatch.setattr("triage.parsers.ingest.parser_for", lambda kind: flaky)
    ((account, result),) = ingest(sources, block_bytes=8192, rows=200)
    assert calls > 2 and result is None
    assert account.parsed_lines == 0 and account.unparsed_lines == account.lines > 0
    assert account.notes[-1] == "parser failed (ValueError: boom); every line counted as not understood"
    first = [line for line in sources[0].path.read_text().splitlines() if line.strip()][:5]
    assert [s.text for s in account.samples] == [
        line[:300] + ("…" if len(line) > 300 else "") for line in first
    ]
