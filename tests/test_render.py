"""Rendering helpers: Markdown escaping and the template's use of its context."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from triage.api import analyze
from triage.report.render import TEMPLATE_DIRS, markdown_environment, render
from triage.report.views import ReportContext
from triage.report.wording import md_code, md_escape

BUNDLE = Path(__file__).resolve().parents[1] / "fixtures" / "bundles" / "02-healthy"


def test_md_escape_neutralises_markup_and_table_pipes() -> None:
    """Spec names with pipes, stars or brackets cannot break a table row or add emphasis."""
    assert md_escape("a | b *c* [d]") == "a \\| b \\*c\\* \\[d\\]"


def test_md_escape_folds_newlines_into_one_line() -> None:
    """A multi-line failure message stays inside its table cell."""
    assert md_escape("Expected\n    <int>: 5\nto equal") == "Expected \\<int\\>: 5 to equal"


def test_md_code_uses_a_longer_fence_than_any_backtick_run_inside() -> None:
    """Text holding backticks still renders as one code span."""
    assert md_code("a ``b`` c") == "```a ``b`` c```"
    assert md_code("`x`") == "`` `x` ``"


def test_md_code_escapes_pipes_for_table_cells() -> None:
    """A quoted log line with a pipe does not split a table cell."""
    assert md_code("FAIL! -- 49 Passed | 8 Failed") == "`FAIL! -- 49 Passed \\| 8 Failed`"


def test_every_context_field_appears_in_the_template() -> None:
    """The report template uses every field of ReportContext, so no computed value is silently lost."""
    template = next(d for d in TEMPLATE_DIRS if d.is_dir()) / "report.md.j2"
    text = template.read_text(encoding="utf-8")
    used = set(re.findall(r"ctx\.(\w+)", text))
    assert used == {f.name for f in dataclasses.fields(ReportContext)}


def test_long_lists_are_cut_with_a_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """Findings, timeline rows and evidence beyond the caps are left out and counted, never silently."""
    from pathlib import Path

    import triage.report.context as report_module
    import triage.report.context_specs as specs_module
    from triage.api import analyze
    from triage.report.render import render

    monkeypatch.setattr(report_module, "MAX_FINDINGS", 1)
    monkeypatch.setattr(specs_module, "MAX_TIMELINE_ROWS", 3)
    monkeypatch.setattr(report_module, "MAX_EVIDENCE", 2)
    bundle = Path(__file__).resolve().parent.parent / "fixtures" / "bundles" / "01-jan14-1025"
    text = render(analyze(bundle), "markdown")
    assert "1 more finding(s) are in the JSON output" in text
    assert "more row(s)" in text
    assert "more line(s)" in text
    assert text.count("### 1. ") == 1 and "### 2. " not in text


@pytest.mark.parametrize("cache_home", ["unwritable", "corrupt"])
def test_template_cache_that_cannot_be_used_changes_nothing(
    cache_home: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache place that is a file, or a cache file that holds junk, gives the same report."""
    report = analyze(BUNDLE)
    expected = render(report, "markdown")
    if cache_home == "unwritable":
        (tmp_path / "cache").write_text("a file, not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    markdown_environment.cache_clear()
    try:
        assert render(report, "markdown") == expected
        if cache_home == "corrupt":
            (cached,) = (tmp_path / "cache" / "triage" / "templates").iterdir()
            cached.write_bytes(b"\x00junk")
            markdown_environment.cache_clear()
            assert render(report, "markdown") == expected
    finally:
        markdown_environment.cache_clear()
