"""What a bundle holds: sources found on disk, before any parsing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Source:
    """One input file and what it was recognised as.

    Attributes:
        path: where the file is on disk.
        name: bundle-relative name (or the bare file name of a test log outside the bundle);
            evidence cites it as name:line.
        kind: a SOURCE_KINDS value, decided from the content.
        service: container the file belongs to (datastorage, postgres, redis), "test-run"
            for a Ginkgo log, None when unknown.
        why: one phrase saying how the kind was recognised, shown in the report.
    """

    path: Path
    name: str
    kind: str
    service: str | None
    why: str


@dataclass(frozen=True)
class Bundle:
    """A discovered bundle.

    Attributes:
        root: the directory that was analysed (after unpacking, for archives).
        display_path: the path as the user gave it.
        service: the service under test, from the run directory name.
        run_dir: the must-gather run directory's name, e.g. signalprocessing-integration-20260114-102512.
        collected_at: collection time from the run directory name, ISO 8601 without zone (test host
            local time).
        sources: every file found, in name order.
        notes: anything odd about the layout, for the report's coverage section.
    """

    root: Path
    display_path: str
    service: str | None
    run_dir: str | None
    collected_at: str | None
    sources: tuple[Source, ...]
    notes: tuple[str, ...] = field(default=())
