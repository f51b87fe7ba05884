"""Building the event table: every file's parsed records made one normalized table.

This is the one place that decides how the table is held: the records of every file end to end in
one frame, their `attrs` in one compressed store beside it (`table.attrs`), their texts left on disk
(`table.texts`). A change in how the table is stored or read starts here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import polars as pl

from triage.table.attrs import ID, Attrs
from triage.table.normalize import default_steps, format_offset, normalize
from triage.table.schema import TABLE_SCHEMA, conform, empty_events


class Parsed(Protocol):
    """What the table needs of one file's parse result (`parsers.ParseResult`)."""

    @property
    def events(self) -> pl.DataFrame: ...

    @property
    def facts(self) -> dict[str, object]: ...

    @property
    def attrs(self) -> Attrs | None: ...


@dataclass(frozen=True)
class EventTable:
    """The normalized event table and what was assumed to build it.

    Attributes:
        events: every record, in file and line order (TABLE_SCHEMA).
        attrs: the records' `attrs`, by the `ID` column.
        offsets: the test host's UTC offset in seconds, per file whose zone-less times it moved.
        assumptions: what was assumed rather than read, in words.
    """

    events: pl.DataFrame
    attrs: Attrs
    offsets: dict[str, int]
    assumptions: tuple[str, ...]

    @property
    def host_offset(self) -> int | None:
        """The test host's UTC offset in seconds (of the first such file by name), or None."""
        return self.offsets[min(self.offsets)] if self.offsets else None


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


def _offsets_and_assumptions(parsed: Sequence[tuple[str, Parsed]]) -> tuple[dict[str, int], list[str]]:
    offsets: dict[str, int] = {}
    assumptions: list[str] = []
    for name, result in parsed:
        if not result.events["ts_assumed"].any():
            continue
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


def build_table(parsed: Sequence[tuple[str, Parsed]]) -> EventTable:
    """One table of every file's records, in file order, so normalization need not sort it.

    Args:
        parsed: (file name, parse result) of every file that was parsed, in source order.

    Returns:
        The normalized table.
    """
    named = sorted(parsed, key=lambda pair: pair[0])
    frames, stores, ids = [], [], 0
    for _, result in named:  # each file's attrs ids start at 0: they follow on from the files before
        frames.append(conform(result.events.with_columns(pl.col(ID) + ids), TABLE_SCHEMA))
        stores.append((result.attrs or Attrs()).shifted(ids))
        ids += result.events.height
    offsets, assumptions = _offsets_and_assumptions(parsed)
    # No copy: every column of every piece is one materialized chunk (ingest), so all columns are cut
    # at the same rows and a step that adds a column (the host offset) copies only that column.
    events = pl.concat(frames, rechunk=False) if frames else empty_events(TABLE_SCHEMA)
    return EventTable(
        events=normalize(events, default_steps(offsets)),
        attrs=Attrs.join(stores),
        offsets=offsets,
        assumptions=tuple(assumptions),
    )
