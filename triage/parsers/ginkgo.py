"""Ginkgo v2 (2.27) console output of a test run, as printed with `ginkgo -v --procs=N`.

Layout (reporters/default_reporter.go): a suite header; one block per spec between 30-dash lines
(state header, full name, location, an indented `Timeline >>` … `<< Timeline` section holding
GinkgoWriter output, STEP markers and embedded zap lines, then the failure message up to
`In [It] at: <loc> @ <time>`); the `Summarizing N Failures:` list; the `Ran`, `SUCCESS!|FAIL!`,
`Ginkgo ran` and `Test Suite` lines. `@` times carry no zone: they are emitted as UTC with
`ts_assumed` set, and normalization shifts them by the host offset.

Lines are classified with vectorised predicates; block membership comes from cumulative sums over
marker rows (a region starts at each spec header and at each line that ends a block). Embedded zap
lines are most of a big log, so the patterns of Ginkgo's own lines run only on the other lines.
"""

from __future__ import annotations

import re

import polars as pl

from triage.bundle.sources import Source
from triage.parsers._common import matching, message_key, offset_counts
from triage.parsers.base import Format, ParseResult
from triage.parsers.ginkgo_fields import record_fields
from triage.parsers.ginkgo_syntax import (
    BANNERS,
    BLOCK_LEAD,
    COLLECTORS,
    COMMAND,
    COUNTS,
    DENOTERS,
    ENTRY,
    ENTRY_LOC,
    FAIL_MARK,
    FAIL_START,
    GINKGO_RAN,
    HEADER,
    HEADER_END,
    HELPERS,
    IN_LINE,
    INDENTED_SEPARATOR,
    LOCATION,
    PARALLEL,
    PROCESS,
    PROCESS_NAME,
    RAN,
    RULE,
    SECTION_CLOSE,
    SECTION_OPEN,
    SEED,
    SEPARATOR,
    STATUS,
    STEP,
    SUITE,
    SUMMARY_HEAD,
    TEST_SUITE,
    WILL_RUN,
    any_of,
    has,
)
from triage.parsers.zap_console import any_records, fold_stack_traces, with_traces
from triage.table.schema import conform

# Columns every record carries into the event table (and `utc_offset` for the facts).
_RECORD_COLUMNS = (
    "line",
    "n_lines",
    "record",
    "ts",
    "ts_precision",
    "ts_assumed",
    "level",
    "logger",
    "caller",
    "message",
    "correlation_id",
    "event_type",
    "spec",
    "spec_index",
    "attrs",
    "raw",
    "utc_offset",
)
# Of the parsed rows, the columns a record of the log takes from its row (the rest come from the decoder)
_LOG_COLUMNS = ("i", "line", "n_lines", "spec", "spec_index", "raw", "_stacktrace")
# and those Ginkgo's own records are read from (`ginkgo_fields.record_fields`).
_OWN_COLUMNS = (
    *_LOG_COLUMNS,
    "owner",
    "kind",
    "text",
    "is_header",
    "_open",
    "_loc2",
    "_loc3",
    "_process",
    "_next",
)


def _tested(frame: pl.DataFrame, where: pl.Expr, **tests: pl.Expr) -> list[pl.Series]:
    """Boolean `tests` on the rows where `where` holds; False on the others.

    A shape only a few rows can have is tested on those rows gathered first (the columns the tests
    read), and the flags are spread back over all rows.
    """
    at = frame.select(pl.arg_where(where)).to_series()
    read = sorted({name for test in tests.values() for name in test.meta.root_names()})
    hits = frame.select(pl.col(read).gather(at)).select(**tests)
    none = pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True)
    return [none.clone().scatter(at, hits.get_column(name)).alias(name) for name in tests]


def _block_edges(lines: pl.DataFrame) -> list[pl.Series]:
    """Per line: is it a separator, a spec header, a line that ends a block, a summary head?

    Those lines start with one of a few characters (a few lines in a hundred).
    """
    raw = pl.col("raw")
    separator, summary_head = raw.str.contains(SEPARATOR), raw.str.contains(SUMMARY_HEAD)
    ends = raw.str.contains(any_of(RAN, STATUS, GINKGO_RAN, SUITE))
    return _tested(
        lines,
        raw.str.contains(BLOCK_LEAD),
        is_sep=separator,
        is_header=raw.str.contains(HEADER) & raw.str.contains(HEADER_END),
        stop=separator | summary_head | ends,
        _summary_head=summary_head,
    )


