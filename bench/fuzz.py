"""Mutation fuzzing: broken bundles must never crash triage, lose lines or change output between runs.

    python bench/fuzz.py [--bundles N] [--seed S] [--only I] [--keep DIR]

Bundle i starts from one of a few small bundles (two committed fixtures, one of them with its test
log given as a Ginkgo JSON report and a JUnit report instead, and tiny simulated runs) and gets one
to four mutations, all drawn from `--seed` and i alone, so any bundle can be rebuilt with
`--only I --keep DIR`. Mutations: lines deleted, duplicated, swapped or truncated; bytes corrupted
(random bytes, invalid UTF-8, NULs, CRLF, bare CR, BOM); files cut, renamed (also to names that are
not UTF-8), moved, emptied, replaced by binary, deleted, spliced with another format; inspect JSON
and the JSON report retyped or nested deeply; a 5 MB line.

Checks, per bundle:

* parsers called directly on every discovered source raise nothing, return events that pass
  `validate_events`, and account for lines exactly: unparsed lines are distinct and in range,
  records stay inside the file and never cover an unparsed line;
* `analyze` raises nothing but BundleError, every account has parsed + not understood = lines and
  lines = the file's real line count, and no parser failure is noted;
* analysing twice renders the same bytes in every output (Markdown, JSON, JUnit, HTML, the GitHub
  step summary and annotations), each encodable as UTF-8 (what the command line writes), the Markdown
  and the step summary within 1 MiB, the JUnit well-formed XML.

A summary table lists mutations applied, problems by kind with the first traceback and a
reproduction of each (parser problems shrunk to a few lines), nondeterministic outputs and time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import traceback
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import polars as pl

from triage.api import Report, analyze
from triage.bundle.discovery import discover
from triage.bundle.lines import split_lines
from triage.bundle.sources import Source
from triage.errors import BundleError
from triage.parsers import parser_for
from triage.parsers.recognise import RECOGNISER
from triage.report.github import annotate, workflow_commands
from triage.report.github import summary as step_summary
from triage.report.render import render
from triage.simulate import simulate
from triage.table.schema import validate_events

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ("02-healthy", "09-later-format")
REPORTS_BASE = "02-healthy"  # copied with Ginkgo's JSON and JUnit reports in place of its -v log
SIMULATED = (("jan14-1025", 3), ("datastorage-down", 5), ("later-format", 7), ("flush-bug", 11))
HUGE_LINE_BYTES = 5 * 1024 * 1024
INVALID_UTF8 = (
    b"\xff",
    b"\xc3(",
    b"\xe2\x82",
    b"\xed\xa0\x80",
    b"\xc0\xaf",
    b"\x80\x80",
    b"\xf4\x90\x80\x80",
)
MAX_SHRINK_STEPS = 300
MAX_MARKDOWN_BYTES = 1 << 20  # GitHub's step summary limit
OUTPUTS = ("markdown", "json", "junit", "html", "summary", "annotations")

Mutation = Callable[[random.Random, Path], str]


def real_line_count(data: bytes) -> int:
    """Lines in a file as a reader should count them: a final unterminated line counts; a BOM does not."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def _files(bundle: Path) -> list[Path]:
    return sorted(p for p in bundle.rglob("*") if p.is_file())


def _pick(rng: random.Random, bundle: Path) -> Path | None:
    files = _files(bundle)
    return rng.choice(files) if files else None


def _on_lines(edit: Callable[[random.Random, list[bytes]], str]) -> Mutation:
    def mutate(rng: random.Random, bundle: Path) -> str:
        path = _pick(rng, bundle)
        if path is None:
            return "no file"
        lines = path.read_bytes().splitlines(keepends=True)
        what = edit(rng, lines) if lines else "empty file left as is"
        path.write_bytes(b"".join(lines))
        return f"{path.relative_to(bundle)}: {what}"

    return mutate


def _on_bytes(edit: Callable[[random.Random, bytearray], str]) -> Mutation:
    def mutate(rng: random.Random, bundle: Path) -> str:
        path = _pick(rng, bundle)
        if path is None:
            return "no file"
        data = bytearray(path.read_bytes())
        what = edit(rng, data)
        path.write_bytes(bytes(data))
        return f"{path.relative_to(bundle)}: {what}"

    return mutate


