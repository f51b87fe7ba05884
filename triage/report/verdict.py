"""The cause of each failed spec, decided once and shown the same way in Markdown and JSON.

A failed spec is tied to a finding above info, most direct first:

1. a finding about one of the spec's correlation IDs;
2. a finding that quotes a line of the spec's own timeline (a store-level drop inside it);
3. a run-wide finding about the audit pipeline (no correlation ID, medium or worse) under way while
   the spec ran, when the spec queried audit events: inferred, and said so.

The most severe candidate wins; on a tie the deeper fault (DataStorage, then a store that stopped
writing or dropped a batch, then races and counts), then the most direct: a drop in the spec's own
timeline before an inferred stuck writer, a stuck writer before the race it leaves behind, a stalled
timer or slow write before the race of a spec whose Eventually retried until it timed out. A failing
DataStorage (a high `container-unhealthy` under way while the spec ran) goes first whatever the
others' severity, since it explains the drops, gaps and races behind it. A spec that counted more
events than it expected is never blamed on a run-wide fault. A count finding that cannot tell late
from never emitted events is the last resort; one whose spec's own lines show the events were never
emitted is not blamed on a fault elsewhere in the run, nor on a race: a race makes events late.

A spec that none of these explains gets no cause and a reason instead: what its failure says, what
its queries returned, what the store and DataStorage logged meanwhile, and which evidence is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import polars as pl

from triage.facts.analysis import Analysis
from triage.facts.testrun import FAILED_STATES, SpecResult, TestRun
from triage.parsers.ingest import SourceAccount
from triage.rules.base import Finding, Severity
from triage.rules.unexpected_event_count import never_emitted, undecided


class Report(Protocol):
    """What the verdict reads of a report (`report.model.Report`, which carries the verdicts)."""

    @property
    def accounts(self) -> tuple[SourceAccount, ...]: ...
    @property
    def events(self) -> pl.DataFrame: ...
    @property
    def tests(self) -> tuple[TestRun, ...]: ...
    @property
    def analysis(self) -> Analysis: ...
    @property
    def findings(self) -> tuple[Finding, ...]: ...


# Findings about the pipeline as a whole that can explain any spec that queried after they began.
RUN_WIDE_RULES = (
    "write-rate-gap",
    "unflushed-events",
    "dropped-events",
    "container-unhealthy",
    "timer-stall",
    "slow-write",
)
INFRA_RULE = "container-unhealthy"
COUNT_RULE = "unexpected-event-count"
RACE_RULE = "flush-query-race"
# How deep in the pipeline a rule's fault lies: a deeper fault explains the shallower ones it causes.
DEPTH = {"container-unhealthy": 3, "unflushed-events": 2, "write-rate-gap": 2, "dropped-events": 2}
# Faults that end: they explain a spec only while under way. Lost events and a dead container stay so.
TRANSIENT_RULES = ("timer-stall", "slow-write", "dropped-events")
# Faults that delay writes without losing them: they explain a spec that waited and timed out.
DELAYING_RULES = ("timer-stall", "slow-write")
TIMED_OUT = re.compile(r"Timed out after ([0-9.]+m?s)")
COUNT = re.compile(r"Expected\s+<int>: (-?\d+)\s+to equal\s+<int>: (-?\d+)")
MAX_TYPES = 3
# Words by which a failure message speaks of audit events (a count of them, a query, the store).
AUDIT_WORDS = re.compile(r"(?i)audit|event|correlation|<int>")
# A failure about audit events even when the spec printed no query (`should record … in DataStorage`).
AUDIT_FAILURE = re.compile(r"(?i)data ?storage|\baudit\b")


@dataclass(frozen=True)
class SpecVerdict:
    """What made one failed or interrupted spec fail, as far as the logs tell.

    Attributes:
        spec: the spec.
        spec_index: its block in the test log, None when only the summary names it.
        correlation_ids: the correlation IDs it owns (it queried them, or logged them first).
        cause: the finding that explains it, None when none does.
        finding: the cause's index in `Report.findings` (0-based), None without a cause.
        basis: how the cause is tied to the spec ("correlation ID", "its timeline", "inferred: ...").
        reason: without a cause, what was checked and which evidence is missing.
    """

    spec: SpecResult
    spec_index: int | None
    correlation_ids: tuple[str, ...]
    cause: Finding | None
    finding: int | None
    basis: str | None
    reason: str | None


def spec_indices(
    events: pl.DataFrame, specs: list[SpecResult]
) -> dict[tuple[str | None, int | None], int | None]:
    """The spec block of each spec result whose header is in the table.

    Args:
        events: the event table.
        specs: spec results.

    Returns:
        (file, line) of a spec's header -> its `spec_index`; a spec the summary names but no block
        shows is left out.
    """
    wanted = {(s.file, s.line) for s in specs if s.file is not None and s.line is not None}
    if not wanted:
        return {}
    headers = (
        events.lazy()
        .filter(
            (pl.col("record") == "spec")
            & pl.col("file").cast(pl.String).is_in([f for f, _ in wanted])
            & pl.col("line").is_in([n for _, n in wanted])
        )
        .select(pl.col("file").cast(pl.String), "line", "spec_index")
        .unique(["file", "line"], keep="first", maintain_order=True)
        .collect()
    )
    return {(f, n): i for f, n, i in headers.iter_rows() if (f, n) in wanted}


def _block_rows(events: pl.DataFrame, blocks: set[tuple[str, int]]) -> dict[tuple[str, int], pl.DataFrame]:
    """The rows of each spec block (file, spec_index), in table order, read in one pass."""
    if not blocks:
        return {}
    rows = events.filter(
        pl.col("file").cast(pl.String).is_in([f for f, _ in blocks])
        & pl.col("spec_index").is_in([i for _, i in blocks])
    )
    parts = rows.partition_by("file", "spec_index", as_dict=True, maintain_order=True)
    return {(str(f), int(i)): part for (f, i), part in parts.items() if (str(f), int(i)) in blocks}


def own_ids(report: Report, spec: SpecResult, index: int | None) -> tuple[str, ...]:
    """The correlation IDs a spec owns: those it queried, else those it logged first.

    Args:
        report: the analysis result.
        spec: the spec.
        index: its block.

    Returns:
        Sorted IDs; the IDs its block logged when it owns none.
    """
    owners = report.analysis.owners
    own = owners.filter((pl.col("file") == spec.file) & (pl.col("spec_index") == index))
    return tuple(sorted(own["correlation_id"].to_list())) or spec.correlation_ids


def judge(report: Report) -> tuple[SpecVerdict, ...]:
    """Tie every failed or interrupted spec to its cause, or say why none is known.

    Args:
        report: the analysis result, rules run.

    Returns:
        One verdict per spec of `report.tests`, in their order.
    """
    specs = [s for run in report.tests for s in run.specs]
    if not specs:
        return ()
    findings = [f for f in report.findings if f.severity > Severity.INFO]
    position = {id(f): i for i, f in enumerate(report.findings)}
    cited = _cited_blocks(report, findings)
    periods = _periods(report, findings)
    indices = spec_indices(report.events, specs)
    index_of = [indices.get((s.file, s.line)) for s in specs]
    failed = {
        (s.file, i)
        for s, i in zip(specs, index_of, strict=True)
        if s.file is not None and i is not None and s.state in FAILED_STATES
    }
    block_rows = _block_rows(report.events, failed)
    out = []
    for spec, index in zip(specs, index_of, strict=True):
        ids = own_ids(report, spec, index)
        if spec.state not in FAILED_STATES:
            reason = "interrupted after another spec failed (Ginkgo --fail-fast); it did not fail on its own"
            out.append(SpecVerdict(spec, index, ids, None, None, None, reason))
            continue
        rows = block_rows.get((str(spec.file), index), report.events.clear()) if index is not None else None
        about_audit = AUDIT_FAILURE.search(spec.failure_message or "") is not None
        block = _block(report, spec, index, about_audit, rows)
        cause, basis = _cause(findings, ids, (spec.file, index), cited, periods, block)
        if cause is not None:
            out.append(SpecVerdict(spec, index, ids, cause, position[id(cause)], basis, None))
        else:
            reason = _unexplained(report, spec, ids, block)
            out.append(SpecVerdict(spec, index, ids, None, None, None, reason))
    return tuple(out)


@dataclass(frozen=True)
class _Block:
    """What one spec's timeline shows: its time span and its test queries."""

    start: datetime | None
    end: datetime | None
    queries: pl.DataFrame
    queried: bool
    failed_queries: int
    extra: bool
    buffered: int
    store_lines: int
    refused_last: bool = False
    retried: bool = False