def _serial_starts(df: pl.DataFrame) -> pl.Series:
    """Per line: does a spec start here as serial `-v` output streams it?

    Run serially with `-v`, Ginkgo prints a spec's name and location when it starts, streams its
    timeline, and prints the state header when it ends: a separator, then a line that is no header
    followed by a location line.
    """
    candidate = (
        pl.col("is_sep").shift(1, fill_value=False)
        & ~pl.col("is_header")
        & ~pl.col("stop")
        & ~pl.col("blank")
    )
    (after,) = _tested(df, candidate.shift(1, fill_value=False), _loc=pl.col("raw").str.contains(LOCATION))
    starts = df.select((candidate & after.shift(-1, fill_value=False)).alias("serial_start"))
    return starts.to_series()


def _run_start(key: pl.Expr) -> pl.Expr:
    """Per row, the index of the first row of its run of equal `key` values.

    Where equal keys are consecutive (a running count), each run is a group, and a group's value is
    read at its first or last row (`_at`) rather than computed by grouping on the key.
    """
    return pl.when(key.ne_missing(key.shift(1))).then(pl.int_range(pl.len(), dtype=pl.Int64)).forward_fill()


def _run_end(key: pl.Expr) -> pl.Expr:
    """Per row, the index of the last row of its run of equal `key` values."""
    return pl.when(key.ne_missing(key.shift(-1))).then(pl.int_range(pl.len(), dtype=pl.Int64)).backward_fill()


def _at(value: pl.Expr, row: str) -> pl.Expr:
    """`value` at the row whose index the column `row` holds (the first or last row of a run)."""
    return value.gather(pl.col(row))


def _running(value: pl.Expr, start: str) -> pl.Expr:
    """Running total of `value` within each row's run (`start`: its first row), this row included."""
    total = value.cast(pl.Int64).cum_sum()
    return total - _at(total, start) + _at(value.cast(pl.Int64), start)


def _classify(lines: pl.DataFrame) -> pl.DataFrame:
    raw = pl.col("raw")
    df = lines.with_columns(
        (raw.str.strip_chars() == "").alias("blank"),
        *_block_edges(lines),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("i"),
    )
    df = df.with_columns(_serial_starts(df))
    serial_start = pl.col("serial_start")
    # A serial spec's header closes its own block; every other header starts one.
    # Regions are runs of consecutive rows: their values are read at their first and last rows.
    df = df.with_columns(_run_start((serial_start | pl.col("stop")).cum_sum()).alias("_serial_run"))
    opens = serial_start | (pl.col("is_header") & ~_at(serial_start, "_serial_run"))
    df = df.with_columns((opens | pl.col("stop")).cum_sum().alias("region"), opens.alias("_opens"))
    df = df.with_columns(
        _run_start(pl.col("region")).alias("_start"), _run_end(pl.col("region")).alias("_end")
    )
    headers = pl.col("is_header").cast(pl.Int64).cum_sum()
    df = df.with_columns(
        (_at(pl.col("_opens"), "_start") & ~pl.col("stop")).alias("in_block"),
        _at(pl.col("_summary_head"), "_start").alias("in_summary"),
        # Name and location follow a header; a serial block starts with them.
        (pl.col("i") - pl.col("_start") + _at(serial_start, "_start").cast(pl.Int64)).alias("rel"),
        (
            serial_start
            & (_at(headers, "_end") == _at(headers, "_start") - _at(pl.col("is_header"), "_start"))
        ).alias("_open"),
    ).drop("_summary_head", "_serial_run", "_end")
    df = df.with_columns(
        pl.when(pl.col("in_block")).then(raw.str.strip_prefix("  ")).otherwise(raw).alias("text"),
        pl.when(pl.col("in_block")).then(pl.col("_opens").cum_sum()).alias("spec_index"),
    ).drop("_opens")
    text, in_block, rel = pl.col("text"), pl.col("in_block"), pl.col("rel")
    # Location lines are the second and third lines of a block.
    is_loc = _tested(df, in_block & rel.is_between(2, 3), _loc=text.str.contains(LOCATION))
    name_ok = in_block & (rel == 1) & ~pl.col("blank") & ~pl.col("stop") & ~pl.col("is_header")
    df = df.with_columns(name_ok.alias("name_ok"), *is_loc).with_columns(
        (in_block & (rel == 2) & pl.col("_loc") & pl.col("name_ok").shift(1, fill_value=False)).alias("loc2"),
    )
    df = (
        df.with_columns(
            (
                in_block
                & (rel == 3)
                & pl.col("_loc")
                & pl.col("loc2").shift(1, fill_value=False)
                & text.shift(1).str.starts_with("[").fill_null(False)
            ).alias("loc3")
        )
        .with_columns((pl.col("name_ok") | pl.col("loc2") | pl.col("loc3")).alias("spec_part"))
        .drop("_loc")
    )
    opened, closed = text.is_in(SECTION_OPEN) & in_block, text.is_in(SECTION_CLOSE) & in_block
    depth = _running(opened.cast(pl.Int32) - closed.cast(pl.Int32), "_start")
    df = df.with_columns(opened.alias("opened"), closed.alias("closed"))
    df = df.with_columns(
        (pl.col("opened") | pl.col("closed")).alias("marker"),
        ((depth > 0) & ~pl.col("opened")).alias("in_section"),
    ).drop("opened", "closed")
    df = df.with_columns(
        *_tested(
            df,
            text.str.starts_with("["),
            _fail_shape=text.str.contains(FAIL_START) & ~text.str.contains(FAIL_MARK),
        ),
        *_tested(df, text.str.starts_with("In ["), in_line=text.str.contains(IN_LINE)),
    )
    fail_start = (
        pl.col("_fail_shape")
        & ~pl.col("in_section")
        & ~pl.col("in_summary")
        & ~pl.col("spec_part")
        & ~pl.col("is_header")
    )
    df = df.with_columns(_running(fail_start, "_start").cast(pl.UInt32).alias("fail_id")).drop("_fail_shape")
    # A failure block runs from its first line up to its `In [It] at:` line.
    fail_id = pl.col("fail_id")
    df = df.with_columns(
        pl.when(pl.col("region").ne_missing(pl.col("region").shift(1)) | fail_id.ne_missing(fail_id.shift(1)))
        .then(pl.col("i"))
        .forward_fill()
        .alias("_fail_start")
    )
    before_in = _running(pl.col("in_line"), "_fail_start") == pl.col("in_line").cast(pl.Int64)
    return df.with_columns(((fail_id > 0) & before_in).alias("in_fail")).drop("_start", "_fail_start")


