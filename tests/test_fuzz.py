"""Fuzzing: mutated lines and bundles never crash a parser or analysis, lose a line, or change output."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bench import load_bench
from triage.api import analyze
from triage.bundle.discovery import discover
from triage.bundle.sources import Source
from triage.parsers.recognise import RECOGNISER

BUNDLES = Path(__file__).resolve().parents[1] / "fixtures" / "bundles"
PARSED_KINDS = ("ginkgo", "ginkgo_report", "ginkgo_junit", "podman_inspect", "postgres", "redis")
PARSED_KINDS += ("zap_console", "zap_json")


fuzz = load_bench("fuzz")


_REPORTS = tempfile.TemporaryDirectory(prefix="triage-fuzz-reports-")


def _samples() -> dict[str, tuple[Source, list[bytes]]]:
    """A real source of each parsed kind, with its lines, from the committed bundles and the Ginkgo
    JSON and JUnit reports the fuzzer makes of the healthy bundle's test log."""
    reports = Path(_REPORTS.name)
    report, junit = fuzz.ginkgo_reports(
        fuzz.audit_lines(next((BUNDLES / "02-healthy").glob("integration-*.log")))
    )
    (reports / "report.json").write_text(report, encoding="utf-8")
    (reports / "junit.xml").write_text(junit, encoding="utf-8")
    found: dict[str, tuple[Source, list[bytes]]] = {}
    for bundle in (BUNDLES / "02-healthy", BUNDLES / "09-later-format", reports):
        for source in discover(bundle, recogniser=RECOGNISER).sources:
            lines = source.path.read_bytes().splitlines(keepends=True)
            if source.kind not in found or len(lines) > len(found[source.kind][1]):
                found[source.kind] = (source, lines[:400])
    return found


SAMPLES = _samples()

# One edit of a line: what real damage looks like.
_EDITS = st.one_of(
    st.just(b""),
    st.binary(max_size=12),
    st.sampled_from(
        [b"\x00", b"\xff\xfe", b"\xc3(", b"\r", b"\r\n", b"\xef\xbb\xbf", b"\x1b[31m", b"\t", b"{", b'"']
    ),
    st.text(max_size=20).map(lambda s: s.encode("utf-8")),
)


@st.composite
def mutated_lines(draw: st.DrawFn, kind: str) -> bytes:
    """A sample file of one kind with lines deleted, duplicated, swapped, cut and corrupted."""
    lines = list(SAMPLES[kind][1])
    start = draw(st.integers(0, max(0, len(lines) - 1)))
    lines = lines[start : start + draw(st.integers(0, 60))]
    for _ in range(draw(st.integers(0, 6))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "cut", "insert", "replace"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        else:
            at = draw(st.integers(0, len(lines[i])))
            edit = draw(_EDITS)
            lines[i] = lines[i][:at] + edit + lines[i][at + (op == "replace") * len(edit) :]
    return b"".join(lines)


@pytest.mark.parametrize("kind", PARSED_KINDS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_parser_survives_mutated_lines_with_exact_accounting(kind: str, data: st.DataObject) -> None:
    """Each parser takes damaged input without raising and accounts for every line exactly once."""
    content = data.draw(mutated_lines(kind))
    assert fuzz.check_parse(content, SAMPLES[kind][0]) is None


@pytest.fixture(scope="module")
def bases() -> Iterator[list[Path]]:
    with tempfile.TemporaryDirectory(prefix="triage-fuzz-bases-") as tmp:
        yield fuzz.prepare_bases(Path(tmp))


PLANS = st.tuples(
    st.integers(0, len(fuzz.COMMITTED) + len(fuzz.SIMULATED)),  # the reports base too
    st.lists(
        st.tuples(st.sampled_from(sorted(fuzz.MUTATIONS)), st.integers(0, 2**32 - 1)), min_size=1, max_size=3
    ),
)


@settings(max_examples=14, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=PLANS)
def test_mutated_bundles_analyse_exactly_and_deterministically(
    bases: list[Path], plan: tuple[int, list]
) -> None:
    """A mutated bundle is analysed without an exception, line counts match the files, output is stable."""
    base_index, mutations = plan
    with tempfile.TemporaryDirectory(prefix="triage-fuzz-") as tmp:
        bundle = Path(tmp) / "bundle"
        applied = fuzz.build(bases[base_index], mutations, bundle)
        summary = fuzz.Summary()
        fuzz.fuzz_one(0, bases[base_index], bundle, applied, summary)
    assert [(p.kind, p.detail) for p in summary.problems.values()] == [], applied


def test_every_output_of_a_report_base_is_checked(bases: list[Path]) -> None:
    """The base with Ginkgo's JSON and JUnit reports reads both, passes every check, shows its failure."""
    base = next(b for b in bases if b.name == "reports")
    assert sorted(
        s.kind for s in discover(base, recogniser=RECOGNISER).sources if s.kind.startswith("ginkgo")
    ) == [
        "ginkgo_junit",
        "ginkgo_report",
    ]
    summary = fuzz.Summary()
    fuzz.fuzz_one(0, base, base, [], summary)
    assert [(p.kind, p.detail) for p in summary.problems.values()] == []
    outputs = dict(zip(fuzz.OUTPUTS, fuzz.render_all(analyze(base)), strict=True))
    for fmt in ("markdown", "json", "junit", "html"):
        assert "should emit a classification event" in outputs[fmt], fmt


def test_file_name_that_is_not_utf8_still_renders_as_utf8(tmp_path: Path) -> None:
    """A log whose name holds non-UTF-8 bytes yields Markdown and JSON that encode as UTF-8."""
    bundle = tmp_path / "bundle"
    applied = fuzz.build(BUNDLES / "02-healthy", [("undecodable_name", 1)], bundle)
    summary = fuzz.Summary()
    fuzz.fuzz_one(0, bundle, bundle, applied, summary)
    assert [(p.kind, p.detail) for p in summary.problems.values()] == []


def test_real_line_count_follows_the_line_reader() -> None:
    """A final unterminated line counts, a lone BOM is no line, CR alone does not end a line."""
    assert [fuzz.real_line_count(b) for b in (b"", b"a", b"a\n", b"a\nb", b"\xef\xbb\xbf", b"a\rb\r\n")] == [
        0,
        1,
        1,
        2,
        0,
        1,
    ]


def test_mutation_plan_depends_on_seed_and_index_only() -> None:
    """The same seed and index always give the same base and mutations; another index differs."""
    assert fuzz.plan(7, 3, 6) == fuzz.plan(7, 3, 6)
    assert len({repr(fuzz.plan(7, i, 6)) for i in range(20)}) > 15
    rng = random.Random(0)
    assert all(
        name in fuzz.MUTATIONS for _, muts in (fuzz.plan(rng.randrange(99), 0, 6),) for name, _ in muts
    )