def _block(
    report: Report,
    spec: SpecResult,
    index: int | None,
    about_audit: bool = False,
    rows: pl.DataFrame | None = None,
) -> _Block:
    from triage.rules import query_prints
    from triage.table.vocabulary import DEBUG_QUERY, QUERY_FAILED

    analysis = report.analysis
    if index is None:
        return _Block(None, None, pl.DataFrame(), about_audit, 0, False, 0, 0)
    if rows is None:
        rows = report.events.filter((pl.col("file") == spec.file) & (pl.col("spec_index") == index))
    times = rows.get_column("ts").drop_nulls()
    same = (pl.col("file") == spec.file) & (pl.col("spec_index") == index)
    queries = query_prints(analysis).filter(same)
    pipe = analysis.pipeline
    store_lines = pipe.buffered.filter(same).height + pipe.ticks.filter(same).height
    # Query prints whose correlation ID is unknown (a namespace no event names) still show it queried.
    printed = rows.filter(pl.col("record").is_in(["helper", "output"])).get_column("message").cast(pl.String)
    unnamed = printed.filter(printed.str.contains(DEBUG_QUERY))
    if queries.is_empty() and unnamed.len():  # prints that name a namespace no event ties to an ID
        queries = pl.DataFrame(
            {
                "event_type": unnamed.str.extract(DEBUG_QUERY, 1),
                "count": unnamed.str.extract(DEBUG_QUERY, 3).cast(pl.Int64),
            }
        )
    failed_queries = int(printed.str.contains(QUERY_FAILED).sum())
    # DataStorage did not answer the spec's last query: the answer its assertion judged never came.
    helpers = rows.filter(pl.col("record").is_in(["helper", "output"]))
    refused = helpers.filter(pl.col("message").cast(pl.String).str.contains(QUERY_FAILED))["line"].max()
    answered = queries["line"].max() if "line" in queries.columns else None
    refused_last = refused is not None and (answered is None or refused > answered)  # type: ignore[operator]
    queried = queries.height > 0 or failed_queries > 0 or about_audit
    return _Block(
        times.min() if times.len() else None,  # type: ignore[arg-type]
        times.max() if times.len() else None,  # type: ignore[arg-type]
        queries,
        queried,
        failed_queries,
        _counted_more(report, rows),
        pipe.buffered.filter(same).height,
        store_lines + pipe.store_errors.filter(same).height,
        refused_last,
        # An Eventually that timed out after one printed query was given a value: it never asked again.
        TIMED_OUT.search(spec.failure_message or "") is not None and queries.height != 1,
    )


