"""Redis server logs: `<pid>:<role> <dd Mon yyyy HH:MM:SS.mmm> <mark> message`.

Each prefixed line is one record, and so is a line of Redis' signal handler,
`<pid>:signal-handler (<epoch seconds>) message` (`Received SIGTERM scheduling shutdown...`). The
ASCII-art logo (printed raw, without prefix, when Redis shows it) is a record per line with a null
ts; blank lines are structural; anything else is unparsed. Redis prints no zone: the container clock
is UTC, so times are taken as UTC with ts_assumed set; the signal handler's epoch seconds need no
zone. A relay's prefix is taken off first (`relay.peel`).
"""

from __future__ import annotations

import re

import polars as pl

from triage.bundle.sources import Source
from triage.parsers._common import KUBECTL_PREFIX, KUBECTL_TS, epoch_ts, fraction_precision, message_key
from triage.parsers.base import Format, ParseResult
from triage.parsers.relay import original_rows, peel
from triage.table.exprs import iso_ts
from triage.table.schema import conform

# Mapped here rather than with %b so that parsing does not depend on the process locale.
MONTHS: dict[str, str] = {
    "Jan": "01",
    "Feb": "02",
    "Mar": "03",
    "Apr": "04",
    "May": "05",
    "Jun": "06",
    "Jul": "07",
    "Aug": "08",
    "Sep": "09",
    "Oct": "10",
    "Nov": "11",
    "Dec": "12",
}
# serverLog's level marks: `.` debug, `-` verbose, `*` notice, `#` warning.
MARK_LEVELS: dict[str, str] = {".": "debug", "-": "debug", "*": "info", "#": "warn"}
# Role letters: C child (and, in Redis 7, the process before it knows its role), M master,
# S replica, X sentinel.
_PREFIX = (
    r"^(?P<pid>\d+):(?P<role>[CMSX]) "
    r"(?P<day>\d{1,2}) (?P<month>" + "|".join(MONTHS) + r") (?P<year>\d{4}) "
    r"(?P<clock>\d\d:\d\d:\d\d(?:\.\d{1,6})?) (?P<mark>[.\-*#]) (?P<text>.*)$"
)
# The logo's lines all start with art characters and hold one of its recurring strokes.
_SIGNAL = r"^(?P<sig_pid>\d+):signal-handler \((?P<epoch>\d{9,11})\) (?P<sig_text>.*)$"
_LOGO_START = r"^\s*[_.\-`'|(]"
_LOGO_STROKE = r"_\._|-\._|``|_\.-'|\.-`"
_VERSION = r"Redis version=(\S+?),"


def parse(lines: pl.DataFrame, source: Source) -> ParseResult:
    """Parse Redis server output.

    Args:
        lines: numbered lines (`line`, `raw`).
        source: the file being parsed.

    Returns:
        Records of kind "log" (logger "redis"; attrs pid, role, mark), unparsed lines, and facts
        (the Redis version when the start-up line gives it).
    """
    peeled, notes = peel(lines)
    frame = peeled.select(
        "line",
        "raw",
        kubectl_text=pl.col("raw").str.extract(rf"^({KUBECTL_TS}) ", 1),
        body=pl.col("raw").str.replace(KUBECTL_PREFIX, ""),
    )
    frame = frame.with_columns(pl.col("body").str.extract_groups(_PREFIX).alias("m")).unnest("m")
    frame = frame.with_columns(pl.col("body").str.extract_groups(_SIGNAL).alias("s")).unnest("s")
    is_record = pl.col("mark").is_not_null()
    is_signal = pl.col("epoch").is_not_null()
    is_logo = (
        ~is_record & pl.col("body").str.contains(_LOGO_START) & pl.col("body").str.contains(_LOGO_STROKE)
    )
    is_blank = pl.col("body").str.strip_chars() == ""
    frame = frame.with_columns(is_record=is_record, is_signal=is_signal, is_logo=is_logo, is_blank=is_blank)
    clock_text = pl.format(
        "{}-{}-{} {}",
        pl.col("year"),
        pl.col("month").replace_strict(MONTHS, default=None, return_dtype=pl.String),
        pl.col("day").str.zfill(2),
        pl.col("clock"),
    )
    ts = clock_text.str.to_datetime(
        "%Y-%m-%d %H:%M:%S%.f", time_unit="ns", strict=False
    ).dt.replace_time_zone("UTC")
    records = frame.filter(pl.col("is_record") | pl.col("is_signal") | pl.col("is_logo"))
    events = records.select(
        "line",
        "raw",
        n_lines=pl.lit(1, dtype=pl.UInt32),
        ts=pl.when(pl.col("is_record"))
        .then(ts)
        .when(pl.col("is_signal"))
        .then(epoch_ts(pl.col("epoch")))
        .otherwise(iso_ts(pl.col("kubectl_text"))),
        ts_precision=pl.when(pl.col("is_record"))
        .then(fraction_precision(pl.col("clock")))
        .when(pl.col("is_signal"))
        .then(pl.lit("s"))
        .otherwise(fraction_precision(pl.col("kubectl_text"))),
        ts_assumed=pl.col("is_record"),
        level=pl.when(pl.col("is_record"))
        .then(pl.col("mark").replace_strict(MARK_LEVELS, default=None, return_dtype=pl.String))
        .otherwise(pl.lit("info")),
        message=pl.when(pl.col("is_record"))
        .then(pl.col("text"))
        .when(pl.col("is_signal"))
        .then(pl.col("sig_text"))
        .otherwise(pl.col("body")),
        attrs=pl.when(pl.col("is_record"))
        .then(
            pl.struct(
                pid=pl.col("pid").cast(pl.Int64), role=pl.col("role"), mark=pl.col("mark")
            ).struct.json_encode()
        )
        .when(pl.col("is_signal"))
        .then(
            pl.struct(
                pid=pl.col("sig_pid").cast(pl.Int64), role=pl.lit("signal-handler")
            ).struct.json_encode()
        )
        .otherwise(pl.lit('{"logo":true}')),
    ).with_columns(
        file=pl.lit(source.name),
        source_kind=pl.lit(source.kind),
        service=pl.lit(source.service, dtype=pl.String),
        record=pl.lit("log"),
        logger=pl.lit("redis"),
        msg_key=message_key(pl.col("message")),
        ts_precision=pl.when(pl.col("ts").is_not_null()).then(pl.col("ts_precision")),
        ts_assumed=pl.when(pl.col("ts").is_not_null()).then(pl.col("ts_assumed")),
    )
    unparsed = frame.filter(
        ~pl.col("is_record") & ~pl.col("is_signal") & ~pl.col("is_logo") & ~pl.col("is_blank")
    ).select("line", "raw")
    facts: dict[str, object] = {}
    versions = records["text"].drop_nulls().str.extract(_VERSION, 1).drop_nulls().unique().sort()
    if versions.len():
        facts["redis_versions"] = versions.to_list()
    if notes:
        facts["notes"] = notes
    return ParseResult(conform(events), original_rows(lines, unparsed), facts)


FORMAT = Format(
    kind="redis",
    label="Redis log lines",
    parse=parse,
    line=re.compile(
        r"^\d+:(?:[CMSX] \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} [*#.-] |signal-handler \(\d+\) )"
    ),
)
