"""The normalized event table: one row per log record, whatever its source.

Every parser returns a frame with exactly these columns and dtypes; `validate_events` checks it.

Columns:
    file          bundle-relative source name (evidence is quoted as file:line)
    line          1-based line of the record's first line
    n_lines       how many input lines the record spans (stack traces, DETAIL lines, ...)
    source_kind   the source's format (SOURCE_KINDS)
    service       who wrote the file: datastorage, postgres, redis, "test-run" (the test process),
                  "controller", or null (another container; Source.service)
    record        what the row is: RECORD_KINDS
    ts            UTC instant, null when the record carries no time
    ts_precision  what the source printed: "s", "ms", "us" or "ns"; never finer than printed
    ts_assumed    true when the source printed no zone and the zone was assumed
    level         normalized level (LEVELS); the printed token stays in `raw`
    logger        zap logger name, "ginkgo", "postgres", "redis", ...
    caller        source location the logger printed (`server/handlers.go:119`), when it printed one
    message       the message as printed (ANSI codes removed)
    msg_key       canonical message key: emoji, variation selectors and extra spaces removed
    correlation_id, event_type   audit fields when the record carries them
    spec          full name of the Ginkgo spec whose block holds the record
    spec_index    ordinal (1-based) of that spec block in its file
    attrs         remaining fields as a JSON object text ("{}" when none)
    raw           the first input line of the record, verbatim but for ANSI codes

The analysed table (TABLE_SCHEMA) keeps neither `raw` nor `attrs`: a record's text is read again from
its file and line when a finding quotes it (`texts.LineTexts`), and its `attrs` are kept compressed
beside the table under its `attrs_id` (`attrs.Attrs`), which `Attrs.attach` adds back to chosen rows.
"""

from __future__ import annotations

import polars as pl

from triage.errors import SchemaError

SOURCE_KINDS = (
    "zap_json",
    "zap_console",
    "ginkgo",
    "ginkgo_report",
    "ginkgo_junit",
    "postgres",
    "redis",
    "podman_inspect",
    "empty",
    "binary",
    "duplicate",
    "unknown",
)
LEVELS = ("trace", "debug", "info", "notice", "warn", "error", "fatal", "panic")
PRECISIONS = ("s", "ms", "us", "ns")
RECORD_KINDS = (
    "log",  # an ordinary log record (zap, PostgreSQL, Redis)
    "helper",  # a test-helper print in a spec timeline (queries, flush)
    "output",  # any other GinkgoWriter line inside a spec timeline
    "suite",  # Ginkgo suite header facts (suite, seed, will-run, processes)
    "spec",  # a spec's result header (state, duration, name, location)
    "step",  # a STEP: marker
    "failure",  # a failure inside a spec: message and location
    "summary",  # Summarizing block entries and the Ran/Passed/Failed lines
    "collector",  # must-gather collection lines
    "container",  # a container's inspected state
    "health",  # one health-check probe of a container
)

LevelDtype = pl.Enum(LEVELS)
KindDtype = pl.Enum(SOURCE_KINDS)
PrecisionDtype = pl.Enum(PRECISIONS)
RecordDtype = pl.Enum(RECORD_KINDS)
TsDtype = pl.Datetime("ns", "UTC")

EVENT_SCHEMA: dict[str, pl.DataType] = {
    "file": pl.Categorical(),
    "line": pl.UInt32(),
    "n_lines": pl.UInt32(),
    "source_kind": KindDtype,
    "service": pl.Categorical(),
    "record": RecordDtype,
    "ts": TsDtype,
    "ts_precision": PrecisionDtype,
    "ts_assumed": pl.Boolean(),
    "level": LevelDtype,
    "logger": pl.Categorical(),
    "caller": pl.Categorical(),
    "message": pl.Categorical(),
    "msg_key": pl.Categorical(),
    "correlation_id": pl.String(),
    "event_type": pl.Categorical(),
    "spec": pl.Categorical(),
    "spec_index": pl.UInt32(),
    "attrs": pl.String(),
    "raw": pl.String(),
}
TABLE_SCHEMA: dict[str, pl.DataType] = {
    **{k: v for k, v in EVENT_SCHEMA.items() if k not in ("attrs", "raw")},
    "attrs_id": pl.UInt32(),
}


def empty_events(schema: dict[str, pl.DataType] = EVENT_SCHEMA) -> pl.DataFrame:
    """Return an event table with no rows.

    Args:
        schema: EVENT_SCHEMA or TABLE_SCHEMA.

    Returns:
        A frame with the schema's columns.
    """
    return pl.DataFrame(schema=schema)


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType] = EVENT_SCHEMA) -> pl.DataFrame:
    """Add missing schema columns as nulls, cast to schema dtypes and order the columns.

    Args:
        frame: a parser's output; extra columns are dropped.
        schema: EVENT_SCHEMA or TABLE_SCHEMA.

    Returns:
        A frame that satisfies the schema.
    """
    exprs = []
    for name, dtype in schema.items():
        if name in frame.columns:
            exprs.append(pl.col(name).cast(dtype))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    return frame.select(exprs)


def validate_events(frame: pl.DataFrame) -> pl.DataFrame:
    """Check that a frame satisfies EVENT_SCHEMA, or TABLE_SCHEMA when it has `attrs_id`.

    Args:
        frame: the frame to check.

    Returns:
        The same frame, for chaining.

    Raises:
        SchemaError: a column is missing, extra, of the wrong dtype, or a required value is null.
    """
    schema = TABLE_SCHEMA if "attrs_id" in frame.columns else EVENT_SCHEMA
    if frame.columns != list(schema):
        raise SchemaError(f"columns {frame.columns} differ from {list(schema)}")
    for name, dtype in schema.items():
        if frame.schema[name] != dtype:
            raise SchemaError(f"column {name} is {frame.schema[name]}, expected {dtype}")
    for name in ("file", "line", "n_lines", "source_kind", "record", "raw", "attrs_id"):
        if name in schema and frame[name].null_count():
            raise SchemaError(f"column {name} has nulls")
    return frame
