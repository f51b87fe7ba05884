"""Ginkgo v2 (2.27) console output of a test run, as printed with `ginkgo -v --procs=N`.

Layout (reporters/default_reporter.go): a suite header; one block per spec between 30-dash lines
(state header, full name, location, an indented `Timeline >>` … `<< Timeline` section holding
GinkgoWriter output, STEP markers and embedded zap lines, then the failure message up to
`In [It] at: <loc> @ <time>`); the `Summarizing N Failures:` list; the `Ran`, `SUCCESS!|FAIL!`,
`Ginkgo ran` and `Test Suite` lines. `@` times carry no zone: they are emitted as UTC with
`ts_assumed` set, and normalization shifts them by the host offset.

Lines are classified with vectorised predicates; block membership comes from cumulative sums over
marker rows (a region starts at each spec header and at each line that ends a block).
"""

from __future__ import annotations

import polars as pl

from triage.parsers import ParseResult
from triage.parsers._common import message_key, offset_counts, with_stacktrace
from triage.parsers.zap_console import decode_any, fold_stack_traces
from triage.schema import TsDtype, conform
from triage.sources import Source

GINKGO_TIME_FORMAT = "%m/%d/%y %H:%M:%S%.f"
_T = r"(\d\d/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)?)"
_STATE = r"(FAILED|PANICKED|INTERRUPTED|TIMEDOUT|ABORTED|SKIPPED|PENDING)"

HEADER = (
    r"^(?:(•|↺|P|S)|\[([A-Za-z ()]+)\])(?: \[" + _STATE + r"\]| (PASSED)"
    r"| \[FLAKEY TEST - TOOK \d+ ATTEMPTS TO PASS\])?(?: DURING REPETITION #\d+)?"
    r"(?: \[(\d+(?:\.\d+)?) seconds\])?$"
)
DENOTERS = r"^[•↺PS]+$"
LOCATION = r"^(?:\[([^\]]+)\] )?(\S.*:\d+)$"
SUITE = r"^Running Suite: (.*) - (.*)$"
SEED = r"^Random Seed: (\d+)( - will randomize all specs)?$"
WILL_RUN = r"^Will run (\d+) of (\d+) specs$"
PARALLEL = r"^Running in parallel across (\d+) processes$"
SUMMARY_HEAD = r"^Summarizing (\d+) Failures?:$"
ENTRY = r"^\s*\[(FAIL|INTERRUPTED|PANICKED!|TIMEDOUT|ABORTED)\] (.*)$"
ENTRY_NAME = r"^(.*?) ?\[([A-Za-z ()]+)\] ?(.*)$"
RAN = r"^Ran (\d+) of (\d+) Specs in (\d+(?:\.\d+)?) seconds$"
STATUS = r"^(SUCCESS!|FAIL!)(?: - (.+?))?(?: -- (.*))?$"
COUNTS = (
    r"^(\d+) Passed \| (\d+) Failed \|(?: (\d+) Flaked \|)?(?: (\d+) Repeated \|)?"
    r" (\d+) Pending \| (\d+) Skipped$"
)
GINKGO_RAN = r"^Ginkgo ran (\d+) suites? in (.+)$"
TEST_SUITE = r"^Test Suite (Passed|Failed)$"
STEP = r"^(STEP:|END STEP:|> Enter \[([^\]]+)\]|< Exit \[([^\]]+)\]) (.*?) @ " + _T + r"(?: \(([^)]*)\))?$"
FAIL_MARK = r"^\[" + _STATE + r"\] in \[([^\]]+)\] - (.+) @ " + _T + "$"
FAIL_START = r"^\[" + _STATE + r"\] (.*)$"
IN_LINE = r"^In \[([^\]]+)\] at: (.+) @ " + _T + "$"
PROCESS = r"Progress Report for Ginkgo Process #(\d+)"
SECTION_OPEN = ["Timeline >>", "Captured StdOut/StdErr Output >>", "Report Entries >>"]
SECTION_CLOSE = ["<< Timeline", "<< Captured StdOut/StdErr Output", "<< Report Entries"]