def _delete_lines(rng: random.Random, lines: list[bytes]) -> str:
    start = rng.randrange(len(lines))
    n = min(len(lines) - start, rng.choice((1, 1, 2, 5, 50)))
    del lines[start : start + n]
    return f"deleted lines {start + 1}-{start + n}"


def _duplicate_lines(rng: random.Random, lines: list[bytes]) -> str:
    start = rng.randrange(len(lines))
    block = lines[start : start + rng.choice((1, 3, 20))]
    lines[start:start] = block
    return f"duplicated {len(block)} line(s) at {start + 1}"


def _swap_lines(rng: random.Random, lines: list[bytes]) -> str:
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return f"swapped lines {i + 1} and {j + 1}"


def _truncate_line(rng: random.Random, lines: list[bytes]) -> str:
    i = rng.randrange(len(lines))
    cut = rng.randrange(len(lines[i]) + 1)
    lines[i] = lines[i][:cut] + (b"\n" if lines[i].endswith(b"\n") else b"")
    return f"line {i + 1} cut at byte {cut}"


def _splice(rng: random.Random, lines: list[bytes]) -> str:
    donor = rng.choice(_DONOR_LINES)
    i = rng.randrange(len(lines) + 1)
    lines[i:i] = [donor]
    return f"foreign line inserted at {i + 1}: {donor[:40]!r}"


def _cut_file(rng: random.Random, data: bytearray) -> str:
    cut = rng.randrange(len(data) + 1)
    del data[cut:]
    return f"cut at byte {cut}"


def _random_bytes(rng: random.Random, data: bytearray) -> str:
    n = rng.choice((1, 4, 32))
    for _ in range(n if data else 0):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return f"{n} random byte(s)"


def _insert(rng: random.Random, data: bytearray, chunk: bytes) -> int:
    at = rng.randrange(len(data) + 1)
    data[at:at] = chunk
    return at


def _invalid_utf8(rng: random.Random, data: bytearray) -> str:
    seq = rng.choice(INVALID_UTF8)
    return f"invalid UTF-8 {seq!r} at byte {_insert(rng, data, seq)}"


def _nul_bytes(rng: random.Random, data: bytearray) -> str:
    at = _insert(rng, data, bytes(rng.choice((1, 3))))
    return f"NUL at byte {at}"


def _crlf(rng: random.Random, data: bytearray) -> str:
    data[:] = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return "CRLF line endings"


def _bare_cr(rng: random.Random, data: bytearray) -> str:
    at = _insert(rng, data, b"\r")
    return f"bare CR at byte {at}"


def _bom(rng: random.Random, data: bytearray) -> str:
    data[:0] = b"\xef\xbb\xbf"
    return "UTF-8 BOM prepended"


def _empty(rng: random.Random, data: bytearray) -> str:
    data[:] = rng.choice((b"", b"\n", b"  \n\n", b"\n" * 100))
    return f"emptied to {bytes(data[:8])!r}"


def _binary(rng: random.Random, data: bytearray) -> str:
    size = rng.choice((16, 4096, 70_000))
    data[:] = rng.randbytes(size)
    return f"replaced by {size} random bytes"


def _huge_line(rng: random.Random, data: bytearray) -> str:
    shapes = {
        "text": b"x" * HUGE_LINE_BYTES,
        "zap-json": b'{"level":"info","ts":"2026-01-14T15:24:53.447Z","msg":"'
        + b"y" * HUGE_LINE_BYTES
        + b'"}',
        "zap-console": b'2026-01-14T15:24:53.447Z\tINFO\tdatastorage\tx.go:1\tm\t{"k": "'
        + b"z" * HUGE_LINE_BYTES
        + b'"}',
        "step": b"  STEP: " + b"s" * HUGE_LINE_BYTES + b" @ 01/14/26 10:25:09.674",
    }
    shape = rng.choice(sorted(shapes))
    at = data.rfind(b"\n", 0, rng.randrange(len(data) + 1)) + 1
    data[at:at] = shapes[shape] + b"\n"
    return f"5 MB {shape} line at byte {at}"


