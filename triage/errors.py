"""Errors the library raises; the command line turns them into one-line messages."""

from __future__ import annotations


class TriageError(Exception):
    """Base of every error triage raises on purpose."""


class BundleError(TriageError):
    """The input path is not a usable bundle (missing, unreadable, nothing to analyse)."""


class ConfigError(TriageError):
    """Options or a configuration file are invalid."""


class SchemaError(TriageError):
    """A frame does not satisfy the normalized event schema."""