# Test-helper prints (audit_integration_test.go): the only per-correlation evidence of queries.
HELPERS = {
    "no_events": r"^[^A-Za-z0-9]*No events yet for (.+?) \(correlation_id=([^)]*)\)$",
    "found": r"^[^A-Za-z0-9]*Found (\d+) event\(s\) for (.+?) \(correlation_id=([^)]*)\)$",
    "query_error": r"^[^A-Za-z0-9]*Query error for (.+?) \(correlation_id=([^)]*)\): (.*)$",
    "flushed": r"^[^A-Za-z0-9]*Audit store flushed successfully$",
    "flush_warning": r"^[^A-Za-z0-9]*Flush warning \(non-fatal, Eventually will retry\): (.*)$",
}
# MustGatherContainerLogs progress (shared_integration_utils.go).
COLLECTORS = {
    "collecting": r"^\s*📦 Collecting container logs(?: to (.+?)/?\.\.\.| .*)?$",
    "inspect": r"^\s*✅ (\S+) inspect → (.+)$",
    "log": r"^\s*✅ (\S+) → (.+)$",
    "skipped": r"^\s*⏭️?\s+Skipping (\S+) \(container not found\)$",
    "error": r"^\s*⚠️?\s+Failed to (?:get logs for|write log file for|inspect|write inspect file for|create "
    r"must-gather directory)(?: (\S+?))?: (.*)$",
    "complete": r"^\s*✅ Must-gather collection complete: (.+?)/?$",
}
_FAILURE_STATES = ["failed", "panicked", "timedout", "aborted"]


def ginkgo_ts(text: pl.Expr) -> pl.Expr:
    """Parse a Ginkgo `@` time (`01/14/26 10:25:09.674`, no zone) as if it were UTC."""
    naive = text.str.to_datetime(GINKGO_TIME_FORMAT, strict=False, time_unit="ns")
    return naive.dt.replace_time_zone("UTC").cast(TsDtype)


def _obj(**fields: pl.Expr) -> pl.Expr:
    # JSON object text of the given fields, members whose value is null left out.
    text = pl.struct([expr.alias(name) for name, expr in fields.items()]).struct.json_encode()
    return (
        text.str.replace_all(r'"[A-Za-z_]+":null,', "")
        .str.replace_all(r',"[A-Za-z_]+":null', "")
        .str.replace(r'^\{"[A-Za-z_]+":null\}$', "{}")
    )


def _g(pattern: str, group: int, col: str = "text") -> pl.Expr:
    return pl.col(col).str.extract(pattern, group)


def _int(pattern: str, group: int, col: str = "text") -> pl.Expr:
    return _g(pattern, group, col).cast(pl.Int64, strict=False)


def _has(pattern: str, col: str = "text") -> pl.Expr:
    return pl.col(col).str.contains(pattern).fill_null(False)


