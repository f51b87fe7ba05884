"""PostgreSQL stderr logs: `log_line_prefix='%m [%p] '` records plus the image's start-up output.

Accounting:
    * A prefixed line starts a segment; tab-indented lines below it (PostgreSQL indents the later lines
      of a multi-line message with a tab) continue it, and so does any unprefixed line that is not a
      known start-up shape below a STATEMENT or QUERY segment (SQL text pasted without indent).
    * DETAIL, HINT, CONTEXT, QUERY, STATEMENT and LOCATION segments belong to the most recent other
      segment of the same pid above them (their parent); their text goes into the parent's attrs under
      the lower-case level name.
    * A record is a parent segment plus the attached segments directly below it; its n_lines spans
      them all. An attached segment that is separated from its parent by other lines cannot join the
      parent's span without covering foreign lines, so it stays a row of its own (level null,
      attrs.attached_to = the parent's line) while its text is also copied to the parent, whose
      attrs.attached_lines lists where it is. A detail segment with no parent is a row of its own too.
      Every line is thus in exactly one record's [line, line + n_lines) span.
    * Blank lines are structural; known initdb / entrypoint lines are records with a null ts; anything
      else is unparsed.
    * A relay's prefix (Testcontainers) and a copying tool's trailing commas are taken off first
      (`relay.peel`); samples of lines not understood quote the file as it is.
"""

from __future__ import annotations

import re

import polars as pl

from triage.bundle.sources import Source
from triage.parsers._common import (
    KUBECTL_PREFIX,
    KUBECTL_TS,
    fraction_precision,
    message_key,
    utc_offset_seconds,
)
from triage.parsers.base import Format, ParseResult
from triage.parsers.relay import original_rows, peel
from triage.table.exprs import iso_ts
from triage.table.schema import conform

DETAIL_LEVELS = ("DETAIL", "HINT", "CONTEXT", "QUERY", "STATEMENT", "LOCATION")
LEVEL_MAP: dict[str, str] = {
    **{f"DEBUG{n}": "debug" for n in range(1, 6)},
    "LOG": "info",
    "INFO": "info",
    "NOTICE": "notice",
    "WARNING": "warn",
    "ERROR": "error",
    "FATAL": "fatal",
    "PANIC": "panic",
}
# Zone names PostgreSQL prints for a zero offset; any other abbreviation is ambiguous without the tz
# database (EST vs. Australian EST, CST, IST ...), so its records keep a null ts.
UTC_ZONES = ("UTC", "GMT", "UCT", "Z", "Etc/UTC")
NUMERIC_ZONE = r"^[+-]\d\d(?::?\d\d)?$"

# pg_ctl prints its progress dots without a newline, so the server's first line can share the line
# with `waiting for server to start....` or with a lone `.`.
_PREFIX = (
    r"^(?:waiting for server to (?:start|shut down)\.*|\.+)?"
    r"(?P<ts_text>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?) (?P<zone>\S+) \[(?P<pid>\d+)\] "
    r"(?:(?P<user>\S*)@(?P<database>\S*) )?"
    r"(?P<pg_level>DEBUG[1-5]|LOG|INFO|NOTICE|WARNING|ERROR|FATAL|PANIC|"
    r"DETAIL|HINT|CONTEXT|QUERY|STATEMENT|LOCATION):  ?(?P<text>.*)$"
)

