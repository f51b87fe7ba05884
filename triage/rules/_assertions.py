"""Reading a failed count: Gomega's assertion (`Expected <int>: N to equal <int>: M`, `to have length`,
a timed-out `Eventually` awaiting any event, a one-shot `BeTrue()`) tied to the query print that produced
the count."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from triage.facts.analysis import Analysis
from triage.facts.audit_pipeline import UNFRAMED
from triage.rules._queries import query_prints
from triage.rules.base import Evidence, quote
from triage.table.vocabulary import FAILED_STATES

COUNT_MISMATCH = re.compile(r"Expected\s*\n\s*<int>: (-?\d+)\s*\n\s*to equal\s*\n\s*<int>: (-?\d+)")
# `Eventually(func() bool { return len(events) > 0 }).Should(BeTrue())`: at least one awaited.
ANY_FOUND = re.compile(
    r"Timed out after [^\n]*\n(?:.*\n)*?\s*Expected\s*\n\s*<bool>: false\s*\n\s*to be true"
)
# `Expect(found).To(BeTrue(), "MUST emit error event")` evaluated once, on the last query's answer.
ONE_SHOT_TRUE = re.compile(r"Expected\s*\n\s*<bool>: false\s*\n\s*to be true")
HAVE_LENGTH = re.compile(
    r"Expected\s*\n\s*<[^>\n]*\blen:(\d+)[^>\n]*>:.*?\n\s*to have length (\d+)", re.DOTALL
)

EVENT_TYPE = re.compile(r"\b[a-z][a-z_]*(?:\.[a-z][a-z_]*){2,3}\b")  # an audit event type


@dataclass(frozen=True)
class Mismatch:
    """A failed exact-count assertion and the query print that produced the count.

    Attributes:
        failure: the failure record (file, line, spec_index, attrs, n_lines).
        found: the count the spec got.
        expected: the count it wanted.
        query: the query print whose count matches `found`, None when no print matched.
        last: the last query print before the failure in the spec's timeline, None when none.
    """

    failure: dict[str, Any]
    found: int
    expected: int
    query: dict[str, Any] | None
    last: dict[str, Any] | None = None
    at_least: bool = False


def read_mismatches(analysis: Analysis) -> list[Mismatch]:
    """Every failed count of the run: its assertion, the numbers and the query print that gave them.

    Args:
        analysis: the analysed bundle.

    Returns:
        The mismatches, in file order.
    """
    events = analysis.events
    # Cheap columns first: a predicate is computed for every row it is given, and few are failures.
    failures = (
        analysis.attrs.attach(
            events.filter((pl.col("source_kind") == "ginkgo") & (pl.col("record") == "failure"))
        )
        .with_columns(pl.col("spec_index").fill_null(UNFRAMED))  # an assertion printed outside any spec
        .filter(
            (pl.col("attrs").str.json_path_match("$.marker") == "false")
            & pl.col("attrs").str.json_path_match("$.state").is_in(list(FAILED_STATES))
            & pl.col("attrs").str.contains("to equal|to have length|to be true")
        )
        .sort("file", "line")
    )
    if failures.is_empty():
        return []
    queries = query_prints(analysis).filter(pl.col("count").is_not_null())
    found: list[Mismatch] = []
    for row in failures.iter_rows(named=True):
        text = str(json.loads(row["attrs"]).get("text") or "")
        before = queries.filter(
            (pl.col("file") == row["file"])
            & (pl.col("spec_index") == row["spec_index"])
            & (pl.col("line") < row["line"])
        )
        match = COUNT_MISMATCH.search(text) or HAVE_LENGTH.search(text)
        if match is not None:
            got, want = int(match.group(1)), int(match.group(2))
        elif (ANY_FOUND.search(text) or ("Timed out" not in text and ONE_SHOT_TRUE.search(text))) and (
            awaited_none(before)
        ):
            got, want = 0, 1  # it waited for (or checked once) any event and its last query found none
        elif (
            ANY_FOUND.search(text)
            and names_type(text)
            and before.get_column("correlation_id").is_null().all()
        ):
            got, want = 0, 1  # it waited in vain for the type its message names, its queries printing nothing
        else:
            continue
        prints = before.filter(pl.col("count") == got)
        query = prints.row(-1, named=True) if prints.height else None
        last = before.filter(pl.col("correlation_id").is_not_null())
        found.append(
            Mismatch(row, got, want, query, last.row(-1, named=True) if last.height else None, match is None)
        )
    return found


def names_type(text: str) -> bool:
    """True when a failure's own message (before Gomega's `Expected`) names an audit event type."""
    return EVENT_TYPE.search(text.split("Expected", 1)[0]) is not None


def awaited_none(prints: pl.DataFrame) -> bool:
    """True when the spec printed queries for one correlation ID and the last of them found no event."""
    named = prints.filter(pl.col("correlation_id").is_not_null())
    return named.height > 0 and named.get_column("correlation_id").n_unique() == 1 and named["count"][-1] == 0


def failure_lines(failure: dict[str, Any]) -> list[Evidence]:
    """The failure record's lines that carry the message and the two numbers."""
    text = str(json.loads(failure["attrs"]).get("text") or "")
    parts = text.split("\n")
    first = quote(failure["file"], failure["line"])
    if len(parts) != int(failure["n_lines"]):  # cannot map text lines to file lines safely
        return [first]
    numbers = ("<int>:", "<bool>:", "to have length", "to be true")
    wanted = [
        i for i, part in enumerate(parts) if i > 0 and (part.strip().startswith(numbers) or " len:" in part)
    ]
    return [first, *(quote(failure["file"], failure["line"] + i, parts[i]) for i in wanted)]
