"""The library entry point: `analyze(path) -> Report`."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import polars as pl

from triage.analysis import Analysis, build_analysis
from triage.archive import Limits, format_size, unpack
from triage.attrs import ID, Attrs
from triage.containers import ContainerState, LogHealth, log_health, summarize_containers
from triage.discovery import discover
from triage.errors import BundleError, ConfigError
from triage.ingest import SourceAccount, ingest
from triage.normalize import default_steps, normalize
from triage.parsers import EVENT_KINDS, ParseResult
from triage.progress import Progress
from triage.rules import RuleOutcome, run_rules, select_rules
from triage.rules.base import Finding, Rule
from triage.schema import TABLE_SCHEMA, conform, empty_events
from triage.sources import Bundle
from triage.testrun import TestRun, summarize_test_runs
from triage.texts import LineTexts
from triage.verdict import SpecVerdict, judge

DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Report:
    """Everything analysis found; renderers read only this.

    Attributes:
        bundle: what was discovered.
        accounts: line accounting per source, in source order.
        events: the normalized event table (TABLE_SCHEMA: records cite their file and line, no text;
            `analysis.attrs.attach(rows)` adds the `attrs` of chosen rows).
        tests: the test-run summary of each Ginkgo log.
        containers: inspected container states.
        log_health: per container log, counts of records by severity.
        assumptions: what was assumed rather than read (e.g. a host UTC offset).
        host_offset: the test host's UTC offset in seconds, inferred from the test log; None when
            no test log carried zoned times.
        analysis: the reconstructed audit pipeline and stores the rules read.
        outcomes: what each selected rule did (ran, skipped, error) and found.
    """

    bundle: Bundle
    accounts: tuple[SourceAccount, ...]
    events: pl.DataFrame
    tests: tuple[TestRun, ...]
    containers: tuple[ContainerState, ...]
    log_health: tuple[LogHealth, ...]
    assumptions: tuple[str, ...]
    host_offset: int | None
    analysis: Analysis
    outcomes: tuple[RuleOutcome, ...]

    @property
    def findings(self) -> tuple[Finding, ...]:
        """All findings, most severe first, in a deterministic order."""
        return tuple(sorted((f for o in self.outcomes for f in o.findings), key=Finding.sort_key))

    @cached_property
    def verdicts(self) -> tuple[SpecVerdict, ...]:
        """Per failed or interrupted spec, its cause (a finding) or why none is known; decided once."""
        return judge(self)


def host_offset(facts: Mapping[str, object]) -> tuple[int, int, int] | None:
    """The UTC offset most zoned records of a log carry.

    Args:
        facts: a parse result's facts; `utc_offsets` maps offset seconds to record counts.

    Returns:
        (offset seconds, records with it, zoned records in all), or None when there are none.
    """
    raw = facts.get("utc_offsets")
    if not isinstance(raw, Mapping) or not raw:
        return None
    counts = {int(k): int(v) for k, v in raw.items()}
    offset = min(counts, key=lambda k: (-counts[k], k))
    return offset, counts[offset], sum(counts.values())


def format_offset(seconds: int) -> str:
    """`-18000` -> `UTC-05:00`."""
    sign = "-" if seconds < 0 else "+"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def _offsets_and_assumptions(
    parsed: Sequence[tuple[SourceAccount, ParseResult | None]],
) -> tuple[dict[str, int], list[str]]:
    offsets: dict[str, int] = {}
    assumptions: list[str] = []
    for account, result in parsed:
        if result is None or not result.events["ts_assumed"].any():
            continue
        name = account.source.name
        found = host_offset(result.facts)
        if found is None:
            assumptions.append(
                f"{name}: times without a zone were read as UTC; no record in the log carries an offset"
            )
            continue
        offset, agreeing, zoned = found
        offsets[name] = offset
        share = "all" if agreeing == zoned else f"{agreeing:,} of"
        assumptions.append(
            f"{name}: times without a zone (Ginkgo @ markers) were read as {format_offset(offset)}, "
            f"the offset of {share} {zoned:,} zoned records in the same log"
        )
    return offsets, assumptions


def analyze(
    path: str | os.PathLike[str],
    test_logs: Sequence[str | os.PathLike[str]] = (),
    *,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    limits: Limits = DEFAULT_LIMITS,
    progress: Progress | None = None,
) -> Report:
    """Analyse a bundle.

    Archives (.tar.gz, .tgz, .tar, .zip) and gzip-compressed logs are unpacked into a private
    temporary directory first, within `limits`; nothing is written anywhere else. It is removed
    when the rules have run, so the lines the findings quote are read before.

    Args:
        path: a must-gather directory (or a directory holding one and the test log), an archive of
            one, or one log file; a `str` or any `os.PathLike`.
        test_logs: Ginkgo test-run logs kept outside path (`str` or `os.PathLike` each).
        select: run only these rule ids (all when empty).
        ignore: do not run these rule ids.
        limits: how much an archive may unpack to.
        progress: where to say how far the run is (nowhere by default).

    Returns:
        The report.

    Raises:
        BundleError: the path is missing or holds nothing to analyse.
        ConfigError: a rule id is unknown.
    """
    try:
        rules = select_rules(select, ignore)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    path = Path(path)
    if progress is not None:
        progress.stage("opening")  # unpacking a large archive takes a while before anything is read
    try:
        scratch = tempfile.TemporaryDirectory(prefix="triage-")
    except OSError as exc:  # TMPDIR full, read-only or missing
        raise BundleError(
            f"cannot create a temporary directory in {tempfile.gettempdir()}: {exc.strerror}"
        ) from None
    with scratch as tmp:
        work = Path(tmp)
        unpacked = unpack(path, work, limits)
        logs = [unpack(Path(log), work, limits) for log in test_logs]
        found = discover(unpacked.path, [u.path for u in logs])
        total = _check_size(found, limits)
        if progress is not None:
            progress.expect(len(found.sources), total)
        bundle = replace(
            found,
            display_path=str(path),
            notes=(*unpacked.notes, *(n for u in logs for n in u.notes), *found.notes),
        )
        parsed = ingest(bundle.sources, progress=progress)
        if not any(result is not None and result.events.height for _, result in parsed):
            # Still a report: it lists every file with its kind, notes and lines not understood.
            kinds = ", ".join(sorted({a.source.kind for a, _ in parsed}))
            empty = f"no file held a record triage reads (files are: {kinds})"
            bundle = replace(bundle, notes=(*bundle.notes, empty))
        table = _table(parsed)
        del parsed  # what the table does not share (lines not understood) goes before the analysis
        if progress is not None:
            progress.stage("analysing")
        return _report(bundle, table, rules)


def _check_size(bundle: Bundle, limits: Limits) -> int:
    """Refuse input larger than the limit before reading it; the input's size in bytes."""
    total = 0
    for source in bundle.sources:
        try:  # a file gone since it was found is reported when it is read
            total += source.path.stat().st_size
        except OSError:
            continue
    if total > limits.max_total_bytes:
        raise BundleError(
            f"{bundle.display_path}: {format_size(total)} of input is over the limit of "
            f"{format_size(limits.max_total_bytes)}; raise it with --max-bytes"
        )
    return total