def _rename(rng: random.Random, bundle: Path) -> str:
    path = _pick(rng, bundle)
    if path is None:
        return "no file"
    new = rng.choice(("renamed.log", "x.json", "weird name é.txt", "datastorage", ".hidden.log", path.stem))
    target = path.with_name(new)
    if target.exists():
        return f"{path.relative_to(bundle)}: rename target exists"
    path.rename(target)
    return f"{path.relative_to(bundle)} renamed {new!r}"


def _undecodable_name(rng: random.Random, bundle: Path) -> str:
    path = _pick(rng, bundle)
    if path is None:
        return "no file"
    # Bytes that are not UTF-8 come back from the file system as surrogate escapes.
    target = Path(os.fsdecode(os.fsencode(path.parent) + b"/" + path.stem.encode() + b"_\xff\xfe.log"))
    path.rename(target)
    return f"{path.relative_to(bundle)} renamed with non-UTF-8 bytes"


def _shuffle(rng: random.Random, bundle: Path) -> str:
    files = _files(bundle)
    if len(files) < 2:
        return "fewer than two files"
    a, b = rng.sample(files, 2)
    data_a, data_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(data_b)
    b.write_bytes(data_a)
    return f"contents of {a.relative_to(bundle)} and {b.relative_to(bundle)} swapped"


def _move(rng: random.Random, bundle: Path) -> str:
    path = _pick(rng, bundle)
    if path is None:
        return "no file"
    folder = bundle / rng.choice(("nested", "nested/deeper", "."))
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        return f"{path.relative_to(bundle)}: move target exists"
    path.rename(target)
    return f"{path.relative_to(bundle)} moved to {target.relative_to(bundle)}"


def _drop_file(rng: random.Random, bundle: Path) -> str:
    path = _pick(rng, bundle)
    if path is None:
        return "no file"
    path.unlink()
    return f"{path.relative_to(bundle)} deleted"


