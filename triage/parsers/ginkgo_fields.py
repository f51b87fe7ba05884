"""Event fields of the Ginkgo records that are not embedded zap lines: suite, spec, step, failure,
helper, collector, output and summary records.

Every field is a vectorised expression over the record rows; a kind's patterns only decide the rows
of that kind. The embedded zap records (most of a big log) never come here: they keep what the zap
decoder gave them.
"""

from __future__ import annotations

import polars as pl

from triage.parsers.ginkgo_syntax import (
    COLLECTORS,
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

_FAILURE_STATES = ["failed", "panicked", "timedout", "aborted"]


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
        pl.when(state.is_in(_FAILURE_STATES))
        .then(pl.lit("error"))
        .when(state == "interrupted")
        .then(pl.lit("warn"))
        .when(state.is_not_null())
        .then(pl.lit("info"))
    )


def _spec_attrs(header_state: pl.Expr) -> pl.Expr:
    leaf_loc = pl.coalesce(group(LOCATION, 2, "_loc3"), group(LOCATION, 2, "_loc2"))
    denoters = pl.col("raw")
    failure_node = pl.col("_loc3").is_not_null()
    return (
        pl.when(pl.col("is_header"))
        .then(
            _obj(
                state=header_state,
                duration_s=group(HEADER, 5, "raw").cast(pl.Float64),
                node=group(HEADER, 2, "raw"),
                location=leaf_loc,
                failure_node=pl.when(failure_node).then(group(LOCATION, 1, "_loc2")),
                failure_node_location=pl.when(failure_node).then(group(LOCATION, 2, "_loc2")),
                process=pl.col("_process"),
            )
        )
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
    )


def _step_attrs() -> pl.Expr:
    step_kind = group(STEP, 1).str.extract(r"^(STEP|END STEP|> Enter|< Exit)", 1)
    return _obj(
        event=step_kind.replace_strict(
            {"STEP": "step", "END STEP": "end_step", "> Enter": "enter", "< Exit": "exit"}, default=None
        ),
        node=pl.coalesce(group(STEP, 2), group(STEP, 3)),
        duration=group(STEP, 6),
    )


def record_fields(records: pl.DataFrame) -> pl.DataFrame:
    """Fill the event fields of Ginkgo's own records (every kind but "log").

    Args:
        records: one row per record with `kind`, `text`, `raw`, `is_header`, `spec`, `_loc2`, `_loc3`,
            `_process`, `_full`, `_in`, `_entry`, `_next` and `n_lines`.

    Returns:
        `records` with attrs, message, level, event_type, correlation_id, ts, ts_precision, ts_assumed,
        logger and record set.
    """
    kind, text = pl.col("kind"), pl.col("text")
    header_state = pl.coalesce(
        _state(group(HEADER, 3, "raw")),
        pl.when(group(HEADER, 1, "raw") == "P").then(pl.lit("pending")),
        pl.when(group(HEADER, 1, "raw") == "S").then(pl.lit("skipped")),
        pl.lit("passed"),
    )
    fail_state = _state(pl.coalesce(group(FAIL_MARK, 1), group(FAIL_START, 1)))
    helper_name = pl.coalesce([pl.when(has(p)).then(pl.lit(n)) for n, p in HELPERS.items()])
    subject = pl.coalesce(
        group(HELPERS["no_events"], 1), group(HELPERS["found"], 2), group(HELPERS["query_error"], 1)
    )
    helper_cid = pl.coalesce(
        group(HELPERS["no_events"], 2), group(HELPERS["found"], 3), group(HELPERS["query_error"], 2)
    )
    helper_attrs = _obj(
        helper=helper_name,
        subject=subject,
        count=pl.coalesce(integer(HELPERS["found"], 1), pl.when(helper_name == "no_events").then(0)),
        error=pl.coalesce(group(HELPERS["query_error"], 3), group(HELPERS["flush_warning"], 1)),
    )
    coll_name = pl.coalesce([pl.when(has(p)).then(pl.lit(n)) for n, p in COLLECTORS.items()])
    coll_attrs = _obj(
        action=coll_name,
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
    attrs = (
        pl.when(kind == "spec")
        .then(_spec_attrs(header_state))
        .when(kind == "failure")
        .then(_fail_attrs(fail_state))
        .when(kind == "helper")
        .then(helper_attrs)
        .when(kind == "collector")
        .then(coll_attrs)
        .when(kind == "step")
        .then(_step_attrs())
        .when(kind == "summary")
        .then(_summary_attrs())
        .when(kind == "suite")
        .then(_suite_attrs())
        .otherwise(pl.lit("{}"))
    )
    when_text = pl.coalesce(group(STEP, 5), group(FAIL_MARK, 4), group(IN_LINE, 3, "_in"))
    message = (
        pl.when(kind == "spec")
        .then(pl.when(pl.col("is_header")).then(pl.col("spec")).otherwise(text))
        .when(kind == "step")
        .then(group(STEP, 4))
        .when((kind == "failure") & ~has(FAIL_MARK))
        .then(group(FAIL_START, 2))
        .otherwise(text.str.strip_chars())
    )
    level = (
        pl.when(kind == "spec")
        .then(_level_for(pl.when(pl.col("is_header")).then(header_state)))
        .when(kind == "failure")
        .then(_level_for(fail_state))
        .when(kind == "helper")
        .then(
            pl.when(helper_name.is_in(["query_error", "flush_warning"]))
            .then(pl.lit("warn"))
            .otherwise(pl.lit("info"))
        )
        .when(kind == "collector")
        .then(pl.when(coll_name.is_in(["error", "skipped"])).then(pl.lit("warn")).otherwise(pl.lit("info")))
        .when(kind == "summary")
        .then(pl.when(has(r"^(FAIL!|Test Suite Failed)")).then(pl.lit("error")).otherwise(pl.lit("info")))
    )
    is_helper = kind == "helper"
    timed = when_text.is_not_null()
    return records.with_columns(
        attrs.alias("attrs"),
        message.alias("message"),
        level.alias("level"),
        pl.when(is_helper & subject.str.contains(r"^[a-z_]+(?:\.[a-z_]+)+$"))
        .then(subject)
        .alias("event_type"),
        pl.when(is_helper).then(helper_cid).alias("correlation_id"),
        ginkgo_ts(when_text).alias("ts"),
        pl.when(timed)
        .then(pl.when(when_text.str.contains(r"\.")).then(pl.lit("ms")).otherwise(pl.lit("s")))
        .alias("ts_precision"),
        pl.when(timed).then(pl.lit(True)).alias("ts_assumed"),
        pl.lit("ginkgo").alias("logger"),
        kind.alias("record"),
    )
