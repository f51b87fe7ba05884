"""Documentation stays complete: commands have help, rules have docs and fixtures, the README lists them."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import triage.rules
from triage.cli import main
from triage.rules import ALL_RULES
from triage.rules.base import parse_doc

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("command", ["analyze", "rules", "explain", "simulate"])
def test_every_command_has_help(command: str) -> None:
    """`triage COMMAND --help` exits 0 and describes the command."""
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output
    assert len(result.output.splitlines()) >= 4


def test_every_rule_module_is_registered_once() -> None:
    """Each module in triage/rules but helpers (private, base, wording) is in ALL_RULES; ids are unique."""
    modules = {
        name
        for _, name, _ in pkgutil.iter_modules(triage.rules.__path__)
        if not name.startswith("_") and name not in ("base", "wording")
    }
    registered = {rule.id.replace("-", "_") for rule in ALL_RULES}
    assert modules == registered
    assert len({rule.id for rule in ALL_RULES}) == len(ALL_RULES)
    for rule in ALL_RULES:
        module = importlib.import_module(f"triage.rules.{rule.id.replace('-', '_')}")
        assert module.RULE is rule


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.id)
def test_every_rule_has_its_doc_sections_and_a_fixture(rule: triage.rules.Rule) -> None:
    """Docs have What it detects / Why it matters / How to fix, and fixtures/rules/<id>/ exists."""
    doc = parse_doc(rule.doc)
    assert len(doc.what) > 40 and len(doc.why) > 40 and len(doc.fix) > 40
    assert "Not written yet" not in rule.doc
    assert (ROOT / "fixtures" / "rules" / rule.id / "cases.json").is_file()


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.id)
def test_explain_prints_the_rule_docs(rule: triage.rules.Rule) -> None:
    """`triage explain ID` prints the rule's title and its three sections."""
    result = CliRunner().invoke(main, ["explain", rule.id])
    assert result.exit_code == 0
    assert rule.title in result.output
    for heading in ("## What it detects", "## Why it matters", "## How to fix"):
        assert heading in result.output


def test_readme_lists_every_rule_with_its_title() -> None:
    """The README's rules table has a row per rule with its id and title."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for rule in ALL_RULES:
        assert f"| `{rule.id}` | {rule.severity.label} | {rule.title} |" in readme, rule.id


def test_rules_command_lists_every_rule() -> None:
    """`triage rules` prints one line per rule."""
    result = CliRunner().invoke(main, ["rules"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()] == [r.id for r in ALL_RULES]
