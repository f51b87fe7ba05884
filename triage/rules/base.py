"""What every rule is made of: severity, evidence, findings, and the rule itself."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

from triage.table.rows import as_int

if TYPE_CHECKING:
    from triage.facts.analysis import Analysis


class Severity(IntEnum):
    """How much a finding matters; ordered, so `severity >= Severity.HIGH` reads naturally."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        """Lower-case name, as printed."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """`"high"` -> Severity.HIGH.

        Raises:
            ValueError: not a severity name.
        """
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r}") from None


@dataclass(frozen=True)
class Evidence:
    """A quoted input line: `file:line` and the text found there (ANSI codes removed).

    A rule may cite a line without its text (`text` None); `run_rules` reads the texts of all cited
    lines once the rules are done, so every finding it returns quotes its lines whole.
    """

    file: str
    line: int
    text: str | None = None

    @property
    def where(self) -> str:
        """`file:line`."""
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Finding:
    """One thing a rule found.

    Attributes:
        rule: the rule's id.
        severity: how much it matters here (a rule may lower or raise its default).
        summary: one or two sentences, worded from the evidence: observed facts stated as such,
            inferences marked as inferred.
        correlation_id: the audit correlation ID it concerns, None for store- or container-level.
        evidence: the lines that show it, in time order.
    """

    rule: str
    severity: Severity
    summary: str
    correlation_id: str | None
    evidence: tuple[Evidence, ...]

    def sort_key(self) -> tuple[int, str, str, str, int]:
        """Most severe first, then rule, correlation ID, first evidence."""
        first = self.evidence[0] if self.evidence else Evidence("", 0, "")
        return (-self.severity, self.rule, self.correlation_id or "", first.file, first.line)


@dataclass(frozen=True)
class RuleDoc:
    """A rule's user documentation, read from its module docstring."""

    what: str
    why: str
    fix: str
    options: str | None


_HEADING = re.compile(r"^## (.+)$", re.MULTILINE)
REQUIRED_HEADINGS = ("What it detects", "Why it matters", "How to fix")


def parse_doc(docstring: str) -> RuleDoc:
    """Split a rule module's docstring into its fixed sections.

    Args:
        docstring: text with `## What it detects`, `## Why it matters`, `## How to fix` and
            optionally `## Options`.

    Returns:
        The sections.

    Raises:
        ValueError: a required heading is missing.
    """
    parts = _HEADING.split(docstring)
    sections = {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    missing = [h for h in REQUIRED_HEADINGS if h not in sections]
    if missing:
        raise ValueError(f"rule docs lack {', '.join(missing)}")
    return RuleDoc(
        what=sections["What it detects"],
        why=sections["Why it matters"],
        fix=sections["How to fix"],
        options=sections.get("Options"),
    )


Check = Callable[["Analysis"], Iterator[Finding]]


@dataclass(frozen=True)
class Rule:
    """A named check.

    Attributes:
        id: kebab-case, stable: never renamed or reused.
        title: a short phrase naming the symptom.
        severity: the default severity of its findings.
        requires: source kinds it needs; when none is present the rule is reported as skipped.
        check: the function that finds.
        doc: the module docstring (What it detects / Why it matters / How to fix).
    """

    id: str
    title: str
    severity: Severity
    requires: tuple[str, ...]
    check: Check
    doc: str


def quote(file: object, line: object, raw: object = None) -> Evidence:
    """Evidence from an event row's `file` and `line`, and its text `raw` when at hand.

    The text is quoted with its indentation trimmed (still a substring of the line); without `raw` the
    line is read when the rules are done.
    """
    return Evidence(str(file), as_int(line), None if raw is None else str(raw).strip())