def _classify(lines: pl.DataFrame) -> pl.DataFrame:
    raw = pl.col("raw")
    blank = raw.str.strip_chars() == ""
    # A header ends with a bracketed state or runtime, or PASSED; a bare "[SynchronizedAfterSuite]"
    # is the name line of a suite node.
    header = _has(HEADER, "raw") & _has(r" (?:\[[^\]]*\]|PASSED)$", "raw")
    separator = _has(r"^-{30,}$", "raw")
    stop = (
        separator
        | _has(SUMMARY_HEAD, "raw")
        | _has(RAN, "raw")
        | _has(STATUS, "raw")
        | _has(GINKGO_RAN, "raw")
        | _has(SUITE, "raw")
    )
    df = lines.with_columns(
        blank.alias("blank"),
        separator.alias("is_sep"),
        header.alias("is_header"),
        stop.alias("stop"),
        (header | stop).cum_sum().alias("region"),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("i"),
    ).with_columns(
        (pl.col("is_header").first().over("region") & ~pl.col("stop")).alias("in_block"),
        _has(SUMMARY_HEAD, "raw").first().over("region").alias("in_summary"),
        (pl.col("i") - pl.col("i").first().over("region")).alias("rel"),
    )
    df = df.with_columns(
        pl.when(pl.col("in_block")).then(raw.str.strip_prefix("  ")).otherwise(raw).alias("text"),
        pl.when(pl.col("in_block")).then(pl.col("is_header").cum_sum()).alias("spec_index"),
    )
    text = pl.col("text")
    is_loc = _has(LOCATION)
    name_ok = pl.col("in_block") & (pl.col("rel") == 1) & ~pl.col("blank") & ~pl.col("stop")
    df = df.with_columns(name_ok.alias("name_ok")).with_columns(
        (
            pl.col("in_block") & (pl.col("rel") == 2) & is_loc & pl.col("name_ok").shift(1, fill_value=False)
        ).alias("loc2"),
    )
    df = df.with_columns(
        (
            pl.col("in_block")
            & (pl.col("rel") == 3)
            & is_loc
            & pl.col("loc2").shift(1, fill_value=False)
            & pl.col("text").shift(1).str.starts_with("[").fill_null(False)
        ).alias("loc3")
    ).with_columns((pl.col("name_ok") | pl.col("loc2") | pl.col("loc3")).alias("spec_part"))
    opened, closed = (
        text.is_in(SECTION_OPEN) & pl.col("in_block"),
        text.is_in(SECTION_CLOSE) & pl.col("in_block"),
    )
    depth = (opened.cast(pl.Int32).cum_sum() - closed.cast(pl.Int32).cum_sum()).over("region")
    df = df.with_columns((opened | closed).alias("marker"), ((depth > 0) & ~opened).alias("in_section"))
    fail_start = (
        _has(FAIL_START)
        & ~_has(FAIL_MARK)
        & ~pl.col("in_section")
        & ~pl.col("in_summary")
        & ~pl.col("spec_part")
        & ~pl.col("is_header")
    )
    df = df.with_columns(fail_start.cum_sum().over("region").alias("fail_id"), _has(IN_LINE).alias("in_line"))
    before_in = (pl.col("in_line").cum_sum() - pl.col("in_line")).over("region", "fail_id") == 0
    df = df.with_columns(((pl.col("fail_id") > 0) & before_in).alias("in_fail"))
    return df


def _assign(df: pl.DataFrame) -> pl.DataFrame:
    decoded = decode_any(df, "text")
    eligible = ~pl.col("in_fail") & ~pl.col("is_header") & ~pl.col("spec_part") & ~pl.col("in_summary")
    df = decoded.with_columns((pl.col("decoded") & eligible).alias("is_log"))
    df = fold_stack_traces(df, "text", "is_log")
    structural = (
        pl.col("blank")
        | pl.col("is_sep")
        | pl.col("marker")
        | _has(r"^={3,}$")
        | (pl.col("in_block") & _has(r"^\s*-{30,}$"))
    )
    helper = pl.any_horizontal([_has(p) for p in HELPERS.values()])
    collector = pl.any_horizontal([_has(p) for p in COLLECTORS.values()])
    suite = _has(SEED) | _has(WILL_RUN) | _has(PARALLEL) | _has(SUITE)
    summary = (
        _has(SUMMARY_HEAD) | _has(RAN) | _has(STATUS) | _has(COUNTS) | _has(GINKGO_RAN) | _has(TEST_SUITE)
    )
    entry = pl.col("in_summary") & _has(ENTRY)
    entry_loc = pl.col("in_summary") & _has(r"^\s*\S+:\d+$") & entry.shift(1, fill_value=False)
    out = ~pl.col("in_block")
    kind = (
        pl.when(pl.col("in_fail"))
        .then(pl.lit("failure"))
        .when(pl.col("is_header"))
        .then(pl.lit("spec"))
        .when(pl.col("spec_part"))
        .then(pl.lit("spec_part"))
        .when(pl.col("is_log"))
        .then(pl.lit("log"))
        .when(pl.col("_stack"))
        .then(pl.lit("stack"))
        .when(entry_loc)
        .then(pl.lit("entry_loc"))
        .when(structural)
        .then(pl.lit("structural"))
        .when(_has(STEP))
        .then(pl.lit("step"))
        .when(_has(FAIL_MARK))
        .then(pl.lit("failure"))
        .when(helper)
        .then(pl.lit("helper"))
        .when(collector)
        .then(pl.lit("collector"))
        .when(entry | (out & summary))
        .then(pl.lit("summary"))
        .when(out & suite)
        .then(pl.lit("suite"))
        .when(out & _has(DENOTERS))
        .then(pl.lit("spec"))
        .when(pl.col("in_block"))
        .then(pl.lit("output"))
        .otherwise(pl.lit("unparsed"))
    )
    fail_owner = pl.when(pl.col("in_fail")).then(pl.col("line")).min().over("region", "fail_id")
    owner = (
        pl.when(pl.col("kind") == "spec_part")
        .then(pl.col("line").first().over("region"))
        .when(pl.col("kind") == "stack")
        .then(pl.col("_owner"))
        .when(pl.col("kind") == "entry_loc")
        .then(pl.col("line") - 1)
        .when(pl.col("in_fail"))
        .then(fail_owner)
        .when(pl.col("kind").is_in(["structural", "unparsed"]))
        .then(None)
        .otherwise(pl.col("line"))
    )
    df = df.with_columns(kind.alias("kind")).with_columns(owner.alias("owner"))
    return df.with_columns(pl.len().over("owner").cast(pl.UInt32).alias("n_lines"))


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