def _line_kinds() -> dict[str, pl.Expr]:
    """Which of Ginkgo's own line shapes a row has (tested on rows that are no zap record or spec part)."""
    in_block, in_summary = pl.col("in_block"), pl.col("in_summary")
    structural = (
        pl.col("blank")
        | pl.col("is_sep")
        | pl.col("marker")
        | has(RULE)
        | (in_block & has(INDENTED_SEPARATOR))
    )
    return {
        "_entry_line": in_summary & has(ENTRY),
        "_entry_loc_shape": in_summary & has(ENTRY_LOC),
        "_structural": structural,
        "_step": has(STEP),
        "_fail_mark": has(FAIL_MARK),
        "_helper": has(any_of(*HELPERS.values())),
        "_collector": has(any_of(*COLLECTORS.values())),
        "_summary": has(any_of(SUMMARY_HEAD, RAN, STATUS, COUNTS, GINKGO_RAN, TEST_SUITE)),
        "_suite": has(any_of(SEED, WILL_RUN, PARALLEL, SUITE)),
        "_denoters": has(DENOTERS),
        "_command": has(COMMAND),
        "_banner": has(any_of(*BANNERS)),
        # A line opening a JSON object (see `_assign`).
        "_brace": pl.col("text").str.strip_chars_start().str.starts_with("{"),
    }


