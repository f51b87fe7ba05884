"""Parsing a large file in slices gives exactly what one call over the whole file gives."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from triage.bundle.discovery import discover
from triage.bundle.lines import split_lines
from triage.bundle.sources import Source
from triage.parsers import ParseResult, parse_lines, parser_for
from triage.parsers.recognise import RECOGNISER
from triage.simulate import simulate

BUNDLES = Path(__file__).resolve().parents[2] / "fixtures" / "bundles"
SLICED = ("ginkgo", "zap_json", "zap_console")
# A Go stack trace as zap prints it after an error record; the slicer must not cut through one.
TRACE = [
    "github.com/jordigilh/kubernaut/pkg/audit.(*BufferedAuditStore).writeBatchWithRetry",
    "\t/workspace/pkg/audit/store.go:412",
    "github.com/jordigilh/kubernaut/pkg/audit.(*BufferedAuditStore).backgroundWriter",
    "\t/workspace/pkg/audit/store.go:350",
]


def _sources(*bundles: Path) -> list[Source]:
    return [s for b in bundles for s in discover(b, recogniser=RECOGNISER).sources if s.kind in SLICED]


def _assert_same(whole: ParseResult, sliced: ParseResult) -> None:
    assert_frame_equal(whole.events, sliced.events)
    assert_frame_equal(whole.unparsed, sliced.unparsed)
    assert whole.facts == sliced.facts


@pytest.mark.parametrize("rows", [3, 41, 400])
def test_committed_bundles_parse_the_same_in_slices(rows: int) -> None:
    """Every line-format file of every committed bundle, cut into slices of a few rows and more."""
    sources = _sources(*sorted(p for p in BUNDLES.iterdir() if p.is_dir()))
    assert {s.kind for s in sources} == set(SLICED)
    for source in sources:
        lines = split_lines(source.path.read_bytes()).frame
        whole = parser_for(source.kind)(lines, source)  # type: ignore[misc]
        _assert_same(whole, parse_lines(source.kind, lines, source, rows=rows))


def test_spec_indexes_run_on_across_slices(tmp_path: Path) -> None:
    """Spec blocks are numbered through the file, not from 1 in each slice."""
    simulate("jan14-1025", tmp_path / "run", seed=5, processes=2, specs=30)
    (source,) = [s for s in _sources(tmp_path / "run") if s.kind == "ginkgo"]
    lines = split_lines(source.path.read_bytes()).frame
    assert lines.height > 3 * 150  # several slices
    sliced = parse_lines(source.kind, lines, source, rows=150)
    specs = sliced.events.filter(pl.col("record") == "spec", pl.col("spec_index").is_not_null())
    assert specs.height >= 10
    assert specs["spec_index"].to_list() == list(range(1, specs.height + 1))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(2, 60))
def test_damaged_logs_with_stack_traces_parse_the_same_in_slices(seed: int, rows: int) -> None:
    """Traces, blank lines and junk spliced into real logs at random places do not move a record."""
    rng = random.Random(seed)
    for source in _sources(BUNDLES / "01-jan14-1025", BUNDLES / "09-later-format"):
        lines = source.path.read_text().splitlines()[:300]
        for _ in range(rng.randint(1, 12)):
            at = rng.randrange(len(lines) + 1)
            lines[at:at] = rng.choice([TRACE, TRACE[1:], [""], ["not a log line"], ["-" * 30]])
        frame = split_lines("\n".join(lines).encode()).frame
        whole = parser_for(source.kind)(frame, source)  # type: ignore[misc]
        _assert_same(whole, parse_lines(source.kind, frame, source, rows=rows))
