"""The library entry point: `analyze(path) -> Report`."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from triage.bundle.archive import Limits, format_size, unpack
from triage.bundle.discovery import discover
from triage.bundle.progress import Progress
from triage.bundle.sources import Bundle
from triage.errors import BundleError, ConfigError
from triage.facts.analysis import build_analysis
from triage.facts.containers import log_health, summarize_containers
from triage.facts.testrun import summarize_test_runs
from triage.parsers import EVENT_KINDS
from triage.parsers.ginkgo_report import captured_line
from triage.parsers.ingest import SourceAccount, ingest
from triage.parsers.recognise import RECOGNISER
from triage.report.model import Report
from triage.rules import run_rules, select_rules
from triage.rules.base import Rule
from triage.table.build import EventTable, build_table
from triage.table.texts import LineTexts

DEFAULT_LIMITS = Limits()

__all__ = ["DEFAULT_LIMITS", "Report", "analyze"]


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
        found = discover(unpacked.path, [u.path for u in logs], recogniser=RECOGNISER)
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
        accounts = tuple(account for account, _ in parsed)
        table = build_table([(a.source.name, r) for a, r in parsed if r is not None])
        read = frozenset(EVENT_KINDS.get(a.source.kind, a.source.kind) for a, r in parsed if r is not None)
        del parsed  # what the table does not share (lines not understood) goes before the analysis
        if progress is not None:
            progress.stage("analysing")
        return _report(bundle, accounts, table, read, rules)


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


def _report(
    bundle: Bundle,
    accounts: tuple[SourceAccount, ...],
    table: EventTable,
    kinds: frozenset[str],
    rules: Sequence[Rule],
) -> Report:
    """Summarize, reconstruct and check the table."""
    events, attrs = table.events, table.attrs
    tests = summarize_test_runs(events, attrs)
    containers = summarize_containers(events, attrs)
    health = log_health(events)
    texts = LineTexts(
        {a.source.name: (a.source.path, a.blocks) for a in accounts if a.blocks}, beyond=captured_line
    )
    analysis = build_analysis(events, tests, containers, health, kinds, texts, attrs, run_dir=bundle.run_dir)
    return Report(
        bundle=bundle,
        accounts=accounts,
        events=events,
        tests=tests,
        containers=containers,
        log_health=health,
        assumptions=table.assumptions,
        host_offset=table.host_offset,
        analysis=analysis,
        outcomes=run_rules(analysis, rules),
    )
