"""Quoted lines are read again from their files, and read the same as when they were parsed."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from triage.api import analyze
from triage.bundle.lines import BlockReader, split_lines
from triage.table.texts import UNREADABLE, LineTexts

BUNDLES = Path(__file__).resolve().parents[1] / "fixtures" / "bundles"
# Bytes that take each way of splitting: a byte-order mark, colour codes, CRLF, invalid UTF-8 (which
# sends a block to the Python split), a line longer than a block, and no final newline.
AWKWARD = (
    b"\xef\xbb\xbffirst line\n"
    b"\x1b[32mgreen\x1b[0m text\r\n"
    + b"long " * 300
    + b"\n"
    + b"bad \xff byte\n"
    + b"\n"
    + b"".join(b"line %d\n" % i for i in range(200))
    + b"last without newline"
)


def _texts(path: Path, block_bytes: int) -> tuple[LineTexts, list[str]]:
    reader = BlockReader(path, block_bytes)
    read = [text for frame in reader for text in frame["raw"].to_list()]
    return LineTexts({"f.log": (path, reader.blocks)}), read


@pytest.mark.parametrize("block_bytes", [64, 1000, 1 << 20])
def test_every_line_reads_again_as_it_was_read(tmp_path: Path, block_bytes: int) -> None:
    """In any block size, each line read again equals the line of one whole read of the file."""
    path = tmp_path / "f.log"
    path.write_bytes(AWKWARD)
    texts, read = _texts(path, block_bytes)
    whole = split_lines(AWKWARD).frame["raw"].to_list()
    assert read == whole
    assert [texts.text("f.log", n) for n in range(len(whole), 0, -1)] == whole[::-1]
    assert texts.texts(("f.log", n) for n in (3, 1, 2)) == [whole[2], whole[0], whole[1]]
    assert whole[0] == "first line" and whole[1] == "green text" and whole[3] == "bad \ufffd byte"


def test_lines_that_cannot_be_read_again_say_so(tmp_path: Path) -> None:
    """A line past the end, of an unknown file, or of a file changed or gone since is quoted as unreadable."""
    path = tmp_path / "f.log"
    path.write_bytes(AWKWARD)
    texts, read = _texts(path, 64)
    assert texts.text("f.log", len(read) + 1) == UNREADABLE
    assert texts.text("other.log", 1) == UNREADABLE
    path.write_bytes(b"x\n" * len(AWKWARD))
    assert texts.text("f.log", 7) == UNREADABLE
    path.unlink()
    assert texts.text("f.log", 8) == UNREADABLE


def test_attach_adds_the_texts_of_a_frames_lines() -> None:
    """attach() gives a frame of (file, line) rows a column with those lines' texts."""
    report = analyze(BUNDLES / "01-jan14-1025")
    writes = report.analysis.pipeline.writes.head(3)
    quoted = report.analysis.texts.attach(writes, alias="text")
    assert all("Batch audit events created successfully" in t for t in quoted["text"])


def test_findings_of_an_archive_quote_their_lines_after_it_is_unpacked_and_removed(tmp_path: Path) -> None:
    """Evidence of a bundle given as a .tar.gz is quoted in full, though its files are gone afterwards."""
    bundle = BUNDLES / "05-flush-bug"
    archive = tmp_path / "bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(bundle, arcname=bundle.name)
    from_dir, from_archive = analyze(bundle), analyze(archive)
    assert from_archive.findings
    assert [f.evidence for f in from_archive.findings] == [f.evidence for f in from_dir.findings]
    assert all(e.text and e.text != UNREADABLE for f in from_archive.findings for e in f.evidence)
