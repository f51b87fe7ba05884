"""How the report words things: Markdown escaping, code spans, times, locations, quotes, rule fixes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import polars as pl

from triage.rules import get_rule
from triage.rules.base import parse_doc
from triage.rules.wording import time_of_day

MAX_QUOTE = 240
MAX_EVIDENCE = 8  # lines quoted per finding; the rest are counted
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#"})


def md_escape(value: object) -> str:
    """Escape text for Markdown prose and table cells (one line, no markup)."""
    return " ".join(str(value).split()).translate(_MD_SPECIAL)


def md_code(value: object) -> str:
    """Wrap text in a code span that survives backticks inside it and table cells."""
    text = " ".join(str(value).split()).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def short_location(location: str | None) -> str:
    """A spec location relative to the repository: `…/kubernaut/test/x_test.go:12` -> `test/x_test.go:12`."""
    if not location:
        return "unknown"
    match = re.search(r"(?:^|/)((?:test|pkg|internal|cmd)/.*)$", location)
    return match.group(1) if match else location


def tool_version() -> str:
    """The installed version of triage."""
    from importlib import metadata

    try:
        return metadata.version("triage")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def fmt_time(value: datetime | None, precision: str | None) -> str:
    """UTC time with the precision the source printed, for a table cell: `15:25:09` or `15:25:09.481`."""
    return time_of_day(value, precision or "s")


def fix_of(rule_id: str) -> str:
    """A rule's `How to fix` section, as the Markdown its docs hold."""
    rule = get_rule(rule_id)
    if rule is None:
        return ""
    try:
        return parse_doc(rule.doc).fix
    except ValueError:
        return ""


def first_step(fix: str) -> str:
    """The first item or sentence of a `How to fix` section, on one line."""
    first = fix.strip().split("\n\n")[0]
    items = re.split(r"\n\s*[*-] ", "\n" + first)
    text = " ".join((items[1] if len(items) > 1 else first).split())
    # A sentence ends at a full stop followed by a capital, so "e.g. the" does not end one.
    sentence = re.match(r"(.+?[.!?])(?=\s+[A-Z`*]|$)", text)
    return sentence.group(1) if sentence else text


def spec_title(name: str) -> str:
    """A spec's own text, without its containers: the part after `[It] `."""
    return name.rsplit(" [It] ", 1)[-1]


_TOKEN_CHAR = re.compile(r"[\w+/=.~-]")
_TOKEN_TAIL = re.compile(r"[\w+/=.~-]+$")


def clip(text: str, limit: int = MAX_QUOTE) -> str:
    """Text cut to `limit` characters, marked with an ellipsis when cut.

    A run of token characters (letters, digits, `_+/=.~-`) the cut would halve is left out, so no
    part of a secret too short for the redaction to recognise (the first half of a key) is shown.
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - 2]
    if _TOKEN_CHAR.match(text[limit - 2]):
        cut = _TOKEN_TAIL.sub("", cut)
    return cut.rstrip() + " …"


def ids_md(ids: tuple[str, ...] | list[str]) -> str:
    """Correlation IDs as code spans, or "none seen"."""
    return ", ".join(md_code(i) for i in ids) or "none seen"


def latency_stats(values: pl.Series) -> tuple[float, float, float] | None:
    """p50, p95 and max of durations (nearest rank), None when none was logged.

    Args:
        values: durations, nulls ignored.

    Returns:
        (p50, p95, max), or None.
    """
    clean = values.drop_nulls().cast(pl.Float64)
    if clean.is_empty():
        return None
    p50, p95 = clean.quantile(0.5, "nearest"), clean.quantile(0.95, "nearest")
    return float(p50 or 0.0), float(p95 or 0.0), float(clean.max() or 0.0)  # type: ignore[arg-type]


def quantiles(values: pl.Series) -> str:
    """p50, p95 and max of durations in milliseconds, as a phrase."""
    stats = latency_stats(values)
    if stats is None:
        return "no durations logged"
    p50, p95, top = stats
    return f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {top:.0f} ms"


def seen_words(info: Mapping[str, Any] | None) -> str:
    """How often a problem was seen across runs, in words; empty without history.

    Args:
        info: an entry of `history.seen_in`, or None.

    Returns:
        e.g. `Seen in 3 of the last 10 runs, first on 2026-01-14T10:25:12 (flaky).`
    """
    if not info:
        return ""
    seen, runs, first, label = info["seen"], info["runs"], info["first_seen"], info["label"]
    return f"Seen in {seen} of the last {runs} runs, first on {first} ({label})."
