"""HTML output: one self-contained page from the Markdown report's context, escaped, balanced, offline."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape

from triage.api import analyze
from triage.report.context import build_context
from triage.report.html import md_block, md_inline
from triage.report.render import TEMPLATE_DIRS, render
from triage.report.views import ReportContext

BUNDLES = Path(__file__).resolve().parents[1] / "fixtures" / "bundles"
SPEC = "should emit audit event with policy-defined fallback severity"
PLANTED = '<script>alert("x")</script><img src=https://example.com/p.png>'
VOID = {"meta", "br", "img", "hr", "input", "link"}


class _Tags(HTMLParser):
    """Open and close tags in document order, with each start tag's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attrs += [(tag, k, v) for k, v in attrs]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"</{tag}> at {self.getpos()}")


def _tags(text: str) -> _Tags:
    parser = _Tags()
    parser.feed(text)
    parser.close()
    return parser


def _planted(root: Path) -> Path:
    bundle = root / "race"
    shutil.copytree(BUNDLES / "04-race-timeout", bundle)
    log = bundle / "integration-signalprocessing.log"
    log.write_text(log.read_text(encoding="utf-8").replace(SPEC, SPEC + PLANTED), encoding="utf-8")
    return bundle


def test_page_is_balanced_escaped_and_refers_to_nothing_outside(tmp_path: Path) -> None:
    """Markup planted in a spec name is shown as text; every tag closes; no attribute loads anything."""
    text = render(analyze(_planted(tmp_path)), "html")
    tags = _tags(text)
    assert tags.problems == [] and tags.stack == []
    assert "<script" not in text and "<img" not in text and "<link" not in text
    assert escape(SPEC + PLANTED) in text
    loading = [(t, k, v) for t, k, v in tags.attrs if k in ("src", "href", "action", "srcset", "data")]
    assert loading == []
    assert not re.search(r"url\(|@import", text)


def test_page_shows_the_markdown_reports_facts() -> None:
    """Every finding, spec heading and Mermaid diagram of the shared context appears in the page."""
    report = analyze(BUNDLES / "07-datastorage-down")
    ctx = build_context(report)
    text = render(report, "html")
    for f in (*ctx.findings, *ctx.info):
        assert f"{escape(f.summary)}</" in text
    for section in ctx.specs:
        assert f"<h3>{escape(section.heading)}</h3>" in text
    diagrams = [s.diagram for s in ctx.specs if s.diagram] + ([ctx.write_chart] if ctx.write_chart else [])
    assert text.count('<pre class="mermaid-source">') == len(diagrams) >= 2
    assert all(escape(d) in text for d in diagrams)
    assert text == render(analyze(BUNDLES / "07-datastorage-down"), "html")


def test_every_context_field_appears_in_the_html_template() -> None:
    """The HTML template uses every field of ReportContext, as the Markdown one does."""
    template = next(d for d in TEMPLATE_DIRS if d.is_dir()) / "report.html.j2"
    used = set(re.findall(r"ctx\.(\w+)", template.read_text(encoding="utf-8")))
    assert used == {f.name for f in dataclasses.fields(ReportContext)}


def test_report_markdown_becomes_html() -> None:
    """Code spans (with table-escaped pipes), bold, backslash escapes and bullet lists are converted."""
    assert md_inline(r"**Do first:** run `a \| b` on x\_y <z>") == (
        "<strong>Do first:</strong> run <code>a | b</code> on x_y &lt;z&gt;"
    )
    assert md_inline("`` `x` ``") == "<code>`x`</code>"
    block = md_block("**1 failed.**\n- one `a`\n- two\n  continued\n\nLast *\\*")
    assert block == (
        "<p><strong>1 failed.</strong></p>\n<ul><li>one <code>a</code></li><li>two continued</li></ul>\n"
        "<p>Last **</p>"
    )


BROWSERS = ("chromium", "chromium-browser", "google-chrome")


@pytest.mark.skipif(not any(shutil.which(b) for b in BROWSERS), reason="no headless Chromium installed")
def test_headless_chromium_reads_the_page_offline(tmp_path: Path) -> None:
    """Chromium opens the file without a network and its DOM holds the verdict, tables and diagrams."""
    report = analyze(BUNDLES / "07-datastorage-down")
    page = tmp_path / "report.html"
    page.write_text(render(report, "html"), encoding="utf-8")
    browser = next(b for b in map(shutil.which, BROWSERS) if b)
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert '<h2 id="verdict">Verdict</h2>' in dom
    assert dom.count('<pre class="mermaid-source">') == page.read_text().count('<pre class="mermaid-source">')
    assert dom.count("<table>") == page.read_text().count("<table>") > 5
    assert "should emit error audit event when severity determination fails" in dom
