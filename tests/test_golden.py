"""Golden reports of the committed bundles: reviewed like code, valid Markdown, valid Mermaid, small.

Refresh with `pytest tests/test_golden.py --update-golden` and read the diff before committing.
Set TRIAGE_MMDC to a Mermaid CLI (`mmdc`) to also render every diagram with Mermaid itself.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tests.mermaid_check import problems
from triage.api import analyze
from triage.report.render import render

ROOT = Path(__file__).resolve().parent.parent
BUNDLES = ROOT / "fixtures" / "bundles"
GOLDEN = ROOT / "fixtures" / "golden"
SCENARIOS = sorted(p.name for p in BUNDLES.iterdir() if p.is_dir())
MERMAID = re.compile(r"```mermaid\n(.*?)\n```", re.S)


def _render(name: str, fmt: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(ROOT)  # the report names the bundle as given: keep it repository-relative
    return render(analyze(Path("fixtures/bundles") / name), fmt)


@pytest.mark.parametrize("fmt", ["md", "json"])
@pytest.mark.parametrize("name", SCENARIOS)
def test_report_matches_its_golden_file(
    name: str, fmt: str, monkeypatch: pytest.MonkeyPatch, update_golden: bool
) -> None:
    """The report of each committed bundle is byte for byte its reviewed golden file."""
    text = _render(name, "markdown" if fmt == "md" else "json", monkeypatch)
    golden = GOLDEN / f"{name}.{fmt}"
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"missing {golden}; run pytest --update-golden and review it"
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", SCENARIOS)
def test_golden_markdown_renders_to_html_with_every_table_and_diagram(name: str) -> None:
    """Every table parses as a table and every Mermaid block as a mermaid code block."""
    text = (GOLDEN / f"{name}.md").read_text(encoding="utf-8")
    html = MarkdownIt("commonmark").enable("table").render(text)
    separators = len(re.findall(r"^\|(?:-{3}|-{3}:|:-{3}|-+:?)\|", text, re.M))
    assert html.count("<table>") == separators
    assert html.count('<code class="language-mermaid">') == len(MERMAID.findall(text))
    assert len(text.encode()) < 1024 * 1024


@pytest.mark.parametrize("name", SCENARIOS)
def test_golden_mermaid_blocks_are_valid(name: str) -> None:
    """Each diagram uses only the Mermaid statements the report emits, with declared participants."""
    for block in MERMAID.findall((GOLDEN / f"{name}.md").read_text(encoding="utf-8")):
        assert problems(block) == [], block


@pytest.mark.skipif(not os.environ.get("TRIAGE_MMDC"), reason="set TRIAGE_MMDC to a Mermaid CLI to run")
@pytest.mark.parametrize("name", SCENARIOS)
def test_golden_mermaid_blocks_render_with_the_mermaid_cli(name: str, tmp_path: Path) -> None:
    """Mermaid itself renders every diagram of the golden reports."""
    for i, block in enumerate(MERMAID.findall((GOLDEN / f"{name}.md").read_text(encoding="utf-8"))):
        source = tmp_path / f"d{i}.mmd"
        source.write_text(block, encoding="utf-8")
        command = [os.environ["TRIAGE_MMDC"], "-i", str(source), "-o", str(tmp_path / f"d{i}.svg")]
        if os.environ.get("TRIAGE_MMDC_CONFIG"):
            command += ["-p", os.environ["TRIAGE_MMDC_CONFIG"]]
        proc = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        assert proc.returncode == 0 and (tmp_path / f"d{i}.svg").exists(), proc.stderr[-2000:]