def _retype_json(rng: random.Random, bundle: Path) -> str:
    docs = [p for p in _files(bundle) if p.suffix == ".json"]
    if not docs:
        return "no inspect file"
    path = rng.choice(docs)
    try:
        doc = json.loads(path.read_bytes())
    except ValueError:
        return f"{path.relative_to(bundle)}: not JSON any more"
    slots: list[tuple[object, object]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                slots.append((node, key))
                walk(value)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                slots.append((node, i))
                walk(value)

    walk(doc)
    if not slots:
        return f"{path.relative_to(bundle)}: nothing to retype"
    parent, key = rng.choice(slots)
    value = rng.choice((None, 0, -1, 1.5, True, "", "text", [], {}, [1, "a"], {"x": None}, 10**30))
    parent[key] = value  # type: ignore[index]
    path.write_text(json.dumps(doc, indent=4))
    return f"{path.relative_to(bundle)}: [{key!r}] set to {value!r}"


def _deep_json(rng: random.Random, bundle: Path) -> str:
    docs = [p for p in _files(bundle) if p.suffix == ".json"]
    if not docs:
        return "no inspect file"
    path = rng.choice(docs)
    depth = rng.choice((100, 5000))
    path.write_text('[{"Id": "x", "State": ' + "[" * depth + "]" * depth + "}]\n")
    return f"{path.relative_to(bundle)}: State nested {depth} deep"


MUTATIONS: dict[str, tuple[Mutation, int]] = {
    # name: (mutation, weight)
    "delete_lines": (_on_lines(_delete_lines), 10),
    "duplicate_lines": (_on_lines(_duplicate_lines), 10),
    "swap_lines": (_on_lines(_swap_lines), 10),
    "truncate_line": (_on_lines(_truncate_line), 10),
    "splice_foreign_line": (_on_lines(_splice), 10),
    "cut_file": (_on_bytes(_cut_file), 6),
    "random_bytes": (_on_bytes(_random_bytes), 8),
    "invalid_utf8": (_on_bytes(_invalid_utf8), 6),
    "nul_bytes": (_on_bytes(_nul_bytes), 4),
    "crlf": (_on_bytes(_crlf), 4),
    "bare_cr": (_on_bytes(_bare_cr), 4),
    "bom": (_on_bytes(_bom), 3),
    "empty_file": (_on_bytes(_empty), 4),
    "binary_file": (_on_bytes(_binary), 3),
    "huge_line": (_on_bytes(_huge_line), 1),
    "rename_file": (_rename, 4),
    "undecodable_name": (_undecodable_name, 2),
    "swap_contents": (_shuffle, 3),
    "move_file": (_move, 3),
    "drop_file": (_drop_file, 3),
    "retype_json": (_retype_json, 8),
    "deep_json": (_deep_json, 1),
}
_DONOR_LINES: list[bytes] = []


COUNT_FAILED = "Expected\n    <int>: 3\nto equal\n    <int>: 4"


def audit_lines(test_log: Path) -> str:
    """A `-v` log's lines about audit (the store's and the controller's), as a spec's captured output."""
    lines = test_log.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(ln.strip() for ln in lines if "audit" in ln.lower())[:20000] + "\n"


def ginkgo_reports(captured: str, message: str = COUNT_FAILED) -> tuple[str, str]:
    """A Ginkgo JSON report and a JUnit report of two runs of the suite (their random seeds differ, so
    both are read), each with a passed, a failed and a pending spec.

    Args:
        captured: the failed spec's GinkgoWriter output (in the JSON report; JUnit's system-err).
        message: its failure message.

    Returns:
        The JSON report's text and the JUnit report's text.
    """
    root = "/home/runner/work/kubernaut/kubernaut/test/integration/signalprocessing/"

    def spec(leaf: str, state: str, process: int, **extra: object) -> dict[str, object]:
        location = {"FileName": root + "audit_integration_test.go", "LineNumber": 100 + process}
        return {
            "ContainerHierarchyTexts": ["BR-SP-090: Audit Integration"],
            "ContainerHierarchyLocations": [location],
            "LeafNodeType": "It", "LeafNodeLocation": location, "LeafNodeText": leaf, "State": state,
            "StartTime": "2026-01-16T09:14:01.123456-05:00", "EndTime": "2026-01-16T09:14:04.5-05:00",
            "RunTime": 3_376_544_000, "ParallelProcess": process, "NumAttempts": 1, **extra,
        }  # fmt: skip

    failure = {
        "Message": message,
        "Location": {"FileName": root + "audit_integration_test.go", "LineNumber": 296},
        "FailureNodeType": "It",
    }
    report = [
        {
            "SuitePath": root.rstrip("/"),
            "SuiteDescription": "SignalProcessing Controller Integration Suite (ENVTEST)",
            "SuiteSucceeded": False,
            "PreRunStats": {"TotalSpecs": 3, "SpecsThatWillRun": 2},
            "StartTime": "2026-01-16T09:13:10-05:00",
            "EndTime": "2026-01-16T09:15:09.9-05:00",
            "RunTime": 119_900_000_000,
            "SuiteConfig": {"RandomSeed": 1768572790, "ParallelProcess": 1, "ParallelTotal": 2},
            "SpecReports": [
                spec("should emit phase transitions", "passed", 1),
                spec("should emit a classification event", "failed", 2, CapturedGinkgoWriterOutput=captured,
                     Failure=failure),
                spec("should emit an approval event", "pending", 1),
            ],
        }
    ]  # fmt: skip
    suite = "SignalProcessing Controller Integration Suite (ENVTEST)"
    junit = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<testsuites tests="2" disabled="1" errors="0" failures="1" time="119.9">\n'
        f'  <testsuite name="{suite}" tests="2" disabled="1" skipped="0" errors="0" failures="1" '
        'time="119.9" timestamp="2026-01-16T09:13:10">\n'
        '    <properties>\n      <property name="SuiteSucceeded" value="false"></property>\n'
        '      <property name="RandomSeed" value="1768572791"></property>\n    </properties>\n'
        f'    <testcase name="[It] BR-SP-090: Audit Integration should emit a classification event" '
        f'classname="{suite}" status="failed" time="3.1">\n'
        f"      <failure message={quoteattr(message)} "
        f'type="failed">[FAILED] {escape(message)}&#xA;'
        f"In [It] at: {root}audit_integration_test.go:296</failure>\n"
        f"      <system-err>{escape(captured)}</system-err>\n"
        "    </testcase>\n"
        f'    <testcase name="[It] BR-SP-090: Audit Integration should emit phase transitions" '
        f'classname="{suite}" status="passed" time="2.0"></testcase>\n'
        "  </testsuite>\n</testsuites>\n"
    )
    return json.dumps(report, indent=2) + "\n", junit


