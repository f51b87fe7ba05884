"""Find the sources of a bundle and recognise each by its content.

Only this module (with `triage.parsers.identity`, which reads file names) knows the must-gather layout:
`{service}-integration-{YYYYMMDD-HHMMSS}/` holding, per container, `{service}_{container}.log` and
`{service}_{container}_inspect.json` (`signalprocessing_signalprocessing_postgres_test.log`,
`notification_notification_postgres_1.log`, ...), and a Ginkgo test-run log beside or inside it. File
names are hints; the content decides the kind and who wrote the file. Entries that are not regular
files are listed in the bundle's notes with the reason, never read.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from triage.bundle.sources import Bundle, Recogniser, Source
from triage.errors import BundleError

MAX_FILES = 5000

RUN_DIR = re.compile(r"^(?P<service>[a-z][a-z0-9-]*?)-integration-(?P<date>\d{8})-(?P<time>\d{6})$")


def _not_regular(path: Path, real_root: Path) -> str | None:
    """Why an entry is not read as a file, or None for a regular file (or a directory)."""
    if path.is_symlink():
        target = Path(os.path.realpath(path))
        if not target.is_relative_to(real_root):
            return "a link leaving the bundle"
        if not target.exists():
            return "a link to nothing"
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return f"cannot be examined ({exc.strerror})"
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    for test, what in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device")):
        if test(mode):
            return what
    return "a device" if stat.S_ISBLK(mode) else "not a regular file"


def _walk(root: Path) -> tuple[list[Path], list[str]]:
    """Regular files below root in name order, and a note per entry skipped for not being one.

    Hidden entries are left out silently; FIFOs, sockets, devices, links leaving root and broken links
    are named with the reason, never read (a FIFO would block the run).
    """
    real_root = root.resolve()
    files, skipped = [], []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        reason = _not_regular(path, real_root)
        if reason is not None:
            skipped.append(f"skipped {printable_name(rel.as_posix())}: {reason}, not a regular file")
        elif not path.is_dir():
            files.append(path)
    return files, skipped


def printable_name(name: str) -> str:
    """A file name as valid UTF-8: undecodable bytes (kept by Python as surrogates) become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _run_metadata(root: Path, files: Sequence[Path]) -> tuple[str | None, str | None, str | None, list[str]]:
    """Service, run directory and collection time from the run directory's name."""
    dirs = {root, *(parent for f in files for parent in f.parents if parent.is_relative_to(root))}
    runs = sorted((m for d in dirs if (m := RUN_DIR.match(d.name))), key=lambda m: m.string)
    if not runs:
        return None, None, None, []
    notes = []
    if len(runs) > 1:
        names = ", ".join(m.string for m in runs)
        notes.append(f"several run directories ({names}); metadata is taken from the newest")
    match = max(runs, key=lambda m: m["date"] + m["time"])
    date, time = match["date"], match["time"]
    collected = f"{date[:4]}-{date[4:6]}-{date[6:]}T{time[:2]}:{time[2:4]}:{time[4:]}"
    return match["service"], match.string, collected, notes


def _fingerprint(path: Path) -> tuple[int, str]:
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return path.stat().st_size, digest.hexdigest()


def mark_duplicates(sources: Sequence[Source]) -> list[Source]:
    """Mark files whose bytes equal an earlier file's: parsing them again would double every finding.

    Args:
        sources: in name order.

    Returns:
        The sources, later copies with kind "duplicate".
    """
    by_size: dict[int, list[int]] = {}
    for i, source in enumerate(sources):
        if source.kind not in ("empty", "binary", "unknown") and source.path.is_file():
            by_size.setdefault(source.path.stat().st_size, []).append(i)
    out = list(sources)
    for indices in by_size.values():
        if len(indices) < 2:
            continue
        first: dict[tuple[int, str], Source] = {}
        for i in indices:
            key = _fingerprint(sources[i].path)
            if key in first:
                out[i] = replace(
                    sources[i], kind="duplicate", why=f"identical to {first[key].name}; not parsed again"
                )
            else:
                first[key] = sources[i]
    return out


def discover(path: Path, test_logs: Sequence[Path] = (), *, recogniser: Recogniser) -> Bundle:
    """Find and recognise every source of a bundle.

    Args:
        path: a must-gather run directory, a directory holding one (plus the test log), or a single log
            file.
        test_logs: Ginkgo test-run logs kept elsewhere.
        recogniser: what tells each file's kind and writer (`parsers.recognise.RECOGNISER`).

    Returns:
        The bundle, sources in name order (test logs given separately last).

    Raises:
        BundleError: the path does not exist or holds no files.
    """
    if not path.exists():
        raise BundleError(f"{path}: no such file or directory")
    notes: list[str] = []
    if path.is_file():
        root, files = path.parent, [path]
    elif path.is_dir():
        root = path
        files, notes = _walk(path)
    else:
        raise BundleError(f"{path}: not a regular file or directory")
    if len(files) > MAX_FILES:
        notes.append(f"{len(files)} files found; only the first {MAX_FILES} in name order were read")
        files = files[:MAX_FILES]
    under_test = _run_metadata(root, files)[0]  # container names drop the service's prefix
    sources = [recogniser.source(f, f.relative_to(root).as_posix(), under_test) for f in files]
    for log in test_logs:
        if not log.is_file():
            what = "is not a regular file" if log.exists() else "not found"
            raise BundleError(f"{log}: test log {what}")
        resolved = log.resolve()
        if any(s.path.resolve() == resolved for s in sources):
            continue
        inside = resolved.is_relative_to(root.resolve())
        name = resolved.relative_to(root.resolve()).as_posix() if inside else log.name
        sources.append(recogniser.source(log, name, None))
    if not sources:
        raise BundleError(f"{path}: no files to analyse")
    sources = recogniser.same_runs(mark_duplicates(sources))
    service, run_dir, collected, run_notes = _run_metadata(root, files)
    return Bundle(
        root=root,
        display_path=str(path),
        service=service,
        run_dir=run_dir,
        collected_at=collected,
        sources=tuple(sources),
        notes=tuple(notes + run_notes),
    )