# Unprefixed output of the postgres:16-alpine image's docker-entrypoint.sh, initdb and pg_ctl on a
# first start (fresh volume) and a restart, as (pattern, logger, level). Written from the image's
# entrypoint and initdb 16 messages; lines outside this list stay unparsed rather than guessed.
STARTUP_SHAPES: tuple[tuple[str, str, str], ...] = (
    (r'^The files belonging to this database system will be owned by user ".*"\.$', "initdb", "info"),
    (r"^This user must also own the server process\.$", "initdb", "info"),
    (r'^The database cluster will be initialized with locale ".*"\.$', "initdb", "info"),
    (r"^The database cluster will be initialized with this locale configuration:$", "initdb", "info"),
    (
        r"^  (?:provider|locale provider|LC_COLLATE|LC_CTYPE|LC_MESSAGES|LC_MONETARY|LC_NUMERIC|LC_TIME|"
        r"ICU locale|locale|default collation):\s+\S.*$",
        "initdb",
        "info",
    ),
    (r'^The default database encoding has (?:accordingly )?been set to ".*"\.$', "initdb", "info"),
    (r'^The default text search configuration will be set to ".*"\.$', "initdb", "info"),
    (r"^Data page checksums are (?:enabled|disabled)\.$", "initdb", "info"),
    (
        r"^(?:fixing permissions on existing directory|creating directory|creating subdirectories|"
        r"selecting dynamic shared memory implementation|selecting default max_connections|"
        r"selecting default shared_buffers|selecting default time zone|creating configuration files|"
        r"running bootstrap script|performing post-bootstrap initialization|syncing data to disk)"
        r".* \.\.\. ?\S.*$",
        "initdb",
        "info",
    ),
    (r"^Success\. You can now start the database server using:$", "initdb", "info"),
    # initdb before 14 words its trust warning over three lines of its own, without `initdb:`.
    (r'^WARNING: enabling "trust" authentication for local connections$', "initdb", "warn"),
    (r"^You can change this by editing pg_hba\.conf or using the option -A, or$", "initdb", "info"),
    (r"^--auth-local and --auth-host, the next time you run initdb\.$", "initdb", "info"),
    (r"^    pg_ctl -D \S+ -l logfile start$", "initdb", "info"),
    (r"^initdb: (?:hint|detail): ", "initdb", "info"),
    (r"^initdb: warning: ", "initdb", "warn"),
    (r"^initdb: error: ", "initdb", "error"),
    # musl has no `locale` program; initdb's probe prints this and then a WARNING record.
    (r"^sh: locale: not found$", "initdb", "warn"),
    (r"^PostgreSQL init process complete; ready for start up\.$", "entrypoint", "info"),
    (
        r"^PostgreSQL Database directory appears to contain a database; Skipping initialization$",
        "entrypoint",
        "info",
    ),
    (r"^/usr/local/bin/docker-entrypoint\.sh: ", "entrypoint", "info"),
    (r"^waiting for server to (?:start|shut down)\.*$", "entrypoint", "info"),
    (r"^\.* ?done$", "entrypoint", "info"),
    (r"^server (?:started|stopped)$", "entrypoint", "info"),
    # psql's command tags when the entrypoint creates POSTGRES_DB (slm_user's action_history) and runs
    # the scripts of /docker-entrypoint-initdb.d.
    (r"^(?:CREATE|ALTER|DROP) (?:DATABASE|ROLE|EXTENSION|SCHEMA|TABLE|INDEX)$|^GRANT$", "entrypoint", "info"),
    (r"^pg_ctl: ", "entrypoint", "error"),
)

_OPTIONAL_ATTRS = (
    "user",
    "database",
    "detail",
    "hint",
    "context",
    "query",
    "statement",
    "location",
    "attached_lines",
    "attached_to",
)


def _startup(body: pl.Expr, field: int) -> pl.Expr:
    """Logger (field 1) or level (field 2) of a known start-up line, null for any other line."""
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for shape in reversed(STARTUP_SHAPES):
        expr = pl.when(body.str.contains(shape[0])).then(pl.lit(shape[field])).otherwise(expr)
    return expr


def _ts(ts_text: pl.Expr, zone: pl.Expr) -> pl.Expr:
    """UTC instant of a `%m` time and its zone token; null for an unknown abbreviation."""
    numeric = zone.str.contains(NUMERIC_ZONE)
    # PostgreSQL prints whole-hour offsets as `-05`; utc_offset_seconds wants minutes too.
    with_minutes = pl.when(zone.str.contains(r"^[+-]\d\d$")).then(zone + "00").otherwise(zone)
    offset = (
        pl.when(zone.is_in(UTC_ZONES))
        .then(pl.lit(0, dtype=pl.Int32))
        .when(numeric)
        .then(utc_offset_seconds(with_minutes))
        .otherwise(pl.lit(None, dtype=pl.Int32))
    )
    naive = ts_text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="ns", strict=False)
    return (naive - pl.duration(seconds=offset)).dt.replace_time_zone("UTC")


