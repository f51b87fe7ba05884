"""Stable ids for findings and failed specs: the same problem in two runs gets the same id.

A fingerprint hashes what identifies a problem and leaves out what changes from run to run:

* a spec: its location (`file:line`, made relative to the repository: Ginkgo prints the absolute
  path of the machine that ran it) and its name without Ginkgo's node marker (`[It]`);
* a finding: its rule, its correlation ID's pattern (UUIDs, UnixNano stamps, hex and namespace-hash
  suffixes, dates and times replaced by placeholders; small ordinals such as `rr-04` kept, as they name
  different specs' resources) and the locations of the specs whose timelines log that ID. When those
  specs are known they say which resource it is, so the ID's numbers are left out too: a suite that
  numbers its resources from a shared counter (`sev-audit-rr-%03d`) gives the same spec another
  number in each run, whose specs run in another order. A finding with no correlation ID is keyed by
  the services (containers) its evidence cites beyond the test process, or by the run; one of a rule
  about a spec's own query (SPEC_RULES: a count no line ties to an ID) by the one spec whose timeline
  holds all its evidence. Severity, summary wording, counts, durations and line numbers are left out,
  so a problem that stayed keeps its id when its figures move. Run-wide occurrences (slow writes,
  stalls) are not tied to the spec they happened to hit.

Two findings of one run with the same key (say two run-wide drops) are told apart by their order,
`#2` onwards, in the report's deterministic order.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

import polars as pl

from triage.report.model import Report
from triage.rules.base import Finding

SHORT = 8  # characters of a fingerprint the Markdown shows
# Rules whose findings are about one spec's own query or count, so the spec is what tells them apart.
SPEC_RULES = frozenset({"flush-query-race", "unexpected-event-count"})

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?|\b\d{8}[-_T]\d{6}\b"
)
_TIME = re.compile(r"\b\d{2}:\d{2}:\d{2}(?:\.\d+)?\b")
_NANO = re.compile(r"(?<![0-9A-Za-z])\d{10,}(?![0-9A-Za-z])")
# A name's hex suffix (`audit-sent-1a2b3c4d`): six or more hex digits, at least one a digit.
_HEX = re.compile(r"(?<=[-_.])(?=[0-9a-f]*[0-9])[0-9a-f]{6,}(?![0-9A-Za-z])")
# Kubernetes' generateName suffix: five characters of its alphabet, at least one a digit, ending a name.
_K8S_HASH = re.compile(r"(?<=-)(?=[bcdfghjklmnpqrstvwxz2456789]*[2456789])[bcdfghjklmnpqrstvwxz2456789]{5}$")
_DURATION = re.compile(r"\b\d+(?:\.\d+)?\s?(?:ns|us|µs|ms|s|m|h)\b")
_NODE_MARKER = re.compile(r" \[[A-Za-z]+\] ")
_DIGITS = re.compile(r"\d+")
_REPO_PATH = re.compile(r"(?:^|/)((?:test|pkg|internal|cmd)/.*)$")
TEST_SERVICES = frozenset({"test-run", "controller", ""})
# Spec names normalized and kept: a report normalizes each spec's name several times (its fingerprint,
# its location by name, the timelines that log an ID); a large run has some ten thousand specs.
_NAMES_KEPT = 1 << 14


def normalize_id(text: str) -> str:
    """A correlation ID's pattern: its run-specific parts replaced by placeholders.

    Args:
        text: a correlation ID, e.g. `audit-sent-1a2b3c4d` or `rr-1737049200123456789`.

    Returns:
        The pattern, e.g. `audit-sent-<hex>`; IDs that differ only in such parts share it.
    """
    text = _UUID.sub("<uuid>", text)
    text = _DATETIME.sub("<time>", text)
    text = _TIME.sub("<time>", text)
    text = _NANO.sub("<nano>", text)
    text = _HEX.sub("<hex>", text)
    return _K8S_HASH.sub("<hash>", text)


@lru_cache(maxsize=_NAMES_KEPT)
def normalize_text(text: str) -> str:
    """Free text (a spec's name) with run-specific parts replaced and Ginkgo's node marker dropped.

    Args:
        text: e.g. a spec name as Ginkgo printed it.

    Returns:
        The text with IDs normalized as `normalize_id` does, durations as `<duration>`, spaces collapsed.
    """
    text = _NODE_MARKER.sub(" ", f" {text} ").strip()
    return " ".join(normalize_id(_DURATION.sub("<duration>", text)).split())


def relative_location(location: str | None) -> str:
    """A spec's `file:line` relative to the repository: `/…/test/a_test.go:12` -> `test/a_test.go:12`.

    Args:
        location: as Ginkgo printed it, absolute or not; None when unknown.

    Returns:
        The relative location; the file's base name and line when no repository folder is recognised;
        an empty string when unknown.
    """
    if not location:
        return ""
    match = _REPO_PATH.search(location)
    return match.group(1) if match else location.rsplit("/", 1)[-1]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def spec_fingerprint(name: str, location: str | None) -> str:
    """A spec's fingerprint, from its relative location and normalized name.

    Args:
        name: the spec's full name as printed.
        location: its `file:line` as printed, or None.

    Returns:
        16 hex digits.
    """
    return _digest("spec", relative_location(location), normalize_text(name))


def short(fingerprint: str) -> str:
    """The first SHORT characters of a fingerprint, as the Markdown shows it."""
    return fingerprint[:SHORT]


def finding_key(
    rule: str, correlation_id: str | None, spec_locations: Iterable[str], services: Iterable[str]
) -> tuple[str, ...]:
    """What identifies a finding across runs.

    Args:
        rule: the rule id.
        correlation_id: the finding's correlation ID, or None.
        spec_locations: with an ID, the relative locations of the specs whose timelines log it;
            without one, the location of the one spec whose timeline holds all its evidence, if any.
        services: the services of the files its evidence cites.

    Returns:
        The key's parts: rule, ID pattern (its numbers left out when spec locations are given), spec
        locations; for a finding without an ID and without one spec, the container services of its
        evidence (`run` when it cites only the test process).
    """
    locations = sorted(set(spec_locations))
    if correlation_id is not None:
        pattern = normalize_id(correlation_id)
        return ("finding", rule, _DIGITS.sub("<n>", pattern) if locations else pattern, *locations)
    containers = sorted(set(services) - TEST_SERVICES)
    return ("finding", rule, "", *(containers or locations or ["run"]))


def _numbered(keys: Sequence[tuple[str, ...]]) -> list[str]:
    """Fingerprints of keys in order; a key seen before gets `#2`, `#3`, … so ids stay unique."""
    seen: dict[tuple[str, ...], int] = {}
    out = []
    for key in keys:
        seen[key] = seen.get(key, 0) + 1
        out.append(_digest(*key, *([f"#{seen[key]}"] if seen[key] > 1 else [])))
    return out


def _located(report: Report) -> dict[str, str]:
    """Normalized spec name -> relative location, for every spec the test logs show."""
    return {
        normalize_text(name): relative_location(location)
        for run in report.tests
        for name, location in (*run.passed_specs, *((s.name, s.location) for s in run.specs))
    }


def spec_locations_by_id(report: Report, located: dict[str, str] | None = None) -> dict[str, tuple[str, ...]]:
    """Per correlation ID, the relative locations of the specs whose timelines in the test logs log it.

    Args:
        report: the analysis result.
        located: `_located(report)` when the caller has it.

    Returns:
        Correlation ID -> sorted relative locations (a spec of unknown location counts by its name).
    """
    located = _located(report) if located is None else located
    rows = (
        report.events.lazy()
        .filter(
            (pl.col("source_kind") == "ginkgo")
            & pl.col("correlation_id").is_not_null()
            & pl.col("spec").is_not_null()
        )
        .select(pl.col("correlation_id"), pl.col("spec").cast(pl.String))
        .unique()
        .collect()
    )
    found: dict[str, set[str]] = {}
    for cid, spec in rows.iter_rows():
        name = normalize_text(spec)
        found.setdefault(cid, set()).add(located.get(name) or name)
    return {cid: tuple(sorted(locations)) for cid, locations in found.items()}


def _spec_of_lines(
    report: Report, lines: set[tuple[str, int]], located: dict[str, str]
) -> dict[tuple[str, int], str]:
    """The relative location of the spec whose timeline holds each of `lines` (file, line), a line of a
    multi-line record included; lines outside any spec's timeline are left out."""
    out: dict[tuple[str, int], str] = {}
    for file in sorted({f for f, _ in lines}):
        wanted = pl.DataFrame({"at": sorted(n for f, n in lines if f == file)}, schema={"at": pl.Int64})
        records = (
            report.events.lazy()
            .filter(pl.col("file") == file)
            .select(
                pl.col("line").cast(pl.Int64).alias("at"),
                pl.col("line").cast(pl.Int64).alias("first"),
                pl.col("n_lines").cast(pl.Int64).fill_null(1),
                pl.col("spec").cast(pl.String),
            )
            .sort("at")
            .collect()
        )
        held = wanted.join_asof(records, on="at", strategy="backward")
        inside = held.filter(
            pl.col("spec").is_not_null() & (pl.col("at") < pl.col("first") + pl.col("n_lines"))
        )
        for at, spec in inside.select("at", "spec").iter_rows():
            name = normalize_text(spec)
            out[file, at] = located.get(name) or name
    return out


def _own_spec(f: Finding, services: dict[str, str], specs: dict[tuple[str, int], str]) -> tuple[str, ...]:
    """For a finding of SPEC_RULES citing only the test logs, the one spec whose timeline holds all of it."""
    if f.rule not in SPEC_RULES or any(services.get(e.file, "") not in TEST_SERVICES for e in f.evidence):
        return ()
    held = {specs.get((e.file, e.line)) for e in f.evidence}
    only = next(iter(held)) if len(held) == 1 else None
    return (only,) if only else ()


def finding_fingerprints(report: Report, findings: Sequence[Finding] | None = None) -> list[str]:
    """The fingerprint of each finding, in the order given (the report's order by default).

    Args:
        report: the analysis result.
        findings: the findings to fingerprint; `report.findings` when None.

    Returns:
        One 16-hex-digit fingerprint per finding, unique within the report.
    """
    findings = report.findings if findings is None else findings
    services = {a.source.name: a.source.service or "" for a in report.accounts}
    lines = {
        (e.file, e.line)
        for f in findings
        if f.correlation_id is None and f.rule in SPEC_RULES
        for e in f.evidence
    }
    with_id = any(f.correlation_id for f in findings)
    located = _located(report) if with_id or lines else {}
    locations = spec_locations_by_id(report, located) if with_id else {}
    specs = _spec_of_lines(report, lines, located)
    keys = [
        finding_key(
            f.rule,
            f.correlation_id,
            locations.get(f.correlation_id, ()) if f.correlation_id else _own_spec(f, services, specs),
            (services.get(e.file, "") for e in f.evidence),
        )
        for f in findings
    ]
    return _numbered(keys)