def _counted_more(report: Report, rows: pl.DataFrame) -> bool:
    """True when the block's failure counted more than it expected (`Expected <int>: 5 to equal <int>: 4`)."""
    failures = report.analysis.attrs.attach(rows.filter(pl.col("record") == "failure"))
    for text in failures.get_column("attrs").drop_nulls().to_list():
        match = COUNT.search(str(text).replace("\\n", "\n"))
        if match and int(match.group(1)) > int(match.group(2)):
            return True
    return False


def _cited(report: Report, findings: list[Finding], column: str) -> pl.DataFrame:
    """The event table's `column` at every evidence line of `findings` (f = the finding's id), where set."""
    wanted = pl.DataFrame(
        [(id(f), e.file, e.line) for f in findings for e in f.evidence],
        schema={"f": pl.Int64, "file": pl.String, "line": pl.UInt32},
        orient="row",
    )
    rows = report.events.select(pl.col("file").cast(pl.String), pl.col("line").cast(pl.UInt32), column)
    return wanted.join(rows.drop_nulls(column), on=["file", "line"], how="inner")


def _cited_blocks(report: Report, findings: list[Finding]) -> dict[int, set[tuple[str, int]]]:
    """Per finding (by id), the spec blocks its evidence lines lie in."""
    hits = _cited(report, findings, "spec_index")
    out: dict[int, set[tuple[str, int]]] = {}
    for f, file, index in hits.select("f", "file", "spec_index").iter_rows():
        out.setdefault(f, set()).add((file, index))
    return out


