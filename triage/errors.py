"""Errors the library raises; the command line turns them into one-line messages."""

from __future__ import annotations


class TriageError(Exception):
    """Base of every error triage raises on purpose."""


class BundleError(TriageError):
    """The input path is not a usable bundle (missing, unreadable, nothing to analyse)."""


class ParseError(TriageError):
    """A source could not be parsed at all.

    Args:
        file: the source's bundle-relative name.
        line: 1-based line number, or None when the whole file is at fault.
        reason: what was wrong.
    """

    def __init__(self, file: str, line: int | None, reason: str) -> None:
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {reason}")
        self.file = file
        self.line = line
        self.reason = reason


class ConfigError(TriageError):
    """Options or a configuration file are invalid."""


class RuleError(TriageError):
    """A rule failed while checking; the other rules still run."""


class SchemaError(TriageError):
    """A frame does not satisfy the normalized event schema."""
