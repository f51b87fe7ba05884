"""Records in zap's own shape are read by a regex; every record decodes as the JSON decoder decodes it."""

# ruff: noqa: E501  -- verbatim log lines are kept whole

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from triage.parsers import zap_json
from triage.table.exprs import decode_json

TS = "2026-01-14T15:24:53.447Z"
STORE = '"logger":"audit-store"'
PLAIN = [
    f'{{"level":"info","ts":"2026-01-14T20:48:44-05:00",{STORE},"msg":"✅ Event buffered successfully","event_type":"signalprocessing.phase.transition","correlation_id":"audit-test-rr-04","buffer_size_after":1,"total_buffered":29}}',
    f'{{"level":"info","ts":1769779135.7643733,{STORE},"msg":"⏰ Timer tick received","tick_number":1,"batch_size_before_flush":0,"buffer_utilization":0,"drift":-0.5e-3,"closed":false,"last":null}}',
    '{"level":"info","ts":1769779135,"logger":"datastorage","caller":"server/server.go:157","msg":"PostgreSQL connection established","max_open_conns":25}',
    f'{{"level":"info","ts":"{TS}","caller":"audit/store.go:163","msg":"","correlation_id":"","event_type":"x"}}',
    f'{{"level":"warn","ts":"{TS}","msg":"Audit store initialized"}}',
]
ODD = [
    # escapes: quotes and unicode in msg, in an ID, in a field only, and an invalid one
    f'{{"level":"error","ts":"{TS}",{STORE},"msg":"Failed to write audit batch: \\"connection refused\\"","batch_size":8}}',
    f'{{"level":"info","ts":"{TS}",{STORE},"msg":"\\u2705 Event buffered successfully","event_type":"a.b","correlation_id":"rr-\\u00e9"}}',
    f'{{"level":"error","ts":"{TS}","logger":"datastorage","msg":"Batch database write failed","stacktrace":"main.main\\n\\t/app/main.go:12"}}',
    f'{{"level":"info","ts":"{TS}","msg":"bad \\x escape"}}',
    # keys out of order, spaces, nested values
    f'{{"ts":"{TS}","level":"info","msg":"Timer tick received",{STORE},"tick_number":3}}',
    f'{{"level": "info", "ts": "{TS}", "msg": "spaced", "correlation_id": "c-1"}}',
    f'{{"level":"info","ts":"{TS}","logger":"datastorage","msg":"HTTP request","request":{{"method":"POST"}},"ids":[1,2],"correlation_id":"c-2"}}',
    # keys the decoder reads otherwise: repeated, late, a number or boolean where text is expected
    f'{{"level":"info","ts":"{TS}","msg":"m","correlation_id":null,"correlation_id":"c-3"}}',
    f'{{"level":"info","ts":"{TS}","msg":"m","correlation_id":42,"event_type":true}}',
    f'{{"level":"info","ts":"{TS}","msg":"m","a":1,"logger":"late","caller":"x.go:1"}}',
    f'{{"level":"info","ts":"{TS}",{STORE},"msg":"m","msg":"again","ts":"{TS}","x":1}}',
    f'{{"level":7,"ts":"{TS}","msg":"m"}}',
    # not well-formed: cut in half where a brace happens to end it, a trailing comma, numbers the
    # decoder refuses, a raw tab inside a string
    f'{{"level":"info","ts":"{TS}",{STORE},"msg":"Event buffered","correlation_id":"{{}}',
    f'{{"level":"info","ts":"{TS}",{STORE},"msg":"Ev}}',
    f'{{"level":"info","ts":"{TS}","msg":"m","x":1,}}',
    f'{{"level":"info","ts":"{TS}","msg":"m","x":1e309}}',
    f'{{"level":"info","ts":"{TS}","msg":"m","x":01}}',
    f'{{"level":"info","ts":"{TS}","msg":"a\tb"}}',
]