def _classify(lines: pl.DataFrame) -> pl.DataFrame:
    """One row per line: prefix fields, start-up shape, segment and record membership."""
    frame = lines.select("line", "raw").with_columns(
        kubectl_text=pl.col("raw").str.extract(rf"^({KUBECTL_TS}) ", 1),
        body=pl.col("raw").str.replace(KUBECTL_PREFIX, ""),
    )
    frame = frame.with_columns(pl.col("body").str.extract_groups(_PREFIX).alias("m")).unnest("m")
    body = pl.col("body")
    is_pre = pl.col("pg_level").is_not_null()
    frame = frame.with_columns(
        is_pre=is_pre,
        is_detail=pl.col("pg_level").is_in(DETAIL_LEVELS),
        is_blank=(body.str.strip_chars() == "") & ~body.str.starts_with("\t"),
        is_tab=~is_pre & body.str.starts_with("\t"),
        pid=pl.col("pid").cast(pl.Int64),
    )
    # Start-up shapes are tried only on unprefixed lines, which are few in a long-running log.
    startup = frame.filter(~pl.col("is_pre") & ~pl.col("is_blank")).select(
        "line", startup_logger=_startup(body, 1), startup_level=_startup(body, 2)
    )
    frame = frame.join(startup, on="line", how="left", maintain_order="left")
    # A group starts at every prefixed, blank or start-up line; the rest of a group may continue it.
    # Group values are carried down with forward_fill (window functions over one group per record
    # are far slower on long logs).
    starts = pl.col("is_pre") | pl.col("is_blank") | pl.col("startup_logger").is_not_null()
    frame = frame.with_columns(is_start=starts)
    is_start = pl.col("is_start")
    head_line = pl.when(is_start).then(pl.col("line")).forward_fill()
    head_pre = pl.when(is_start).then(pl.col("is_pre")).forward_fill().fill_null(False)
    head_level = pl.when(is_start).then(pl.col("pg_level").fill_null("")).forward_fill()
    loose_total = (~pl.col("is_tab") & ~is_start).cast(pl.UInt32).cum_sum()
    loose = loose_total - pl.when(is_start).then(loose_total).forward_fill()
    cont = (~is_start & head_pre & (head_level.is_in(("STATEMENT", "QUERY")) | (loose == 0))).fill_null(False)
    frame = frame.with_columns(is_cont=cont)
    return frame.with_columns(
        seg=pl.when(pl.col("is_pre")).then(pl.col("line")).when(pl.col("is_cont")).then(head_line)
    )


def _keys(frame: pl.DataFrame) -> pl.DataFrame:
    """Attach the parent key (the line of the record a segment belongs to) and the record owner."""
    parents = (
        frame.filter(pl.col("is_pre"))
        .select(
            "line",
            parent=pl.when(~pl.col("is_detail")).then(pl.col("line")).forward_fill().over("pid"),
        )
        .with_columns(
            key=pl.when(pl.col("parent").is_null()).then(pl.col("line")).otherwise(pl.col("parent"))
        )
    )
    frame = frame.join(parents.rename({"line": "seg"}), on="seg", how="left", maintain_order="left")
    # Runs of equal keys are contiguous; a run that starts on its key's own line extends that record,
    # any other run is a record of its own (a detail separated from its parent).
    frame = frame.with_columns(run=pl.col("key").rle_id())
    return frame.with_columns(
        owner=pl.when(pl.col("key").is_not_null()).then(pl.col("line").first().over("run"))
    )


