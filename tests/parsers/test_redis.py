"""Redis log parser: prefixed records, locale-free month names, the start-up banner, accounting."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.bundle.lines import split_lines
from triage.bundle.sources import Source
from triage.parsers import ParseResult
from triage.parsers.redis import parse
from triage.table.schema import validate_events

SOURCE = Source(
    path=Path("must-gather/signalprocessing_signalprocessing_redis_test.log"),
    name="signalprocessing_signalprocessing_redis_test.log",
    kind="redis",
    service="redis",
    why="pid:role prefix",
)

# redis:7-alpine started with no config file on a host without vm.overcommit_memory=1.
STARTUP = """\
1:C 14 Jan 2026 15:23:52.118 # WARNING Memory overcommit must be enabled! Without it, a background save \
or replication may fail under low memory condition. Being disabled, it can also cause failures without \
low memory condition, see https://github.com/jemalloc/jemalloc/issues/1328. To fix this issue add \
'vm.overcommit_memory = 1' to /etc/sysctl.conf and then reboot or run the command \
'sysctl vm.overcommit_memory=1' for this to take effect.
1:C 14 Jan 2026 15:23:52.118 * oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo
1:C 14 Jan 2026 15:23:52.118 * Redis version=7.4.7, bits=64, commit=00000000, modified=0, pid=1, just started
1:C 14 Jan 2026 15:23:52.118 # Warning: no config file specified, using the default config. In order to \
specify a config file use redis-server /path/to/redis.conf
1:M 14 Jan 2026 15:23:52.119 * monotonic clock: POSIX clock_gettime
1:M 14 Jan 2026 15:23:52.120 * Running mode=standalone, port=6379.
1:M 14 Jan 2026 15:23:52.120 * Server initialized
1:M 14 Jan 2026 15:23:52.121 * Ready to accept connections tcp
"""

# Older images (and `always-show-logo yes`) print the ASCII-art logo raw, without the prefix.
LOGO = """\
1:M 04 Mar 2024 09:01:02.003 * Running mode=standalone, port=6379.
                _._
           _.-``__ ''-._
      _.-``    `.  `_.  ''-._           Redis version 6.2.14 (00000000/0) 64 bit
  .-`` .-```.  ```\\/    _.,_ ''-._
 (    '      ,       .-`  | `,    )     Running in standalone mode
 |`-._`-...-` __...-.``-._|'` _.-'|     Port: 6379
 |    `-._   `._    /     _.-'    |     PID: 1
  `-._    `-._  `-./  _.-'    _.-'
 |`-._`-._    `-.__.-'    _.-'_.-'|
 |    `-._`-._        _.-'_.-'    |           https://redis.io
  `-._    `-._`-.__.-'_.-'    _.-'
 |`-._`-._    `-.__.-'    _.-'_.-'|
 |    `-._`-._        _.-'_.-'    |
  `-._    `-._`-.__.-'_.-'    _.-'
      `-._    `-.__.-'    _.-'
          `-._        _.-'
              `-.__.-'

1:M 04 Mar 2024 09:01:02.004 # Server initialized
"""

SAVE = """\
1:M 14 Jan 2026 16:23:53.006 * 1 changes in 3600 seconds. Saving...
1:M 14 Jan 2026 16:23:53.007 * Background saving started by pid 20
20:C 14 Jan 2026 16:23:53.012 * DB saved on disk
20:C 14 Jan 2026 16:23:53.013 * Fork CoW for RDB: current 0 MB, peak 0 MB, average 0 MB
1:M 14 Jan 2026 16:23:53.107 * Background saving terminated with success
1:S 14 Jan 2026 16:23:54.000 - Accepted 10.89.1.4:52210
1:M 14 Jan 2026 16:23:54.001 . Client closed connection
"""


def _parse(text: str) -> ParseResult:
    return parse(split_lines(text.encode()).frame, SOURCE)


def _row(result: ParseResult, line: int) -> dict[str, object]:
    rows = result.events.filter(pl.col("line") == line).to_dicts()
    assert len(rows) == 1, f"no single record at line {line}"
    row = rows[0]
    row["attrs"] = json.loads(row["attrs"])
    return row


def _check_accounting(text: str, result: ParseResult) -> None:
    """Every line is a one-line record, or blank, or unparsed, and never two of these."""
    lines = split_lines(text.encode()).frame
    covered = result.events["line"].to_list()
    assert set(result.events["n_lines"].to_list()) <= {1}
    assert len(covered) == len(set(covered))
    unparsed = set(result.unparsed["line"].to_list())
    assert not unparsed & set(covered)
    blank = set(lines.filter(pl.col("raw").str.strip_chars() == "")["line"].to_list())
    assert set(covered) | unparsed | blank == set(lines["line"].to_list())


def test_startup_lines_are_records_with_pid_role_and_utc_time() -> None:
    """Each redis:7 start-up line is a record with its pid, role and time, read as UTC."""
    result = _parse(STARTUP)
    validate_events(result.events)
    assert result.unparsed.height == 0
    assert result.events.height == 8
    ready = _row(result, 8)
    assert ready["message"] == "Ready to accept connections tcp"
    assert ready["ts"] == datetime(2026, 1, 14, 15, 23, 52, 121000, tzinfo=UTC)
    assert ready["ts_precision"] == "ms"
    assert ready["ts_assumed"] is True
    assert ready["attrs"] == {"pid": 1, "role": "M", "mark": "*"}
    assert ready["level"] == "info"
    assert ready["logger"] == "redis"
    assert _row(result, 1)["attrs"]["role"] == "C"
    _check_accounting(STARTUP, result)


def test_banner_warnings_are_warn_records() -> None:
    """The overcommit and no-config-file lines (mark `#`) are warn records with their full text."""
    result = _parse(STARTUP)
    overcommit = _row(result, 1)
    assert overcommit["level"] == "warn"
    assert overcommit["message"].startswith("WARNING Memory overcommit must be enabled!")
    assert overcommit["message"].endswith("for this to take effect.")
    assert _row(result, 4)["level"] == "warn"
    assert _row(result, 2)["message"] == "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo"


def test_version_is_reported_as_a_fact() -> None:
    """The `Redis version=` start-up line puts the version in the facts."""
    assert _parse(STARTUP).facts["redis_versions"] == ["7.4.7"]


def test_marks_map_to_levels() -> None:
    """`.` and `-` are debug, `*` info and `#` warn; child and replica roles are kept."""
    result = _parse(SAVE)
    assert _row(result, 1)["level"] == "info"
    assert _row(result, 3)["attrs"] == {"pid": 20, "role": "C", "mark": "*"}
    assert _row(result, 6)["level"] == "debug"
    assert _row(result, 6)["attrs"]["role"] == "S"
    assert _row(result, 7)["level"] == "debug"


def test_every_month_name_parses_without_locale() -> None:
    """All twelve English month abbreviations give the right month, whatever the process locale."""
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    text = "".join(f"1:M 28 {m} 2026 01:02:03.004 * tick\n" for m in months)
    result = _parse(text)
    assert result.unparsed.height == 0
    got = [ts.month for ts in result.events.sort("line")["ts"].to_list()]
    assert got == list(range(1, 13))


def test_logo_lines_are_banner_records() -> None:
    """The raw ASCII-art logo lines are records without time; the blank line after it is structural."""
    result = _parse(LOGO)
    validate_events(result.events)
    assert result.unparsed.height == 0
    logo = result.events.filter(pl.col("ts").is_null())
    assert logo["line"].to_list() == list(range(2, 19))
    assert all(json.loads(a) == {"logo": True} for a in logo["attrs"])
    assert _row(result, 5)["message"].strip().startswith(".-``")
    assert _row(result, 20)["ts"] == datetime(2024, 3, 4, 9, 1, 2, 4000, tzinfo=UTC)
    _check_accounting(LOGO, result)


def test_foreign_lines_are_unparsed() -> None:
    """Lines in other formats, or with an impossible month, are returned as unparsed."""
    text = (
        "1:M 14 Jan 2026 15:23:52.121 * Ready to accept connections tcp\n"
        "[1] 14 Jan 15:23:52.121 * old 2.x format\n"
        "1:M 14 Foo 2026 15:23:52.121 * bad month\n"
        "Some other program output\n"
    )
    result = _parse(text)
    assert result.unparsed["line"].to_list() == [2, 3, 4]
    _check_accounting(text, result)


SAMPLE_LINES = STARTUP.splitlines() + LOGO.splitlines() + SAVE.splitlines()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(SAMPLE_LINES),
            st.text(st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)), max_size=40),
        ),
        max_size=25,
    )
)
def test_arbitrary_lines_never_raise_and_are_accounted(lines: list[str]) -> None:
    """Any mix of lines parses without error, passes validation and accounts for every line once."""
    text = "".join(line + "\n" for line in lines)
    result = _parse(text)
    validate_events(result.events)
    _check_accounting(text, result)
