"""What a bundle holds: sources found on disk, before any parsing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
        service: the component that wrote the file, decided by its content (`triage.parsers.identity`):
            "datastorage", "postgres", "redis", "test-run" for the test process's output (Ginkgo or
            GinkgoWriter), "controller", or None (another container, or nothing shows whose it is).
        why: one phrase saying how the kind (and, where content and name disagree, the component) was
            recognised, shown in the report.
        container: the container the file is named after (`{service}_{container}.log`), None for the
            test log or a name that follows no pattern.
    """

    path: Path
    name: str
    kind: str
    service: str | None
    why: str
    container: str | None = None


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


@dataclass(frozen=True)
class Recogniser:
    """What tells the files of a bundle apart by their content (the parsers' `recognise.RECOGNISER`).

    Attributes:
        source: a file's Source from its path, bundle name and the service under test.
        same_runs: the sources with all but one output of each test run marked "duplicate".
    """

    source: Callable[[Path, str, str | None], Source]
    same_runs: Callable[[Sequence[Source]], list[Source]]