def _periods(report: Report, findings: list[Finding]) -> dict[int, tuple[datetime, datetime | None]]:
    """Per run-wide finding (by id), when the fault it reports was under way, from its evidence times.

    A `TIMER BUG DETECTED` line is printed when a stall ends: the stall began `actual_interval`
    before it. A transient fault ends with its last evidence line; a lost or unhealthy pipeline
    stays so (end None).
    """
    run_wide = [f for f in findings if f.correlation_id is None and f.rule in RUN_WIDE_RULES]
    errors = report.analysis.pipeline.store_errors
    stalls = errors.filter(pl.col("msg_key").str.starts_with("TIMER BUG")).select(
        pl.col("file").cast(pl.String),
        pl.col("line").cast(pl.UInt32),
        pl.col("attrs").str.json_path_match("$.actual_interval").cast(pl.Float64, strict=False).alias("held"),
    )
    hits = (
        _cited(report, run_wide, "ts")
        .join(stalls, on=["file", "line"], how="left")
        .with_columns(
            (
                pl.col("ts") - pl.duration(microseconds=(pl.col("held").fill_null(0.0) * 1e6).cast(pl.Int64))
            ).alias("began")
        )
    )
    spans = hits.group_by("f").agg(pl.col("began").min(), pl.col("ts").max())
    out: dict[int, tuple[datetime, datetime | None]] = {}
    rules = {id(f): f.rule for f in run_wide}
    for f, began, ended in spans.iter_rows():
        out[int(f)] = (began, ended if rules[int(f)] in TRANSIENT_RULES else None)
    # A container found dead whose log holds no time (it failed before logging) was down all along.
    for f in run_wide:
        if f.rule == INFRA_RULE and id(f) not in out:
            out[id(f)] = (datetime.min.replace(tzinfo=UTC), None)
    return out


def _cause(
    findings: list[Finding],
    ids: tuple[str, ...],
    block: tuple[str, int | None],
    cited: dict[int, set[tuple[str, int]]],
    periods: dict[int, tuple[datetime, datetime | None]],
    shown: _Block,
) -> tuple[Finding | None, str | None]:
    """The finding that explains a spec: the most severe of the candidates, the most direct on a tie.

    Findings come most severe first, so the first of each kind is its best; a run-wide fault more
    severe than what the spec's own IDs show (a pipeline that stopped writing behind a query that
    timed out) is the deeper cause.
    """
    candidates: list[tuple[Finding, str]] = []
    delayed = shown.retried and not shown.extra  # waited in vain for events; extra ones are no delay
    own = [f for f in findings if f.correlation_id is not None and f.correlation_id in ids]
    if own:
        # Events its own lines show never emitted are neither late nor lost: that count is the one.
        candidates.append((([f for f in own if never_emitted(f)] or own)[0], "its correlation ID"))
    inside = [f for f in findings if block in cited.get(id(f), set())]
    if inside:
        candidates.append((inside[0], "evidence in its timeline"))
    # A failed count of audit events is about audit events even when no line names its query.
    counted = any(f.rule == COUNT_RULE for f, _ in candidates)
    audit = shown.queried or bool(ids) or shown.store_lines > 0 or counted
    if audit and not shown.extra:  # lost writes explain missing events, not extra ones
        under_way = [
            f for f in findings if _overlaps(periods.get(id(f)), shown) and f.severity >= Severity.MEDIUM
        ]
        # DataStorage down or failing explains the drops, gaps and races behind it: it goes first.
        # So does a lesser container finding when DataStorage refused the spec's last query.
        floor = Severity.MEDIUM if shown.refused_last else Severity.HIGH
        infra = [f for f in under_way if f.rule == INFRA_RULE and f.severity >= floor]
        if infra:
            return infra[0], "inferred: DataStorage was failing while the spec ran"
        if under_way:
            basis = "inferred: this pipeline fault was under way while the spec ran"
            candidates.append((max(under_way, key=lambda f: _rank(f, delayed)), basis))
    if not shown.extra:
        # A count whose logs cannot tell late from never emitted is the last resort: a fault that held
        # events back, or another finding on its lines, says which. Nothing lost explains extra events.
        candidates = [c for c in candidates if not undecided(c[0])] or candidates
    if any(never_emitted(f) for f, _ in candidates):
        # Its own lines rule out late or lost events: neither a fault elsewhere in the run nor a delay
        # (a stalled timer, a slow write) is its cause.
        candidates = [
            c
            for c in candidates
            if not c[1].startswith("inferred") and c[0].rule not in (*DELAYING_RULES, RACE_RULE)
        ]
    if not candidates:
        return None, None
    # On equal severity the deeper fault wins (a stuck writer explains the race behind it), then the
    # more direct tie: max keeps the first of equals.
    best = max(candidates, key=lambda c: _rank(c[0], delayed))
    return best


