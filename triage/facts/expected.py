"""Errors a healthy run logs anyway: the table in `expected.toml`, and when one of its entries applies.

Start-up noise (an entry without `spec`) is expected wherever it appears. An error a spec provokes on
purpose (an entry with `spec`) is expected only while no failed spec could have caused it: a record
logged while a failed spec was running is a fault like any other, unless a passing spec the entry
names was running too.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path

import polars as pl

from triage.errors import ConfigError

_FIELDS = {"id", "kinds", "pattern", "detail", "why", "spec", "provoked_by"}
_REQUIRED = ("id", "kinds", "pattern", "why")
# Test-log times have whole seconds in places and container clocks drift a little: a record this
# close to a spec's first or last line counts as inside it.
SLACK = timedelta(seconds=1)
PASSED = "passed"


@dataclass(frozen=True)
class Expected:
    """One entry of the table (see `expected.toml` for what each field means).

    Attributes:
        id: its unique name.
        kinds: the source kinds it applies to.
        pattern: regular expression searched in the record's message.
        why: why it is expected rather than a fault.
        detail: regular expression that must also be in the record's line as logged, or None.
        spec: regular expression on the names of the specs that provoke it; None for start-up noise.
        provoked_by: the provoking specs in words, or None.
    """

    id: str
    kinds: tuple[str, ...]
    pattern: str
    why: str
    detail: str | None = None
    spec: str | None = None
    provoked_by: str | None = None

    @property
    def provoked(self) -> bool:
        """True for an error specs provoke on purpose, False for start-up noise."""
        return self.spec is not None

    def says(self, message: str, text: str | None = None) -> bool:
        """Whether a record's message (and, when the entry has `detail`, its line) match.

        Args:
            message: the record's message.
            text: the record's line as logged; needed only when the entry has `detail`.

        Returns:
            True when the entry describes the record.
        """
        if not re.search(self.pattern, message):
            return False
        return self.detail is None or (text is not None and re.search(self.detail, text) is not None)


def load(path: Path | None = None) -> tuple[Expected, ...]:
    """Read the table of expected errors.

    Args:
        path: a TOML file with `[[expected]]` entries; None for the one shipped with triage.

    Returns:
        The entries, in file order.

    Raises:
        ConfigError: the file is not valid TOML, or an entry lacks a field, has an unknown one, or
            holds an invalid regular expression.
    """
    where = str(path) if path else "triage/expected.toml"
    try:
        text = (
            path.read_text("utf-8")
            if path
            else resources.files("triage").joinpath("expected.toml").read_text()
        )
        table = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    entries = table.get("expected", [])
    out = [_entry(where, n, item) for n, item in enumerate(entries, 1)]
    ids = [e.id for e in out]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{where}: entry ids must be unique")
    return tuple(out)


def _entry(where: str, number: int, item: Mapping[str, object]) -> Expected:
    label = f"{where}: entry {number}"
    unknown = sorted(set(item) - _FIELDS)
    missing = [key for key in _REQUIRED if key not in item]
    if unknown or missing:
        raise ConfigError(f"{label}: unknown {unknown} or missing {missing} fields")
    values = {key: item.get(key) for key in _FIELDS}
    kinds = values["kinds"]
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise ConfigError(f"{label}: kinds must be a list of source kinds")
    strings = {key: value for key, value in values.items() if key != "kinds"}
    if any(value is not None and not isinstance(value, str) for value in strings.values()):
        raise ConfigError(f"{label}: every field but kinds is text")
    for key in ("pattern", "detail", "spec"):
        try:
            re.compile(str(strings[key] or ""))
        except re.error as exc:
            raise ConfigError(f"{label}: {key} is not a regular expression: {exc}") from None
    return Expected(
        id=str(strings["id"]),
        kinds=tuple(kinds),
        pattern=str(strings["pattern"]),
        why=str(strings["why"]),
        detail=_text(strings["detail"]),
        spec=_text(strings["spec"]),
        provoked_by=_text(strings["provoked_by"]),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@cache
def shipped() -> tuple[Expected, ...]:
    """The table shipped with triage, read once, when first needed (so a broken edit is a ConfigError).

    Returns:
        Its entries, in file order.
    """
    return load()


def for_kinds(*kinds: str) -> tuple[Expected, ...]:
    """The shipped entries that apply to any of the given source kinds, in table order."""
    return tuple(e for e in shipped() if set(e.kinds) & set(kinds))


def matching_messages(messages: pl.Series, entry: Expected) -> pl.Series:
    """The messages (unique, as text) that an entry's pattern finds something in.

    Args:
        messages: distinct messages.
        entry: the entry.

    Returns:
        Those messages that match.
    """
    return messages.filter(messages.str.contains(entry.pattern).fill_null(False))


@dataclass(frozen=True)
class SpecWindow:
    """When one spec block of a test log ran, from its first to its last timed line.

    Attributes:
        file: the test log.
        spec_index: the block.
        spec: the spec's name.
        state: its end state as the header printed it (passed, failed, interrupted, ...).
        start: its first timed line (UTC).
        end: its last timed line (UTC).
    """

    file: str
    spec_index: int
    spec: str
    state: str
    start: datetime
    end: datetime

    @property
    def passed(self) -> bool:
        """True when the spec passed."""
        return self.state == PASSED

    def holds(self, at: datetime) -> bool:
        """Whether an instant falls within the block's time, give or take SLACK."""
        return self.start - SLACK <= at <= self.end + SLACK


