"""Zap production json lines."""

from __future__ import annotations

import polars as pl

from triage.parsers import ParseResult
from triage.schema import empty_events
from triage.sources import Source


def parse(lines: pl.DataFrame, source: Source) -> ParseResult:
    """Parse zap production JSON lines.."""
    return ParseResult(empty_events(), lines.select("line", "raw"), {})
