"""Event fields of the Ginkgo records that are not embedded zap lines: suite, spec, step, failure,
helper, collector, output and summary records.

Every field is a vectorised expression, run on the rows of the kind it belongs to. The embedded zap
records (most of a big log) never come here: they keep what the zap decoder gave them.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from triage.parsers._common import fraction_precision
from triage.parsers.ginkgo_syntax import (
    COLLECTORS,
    COMMAND,
    COUNTS,
    ENTRY,
    ENTRY_NAME,
    FAIL_MARK,
    FAIL_START,
    GINKGO_RAN,
    HEADER,
    HELPERS,
    IN_LINE,
    LOCATION,
    PARALLEL,
    RAN,
    SEED,
    STATUS,
    STEP,
    SUITE,
    SUMMARY_HEAD,
    TEST_SUITE,
    WILL_RUN,
    ginkgo_ts,
    group,
    has,
    integer,
)
from triage.table.vocabulary import FAILED_STATES


def _obj(**fields: pl.Expr) -> pl.Expr:
    # JSON object text of the given fields, members whose value is null left out.
    text = pl.struct([expr.alias(name) for name, expr in fields.items()]).struct.json_encode()
    return (
        text.str.replace_all(r'"[A-Za-z_]+":null,', "")
        .str.replace_all(r',"[A-Za-z_]+":null', "")
        .str.replace(r'^\{"[A-Za-z_]+":null\}$', "{}")
    )


def _state(token: pl.Expr) -> pl.Expr:
    return token.str.to_lowercase()


def _level_for(state: pl.Expr) -> pl.Expr:
    return (
        pl.when(state.is_in(FAILED_STATES))
        .then(pl.lit("error"))
        .when(state == "interrupted")
        .then(pl.lit("warn"))
        .when(state.is_not_null())
        .then(pl.lit("info"))
    )


def _spec_attrs(header_state: pl.Expr) -> pl.Expr:
    header, at2, at3 = pl.col("_header").struct, pl.col("_at2").struct, pl.col("_at3").struct
    leaf_loc = pl.coalesce(at3.field("2"), at2.field("2"))
    denoters = pl.col("raw")
    failure_node = pl.col("_loc3").is_not_null()
    return (
        pl.when(pl.col("is_header"))
        .then(
            _obj(
                state=header_state,
                duration_s=header.field("5").cast(pl.Float64),
                node=header.field("2"),
                location=leaf_loc,
                failure_node=pl.when(failure_node).then(at2.field("1")),
                failure_node_location=pl.when(failure_node).then(at2.field("2")),
                process=pl.col("_process"),
            )
        )
        .when(pl.col("_open"))
        .then(_obj(location=leaf_loc, node=group(r"^\[([A-Za-z ()]+)\]$", 1, "spec")))
        .otherwise(
            _obj(
                passed=denoters.str.count_matches("[•↺]"),
                skipped=denoters.str.count_matches("S"),
                pending=denoters.str.count_matches("P"),
            )
        )
    )


def _fail_attrs(fail_state: pl.Expr) -> pl.Expr:
    return (
        pl.when(has(FAIL_MARK))
        .then(
            _obj(
                state=fail_state, node=group(FAIL_MARK, 2), location=group(FAIL_MARK, 3), marker=pl.lit(True)
            )
        )
        .otherwise(
            _obj(
                state=fail_state,
                node=group(IN_LINE, 1, "_in"),
                location=group(IN_LINE, 2, "_in"),
                text=pl.col("_full"),
                marker=pl.lit(False),
            )
        )
    )


def _summary_attrs() -> pl.Expr:
    counts_text = pl.coalesce(group(STATUS, 3), pl.col("text"))
    return _obj(
        failures=integer(SUMMARY_HEAD, 1),
        state=group(ENTRY, 1).str.strip_suffix("!").str.to_lowercase().replace("fail", "failed"),
        name=group(ENTRY, 2),
        node=group(ENTRY_NAME, 2, "_entry"),
        location=pl.when(pl.col("n_lines") > 1).then(pl.col("_next").str.strip_chars()),
        ran=integer(RAN, 1),
        total=integer(RAN, 2),
        duration_s=group(RAN, 3).cast(pl.Float64),
        status=group(STATUS, 1),
        reason=group(STATUS, 2),
        passed=counts_text.str.extract(COUNTS, 1).cast(pl.Int64),
        failed=counts_text.str.extract(COUNTS, 2).cast(pl.Int64),
        flaked=counts_text.str.extract(COUNTS, 3).cast(pl.Int64),
        repeated=counts_text.str.extract(COUNTS, 4).cast(pl.Int64),
        pending=counts_text.str.extract(COUNTS, 5).cast(pl.Int64),
        skipped=counts_text.str.extract(COUNTS, 6).cast(pl.Int64),
        suites=integer(GINKGO_RAN, 1),
        elapsed=group(GINKGO_RAN, 2),
        result=group(TEST_SUITE, 1).str.to_lowercase(),
    )


def _suite_attrs() -> pl.Expr:
    return _obj(
        suite=group(SUITE, 1),
        path=group(SUITE, 2),
        seed=integer(SEED, 1),
        randomize_all=pl.when(has(SEED)).then(group(SEED, 2).is_not_null()),
        will_run=integer(WILL_RUN, 1),
        total=integer(WILL_RUN, 2),
        processes=integer(PARALLEL, 1),
        flags=group(COMMAND, 1).str.strip_chars(),
    )


def _step_attrs() -> pl.Expr:
    step = pl.col("_step").struct
    step_kind = step.field("1").str.extract(r"^(STEP|END STEP|> Enter|< Exit)", 1)
    return _obj(
        event=step_kind.replace_strict(
            {"STEP": "step", "END STEP": "end_step", "> Enter": "enter", "< Exit": "exit"}, default=None
        ),
        node=pl.coalesce(step.field("2"), step.field("3")),
        duration=step.field("6"),
    )


def _helper_fields() -> dict[str, pl.Expr]:
    name = pl.coalesce([pl.when(has(p)).then(pl.lit(n)) for n, p in HELPERS.items()])
    subject = pl.coalesce(
        group(HELPERS["no_events"], 1), group(HELPERS["found"], 2), group(HELPERS["query_error"], 1)
    )
    attrs = _obj(
        helper=name,
        subject=subject,
        count=pl.coalesce(integer(HELPERS["found"], 1), pl.when(name == "no_events").then(0)),
        error=pl.coalesce(group(HELPERS["query_error"], 3), group(HELPERS["flush_warning"], 1)),
    )
    level = (
        pl.when(name.is_in(["query_error", "flush_warning"])).then(pl.lit("warn")).otherwise(pl.lit("info"))
    )
    return {
        "attrs": attrs,
        "level": level,
        "event_type": pl.when(subject.str.contains(r"^[a-z_]+(?:\.[a-z_]+)+$")).then(subject),
        "correlation_id": pl.coalesce(
            group(HELPERS["no_events"], 2), group(HELPERS["found"], 3), group(HELPERS["query_error"], 2)
        ),
    }


def _collector_fields() -> dict[str, pl.Expr]:
    name = pl.coalesce([pl.when(has(p)).then(pl.lit(n)) for n, p in COLLECTORS.items()])
    attrs = _obj(
        action=name,
        container=pl.coalesce(
            group(COLLECTORS["inspect"], 1),
            group(COLLECTORS["log"], 1),
            group(COLLECTORS["skipped"], 1),
            group(COLLECTORS["error"], 1),
        ),
        path=pl.coalesce(
            group(COLLECTORS["collecting"], 1),
            group(COLLECTORS["inspect"], 2),
            group(COLLECTORS["log"], 2),
            group(COLLECTORS["complete"], 1),
        ),
        error=group(COLLECTORS["error"], 2),
    )
    level = pl.when(name.is_in(["error", "skipped"])).then(pl.lit("warn")).otherwise(pl.lit("info"))
    return {"attrs": attrs, "level": level}


def _header_state() -> pl.Expr:
    header = pl.col("_header").struct
    return pl.coalesce(
        _state(header.field("3")),
        pl.when(header.field("1") == "P").then(pl.lit("pending")),
        pl.when(header.field("1") == "S").then(pl.lit("skipped")),
        pl.lit("passed"),
    )


def _spec_fields() -> dict[str, pl.Expr]:
    header_state = pl.col("_state")
    header = pl.col("is_header")
    return {
        "attrs": _spec_attrs(header_state),
        "message": pl.when(header | pl.col("_open")).then(pl.col("spec")).otherwise(pl.col("text")),
        "level": _level_for(pl.when(header).then(header_state)),
    }


def _failure_fields() -> dict[str, pl.Expr]:
    state = _state(pl.coalesce(group(FAIL_MARK, 1), group(FAIL_START, 1)))
    message = pl.when(has(FAIL_MARK)).then(pl.col("text").str.strip_chars()).otherwise(group(FAIL_START, 2))
    return {
        "attrs": _fail_attrs(state),
        "message": message,
        "level": _level_for(state),
    }


def _summary_fields() -> dict[str, pl.Expr]:
    failed = has(r"^(FAIL!|Test Suite Failed)")
    return {
        "attrs": _summary_attrs(),
        "level": pl.when(failed).then(pl.lit("error")).otherwise(pl.lit("info")),
    }


# Per kind, the fields whose values differ from `_DEFAULTS` (the plain output line's).
_KIND_FIELDS: dict[str, Callable[[], dict[str, pl.Expr]]] = {
    "spec": _spec_fields,
    "failure": _failure_fields,
    "helper": _helper_fields,
    "collector": _collector_fields,
    "step": lambda: {"attrs": _step_attrs(), "message": pl.col("_step").struct.field("4")},
    "summary": _summary_fields,
    "suite": lambda: {"attrs": _suite_attrs()},
}


_DEFAULTS = {
    "attrs": pl.lit("{}"),
    "message": pl.col("text").str.strip_chars(),
    "level": pl.lit(None, pl.String),
    "event_type": pl.lit(None, pl.String),
    "correlation_id": pl.lit(None, pl.String),
}


# Per kind, what its fields read more than once, in steps: an expression used twice in one eager
# call is computed twice, a column is computed once.
_KIND_CAPTURES: dict[str, Callable[[], list[list[pl.Expr]]]] = {
    "spec": lambda: [
        [
            pl.col("raw").str.extract_groups(HEADER).alias("_header"),
            pl.col("_loc2").str.extract_groups(LOCATION).alias("_at2"),
            pl.col("_loc3").str.extract_groups(LOCATION).alias("_at3"),
        ],
        [_header_state().alias("_state")],
    ],
    "step": lambda: [[pl.col("text").str.extract_groups(STEP).alias("_step")]],
}


def _with_kind_fields(rows: pl.DataFrame, kind: str) -> pl.DataFrame:
    steps = _KIND_CAPTURES.get(kind, list)()
    for columns in steps:
        rows = rows.with_columns(columns)
    fields = _DEFAULTS | _KIND_FIELDS.get(kind, dict)()
    filled = rows.with_columns(expr.cast(pl.String).alias(name) for name, expr in fields.items())
    return filled.drop([column.meta.output_name() for columns in steps for column in columns])


def record_fields(records: pl.DataFrame) -> pl.DataFrame:
    """Fill the event fields of Ginkgo's own records (every kind but "log").

    Each kind's patterns run on that kind's rows only: one expression over every kind would run all
    of them on every row, and compile more patterns than polars keeps compiled at once.

    Args:
        records: one row per record with `kind`, `text`, `raw`, `is_header`, `spec`, `_loc2`, `_loc3`,
            `_process`, `_full`, `_in`, `_entry`, `_next` and `n_lines`.

    Returns:
        `records` (in line order) with attrs, message, level, event_type, correlation_id, ts,
        ts_precision, ts_assumed, logger and record set.
    """
    by_kind = records.partition_by("kind", as_dict=True)
    filled = [_with_kind_fields(rows, str(kind)) for (kind,), rows in sorted(by_kind.items())]
    if not filled:
        filled = [_with_kind_fields(records, "output")]
    when_text = pl.coalesce(group(STEP, 5), group(FAIL_MARK, 4), group(IN_LINE, 3, "_in"))
    timed = pl.col("_when").is_not_null()
    return (
        pl.concat(filled)
        .sort("line")
        .with_columns(when_text.alias("_when"))
        .with_columns(
            ginkgo_ts(pl.col("_when")).alias("ts"),
            pl.when(timed).then(fraction_precision(pl.col("_when"))).alias("ts_precision"),
            pl.when(timed).then(pl.lit(True)).alias("ts_assumed"),
            pl.lit("ginkgo").alias("logger"),
            pl.col("kind").alias("record"),
        )
        .drop("_when")
    )
