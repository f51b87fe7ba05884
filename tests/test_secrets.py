"""Secrets judged by detect-secrets: nothing it finds in a bundle reaches any output of any command."""

from __future__ import annotations

import html
import re
import urllib.parse
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests import secret_corpus as corpus
from triage.cli import main
from triage.report.redact import Redactor

FORMATS = ("markdown", "json", "junit", "html")
PLACEHOLDER = re.compile(r"\[REDACTED-\d+\]")


def _readable(text: str) -> str:
    """The text with every escape an output format applies undone, so an escaped secret still shows."""
    for undo in (lambda t: re.sub(r"\\(.)", r"\1", t), html.unescape, urllib.parse.unquote):
        text += "\n" + undo(text)
    return text


def _leaks(found: set[str], outputs: dict[str, str]) -> dict[str, list[str]]:
    readable = {name: _readable(text) for name, text in outputs.items()}
    leaks = {name: sorted(s for s in found if s in text) for name, text in readable.items()}
    return {name: secrets for name, secrets in leaks.items() if secrets}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The corpus planted in a committed January bundle (console DataStorage) and a simulated current one
    (JSON DataStorage), the latter written by `triage simulate`."""
    root = tmp_path_factory.mktemp("planted")
    simulated = root / "simulated" / "current"
    result = CliRunner().invoke(
        main, ["simulate", "datastorage-down", str(simulated), "--era", "current", "--specs", "12"]
    )
    assert result.exit_code == 0, result.output
    return {"january": corpus.plant(root / "a"), "current": corpus.plant(root / "b", simulated)}


def _run_all(bundle: Path, out: Path) -> dict[str, str]:
    """Every analyze output of the bundle: each format to stdout and to a file, with GitHub outputs."""
    outputs: dict[str, str] = {}
    runner = CliRunner()
    for fmt in FORMATS:
        result = runner.invoke(main, ["analyze", str(bundle), "--format", fmt])
        assert result.exit_code == 0, result.output
        outputs[f"{fmt} stdout"], outputs[f"{fmt} stderr"] = result.stdout, result.stderr
        summary = out / f"summary-{fmt}.md"
        report = out / f"report-{fmt}"
        env = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_ACTIONS": "true"}
        args = ["analyze", str(bundle), "--format", fmt, "--github", "-o", str(report), "--progress"]
        result = runner.invoke(main, args, env=env)
        assert result.exit_code == 0, result.output
        outputs[f"{fmt} annotations"], outputs[f"{fmt} progress"] = result.stdout, result.stderr
        outputs[f"{fmt} file"] = report.read_text(encoding="utf-8")
        outputs[f"{fmt} summary"] = summary.read_text(encoding="utf-8")
    return outputs


@pytest.mark.parametrize("era", ["january", "current"])
def test_nothing_the_scanner_finds_in_the_inputs_reaches_an_output(
    bundles: dict[str, Path], era: str, tmp_path: Path
) -> None:
    """Every secret detect-secrets finds in any input file is absent from every file, stdout and stderr."""
    bundle = bundles[era]
    found = corpus.scan(sorted(p for p in bundle.rglob("*") if p.is_file()))
    unseen = [v for v in corpus.PLANTED if not any(v in f or f in v for f in found)]
    assert unseen == []  # the oracle finds every planted secret
    outputs = _run_all(bundle, tmp_path)
    assert _leaks(found, outputs) == {}
    assert PLACEHOLDER.search(outputs["markdown file"])


def test_the_planted_secrets_would_reach_the_outputs_unredacted(
    bundles: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without redaction most of the corpus shows in the report, so the leak test above can fail."""
    bundle = bundles["january"]
    found = corpus.scan(sorted(p for p in bundle.rglob("*") if p.is_file()))
    monkeypatch.setattr(Redactor, "_spans", lambda self, s: [])
    monkeypatch.setattr(Redactor, "placeholder", lambda self, secret: secret)
    result = CliRunner().invoke(main, ["analyze", str(bundle)])
    shown = [s for s in found if s in _readable(result.stdout)]
    assert len(shown) >= len(corpus.PHRASES)


def test_a_secret_has_one_placeholder_across_the_report_summary_and_annotations(
    bundles: dict[str, Path], tmp_path: Path
) -> None:
    """The report, the step summary and the annotations of one run give a secret the same placeholder."""
    bundle = bundles["january"]
    summary, report = tmp_path / "summary.md", tmp_path / "report.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    result = CliRunner().invoke(main, ["analyze", str(bundle), "--github", "-o", str(report)], env=env)
    assert result.exit_code == 0, result.output
    numbers: dict[str, set[str]] = {}  # the name a secret is assigned to: its placeholders
    for out in (report.read_text(encoding="utf-8"), summary.read_text(encoding="utf-8"), result.stdout):
        # A quote cut inside a secret (`GITHUB_TOKEN=ghp_x …`) shows only a part of it: left out.
        for match in re.finditer(r"(\w+)[=:] ?(\[REDACTED-\d+\])(?! …)", _readable(out)):
            numbers.setdefault(match[1], set()).add(match[2])
    assert {"GITHUB_TOKEN", "password", "token"} <= set(numbers)
    assert {name: p for name, p in numbers.items() if len(p) > 1} == {}


def test_an_aws_key_id_after_an_escaped_newline_is_redacted() -> None:
    """A key ID after a JSON `\\n` in a DataStorage error (a wrapped Go error) is redacted in Markdown."""
    line = (
        "2026-01-14T15:25:03.120Z\tERROR\tdatastorage\tserver/server.go:120\tFailed to archive audit batch\t"
        f'{{"error": "InvalidAccessKeyId: key not found\\n{corpus.AWS_KEY_ID}\\n\\tstatus code: 403"}}'
    )
    out = Redactor().markdown(line.replace("_", "\\_"))
    assert corpus.AWS_KEY_ID not in out and "\\n[REDACTED-1]\\n" in out
