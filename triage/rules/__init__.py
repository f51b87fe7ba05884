"""The rule registry and the runner.

Every rule is a module here whose name is its id with dashes as underscores; ALL_RULES lists them
explicitly, one line each. A test checks that every module is registered and documented.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from triage.facts.analysis import Analysis
from triage.rules import (
    clock_skew,
    container_unhealthy,
    dropped_events,
    flush_query_race,
    log_sampling_gap,
    slow_write,
    timer_stall,
    unexpected_event_count,
    unflushed_events,
    write_rate_gap,
)
from triage.rules._queries import (
    query_prints as query_prints,  # what the tests queried; the verdict reads it too
)
from triage.rules.base import Evidence, Finding, Rule, Severity

WORKERS = 2  # threads the rules run on

ALL_RULES: tuple[Rule, ...] = (
    flush_query_race.RULE,
    unflushed_events.RULE,
    write_rate_gap.RULE,
    dropped_events.RULE,
    unexpected_event_count.RULE,
    container_unhealthy.RULE,
    timer_stall.RULE,
    slow_write.RULE,
    log_sampling_gap.RULE,
    clock_skew.RULE,
)

__all__ = ["ALL_RULES", "Evidence", "Finding", "Rule", "RuleOutcome", "Severity", "get_rule", "run_rules"]


@dataclass(frozen=True)
class RuleOutcome:
    """What running one rule gave.

    Attributes:
        rule: the rule.
        status: "ran", "skipped" (a required source kind is absent) or "error" (the rule crashed).
        reason: why it was skipped or what the error was.
        findings: its findings, sorted.
    """

    rule: Rule
    status: str
    reason: str | None
    findings: tuple[Finding, ...]


def get_rule(rule_id: str) -> Rule | None:
    """The registered rule with this id, or None."""
    return next((r for r in ALL_RULES if r.id == rule_id), None)


def select_rules(select: Sequence[str] = (), ignore: Sequence[str] = ()) -> tuple[Rule, ...]:
    """The rules to run: all, or only `select`, minus `ignore`.

    Raises:
        ValueError: an id names no rule.
    """
    unknown = [i for i in (*select, *ignore) if get_rule(i) is None]
    if unknown:
        raise ValueError(f"unknown rule id(s): {', '.join(unknown)}; see `triage rules`")
    chosen = [r for r in ALL_RULES if not select or r.id in select]
    return tuple(r for r in chosen if r.id not in ignore)


def run_rules(analysis: Analysis, rules: Iterable[Rule] = ALL_RULES) -> tuple[RuleOutcome, ...]:
    """Run rules; a rule that needs an absent source is skipped, one that crashes becomes an error.

    Rules only read the analysis, so they run on WORKERS threads (polars releases the GIL while it
    works); the outcomes keep the order of `rules`.

    Args:
        analysis: what the rules read.
        rules: which rules to run.

    Returns:
        One outcome per rule, in registry order, every evidence line quoted with its text.
    """
    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(pool.map(lambda rule: _run(rule, analysis), rules))
    return _quoted(outcomes, analysis)


def _run(rule: Rule, analysis: Analysis) -> RuleOutcome:
    if rule.requires and not any(kind in analysis.kinds for kind in rule.requires):
        needs = " or ".join(rule.requires)
        return RuleOutcome(rule, "skipped", f"needs {needs} input", ())
    try:
        found = tuple(sorted(rule.check(analysis), key=Finding.sort_key))
    except Exception as exc:  # one rule's bug must not hide the other rules' findings
        return RuleOutcome(rule, "error", f"{type(exc).__name__}: {exc}", ())
    return RuleOutcome(rule, "ran", None, found)


def _quoted(outcomes: list[RuleOutcome], analysis: Analysis) -> tuple[RuleOutcome, ...]:
    """Fill in the text of every evidence line cited without it, reading the lines in file order."""
    cited = sorted(
        {(e.file, e.line) for o in outcomes for f in o.findings for e in f.evidence if e.text is None}
    )
    quoted = dict(zip(cited, analysis.texts.texts(cited), strict=True))

    def filled(e: Evidence) -> Evidence:
        return e if e.text is not None else replace(e, text=quoted[e.file, e.line].strip())

    return tuple(
        replace(o, findings=tuple(replace(f, evidence=tuple(map(filled, f.evidence))) for f in o.findings))
        for o in outcomes
    )