def parse(lines: pl.DataFrame, source: Source) -> ParseResult:
    """Parse PostgreSQL stderr output (with the image's initdb / entrypoint lines).

    Args:
        lines: numbered lines (`line`, `raw`).
        source: the file being parsed.

    Returns:
        Records of kind "log" (logger "postgres", "initdb" or "entrypoint"), unparsed lines, and
        facts: the zone tokens seen, unknown ones, and how many detail lines were attached.
    """
    peeled, notes = peel(lines)
    frame = _keys(_classify(peeled))
    continued = (
        frame.filter(pl.col("is_cont"))
        .group_by("seg")
        .agg(more=pl.col("body").str.strip_prefix("\t").str.join("\n"))
    )
    segments = (
        frame.filter(pl.col("is_pre"))
        .join(continued, on="seg", how="left")
        .with_columns(
            seg_text=pl.when(pl.col("more").is_null())
            .then(pl.col("text"))
            .otherwise(pl.col("text") + "\n" + pl.col("more"))
        )
    )
    attached = segments.filter(pl.col("is_detail") & pl.col("parent").is_not_null())
    details = attached.group_by("parent").agg(
        *[
            pl.col("seg_text").filter(pl.col("pg_level") == level).str.join("\n").alias(level.lower())
            for level in DETAIL_LEVELS
        ],
        attached_lines=pl.col("seg").filter(pl.col("owner") != pl.col("parent")),
    )
    details = details.with_columns(
        *[pl.col(level.lower()).replace("", None) for level in DETAIL_LEVELS],
        attached_lines=pl.when(pl.col("attached_lines").list.len() > 0).then(pl.col("attached_lines")),
    )
    # A record's rows are one contiguous run of its owner line, so run lengths are the spans.
    spans = (
        frame.select(pl.col("owner").rle())
        .unnest("owner")
        .filter(pl.col("value").is_not_null())
        .select(owner="value", n_lines=pl.col("len").cast(pl.UInt32))
    )
    heads = (
        segments.filter(pl.col("line") == pl.col("owner"))
        .join(spans, on="owner")
        .join(details, left_on="line", right_on="parent", how="left")
        .with_columns(
            attached_to=pl.when(pl.col("is_detail") & (pl.col("key") != pl.col("line"))).then(pl.col("key")),
            user=pl.col("user").replace("", None),
            database=pl.col("database").replace("", None),
        )
    )
    pg_events = heads.select(
        "line",
        "n_lines",
        "raw",
        ts=_ts(pl.col("ts_text"), pl.col("zone")),
        ts_precision=fraction_precision(pl.col("ts_text")),
        level=pl.col("pg_level").replace_strict(LEVEL_MAP, default=None, return_dtype=pl.String),
        logger=pl.lit("postgres"),
        message=pl.col("seg_text"),
        attrs=_attrs(heads),
    )
    startup = frame.filter(pl.col("startup_logger").is_not_null()).select(
        "line",
        n_lines=pl.lit(1, dtype=pl.UInt32),
        raw=pl.col("raw"),
        ts=iso_ts(pl.col("kubectl_text")),
        ts_precision=fraction_precision(pl.col("kubectl_text")),
        level=pl.col("startup_level"),
        logger=pl.col("startup_logger"),
        message=pl.col("body"),
        attrs=pl.lit("{}"),
    )
    events = (
        pl.concat([pg_events, startup], how="vertical_relaxed")
        .sort("line")
        .with_columns(
            file=pl.lit(source.name),
            source_kind=pl.lit(source.kind),
            service=pl.lit(source.service, dtype=pl.String),
            record=pl.lit("log"),
            ts_assumed=pl.when(pl.col("ts").is_not_null()).then(pl.lit(False)),
            ts_precision=pl.when(pl.col("ts").is_not_null()).then(pl.col("ts_precision")),
            msg_key=message_key(pl.col("message")),
        )
    )
    unparsed = frame.filter(
        pl.col("owner").is_null() & pl.col("startup_logger").is_null() & ~pl.col("is_blank")
    ).select("line", "raw")
    facts = _facts(frame, segments)
    if notes:
        facts["notes"] = notes
    return ParseResult(conform(events), original_rows(lines, unparsed), facts)


def _attrs(heads: pl.DataFrame) -> pl.Series:
    """The attrs JSON of each record, leaving out optional keys that are null."""
    plain = pl.struct("pid", "pg_level").struct.json_encode()
    rich = pl.struct("pid", "pg_level", *_OPTIONAL_ATTRS).struct.json_encode()
    # `pid` always leads, so every optional key follows a comma; inside a JSON string a quote is
    # escaped, so `,"detail":null` can only be a real key.
    for name in _OPTIONAL_ATTRS:
        rich = rich.str.replace(f',"{name}":null', "", literal=True)
    # Most records have no optional key; encoding them apart keeps long logs fast.
    has_extra = pl.any_horizontal([pl.col(name).is_not_null() for name in _OPTIONAL_ATTRS])
    encoded = pl.concat(
        [
            heads.filter(~has_extra).select("line", attrs=plain),
            heads.filter(has_extra).select("line", attrs=rich),
        ]
    )
    return heads.select("line").join(encoded, on="line", how="left", maintain_order="left")["attrs"]


def _facts(frame: pl.DataFrame, segments: pl.DataFrame) -> dict[str, object]:
    zones = frame.select(pl.col("zone").drop_nulls().unique().sort())["zone"]
    facts: dict[str, object] = {"zones": zones.to_list()}
    unknown = zones.filter(~zones.is_in(UTC_ZONES) & ~zones.str.contains(NUMERIC_ZONE)).to_list()
    if unknown:
        facts["unknown_zones"] = unknown
        facts["unknown_zone_note"] = "records with these zone abbreviations have a null ts"
    attached = segments.filter(pl.col("is_detail") & pl.col("parent").is_not_null())
    facts["detail_segments_attached"] = attached.height
    facts["detail_segments_apart"] = attached.filter(pl.col("owner") != pl.col("parent")).height
    facts["detail_segments_orphaned"] = segments.filter(
        pl.col("is_detail") & pl.col("parent").is_null()
    ).height
    return facts


FORMAT = Format(
    kind="postgres",
    label="PostgreSQL log lines",
    parse=parse,
    line=re.compile(
        r"^(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[\d+\] [A-Z0-9]+:  "
        r"|The files belonging to this database system |PostgreSQL init process complete"
        r"|initdb: |/usr/local/bin/docker-entrypoint\.sh: )"
    ),
)