def prepare_bases(workdir: Path) -> list[Path]:
    """The small bundles mutations start from: committed fixtures and tiny simulated runs."""
    bases = []
    for name in COMMITTED:
        target = workdir / name
        shutil.copytree(ROOT / "fixtures" / "bundles" / name, target)
        bases.append(target)
    target = workdir / "bases" / "reports"
    shutil.copytree(ROOT / "fixtures" / "bundles" / REPORTS_BASE, target)
    test_log = next(target.glob("integration-*.log"))
    report, junit = ginkgo_reports(audit_lines(test_log))
    test_log.unlink()
    (target / "report.json").write_text(report, encoding="utf-8")
    (target / "junit.xml").write_text(junit, encoding="utf-8")
    bases.append(target)
    for scenario, seed in SIMULATED:
        target = workdir / "bases" / f"sim-{scenario}"
        simulate(scenario, target, seed=seed, processes=2, specs=12)
        bases.append(target)
    if not _DONOR_LINES:
        for base in bases:
            for path in _files(base):
                lines = path.read_bytes().splitlines(keepends=True)
                _DONOR_LINES.extend(lines[:: max(1, len(lines) // 15)][:15])
    return bases


def plan(seed: int, index: int, n_bases: int) -> tuple[int, list[tuple[str, int]]]:
    """Which base bundle and which mutations (with their own seeds) bundle `index` gets."""
    rng = random.Random(f"{seed}:{index}")
    names = sorted(MUTATIONS)
    weights = [MUTATIONS[n][1] for n in names]
    count = rng.choice((1, 1, 2, 3, 4))
    return rng.randrange(n_bases), [
        (rng.choices(names, weights)[0], rng.randrange(2**32)) for _ in range(count)
    ]


def build(base: Path, mutations: Sequence[tuple[str, int]], target: Path) -> list[str]:
    """Copy base to target and apply the mutations in order; returns what each did."""
    shutil.copytree(base, target)
    return [f"{name}: {MUTATIONS[name][0](random.Random(s), target)}" for name, s in mutations]


@dataclass
class Problem:
    """One distinct crash or mismatch, with its first occurrence."""

    kind: str
    detail: str
    count: int = 0
    first_bundle: int = -1
    mutations: list[str] = field(default_factory=list)
    trace: str = ""
    repro: str = ""


@dataclass
class Summary:
    """Everything a run found."""

    bundles: int = 0
    applied: Counter[str] = field(default_factory=Counter)
    problems: dict[tuple[str, str], Problem] = field(default_factory=dict)
    bundle_errors: Counter[str] = field(default_factory=Counter)
    nondeterministic: int = 0
    seconds: float = 0.0
    slowest: tuple[float, int] = (0.0, -1)

    def add(
        self, index: int, mutations: list[str], kind: str, detail: str, trace: str = "", repro: str = ""
    ) -> bool:
        key = (kind, detail)
        problem = self.problems.setdefault(key, Problem(kind, detail))
        problem.count += 1
        first = problem.first_bundle < 0
        if first:
            problem.first_bundle, problem.mutations, problem.trace, problem.repro = (
                index,
                mutations,
                trace,
                repro,
            )
        return first


def _where(exc: BaseException) -> str:
    """The innermost frame inside triage, to tell distinct crashes apart."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/triage/" in f.filename]
    frame = frames[-1] if frames else traceback.extract_tb(exc.__traceback__)[-1]
    return f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno} in {frame.name}"


def check_parse(data: bytes, source: Source) -> tuple[str, str, str] | None:
    """Run a source's parser on data; the first broken property as (kind, detail, trace), or None."""
    lines = split_lines(data)
    parser = parser_for(source.kind)
    if parser is None:
        return None
    try:
        result = parser(lines.frame, source)
        validate_events(result.events)
    except Exception as exc:
        return f"parser crash ({source.kind})", _where(exc), traceback.format_exc()
    return _accounting(lines.count, result.events, result.unparsed, source)


def _accounting(
    count: int, events: pl.DataFrame, unparsed: pl.DataFrame, source: Source
) -> tuple[str, str, str] | None:
    kind = f"accounting ({source.kind})"
    bad = unparsed["line"]
    if bad.n_unique() != bad.len():
        return kind, "a line is reported unparsed twice", ""
    # A JSON report's captured output is numbered on after its last line: only straddling is wrong.
    captured = source.kind == "ginkgo_report"
    if bad.len() and (bad.min() < 1 or (bad.max() > count and not captured)):  # type: ignore[operator]
        return kind, "an unparsed line number is outside the file", ""
    own = events.filter(pl.col("file") == source.name)
    if own.height != events.height:
        return kind, "events carry another file name", ""
    ranges = own.select(pl.col("line").cast(pl.Int64), pl.col("n_lines").cast(pl.Int64))
    ends = ranges["line"] + ranges["n_lines"] - 1
    outside = (ranges["line"] <= count) & (ends > count) if captured else ends > count
    if ranges.height and (
        ranges["line"].min() < 1  # type: ignore[operator]
        or outside.any()
        or ranges["n_lines"].min() < 1  # type: ignore[operator]
    ):
        return kind, "a record reaches outside the file", ""
    covered = ranges.select(pl.int_ranges("line", pl.col("line") + pl.col("n_lines")).alias("l")).explode("l")
    if covered.height and bad.len() and covered["l"].is_in(bad.cast(pl.Int64).implode()).any():
        return kind, "a line is both in a record and unparsed", ""
    return None


def shrink(data: bytes, source: Source, target: tuple[str, str]) -> bytes:
    """Remove lines while the same problem persists (delta debugging), to a minimal reproduction."""
    lines = data.splitlines(keepends=True)
    steps, chunk = 0, max(1, len(lines) // 2)
    while chunk >= 1 and steps < MAX_SHRINK_STEPS:
        i, removed = 0, False
        while i < len(lines) and steps < MAX_SHRINK_STEPS:
            trial = lines[:i] + lines[i + chunk :]
            steps += 1
            found = check_parse(b"".join(trial), source)
            if trial and found is not None and found[:2] == target:
                lines, removed = trial, True
            else:
                i += chunk
        if not removed:
            chunk //= 2
    return b"".join(lines)


def _repro(data: bytes, source: Source) -> str:
    shown = "\n".join(f"    {ln[:300]!r}" for ln in data.splitlines(keepends=True)[:12])
    call = f"parser_for({source.kind!r})(split_lines(data).frame, Source(..., name={source.name!r}))"
    return f"{call} with data:\n{shown}"


def fuzz_one(index: int, base: Path, bundle: Path, mutations: list[str], summary: Summary) -> None:
    """Check one mutated bundle and record what broke."""
    try:
        sources = discover(bundle, recogniser=RECOGNISER).sources
    except BundleError as exc:
        summary.bundle_errors[str(exc).split(": ", 1)[-1]] += 1
        return
    for source in sources:
        data = source.path.read_bytes()
        found = check_parse(data, source)
        if found is not None:
            first = summary.add(index, mutations, found[0], found[1], found[2])
            if first:
                problem = summary.problems[found[:2]]
                problem.repro = _repro(shrink(data, source, found[:2]), source)
    outputs = []
    for _ in range(2):
        try:
            report = analyze(bundle)
            outputs.append(render_all(report))
        except BundleError as exc:
            summary.bundle_errors[str(exc).split(": ", 1)[-1]] += 1
            return
        except Exception as exc:
            summary.add(index, mutations, "analyze crash", _where(exc), traceback.format_exc())
            return
    for account in report.accounts:
        real = real_line_count(account.source.path.read_bytes())
        if account.parsed_lines + account.unparsed_lines != account.lines or account.lines != real:
            detail = (
                f"{account.source.kind}: lines {account.lines}, parsed {account.parsed_lines}, "
                f"not understood {account.unparsed_lines}, real {real}"
            )
            summary.add(index, mutations, "report accounting", detail)
        for note in account.notes:
            if note.startswith("parser failed"):
                summary.add(index, mutations, "parser failure noted", f"{account.source.kind}: {note[:120]}")
    first = dict(zip(OUTPUTS, outputs[0], strict=True))
    for fmt, text in first.items():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            summary.add(index, mutations, "output not writable as UTF-8", f"{fmt}: {exc.reason}")
    for fmt in ("markdown", "summary"):
        if len(first[fmt].encode("utf-8", "replace")) > MAX_MARKDOWN_BYTES:
            summary.add(index, mutations, "oversized report", f"{fmt} over 1 MiB")
    try:
        ET.fromstring(first["junit"].encode("utf-8", "replace"))
    except ET.ParseError as exc:
        summary.add(index, mutations, "junit not well-formed XML", str(exc).split(":")[0])
    if outputs[0] != outputs[1]:
        summary.nondeterministic += 1
        which = ", ".join(fmt for fmt, a, b in zip(OUTPUTS, *outputs, strict=True) if a != b)
        summary.add(index, mutations, "nondeterministic output", which)


def render_all(report: Report) -> tuple[str, ...]:
    """Every output of a report, in OUTPUTS order: the four formats, the step summary, the annotations."""
    formats = tuple(render(report, fmt) for fmt in OUTPUTS[:4])
    annotations = "\n".join(workflow_commands(annotate(report, None, root=Path("/nonexistent"))))
    return (*formats, step_summary(report, None, "report.md", MAX_MARKDOWN_BYTES), annotations)


def run(n: int, seed: int, only: int | None, keep: Path | None) -> Summary:
    """Fuzz n bundles (or just bundle `only`) and summarise."""
    summary = Summary()
    with tempfile.TemporaryDirectory(prefix="triage-fuzz-") as tmp:
        bases = prepare_bases(Path(tmp))
        start = time.perf_counter()
        for index in [only] if only is not None else range(n):
            base_i, chosen = plan(seed, index, len(bases))
            target = (keep or Path(tmp)) / f"bundle-{index}"
            if target.exists():
                shutil.rmtree(target)
            began = time.perf_counter()
            mutations = [f"base {bases[base_i].name}", *build(bases[base_i], chosen, target)]
            summary.applied.update(name for name, _ in chosen)
            fuzz_one(index, bases[base_i], target, mutations, summary)
            summary.bundles += 1
            took = time.perf_counter() - began
            summary.slowest = max(summary.slowest, (took, index))
            if keep is None:
                shutil.rmtree(target)
            if (index + 1) % 50 == 0:
                print(f"... {index + 1} bundles, {len(summary.problems)} distinct problems", file=sys.stderr)
        summary.seconds = time.perf_counter() - start
    return summary


def report(summary: Summary, seed: int) -> str:
    """The summary as text."""
    out = [f"# fuzz: {summary.bundles} mutated bundles, seed {seed}, {summary.seconds:.1f} s", ""]
    out.append(f"{'mutation':<22}{'applied':>8}")
    out += [f"{name:<22}{summary.applied[name]:>8}" for name in sorted(MUTATIONS)]
    out.append("")
    out.append(f"bundles refused with BundleError (allowed): {sum(summary.bundle_errors.values())}")
    out += [f"  {n:>5} x {msg}" for msg, n in summary.bundle_errors.most_common()]
    out.append(f"nondeterministic outputs: {summary.nondeterministic}")
    out.append(f"slowest bundle: #{summary.slowest[1]} {summary.slowest[0]:.1f} s")
    out.append("")
    kinds = Counter(p.kind for p in summary.problems.values())
    out.append(f"{'problem kind':<40}{'distinct':>9}{'bundles':>9}")
    for kind in sorted(kinds):
        hits = sum(p.count for p in summary.problems.values() if p.kind == kind)
        out.append(f"{kind:<40}{kinds[kind]:>9}{hits:>9}")
    for (kind, detail), problem in sorted(summary.problems.items()):
        out += ["", f"## {kind}: {detail}", f"{problem.count} bundle(s); first #{problem.first_bundle}:"]
        out += [f"  {m}" for m in problem.mutations]
        if problem.repro:
            out += ["minimal reproduction:", problem.repro]
        if problem.trace:
            out += ["first traceback:", *("  " + ln for ln in problem.trace.rstrip().splitlines()[-12:])]
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bundles", type=int, default=1000, help="how many mutated bundles (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the mutation plan (default 0)")
    parser.add_argument("--only", type=int, help="rebuild and check only bundle I")
    parser.add_argument("--keep", type=Path, help="keep mutated bundles in this directory")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    summary = run(args.bundles, args.seed, args.only, args.keep)
    sys.stdout.write(report(summary, args.seed))
    return 1 if summary.problems else 0


if __name__ == "__main__":
    sys.exit(main())