def _rank(finding: Finding, retried: bool = False) -> tuple[Severity, int]:
    """How strongly a finding explains a spec: its severity, then how deep in the pipeline its fault lies.

    A spec whose Eventually timed out waited longer than any flush race lasts: a stalled timer or a
    slow write under way then is what held its events back, deeper than the race it shows.
    """
    depth = DEPTH.get(finding.rule, 0)
    if retried and finding.rule in DELAYING_RULES:
        depth = max(depth, 1)
    return finding.severity, depth


def _overlaps(period: tuple[datetime, datetime | None] | None, shown: _Block) -> bool:
    """True when a fault's period and the spec's time span meet (unknown ends meet anything)."""
    if period is None:
        return False
    began, ended = period
    started_in_time = shown.end is None or began <= shown.end
    still_on = ended is None or shown.start is None or ended >= shown.start
    return started_in_time and still_on


def _unexplained(report: Report, spec: SpecResult, ids: tuple[str, ...], block: _Block) -> str:
    """Not explained: what the failure says, what was checked, and what evidence is missing."""
    message = spec.failure_message or ""
    if (
        message
        and not ids
        and block.queries.is_empty()
        and not block.store_lines
        and not block.failed_queries
        and not AUDIT_WORDS.search(message)
    ):
        return (
            "Not an audit failure as far as the logs show: it printed no audit query, named no "
            "correlation ID, logged no audit-store line, and its failure does not mention events; "
            f"Ginkgo reported: {message}"
        )
    parts = []
    timed_out = TIMED_OUT.search(message)
    count = COUNT.search(message)
    if timed_out:
        parts.append(f"it timed out after {timed_out.group(1)}")
    elif count:
        parts.append(f"it counted {count.group(1)} where it expected {count.group(2)}")
    elif message:
        parts.append(f"Ginkgo reported: {message}")
    else:
        parts.append("no failure message was printed")
    parts.append(_queries_seen(block.queries))
    if block.failed_queries:
        parts.append(f"{block.failed_queries} of its queries got no answer from DataStorage")
    if block.store_lines:
        parts.append(f"its timeline holds {block.buffered} buffered line(s) and no store fault")
    else:
        parts.append("its timeline holds no audit-store line (below Info in this log format, or not logged)")
    writes = _writes_during(report, block)
    if writes:
        parts.append(writes)
    missing = []
    if not report.tests:
        missing.append("the test log")
    if not block.store_lines:
        missing.append("whether the events were buffered")
    if "datastorage" not in {a.source.service for a in report.accounts}:
        missing.append("DataStorage's log")
    if not ids and block.queries.is_empty():
        missing.append("which correlation ID it waited for")
    tail = f"; missing: {', '.join(missing)}" if missing else ""
    return "No rule explains it; checked: " + "; ".join(parts) + tail + "."


def _queries_seen(queries: pl.DataFrame) -> str:
    if queries.is_empty():
        return "it printed no audit query"
    found = queries.filter(pl.col("count").fill_null(0) > 0).height
    types = queries.get_column("event_type").drop_nulls().unique().sort().to_list()
    more = f" and {len(types) - MAX_TYPES} more" if len(types) > MAX_TYPES else ""
    shown = ", ".join(types[:MAX_TYPES]) + more
    what = f" for {shown}" if shown else ""
    return f"{queries.height} query print(s){what}, {found} of them found events"


def _writes_during(report: Report, block: _Block) -> str:
    writes = report.analysis.pipeline.writes
    if block.start is None or block.end is None or writes.is_empty():
        return ""
    inside = writes.filter(pl.col("ts").is_between(block.start, block.end))
    events = int(inside.get_column("count").sum() or 0)
    return f"DataStorage wrote {inside.height} batch(es) ({events} events) while it ran"
