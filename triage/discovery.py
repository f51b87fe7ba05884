"""Find the sources of a bundle and recognise each by its content.

Only this module knows the must-gather layout: `{service}-integration-{YYYYMMDD-HHMMSS}/` holding, per
container, `{service}_[{service}_|sp_]{container}[_test].log` and `..._inspect.json`, and a Ginkgo
test-run log beside or inside it. File names are hints; the content decides the kind.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from triage.errors import BundleError
from triage.lines import ANSI_PATTERN
from triage.sources import Bundle, Source

SNIFF_BYTES = 64 * 1024
SNIFF_LINES = 400
MAX_FILES = 5000
CONTAINERS = ("datastorage", "postgres", "redis")

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
    "redis": re.compile(r"^\d+:[CMSX] \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} [*#.-] "),
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
    lines = [ln for ln in text.splitlines()[:SNIFF_LINES] if ln.strip()]
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


def container_of(name: str, kind: str, head: bytes) -> str | None:
    """Which container a file belongs to: from its name, else from what its content shows.

    Args:
        name: the file name.
        kind: its recognised kind.
        head: its first bytes.

    Returns:
        "datastorage", "postgres", "redis", "test-run" for a Ginkgo log, or None.
    """
    if kind in ("ginkgo", "ginkgo_report", "ginkgo_junit"):
        return "test-run"
    stem = name.lower()
    for container in CONTAINERS:
        if re.search(rf"(?:^|[_.-]){container}(?:[_.-]|$)", stem):
            return container
    if kind in ("postgres", "redis"):
        return kind
    text = head.decode("utf-8", errors="replace").lower()
    if kind in ("zap_json", "zap_console") and "datastorage" in text:
        return "datastorage"
    if kind == "podman_inspect":
        for container in CONTAINERS:
            if container in text:
                return container
    return None


def _walk(root: Path) -> Iterable[Path]:
    """Regular files below root in name order, skipping hidden entries and links leaving root."""
    real_root = root.resolve()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_symlink() and not path.resolve().is_relative_to(real_root):
            continue
        if path.is_file():
            yield path


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(SNIFF_BYTES)


def printable_name(name: str) -> str:
    """A file name as valid UTF-8: undecodable bytes (kept by Python as surrogates) become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _source(path: Path, name: str) -> Source:
    try:
        head = _head(path)
    except OSError as exc:
        return Source(path, printable_name(name), "unknown", None, f"unreadable: {exc.strerror}")
    kind, why = classify(head)
    return Source(path, printable_name(name), kind, container_of(path.name, kind, head), why)


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
    if path.is_file():
        root, files = path.parent, [path]
    elif path.is_dir():
        root = path
        files = list(_walk(path))
    else:
        raise BundleError(f"{path}: not a regular file or directory")
    notes: list[str] = []
    if len(files) > MAX_FILES:
        notes.append(f"{len(files)} files found; only the first {MAX_FILES} in name order were read")
        files = files[:MAX_FILES]
    sources = [_source(f, f.relative_to(root).as_posix()) for f in files]
    for log in test_logs:
        if not log.is_file():
            raise BundleError(f"{log}: test log not found")
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
