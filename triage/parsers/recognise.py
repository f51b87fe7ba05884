"""Recognise each file of a bundle by its content: its format (the registered Formats' signatures),
who wrote it (`parsers.identity`), and which Ginkgo outputs tell the same test run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from triage.bundle.discovery import printable_name
from triage.bundle.lines import ANSI_PATTERN
from triage.bundle.sources import Recogniser, Source
from triage.parsers import formats
from triage.parsers.identity import (
    CONTAINERS,
    TEST_RUN,
    container_name,
    inspect_identity,
    name_hint,
    zap_identity,
)
from triage.parsers.relay import peel_text

SNIFF_BYTES = 64 * 1024
SNIFF_LINES = 400


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
    text = _text(head)
    opening = text.lstrip()[:200].replace("\n", " ")
    for fmt in formats():
        if fmt.document is not None and fmt.document(opening, text):
            return fmt.kind, fmt.label
    lines = [ln for ln in _sampled(text) if ln.strip()]
    for fmt in formats():
        if fmt.marker and fmt.line is not None and (hits := sum(1 for ln in lines if fmt.line.match(ln))):
            return fmt.kind, f"{hits} {fmt.label} in the first {len(lines)}"
    by_lines = [f for f in formats() if f.line is not None and not f.marker]
    counts = {f.kind: sum(1 for ln in lines if f.line is not None and f.line.match(ln)) for f in by_lines}
    kind, hits = max(counts.items(), key=lambda item: item[1])
    if hits == 0:
        return "unknown", "no known log format in the first lines"
    if kind == "zap_console" and counts["zap_json"] == 0 and _is_ginkgo_stream(lines):
        return "ginkgo", "GinkgoWriter output"
    label = next(f.label for f in by_lines if f.kind == kind)
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
    """Which component wrote a file, from its content, with its name as a hint (`triage.parsers.identity`).

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


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(SNIFF_BYTES)


def recognise(path: Path, name: str, service: str | None = None) -> Source:
    """Recognise one file: its format and who wrote it, from its first bytes and its name.

    Args:
        path: the file.
        name: its name in the bundle.
        service: the service under test, whose prefix container names drop.

    Returns:
        The source.
    """
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


# Per kind, in order of preference, how the start of a file names its suite and random seed: a JSON
# report names every spec's process, a `-v` log holds the timelines, a JUnit report only the results.
_RUN_KEYS = {
    "ginkgo_report": (r'"SuiteDescription":\s*"((?:[^"\\]|\\.)*)"', r'"RandomSeed":\s*(\d+)'),
    "ginkgo": (r"(?m)^Running Suite: (.*) - ", r"(?m)^Random Seed: (\d+)"),
    "ginkgo_junit": (r'<testsuite name="([^"]*)"', r'<property name="RandomSeed" value="(\d+)"'),
}


def _run_key(kind: str, head: str) -> tuple[str, str] | None:
    suite, seed = (re.search(pattern, head) for pattern in _RUN_KEYS[kind])
    if suite is None or seed is None:
        return None
    name = {"ginkgo_report": lambda t: json.loads(f'"{t}"'), "ginkgo_junit": _xml_text}.get(kind, str)
    return name(suite[1]), seed[1]


def _xml_text(text: str) -> str:
    import html  # only a JUnit report's names are escaped: its entity table is loaded for them alone

    return html.unescape(text)


def mark_same_runs(sources: Sequence[Source]) -> list[Source]:
    """Mark the Ginkgo outputs of a run that another output of it beside them tells better: reading a
    `-v` log and a JSON report of one run would count every spec and audit-store line twice.

    A run is known by its suite description and random seed, which every output prints at its start.

    Args:
        sources: recognised sources.

    Returns:
        The sources, the outputs not read with kind "duplicate".
    """
    keys: dict[str, tuple[str, str]] = {}
    for source in sources:
        if source.kind in _RUN_KEYS:
            try:
                with source.path.open("rb") as handle:
                    head = handle.read(64 * 1024).decode("utf-8", "replace")
            except OSError:
                continue
            if (key := _run_key(source.kind, head)) is not None:
                keys[source.name] = key
    rank = list(_RUN_KEYS)
    best: dict[tuple[str, str], Source] = {}
    for source in sorted((s for s in sources if s.name in keys), key=lambda s: rank.index(s.kind)):
        best.setdefault(keys[source.name], source)
    out = []
    for source in sources:
        keeper = best.get(keys[source.name]) if source.name in keys else None
        if keeper is not None and keeper.kind != source.kind:
            seed = keys[source.name][1]
            why = f"the run {keeper.name} tells (same suite, seed {seed}): read from {keeper.name} only"
            source = replace(source, kind="duplicate", why=why)
        out.append(source)
    return out


RECOGNISER = Recogniser(source=recognise, same_runs=mark_same_runs)
