"""The compressed `attrs` store: what `attach` adds back is what the parser wrote, row for row."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_series_equal

from triage.api import analyze
from triage.bundle.lines import split_lines
from triage.bundle.sources import Source
from triage.parsers import LINES_SCHEMA, ParseResult, ginkgo, merge
from triage.table.attrs import ID, Attrs, pack

BUNDLES = Path(__file__).resolve().parents[1] / "fixtures" / "bundles"
TEST_LOG = BUNDLES / "01-jan14-1025" / "integration-signalprocessing.log"


def _parsed() -> pl.DataFrame:
    """The test log of a bundle, parsed whole: its records with their `attrs`."""
    source = Source(TEST_LOG, TEST_LOG.name, "ginkgo", "test-run", "test")
    return ginkgo.parse(split_lines(TEST_LOG.read_bytes()).frame, source).events.drop("raw")


def test_attach_gives_back_each_rows_attrs_in_the_order_asked() -> None:
    """Rows picked in any order, with repeats, get the text their record had before packing."""
    events = _parsed()
    packed, store = pack(events)
    assert packed.height == events.height and "attrs" not in packed.columns
    picks = [7, 3, 3, events.height - 1, 0, 120]
    got = store.attach(packed[picks]).get_column("attrs")
    assert_series_equal(got, events[picks].get_column("attrs"))


def test_log_records_and_the_others_are_kept_apart() -> None:
    """A piece's log records come first in the ids, its Ginkgo records after, each part compressed."""
    events = _parsed()
    packed, store = pack(events, compress_from=0)
    logs = events.filter(pl.col("record") == "log").height
    assert 0 < logs < events.height
    assert store.starts == (0, logs) and store.sizes == (logs, events.height - logs)
    ids = packed.get_column(ID)
    assert sorted(ids.to_list()) == list(range(events.height))
    assert (ids.filter(packed.get_column("record") == "log") < logs).all()
    text_bytes = events.get_column("attrs").str.len_bytes().sum()
    assert all(isinstance(part, bytes) for part in store.parts)
    assert store.nbytes * 3 < text_bytes  # JSON text compresses well


def test_a_part_of_little_text_is_kept_uncompressed_and_attaches_the_same() -> None:
    """Only a part with at least `compress_from` bytes of text is compressed; either kind reads back."""
    events = _parsed()
    logs = events.filter(pl.col("record") == "log").get_column("attrs").str.len_bytes().sum()
    others = events.filter(pl.col("record") != "log").get_column("attrs").str.len_bytes().sum()
    assert others < logs
    packed, store = pack(events, compress_from=others + 1)
    assert [type(part) for part in store.parts] == [bytes, pl.Series]
    first_log = int(events.get_column("record").cast(pl.String).eq("log").arg_true()[0])
    picks = [events.height - 1, first_log, 0, first_log + 1, events.height - 2]
    assert set(events[picks].get_column("record")) >= {"log", "summary"}
    assert_series_equal(store.attach(packed[picks]).get_column("attrs"), events[picks].get_column("attrs"))


def test_stores_of_consecutive_pieces_join_like_one() -> None:
    """Pieces packed one by one and merged attach the same texts as the whole file packed once."""
    events = _parsed()
    cut = events.height // 2
    results = []
    for part in (events.slice(0, cut), events.slice(cut)):
        packed, store = pack(part)
        results.append(_result(packed, store))
    merged = merge(results)
    assert merged.attrs is not None and merged.attrs.count == events.height
    assert_series_equal(merged.attrs.attach(merged.events).get_column("attrs"), events.get_column("attrs"))


def _result(events: pl.DataFrame, store: Attrs) -> ParseResult:
    return ParseResult(events, pl.DataFrame(schema=LINES_SCHEMA), {}, store)


def test_a_frame_that_has_attrs_is_returned_as_it_is() -> None:
    events = _parsed().head(5)
    assert Attrs().attach(events) is events


def test_an_id_from_another_table_is_refused() -> None:
    """A store never answers with nulls for rows it does not hold."""
    packed, store = pack(_parsed().head(10))
    with pytest.raises(ValueError, match="not in this store"):
        store.attach(packed.with_columns(pl.col(ID) + 10))
    with pytest.raises(ValueError, match="not in this store"):
        Attrs().attach(packed)


def test_no_rows_get_an_empty_column() -> None:
    packed, store = pack(_parsed())
    assert store.attach(packed.clear()).get_column("attrs").dtype == pl.String


def test_the_analysed_table_keeps_ids_and_the_analysis_reads_the_same_fields() -> None:
    """On a whole bundle: every record's attrs can be read back and decode as a JSON object."""
    report = analyze(BUNDLES / "02-healthy")
    events = report.events
    assert "attrs" not in events.columns and events.get_column(ID).n_unique() == events.height
    texts = report.analysis.attrs.attach(events).get_column("attrs")
    assert texts.null_count() == 0
    ticks = report.analysis.attrs.attach(events.filter(pl.col("msg_key") == "Timer tick received"))
    assert ticks.height and all("tick_number" in json.loads(t) for t in ticks["attrs"])