@contextmanager
def json_decoder_only() -> Iterator[None]:
    """Send every record to the JSON decoder, as if none had zap's own shape."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(zap_json, "_PLAIN", zap_json._PLAIN + "^never")
        yield


def decode_both(lines: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """decode_rows of lines as it runs, and with every record sent to the JSON decoder."""
    rows = pl.DataFrame({"t": lines}, schema={"t": pl.String})
    fast = zap_json.decode_rows(rows, "t")
    with json_decoder_only():
        reference = zap_json.decode_rows(rows, "t")
    return fast, reference


def test_edge_cases_decode_as_the_json_decoder_decodes_them() -> None:
    """Escapes, odd key order, numeric times, repeated keys and records cut in half decode as the JSON decoder decodes them."""
    fast, reference = decode_both(PLAIN + ODD)
    assert_frame_equal(fast, reference)
    refused = {3, 12, 13, 14, 15, 16, 17}
    assert fast["decoded"].to_list() == [True] * len(PLAIN) + [at not in refused for at in range(len(ODD))]
    assert fast["message"][len(PLAIN)] == 'Failed to write audit batch: "connection refused"'
    assert fast["correlation_id"][len(PLAIN) + 1] == "rr-é"
    assert fast["correlation_id"][len(PLAIN) + 7] is None
    assert fast["correlation_id"][len(PLAIN) + 8] == "42"
    assert fast["logger"][len(PLAIN) + 9] == "late"
    assert json.loads(fast["attrs"][len(PLAIN) + 10]) == {"x": 1}


def test_only_records_outside_zaps_shape_reach_the_json_decoder() -> None:
    """Records in zap's own shape are read without the JSON decoder; the others go to it."""
    seen: list[str] = []

    def recording(texts: pl.Series, dtype: pl.Struct) -> pl.Series:
        seen.extend(texts.to_list())
        return decode_json(texts, dtype)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(zap_json, "decode_json", recording)
        out = zap_json.decode_rows(pl.DataFrame({"t": PLAIN + ODD[:2]}), "t")
    assert seen == ODD[:2]
    assert out["msg_key"][0] == "Event buffered successfully"
    assert out["event_type"][0] == "signalprocessing.phase.transition"
    assert out["attrs"][4] == "{}"


# Mostly text as services print it, sometimes any character (quotes, backslashes, controls).
_PRINTED = st.text(st.sampled_from("ab9-_ .:/{}[],é✅⏰"), max_size=12)
_ANY = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6)
_TEXT = st.one_of(_PRINTED, _PRINTED, _PRINTED, _ANY)
_NUMBER = st.one_of(
    st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6), st.integers(), st.floats(allow_nan=False)
)
_SCALAR = st.one_of(_TEXT, _TEXT, _NUMBER, st.booleans(), st.none())
_VALUE = st.one_of(*[_SCALAR] * 6, st.dictionaries(_TEXT, _SCALAR, max_size=2), st.lists(_SCALAR, max_size=2))
_KEY = st.one_of(
    *[st.sampled_from(["correlation_id", "event_type"]), _PRINTED] * 3,
    st.sampled_from(["logger", "caller", "msg", "level"]),
    _ANY,
)


@st.composite
def _records(draw: st.DrawFn) -> str:
    head: dict[str, Any] = {"level": draw(st.sampled_from(["info", "error", "Level(-2)"]))}
    head["ts"] = draw(st.one_of(st.just(TS), st.floats(1.6e9, 1.8e9), st.integers(0, 2 * 10**9)))
    for key in ("logger", "caller"):
        if draw(st.booleans()):
            head[key] = draw(_TEXT)
    head["msg"] = draw(_TEXT)
    pairs = [*head.items(), *draw(st.lists(st.tuples(_KEY, _VALUE), max_size=4))]
    if draw(st.integers(0, 5)) == 0:
        pairs = draw(st.permutations(pairs))
    ascii_only = draw(st.integers(0, 5)) == 0
    body = ",".join(
        f"{json.dumps(k, ensure_ascii=ascii_only)}:{json.dumps(v, ensure_ascii=ascii_only, separators=(',', ':'))}"
        for k, v in pairs
    )
    line = "{" + body + "}"
    cut = draw(st.integers(0, len(line)))
    return line if draw(st.integers(0, 5)) else line[:cut] + "}"


@settings(max_examples=300, deadline=None)
@given(st.lists(_records(), min_size=1, max_size=8))
def test_generated_records_decode_as_the_json_decoder_decodes_them(lines: list[str]) -> None:
    """Generated records, whole or cut, in zap's order or shuffled, decode as the JSON decoder decodes them."""
    fast, reference = decode_both(lines)
    assert_frame_equal(fast, reference)
