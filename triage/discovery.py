"""Find the sources of a bundle and recognise each by its content.

Only this module (with `triage.identity`, which reads file names) knows the must-gather layout:
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

from triage.errors import BundleError
from triage.identity import (
    CONTAINERS,
    TEST_RUN,
    container_name,
    inspect_identity,
    name_hint,
    zap_identity,
)
from triage.lines import ANSI_PATTERN
from triage.parsers.relay import peel_text
from triage.sources import Bundle, Source

SNIFF_BYTES = 64 * 1024
SNIFF_LINES = 400
MAX_FILES = 5000

RUN_DIR = re.compile(r"^(?P<service>[a-z][a-z0-9-]*?)-integration-(?P<date>\d{8})-(?P<time>\d{6})$")

# One line-shape per kind; a file's kind is the one most of its sampled lines match.
_ZAP_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)"
LINE_SIGNATURES: dict[str, re.Pattern[str]] = {
    "zap_json": re.compile(r'^\{.*"(?:level|ts|msg)":'),
    "zap_console": re.compile(
        rf"^{_ZAP_TIME}(?:\t| {{2,}})(?:DEBUG|INFO|WARN|ERROR|DPANIC|PANIC|FATAL|LEVEL\(-?\d+\))\b",
        re.IGNORECASE,
    ),
    "postgres": re.compile(
        r"^(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[\d+\] [A-Z0-9]+:  "
        r"|The files belonging to this database system |PostgreSQL init process complete"
        r"|initdb: |/usr/local/bin/docker-entrypoint\.sh: )"
    ),
    "redis": re.compile(
        r"^\d+:(?:[CMSX] \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} [*#.-] |signal-handler \(\d+\) )"
    ),
}
# Lines only Ginkgo prints. One of them outweighs any number of embedded zap lines.
GINKGO_MARKERS = re.compile(
    r"^(?:Running Suite: |Will run \d+ of \d+ specs|Running in parallel across \d+ processes"
    r"|Ran \d+ of \d+ Specs in |Random Seed: \d+|\s*(?:•|P|S) \[[A-Z]+|\s*• \[\d"
    r"|\s*STEP: .* @ \d\d/\d\d/\d\d \d\d:\d\d:\d\d|\s*(?:Timeline >>|<< Timeline)$"
    r"|\[(?:Synchronized|Report)?(?:Before|After)Suite\] "
    r"|\s*In \[[A-Za-z]+\] at: .* @ \d\d/\d\d/\d\d \d\d:\d\d:\d\d)"
)
# A Ginkgo JSON report (`--json-report`) is a list of suite reports, each with SuitePath and SpecReports.
GINKGO_REPORT_START = re.compile(r'^\[\s*\{\s*"')
# Ginkgo's JUnit report (`--junit-report`) gives its suite config as properties.
GINKGO_JUNIT = re.compile(r'<testsuite\s[^>]*>\s*<properties>\s*<property name="SuiteSucceeded"')
INSPECT_START = re.compile(r'^\s*[\[{]\s*(?:\{\s*)?"(?:Id|ID|Name|State|Config|Image)"\s*:')


def classify(head: bytes) -> tuple[str, str]:
    """Recognise a file's format from its first bytes.

    Args:
        head: up to SNIFF_BYTES from the start of the file.

    Returns:
        (kind, why): a SOURCE_KINDS value and a phrase saying what decided it.
    """
    if not head.strip():
        return "empty", "no content"
    if b"\x00" in head[:8192]:
        return "binary", "NUL bytes: not a text log"
    text = re.sub(ANSI_PATTERN, "", head.decode("utf-8", errors="replace"))
    opening = text.lstrip()[:200].replace("\n", " ")
    if GINKGO_REPORT_START.match(opening) and '"SuitePath"' in text and '"SpecReports"' in text:
        return "ginkgo_report", "Ginkgo JSON report: suite reports with SpecReports"
    if GINKGO_JUNIT.search(text) and opening.startswith("<"):
        return "ginkgo_junit", "Ginkgo JUnit report: test suites with Ginkgo's suite properties"
    if INSPECT_START.match(opening):
        return "podman_inspect", "JSON document with container fields"
    lines = [ln for ln in _sampled(text) if ln.strip()]
    ginkgo = sum(1 for ln in lines if GINKGO_MARKERS.match(ln))
    if ginkgo:
        return "ginkgo", f"{ginkgo} Ginkgo report line(s) in the first {len(lines)}"
    counts = {kind: sum(1 for ln in lines if sig.match(ln)) for kind, sig in LINE_SIGNATURES.items()}
    kind, hits = max(counts.items(), key=lambda item: item[1])
    if hits == 0:
        return "unknown", "no known log format in the first lines"
    if kind == "zap_console" and counts["zap_json"] == 0 and _is_ginkgo_stream(lines):
        return "ginkgo", "GinkgoWriter output"
    label = {
        "zap_json": "zap JSON records",
        "zap_console": "zap console records",
        "postgres": "PostgreSQL log lines",
        "redis": "Redis log lines",
    }[kind]
    return kind, f"{hits} of {len(lines)} sampled lines are {label}"


def _is_ginkgo_stream(lines: Sequence[str]) -> bool:
    # A test log whose head was cut off still shows Ginkgo's 2-space indented timeline lines.
    return sum(1 for ln in lines if ln.startswith("  ") and ln.strip().startswith("STEP:")) > 0


def _text(head: bytes) -> str:
    return re.sub(ANSI_PATTERN, "", head.decode("utf-8", errors="replace"))


def _sampled(text: str) -> list[str]:
    """The sampled lines as the container printed them (a relay's prefix and pasted commas removed).

    The last one may be cut where the head ends; a cut JSON record just does not decode.
    """
    return peel_text(text.splitlines()[:SNIFF_LINES])


def identify(name: str, kind: str, head: bytes) -> tuple[str, str | None, str]:
    """Which component wrote a file, from its content, with its name as a hint (`triage.identity`).

    Args:
        name: the file name.
        kind: its format, as `classify` recognised it.
        head: its first bytes.

    Returns:
        (kind, component, why): the kind to parse it as ("ginkgo" for zap lines the test process
        wrote), "datastorage", "postgres", "redis", "test-run", "controller" or None (another
        container, or not shown), and what decided it ("" when content and name agree).
    """
    hint = name_hint(name)
    if kind.startswith("ginkgo"):  # Ginkgo's output and reports are the test run's
        return kind, TEST_RUN, ""
    if kind in ("postgres", "redis"):
        return kind, kind, "" if hint in (kind, None) else f"{kind} by its content, whatever the name"
    if kind == "podman_inspect":
        container, component = inspect_identity(_text(head))
        if container is None and component is None:
            return kind, hint if hint in CONTAINERS else None, ""
        agree = component == hint or (component is None and hint not in CONTAINERS)
        what = f"{container or 'an unnamed container'} ({component or 'another container'})"
        return kind, component, "" if agree else f"describes {what}, whatever the name"
    if kind in ("zap_json", "zap_console"):
        component, why = zap_identity(_sampled(_text(head)), name)
        if component == TEST_RUN:  # parsed as Ginkgo output, so the reason is always given
            return "ginkgo", component, why
        return kind, component, "" if component == hint else why
    return kind, None, ""


def container_of(name: str, kind: str, head: bytes) -> str | None:
    """Which component a file belongs to (see `identify`).

    Args:
        name: the file name (or a container's name).
        kind: its recognised kind.
        head: its first bytes (may be empty: then the name decides).

    Returns:
        "datastorage", "postgres", "redis", "test-run", "controller", or None.
    """
    return identify(name, kind, head)[1]


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


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(SNIFF_BYTES)


def printable_name(name: str) -> str:
    """A file name as valid UTF-8: undecodable bytes (kept by Python as surrogates) become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _source(path: Path, name: str, service: str | None = None) -> Source:
    container = container_name(path.name, service)
    try:
        head = _head(path)
    except OSError as exc:
        # Present but unreadable: the name is all there is to say whose it is.
        hint = name_hint(path.name)
        why = f"present but unreadable: {exc.strerror}"
        return Source(path, printable_name(name), "unknown", hint, why, container)
    kind, why = classify(head)
    kind, component, whose = identify(path.name, kind, head)
    if kind == "podman_inspect":  # the document names its container
        container = inspect_identity(_text(head))[0] or container
    return Source(path, printable_name(name), kind, component, f"{why}; {whose}" if whose else why, container)


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
        if source.kind not in ("empty", "binary", "unknown"):
            try:  # a file gone since it was found is reported when it is read
                by_size.setdefault(source.path.stat().st_size, []).append(i)
            except OSError:
                continue
    out = list(sources)
    for indices in by_size.values():
        if len(indices) < 2:
            continue
        first: dict[tuple[int, str], Source] = {}
        for i in indices:
            try:
                key = _fingerprint(sources[i].path)
            except OSError:
                continue
            if key in first:
                out[i] = replace(
                    sources[i], kind="duplicate", why=f"identical to {first[key].name}; not parsed again"
                )
            else:
                first[key] = sources[i]
    return out


def discover(path: Path, test_logs: Sequence[Path] = ()) -> Bundle:
    """Find and recognise every source of a bundle.

    Args:
        path: a must-gather run directory, a directory holding one (plus the test log), or a single log
            file.
        test_logs: Ginkgo test-run logs kept elsewhere.

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
    sources = [_source(f, f.relative_to(root).as_posix(), under_test) for f in files]
    for log in test_logs:
        if not log.is_file():
            what = "is not a regular file" if log.exists() else "not found"
            raise BundleError(f"{log}: test log {what}")
        resolved = log.resolve()
        if any(s.path.resolve() == resolved for s in sources):
            continue
        inside = resolved.is_relative_to(root.resolve())
        sources.append(_source(log, resolved.relative_to(root.resolve()).as_posix() if inside else log.name))
    if not sources:
        raise BundleError(f"{path}: no files to analyse")
    from triage.parsers.ginkgo_report import mark_same_runs  # parsers load polars: only when needed

    sources = mark_same_runs(mark_duplicates(sources))
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