def _spec_columns(df: pl.DataFrame) -> pl.DataFrame:
    """Per-region facts that every row of a spec block carries: name, locations, process."""
    region = pl.col("region")
    first_text = {
        name: pl.col("text").filter(pl.col(flag)).first().over(region).str.strip_chars_end()
        for name, flag in (("_name", "name_ok"), ("_loc2", "loc2"), ("_loc3", "loc3"))
    }
    process = pl.col("text").str.extract(PROCESS, 1).cast(pl.Int64, strict=False).max().over(region)
    return df.with_columns(**first_text, _process=process).with_columns(
        pl.when(pl.col("in_block")).then(pl.col("_name")).alias("spec"),
    )


def _attrs_and_fields(df: pl.DataFrame) -> pl.DataFrame:
    kind, text = pl.col("kind"), pl.col("text")
    leaf_loc = pl.coalesce(_g(LOCATION, 2, "_loc3"), _g(LOCATION, 2, "_loc2"))
    header_state = pl.coalesce(
        _state(_g(HEADER, 3, "raw")),
        pl.when(_g(HEADER, 1, "raw") == "P").then(pl.lit("pending")),
        pl.when(_g(HEADER, 1, "raw") == "S").then(pl.lit("skipped")),
        pl.lit("passed"),
    )
    denoters = pl.col("raw")
    spec_attrs = (
        pl.when(pl.col("is_header"))
        .then(
            _obj(
                state=header_state,
                duration_s=_g(HEADER, 5, "raw").cast(pl.Float64),
                node=_g(HEADER, 2, "raw"),
                location=leaf_loc,
                failure_node=pl.when(pl.col("_loc3").is_not_null()).then(_g(LOCATION, 1, "_loc2")),
                failure_node_location=pl.when(pl.col("_loc3").is_not_null()).then(_g(LOCATION, 2, "_loc2")),
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
    fail_state = _state(pl.coalesce(_g(FAIL_MARK, 1), _g(FAIL_START, 1)))
    fail_attrs = (
        pl.when(_has(FAIL_MARK))
        .then(_obj(state=fail_state, node=_g(FAIL_MARK, 2), location=_g(FAIL_MARK, 3), marker=pl.lit(True)))
        .otherwise(
            _obj(
                state=fail_state,
                node=_g(IN_LINE, 1, "_in"),
                location=_g(IN_LINE, 2, "_in"),
                text=pl.col("_full"),
                marker=pl.lit(False),
            )
        )
    )
    helper_name = pl.coalesce([pl.when(_has(p)).then(pl.lit(n)) for n, p in HELPERS.items()])
    subject = pl.coalesce(_g(HELPERS["no_events"], 1), _g(HELPERS["found"], 2), _g(HELPERS["query_error"], 1))
    helper_cid = pl.coalesce(
        _g(HELPERS["no_events"], 2), _g(HELPERS["found"], 3), _g(HELPERS["query_error"], 2)
    )
    helper_attrs = _obj(
        helper=helper_name,
        subject=subject,
        count=pl.coalesce(_int(HELPERS["found"], 1), pl.when(helper_name == "no_events").then(0)),
        error=pl.coalesce(_g(HELPERS["query_error"], 3), _g(HELPERS["flush_warning"], 1)),
    )
    coll_name = pl.coalesce([pl.when(_has(p)).then(pl.lit(n)) for n, p in COLLECTORS.items()])
    coll_attrs = _obj(
        action=coll_name,
        container=pl.coalesce(
            _g(COLLECTORS["inspect"], 1),
            _g(COLLECTORS["log"], 1),
            _g(COLLECTORS["skipped"], 1),
            _g(COLLECTORS["error"], 1),
        ),
        path=pl.coalesce(
            _g(COLLECTORS["collecting"], 1),
            _g(COLLECTORS["inspect"], 2),
            _g(COLLECTORS["log"], 2),
            _g(COLLECTORS["complete"], 1),
        ),
        error=_g(COLLECTORS["error"], 2),
    )
    step_kind = _g(STEP, 1).str.extract(r"^(STEP|END STEP|> Enter|< Exit)", 1)
    step_attrs = _obj(
        event=step_kind.replace_strict(
            {"STEP": "step", "END STEP": "end_step", "> Enter": "enter", "< Exit": "exit"}, default=None
        ),
        node=pl.coalesce(_g(STEP, 2), _g(STEP, 3)),
        duration=_g(STEP, 6),
    )
    counts_text = pl.coalesce(_g(STATUS, 3), text)
    summary_attrs = _obj(
        failures=_int(SUMMARY_HEAD, 1),
        state=_g(ENTRY, 1).str.strip_suffix("!").str.to_lowercase().replace("fail", "failed"),
        name=_g(ENTRY, 2),
        node=_g(ENTRY_NAME, 2, "_entry"),
        location=pl.when(pl.col("n_lines") > 1).then(pl.col("_next").str.strip_chars()),
        ran=_int(RAN, 1),
        total=_int(RAN, 2),
        duration_s=_g(RAN, 3).cast(pl.Float64),
        status=_g(STATUS, 1),
        reason=_g(STATUS, 2),
        passed=counts_text.str.extract(COUNTS, 1).cast(pl.Int64),
        failed=counts_text.str.extract(COUNTS, 2).cast(pl.Int64),
        flaked=counts_text.str.extract(COUNTS, 3).cast(pl.Int64),
        repeated=counts_text.str.extract(COUNTS, 4).cast(pl.Int64),
        pending=counts_text.str.extract(COUNTS, 5).cast(pl.Int64),
        skipped=counts_text.str.extract(COUNTS, 6).cast(pl.Int64),
        suites=_int(GINKGO_RAN, 1),
        elapsed=_g(GINKGO_RAN, 2),
        result=_g(TEST_SUITE, 1).str.to_lowercase(),
    )
    suite_attrs = _obj(
        suite=_g(SUITE, 1),
        path=_g(SUITE, 2),
        seed=_int(SEED, 1),
        randomize_all=pl.when(_has(SEED)).then(_g(SEED, 2).is_not_null()),
        will_run=_int(WILL_RUN, 1),
        total=_int(WILL_RUN, 2),
        processes=_int(PARALLEL, 1),
    )
    attrs = (
        pl.when(kind == "log")
        .then(with_stacktrace(pl.col("attrs"), pl.col("_stacktrace")))
        .when(kind == "spec")
        .then(spec_attrs)
        .when(kind == "failure")
        .then(fail_attrs)
        .when(kind == "helper")
        .then(helper_attrs)
        .when(kind == "collector")
        .then(coll_attrs)
        .when(kind == "step")
        .then(step_attrs)
        .when(kind == "summary")
        .then(summary_attrs)
        .when(kind == "suite")
        .then(suite_attrs)
        .otherwise(pl.lit("{}"))
    )
    when_text = pl.coalesce(_g(STEP, 5), _g(FAIL_MARK, 4), _g(IN_LINE, 3, "_in"))
    message = (
        pl.when(kind == "log")
        .then(pl.col("message"))
        .when(kind == "spec")
        .then(pl.when(pl.col("is_header")).then(pl.col("spec")).otherwise(text))
        .when(kind == "step")
        .then(_g(STEP, 4))
        .when((kind == "failure") & ~_has(FAIL_MARK))
        .then(_g(FAIL_START, 2))
        .otherwise(text.str.strip_chars())
    )
    level = (
        pl.when(kind == "log")
        .then(pl.col("level"))
        .when(kind == "spec")
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
        .then(pl.when(_has(r"^(FAIL!|Test Suite Failed)")).then(pl.lit("error")).otherwise(pl.lit("info")))
    )
    event_type = (
        pl.when(kind == "log")
        .then(pl.col("event_type"))
        .when((kind == "helper") & subject.str.contains(r"^[a-z_]+(?:\.[a-z_]+)+$"))
        .then(subject)
    )
    is_log = kind == "log"
    return df.with_columns(
        attrs.alias("attrs"),
        message.alias("message"),
        level.alias("level"),
        event_type.alias("event_type"),
        pl.when(is_log)
        .then(pl.col("correlation_id"))
        .when(kind == "helper")
        .then(helper_cid)
        .alias("correlation_id"),
        pl.when(is_log).then(pl.col("ts")).otherwise(ginkgo_ts(when_text)).alias("ts"),
        pl.when(is_log)
        .then(pl.col("ts_precision"))
        .when(when_text.is_not_null())
        .then(pl.when(when_text.str.contains(r"\.")).then(pl.lit("ms")).otherwise(pl.lit("s")))
        .alias("ts_precision"),
        pl.when(is_log)
        .then(pl.lit(False))
        .when(when_text.is_not_null())
        .then(pl.lit(True))
        .alias("ts_assumed"),
        pl.when(is_log).then(pl.col("logger")).otherwise(pl.lit("ginkgo")).alias("logger"),
        kind.alias("record"),
    )


def parse(lines: pl.DataFrame, source: Source) -> ParseResult:
    """Parse a Ginkgo v2 test-run log.

    Args:
        lines: columns `line` and `raw`.
        source: the test-run log.

    Returns:
        Events of kinds suite, spec, step, failure, helper, collector, output, log and summary; blank
        lines, separators and section markers are structural; the rest is unparsed.
        facts["utc_offsets"] counts the UTC offsets of the embedded zoned zap records.
    """
    df = _assign(_classify(lines.select("line", "raw")))
    df = _spec_columns(df).with_columns(pl.col("raw").shift(-1).alias("_next"))
    # Failure blocks: whole text, and the `In [It] at:` line that closes them.
    fail_rows = df.filter(pl.col("kind") == "failure")
    groups = fail_rows.group_by("owner").agg(
        pl.col("text").str.join("\n").alias("_full"),
        pl.col("text").filter(pl.col("in_line")).first().alias("_in"),
    )
    records = (
        df.filter(pl.col("owner") == pl.col("line"))
        .join(groups, left_on="line", right_on="owner", how="left")
        .with_columns(pl.col("text").str.extract(ENTRY, 2).alias("_entry"))
    )
    records = _attrs_and_fields(records).with_columns(
        message_key(pl.col("message")).alias("msg_key"),
        pl.lit(source.name).alias("file"),
        pl.lit(source.kind).alias("source_kind"),
        pl.lit(source.service or "test-run").alias("service"),
    )
    unparsed = df.filter(pl.col("kind") == "unparsed").select("line", "raw")
    facts: dict[str, object] = {
        "utc_offsets": offset_counts(records.filter(pl.col("kind") == "log")["utc_offset"])
    }
    return ParseResult(conform(records.sort("line")), unparsed, facts)