@dataclass(frozen=True)
class _Table:
    """The parsers' results made one normalized table, and what else the report keeps of them."""

    accounts: tuple[SourceAccount, ...]
    events: pl.DataFrame
    attrs: Attrs
    offsets: dict[str, int]
    assumptions: tuple[str, ...]
    kinds: frozenset[str]


def _table(parsed: list[tuple[SourceAccount, ParseResult | None]]) -> _Table:
    """One table of every file's records, in file order, so normalization need not sort it."""
    named = sorted(((a.source.name, r) for a, r in parsed if r is not None), key=lambda pair: pair[0])
    frames, stores, ids = [], [], 0
    for _, result in named:  # each file's attrs ids start at 0: they follow on from the files before
        frames.append(conform(result.events.with_columns(pl.col(ID) + ids), TABLE_SCHEMA))
        stores.append((result.attrs or Attrs()).shifted(ids))
        ids += result.events.height
    offsets, assumptions = _offsets_and_assumptions(parsed)
    # No copy: every column of every piece is one materialized chunk (ingest), so all columns are cut
    # at the same rows and a step that adds a column (the host offset) copies only that column.
    events = pl.concat(frames, rechunk=False) if frames else empty_events(TABLE_SCHEMA)
    return _Table(
        accounts=tuple(account for account, _ in parsed),
        events=normalize(events, default_steps(offsets)),
        attrs=Attrs.join(stores),
        offsets=offsets,
        assumptions=tuple(assumptions),
        kinds=frozenset(EVENT_KINDS.get(k, k) for k in (a.source.kind for a, r in parsed if r is not None)),
    )


def _report(bundle: Bundle, table: _Table, rules: Sequence[Rule]) -> Report:
    """Summarize, reconstruct and check the table."""
    events, offsets, attrs = table.events, table.offsets, table.attrs
    tests = summarize_test_runs(events, attrs)
    containers = summarize_containers(events, attrs)
    health = log_health(events)
    texts = LineTexts({a.source.name: (a.source.path, a.blocks) for a in table.accounts if a.blocks})
    analysis = build_analysis(events, tests, containers, health, table.kinds, texts, attrs)
    return Report(
        bundle=bundle,
        accounts=table.accounts,
        events=events,
        tests=tests,
        containers=containers,
        log_health=health,
        assumptions=table.assumptions,
        host_offset=offsets[min(offsets)] if offsets else None,
        analysis=analysis,
        outcomes=run_rules(analysis, rules),
    )