def spec_windows(events: pl.DataFrame, states: Mapping[tuple[str, int], str]) -> tuple[SpecWindow, ...]:
    """Each spec block's time span and end state.

    Args:
        events: the event table.
        states: (file, spec_index) -> end state, from the blocks' headers.

    Returns:
        One window per block with a state and a timed line, in file and block order.
    """
    spans = (
        events.lazy()
        .filter(
            (pl.col("service") == "test-run")
            & pl.col("spec_index").is_not_null()
            & pl.col("ts").is_not_null()
        )
        .group_by("file", "spec_index")
        .agg(
            start=pl.col("ts").min(),
            end=pl.col("ts").max(),
            spec=pl.col("spec").cast(pl.String).drop_nulls().first(),
        )
        .sort("file", "spec_index")
        .collect()
    )
    return tuple(
        SpecWindow(str(f), int(i), str(spec or f"spec block {i}"), states[(str(f), int(i))], start, end)
        for f, i, start, end, spec in spans.select("file", "spec_index", "start", "end", "spec").iter_rows()
        if (str(f), int(i)) in states
    )


@dataclass(frozen=True)
class Verdict:
    """Whether a record an entry describes is expected here, and the spec that decided it.

    Attributes:
        entry: the entry.
        expected: True when it is expected.
        spec: the passing spec that provoked it, or the failed spec it fell in; None when none shows.
    """

    entry: Expected
    expected: bool
    spec: SpecWindow | None


def judge(
    entry: Expected,
    at: datetime | None,
    windows: Sequence[SpecWindow],
    block: tuple[str, int] | None = None,
) -> Verdict:
    """Decide whether a record an entry describes is expected where it was logged.

    Args:
        entry: the entry whose pattern matched the record.
        at: when the record was logged (UTC), None when unknown.
        windows: the run's spec windows.
        block: (test log, spec_index) of the spec block the record was printed in, when it was.

    Returns:
        The verdict: start-up noise is always expected; a provoked error is expected unless a failed
        spec was running when it was logged (or printed it) and no passing spec that provokes it was.
    """
    if not entry.provoked:
        return Verdict(entry, True, None)
    own = [w for w in windows if (w.file, w.spec_index) == block]
    if own:  # printed inside a spec block: that spec's outcome decides
        return Verdict(entry, own[0].passed, own[0])
    running = [w for w in windows if at is not None and w.holds(at)]
    names = re.compile(entry.spec or "")
    provoking = [w for w in running if w.passed and names.search(w.spec)]
    if provoking:
        return Verdict(entry, True, provoking[0])
    failed = [w for w in running if not w.passed]
    if failed:
        return Verdict(entry, False, failed[0])
    return Verdict(entry, True, None)


def first_match(entries: Iterable[Expected], message: str, text: str | None = None) -> Expected | None:
    """The first entry that describes a record, None when none does."""
    return next((e for e in entries if e.says(message, text)), None)
