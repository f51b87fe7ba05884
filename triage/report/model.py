"""The report: everything the analysis found, as every output format reads it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import polars as pl

from triage.bundle.sources import Bundle
from triage.facts.analysis import Analysis
from triage.facts.containers import ContainerState, LogHealth
from triage.facts.testrun import TestRun
from triage.parsers.ingest import SourceAccount
from triage.report.verdict import SpecVerdict, judge
from triage.rules import RuleOutcome
from triage.rules.base import Finding


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
        """Per failed or interrupted spec, its cause (a finding) or why none is known; decided once.

        Every output format (Markdown, JSON) reads these, so they all give each spec the same cause.
        """
        return judge(self)
