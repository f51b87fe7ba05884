"""What `container-unhealthy` reads of the containers: their inspected state, their log records, and
what the table of expected errors (`triage/expected.toml`) says of an error record.

Only facts and wording live here; which of them is a finding, and how severe, is the rule's to say.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from triage.facts.analysis import Analysis
from triage.facts.containers import ContainerState, container_records
from triage.facts.expected import Expected, SpecWindow, Verdict, first_match, for_kinds, judge
from triage.rules.base import Evidence
from triage.rules.wording import UNKNOWN_TIME
from triage.table.exprs import with_attrs
from triage.table.vocabulary import DS_HTTP_REQUEST

BAD_LEVELS = ("error", "fatal", "panic")
_TIME = re.compile(r"T(\d\d:\d\d:\d\d)(\.\d{1,3})?")


@dataclass(frozen=True)
class ContainerLogs:
    """The container log records of a bundle, with what the rule classifies them as.

    Attributes:
        records: the records in table order, with the HTTP `status` of DataStorage's request records
            and `bad` (logged at error, fatal or panic).
        services: the services with at least one record.
    """

    records: pl.DataFrame
    services: frozenset[str]


def container_logs(analysis: Analysis) -> ContainerLogs:
    """The records of the bundle's container logs, each with its HTTP status and whether it is bad.

    Args:
        analysis: the analysed bundle.

    Returns:
        The records and the services that logged them.
    """
    logged = container_records(analysis.events)
    # Only HTTP request records carry a status: only their attrs are read.
    at = logged.select(pl.arg_where(pl.col("msg_key") == DS_HTTP_REQUEST)).to_series()
    picked = logged.select(pl.col("^attrs(_id)?$").gather(at))
    status = with_attrs(picked, [], {"status": pl.Int64()}, analysis.attrs).get_column("status")
    unset = pl.repeat(None, logged.height, dtype=pl.Int64, eager=True)
    records = logged.with_columns(  # in table order: by file, then line
        unset.scatter(at, status).alias("status"), bad=pl.col("level").is_in(BAD_LEVELS).fill_null(False)
    )
    services = frozenset(s for s in records["service"].unique().to_list() if s is not None)
    return ContainerLogs(records, services)


def inspect_clock(iso: str | None) -> str:
    """`2026-01-22T22:19:15.451437619Z` -> `22:19:15.451 UTC` (at most milliseconds), as `clock` words it.

    Args:
        iso: a time as `podman inspect` prints it (`StartedAt`, `FinishedAt`), or None.

    Returns:
        The time of day in UTC, or the wording of an unknown time.
    """
    found = _TIME.search(iso or "")
    return f"{found.group(1)}{found.group(2) or ''} UTC" if found else UNKNOWN_TIME


def not_running(c: ContainerState) -> bool:
    """Whether the inspected container was not running.

    Args:
        c: the container's inspected state.

    Returns:
        True when its state says it was not running, or names a status other than `running`.
    """
    return c.running is False or (c.status is not None and c.status != "running")


def container_label(container: ContainerState) -> str:
    """How a finding names a container: its name, else its service, else its inspect file.

    Args:
        container: the container's inspected state.

    Returns:
        The name.
    """
    return container.name or container.service or container.file


def state_evidence(c: ContainerState, attrs: str | None) -> list[Evidence]:
    """The inspect lines that show why a container is not running: its Status, and ExitCode and
    OOMKilled when they say something.

    Args:
        c: the container's inspected state.
        attrs: the inspect record's `attrs` JSON (its `state_lines`).

    Returns:
        The lines, in file order.
    """
    cited = json.loads(attrs or "{}").get("state_lines") or []
    telling = (
        {"Status"} | ({"ExitCode"} if c.exit_code else set()) | ({"OOMKilled"} if c.oom_killed else set())
    )
    return [
        Evidence(c.file, int(item["line"]), str(item["text"]))
        for item in sorted(cited, key=lambda item: int(item["line"]))
        if item.get("key") in telling
    ]


def provoked(analysis: Analysis, rows: pl.DataFrame, windows: Sequence[SpecWindow]) -> list[Verdict | None]:
    """For each error record, the verdict of the table entry (provoked on purpose) that describes it.

    Args:
        analysis: the analysed bundle (its lines are read again for an entry's `detail`).
        rows: error records of one log.
        windows: the specs' time windows, by which an entry's `spec` is judged.

    Returns:
        One verdict per row, None where no provoked entry describes it.
    """
    entries = [e for e in for_kinds(*rows["source_kind"].cast(pl.String).unique().to_list()) if e.provoked]
    messages = rows["message"].cast(pl.String).fill_null("")
    said = pl.Series([False] * rows.height)
    for entry in entries:  # most error records match no entry: only those that do are read further
        said = said | messages.str.contains(entry.pattern)
    out: list[Verdict | None] = [None] * rows.height
    for at in said.arg_true().to_list():
        row = rows.row(at, named=True)
        own = [e for e in entries if str(row["source_kind"]) in e.kinds]
        text = analysis.texts.text(str(row["file"]), int(row["line"])) if any(e.detail for e in own) else None
        found = first_match(own, str(row["message"] or ""), text)
        out[at] = None if found is None else judge(found, row["ts"], windows)
    return out


def spec_names(specs: Sequence[str]) -> str:
    """Specs named in a summary: the first two, a long name cut from the left, and how many more.

    Args:
        specs: the specs' full names.

    Returns:
        E.g. "specs `a`, `b` and 3 more".
    """
    shown = [f"`{s if len(s) <= 90 else '…' + s[-89:]}`" for s in specs[:2]]
    more = f" and {len(specs) - 2} more" if len(specs) > 2 else ""
    return f"spec{'s' if len(specs) > 1 else ''} {', '.join(shown)}{more}"


def matched_text(entry: Expected, row: dict[str, Any]) -> str:
    """The part of the record's message the entry's pattern found.

    Args:
        entry: an entry of the expected-error table.
        row: the record's row (its `message`).

    Returns:
        The matched text, or the entry's id when the pattern finds nothing.
    """
    said = re.search(entry.pattern, str(row["message"] or ""))
    return said.group(0) if said else entry.id