def _assign(df: pl.DataFrame, decoded: pl.Series, captured: bool) -> pl.DataFrame:
    """Each row's kind and the line of the record it belongs to (`owner`), given the zap records' rows."""
    # Without a separator, header or closing line the text is bare GinkgoWriter output (a spec's
    # captured output, or the test process's stream written out): any line of it is the suite's own.
    framed = pl.lit(False) if captured else (pl.col("is_sep") | pl.col("is_header") | pl.col("stop")).any()
    is_record = pl.repeat(False, df.height, dtype=pl.Boolean, eager=True).scatter(decoded, True)
    eligible = ~pl.col("in_fail") & ~pl.col("is_header") & ~pl.col("spec_part") & ~pl.col("in_summary")
    df = df.with_columns((pl.lit(is_record) & eligible).alias("is_log"))
    df = fold_stack_traces(df, "text", "is_log")
    settled = (
        pl.col("in_fail") | pl.col("is_header") | pl.col("spec_part") | pl.col("is_log") | pl.col("_stack")
    )
    # Rows settled above (zap records and their traces are most of a big log) skip Ginkgo's patterns;
    # summary rows are always tested, as an entry's location line looks back at the entry.
    shapes = _tested(df, ~settled | pl.col("in_summary"), **_line_kinds())
    df = df.with_columns(shapes)
    flags = [shape.name for shape in shapes]
    entry_loc = pl.col("_entry_loc_shape") & pl.col("_entry_line").shift(1, fill_value=False)
    # Outside Ginkgo's frame a line opening a JSON object that no record decoder read is a record cut
    # or wrapped on its way here, not something the suite printed: it stays not understood.
    broken_record = pl.col("_brace")
    out = ~pl.col("in_block")
    kind = (
        pl.when(pl.col("in_fail"))
        .then(pl.lit("failure"))
        .when(pl.col("is_header") | pl.col("_open"))
        .then(pl.lit("spec"))
        .when(pl.col("spec_part"))
        .then(pl.lit("spec_part"))
        .when(pl.col("is_log"))
        .then(pl.lit("log"))
        .when(pl.col("_stack"))
        .then(pl.lit("stack"))
        .when(entry_loc)
        .then(pl.lit("entry_loc"))
        .when(pl.col("_structural"))
        .then(pl.lit("structural"))
        .when(pl.col("_step"))
        .then(pl.lit("step"))
        .when(pl.col("_fail_mark"))
        .then(pl.lit("failure"))
        .when(pl.col("_helper"))
        .then(pl.lit("helper"))
        .when(pl.col("_collector"))
        .then(pl.lit("collector"))
        .when(pl.col("_entry_line") | (out & pl.col("_summary")))
        .then(pl.lit("summary"))
        .when(out & pl.col("_suite"))
        .then(pl.lit("suite"))
        .when(out & pl.col("_denoters"))
        .then(pl.lit("spec"))
        .when(out & pl.col("_command"))
        .then(pl.lit("suite"))
        .when(pl.col("in_block") | pl.col("_banner") | (~framed & ~broken_record))
        .then(pl.lit("output"))
        .otherwise(pl.lit("unparsed"))
    )
    # A spec part belongs to its region's first header (its first line when it has none), a failure
    # line to the first line of its block: read at the first rows of the runs they lie in.
    region, fail_id, line = pl.col("region"), pl.col("fail_id"), pl.col("line")
    df = df.with_columns(
        _run_start(region).alias("_start"),
        _run_end(region).alias("_end"),
        pl.when(pl.col("is_header")).then(pl.col("i")).backward_fill().alias("_header_at"),
        pl.when(region.ne_missing(region.shift(1)) | fail_id.ne_missing(fail_id.shift(1)))
        .then(pl.col("i"))
        .forward_fill()
        .alias("_fail_start"),
    ).with_columns(_at(pl.col("_header_at"), "_start").alias("_header_at"))
    header_line = pl.when(pl.col("_header_at") <= pl.col("_end")).then(line.gather(pl.col("_header_at")))
    # Lines number up in file order: a block's first line is its least.
    fail_owner = _at(line, "_fail_start")
    owner = (
        pl.when(pl.col("kind") == "spec_part")
        .then(pl.coalesce(header_line, _at(line, "_start")))
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
    df = df.with_columns(kind.alias("kind")).drop(flags).with_columns(owner.alias("owner"))
    df = df.drop("_start", "_end", "_header_at", "_fail_start")
    return df.with_columns(pl.len().over("owner").cast(pl.UInt32).alias("n_lines"))


def _spec_columns(df: pl.DataFrame) -> pl.DataFrame:
    """Per-region facts that every row of a spec block carries: name, locations, process."""
    region = pl.col("region")
    flags = (("_name", "name_ok"), ("_loc2", "loc2"), ("_loc3", "loc3"))
    # A region's first line with the flag, found from the region's first row: the next flagged row
    # at or after it, when that row is still in the region.
    df = df.with_columns(
        _run_start(region).alias("_start"),
        _run_end(region).alias("_end"),
        *(pl.when(pl.col(flag)).then(pl.col("i")).backward_fill().alias(name) for name, flag in flags),
    )
    df = df.with_columns(_at(pl.col(name), "_start").alias(name) for name, _ in flags)
    first_text = {
        name: pl.when(pl.col(name) <= pl.col("_end")).then(
            pl.col("text").gather(pl.col(name)).str.strip_chars_end()
        )
        for name, _ in flags
    }
    # Progress reports are rare: the pattern runs on the lines that name one.
    reports = pl.when(pl.col("text").str.contains(PROCESS_NAME, literal=True)).then(pl.col("text"))
    process = reports.str.extract(PROCESS, 1).cast(pl.Int64, strict=False).max().over(region)
    return (
        df.with_columns(**first_text, _process=process)
        .with_columns(pl.when(pl.col("in_block")).then(pl.col("_name")).alias("spec"))
        .drop("_start", "_end")
    )


def _log_fields(logs: pl.DataFrame) -> pl.DataFrame:
    """Event fields of the embedded zap records: what the decoder gave, stack trace folded into attrs."""
    return with_traces(logs).with_columns(
        pl.lit(False).alias("ts_assumed"),
        pl.lit("log").alias("record"),
    )


def parse(lines: pl.DataFrame, source: Source, *, captured: bool = False) -> ParseResult:
    """Parse a Ginkgo v2 test-run log.

    Args:
        lines: columns `line` and `raw`.
        source: the test-run log.
        captured: the lines are specs' captured GinkgoWriter output (as a JSON report keeps it): no
            line of it is Ginkgo's own, so every line no other shape claims is output.

    Returns:
        Events of kinds suite, spec, step, failure, helper, collector, output, log and summary; blank
        lines, separators and section markers are structural; the rest is unparsed.
        facts["utc_offsets"] counts the UTC offsets of the embedded zoned zap records.
    """
    df = _classify(lines.select("line", "raw"))
    # The zap records' fields stay beside the frame, keyed by row (`i`), until the records are chosen.
    decoded = any_records(df, "text").with_columns(pl.col("_row").cast(pl.Int64).alias("i")).drop("_row")
    df = _spec_columns(_assign(df, decoded.get_column("i"), captured))
    df = df.with_columns(pl.col("raw").shift(-1).alias("_next"))
    # Failure blocks: whole text, and the `In [It] at:` line that closes them.
    fail_rows = df.select("owner", "kind", "text", "in_line").filter(pl.col("kind") == "failure")
    groups = fail_rows.group_by("owner").agg(
        pl.col("text").str.join("\n").alias("_full"),
        pl.col("text").filter(pl.col("in_line")).first().alias("_in"),
    )
    records = df.select(_OWN_COLUMNS).filter(pl.col("owner") == pl.col("line")).drop("owner")
    is_log = pl.col("kind") == "log"
    logs = records.filter(is_log).select(_LOG_COLUMNS)
    logs = _log_fields(logs.join(decoded, on="i", how="left", maintain_order="left"))
    own = (
        records.filter(~is_log)
        .join(groups, left_on="line", right_on="owner", how="left", maintain_order="left")
        .join(decoded.select("i", "caller", "utc_offset"), on="i", how="left", maintain_order="left")
        .with_columns(pl.col("text").str.extract(ENTRY, 2).alias("_entry"))
    )
    own = record_fields(own).with_columns(message_key(pl.col("message")).alias("msg_key"))
    # The records' message keys: the decoder's, and those of Ginkgo's own records.
    parts = [logs.select(*_RECORD_COLUMNS, "msg_key"), own.select(*_RECORD_COLUMNS, "msg_key")]
    merged = pl.concat(parts, how="vertical_relaxed").sort("line")
    events = merged.with_columns(
        pl.lit(source.name).alias("file"),
        pl.lit(source.kind).alias("source_kind"),
        pl.lit(source.service or "test-run").alias("service"),
    )
    unparsed = df.select("line", "raw", "kind").filter(pl.col("kind") == "unparsed").drop("kind")
    facts: dict[str, object] = {"utc_offsets": offset_counts(logs["utc_offset"])}
    return ParseResult(conform(events), unparsed, facts)


# Lines only Ginkgo prints. One of them outweighs any number of embedded zap lines.
_MARKERS = re.compile(
    r"^(?:Running Suite: |Will run \d+ of \d+ specs|Running in parallel across \d+ processes"
    r"|Ran \d+ of \d+ Specs in |Random Seed: \d+|\s*(?:•|P|S) \[[A-Z]+|\s*• \[\d"
    r"|\s*STEP: .* @ \d\d/\d\d/\d\d \d\d:\d\d:\d\d|\s*(?:Timeline >>|<< Timeline)$"
    r"|\[(?:Synchronized|Report)?(?:Before|After)Suite\] "
    r"|\s*In \[[A-Za-z]+\] at: .* @ \d\d/\d\d/\d\d \d\d:\d\d:\d\d)"
)


def _piece_start(raw: pl.Expr) -> pl.Expr:
    # A separator starts with thirty dashes: the pattern runs on those lines only.
    return matching(pl.when(raw.str.starts_with("-" * 30)).then(raw), SEPARATOR)


FORMAT = Format(
    kind="ginkgo",
    label="Ginkgo report line(s)",
    parse=parse,
    line=_MARKERS,
    marker=True,
    piece_start=_piece_start,
)
