"""GitHub Actions output: step summary within 1 MiB, annotations within GitHub's limits, escaped data."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.realworld import case, needs_realworld
from triage.api import analyze
from triage.cli import main
from triage.report.ci import repo_location
from triage.report.github import (
    MAX_PER_LEVEL,
    STEP_SUMMARY_LIMIT,
    Annotation,
    append_summary,
    escape_property,
    summary,
    without_commands,
    workflow_commands,
)

BUNDLES = Path(__file__).resolve().parents[1] / "fixtures" / "bundles"
RACE = BUNDLES / "04-race-timeout"
TEST_LOG = "integration-signalprocessing.log"
SPEC = "should emit audit event with policy-defined fallback severity"
PLANTED = "::error title=pwned::100% owned, a:b"
COMMAND = re.compile(r"^::(error|warning|notice) ")


def _planted_race(root: Path) -> Path:
    """The race bundle whose failed spec's name carries a workflow command and a percent sign."""
    bundle = root / "race"
    shutil.copytree(RACE, bundle)
    log = bundle / TEST_LOG
    log.write_text(log.read_text(encoding="utf-8").replace(SPEC, f"{SPEC} {PLANTED}"), encoding="utf-8")
    return bundle


def _commands_outside_stop(stdout: str) -> list[str]:
    """The lines GitHub would read as commands: those outside a stop-commands block."""
    lines, token = [], None
    for line in stdout.splitlines():
        if token is not None:
            token = None if line == f"::{token}::" else token
            continue
        if line.startswith("::stop-commands::"):
            token = line.removeprefix("::stop-commands::")
            continue
        lines.append(line)
    assert token is None, "a stop-commands block is never closed"
    return lines


def test_github_mode_writes_summary_and_escaped_annotations(tmp_path: Path) -> None:
    """--github appends the summary and prints one error for the failed spec at its repository path,
    its planted command escaped, and the report inside a stop-commands block."""
    summary_file = tmp_path / "summary.md"
    summary_file.write_text("## Earlier step\n", encoding="utf-8")
    env = {"GITHUB_STEP_SUMMARY": str(summary_file), "GITHUB_WORKSPACE": str(tmp_path / "none")}
    result = CliRunner().invoke(main, ["analyze", str(_planted_race(tmp_path)), "--github"], env=env)
    assert result.exit_code == 0, result.output
    commands = _commands_outside_stop(result.stdout)
    assert all(COMMAND.match(line) for line in commands), commands
    (error,) = commands
    where = "file=test/integration/signalprocessing/severity_integration_test.go,line=297"
    assert error.startswith(f"::error {where},title=Failed%3A ")
    assert "%3A%3Aerror title=pwned%3A%3A100%25 owned%2C a%3Ab::flush-query-race (high): " in error
    assert (
        result.stdout.startswith("::stop-commands::") and "\n# Triage: signalprocessing run" in result.stdout
    )
    text = summary_file.read_text(encoding="utf-8")
    assert text.startswith("## Earlier step\n## Triage: signalprocessing run ")
    assert "The full report is in this step's log." in text
    assert "| high | `flush-query-race` | `sev-audit-rr-010` |" in text


def test_github_actions_turns_it_on_only_for_a_report_written_to_a_file(tmp_path: Path) -> None:
    """In a GitHub Actions step, -o brings the summary and annotations; a report on stdout stays plain."""
    summary_file = tmp_path / "summary.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary_file)}
    plain = CliRunner().invoke(main, ["analyze", str(RACE), "--format", "junit"])
    piped = CliRunner().invoke(main, ["analyze", str(RACE), "--format", "junit"], env=env)
    assert piped.exit_code == 0 and piped.stdout == plain.stdout and not summary_file.exists()
    out = tmp_path / "report.xml"
    filed = CliRunner().invoke(main, ["analyze", str(RACE), "--format", "junit", "-o", str(out)], env=env)
    assert filed.exit_code == 0 and out.read_text(encoding="utf-8") == plain.stdout
    assert [line[:8] for line in filed.stdout.splitlines()] == ["::error "]
    assert f"The full report is in `{out}`." in summary_file.read_text(encoding="utf-8")


def test_annotations_stop_at_github_limits_and_say_how_many_were_left_out() -> None:
    """Of 13 errors and 11 warnings, 10 of each are printed and one notice counts the other 4."""
    items = [Annotation("error", f"e{i}", "t") for i in range(13)]
    items += [Annotation("warning", f"w{i}", "t") for i in range(11)]
    lines = workflow_commands(items)
    assert sum(line.startswith("::error ") for line in lines) == MAX_PER_LEVEL
    assert sum(line.startswith("::warning ") for line in lines) == MAX_PER_LEVEL
    assert lines[-1].startswith("::notice title=triage::3 error and 1 warning annotation(s) left out")
    assert lines[:MAX_PER_LEVEL] == [f"::error title=t::e{i}" for i in range(MAX_PER_LEVEL)]


def test_a_newline_in_data_cannot_start_a_command() -> None:
    """CR, LF and percent signs in a message are escaped, and `:`/`,` too in properties."""
    line = Annotation("warning", "50% done\r\n::error::pwned", "a,b:c", "x:y.go", 3).command()
    assert line == "::warning file=x%3Ay.go,line=3,title=a%2Cb%3Ac::50%25 done%0D%0A::error::pwned"
    assert "\n" not in line and escape_property("%0A") == "%250A"


def test_stop_commands_token_depends_on_the_text_only() -> None:
    """The report printed in GitHub mode is fenced by a token derived from it: same text, same bytes."""
    text = "| `x` | ::error::pwned |\n"
    fenced = without_commands(text)
    token = fenced.split("\n", 1)[0].removeprefix("::stop-commands::")
    assert len(token) == 32 and fenced == f"::stop-commands::{token}\n{text}::{token}::\n"
    assert fenced == without_commands(text) != without_commands(text + "x\n")


def test_summary_keeps_whole_items_within_its_budget() -> None:
    """A summary given too little room keeps whole findings, says how many it left out, stays in budget."""
    report = analyze(BUNDLES / "07-datastorage-down")
    full = summary(report, "info", "report.md", STEP_SUMMARY_LIMIT)
    rows = [line for line in full.splitlines() if line.startswith("| ") and "Severity" not in line]
    assert len(rows) == len(report.findings) >= 5
    budget = len(full.encode()) + 4096 - sum(len(r.encode()) + 1 for r in rows[-3:])
    cut = summary(report, "info", "report.md", budget)
    assert len(cut.encode()) <= budget
    assert [line for line in cut.splitlines() if line in rows] == rows[:-3]
    assert "\n3 more finding(s) left out: see the report.\n" in cut


def test_append_summary_respects_what_the_file_already_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step summary file nearly at 1 MiB gets no summary and a warning, never more than 1 MiB."""
    report = analyze(BUNDLES / "07-datastorage-down")
    target = tmp_path / "summary.md"
    target.write_bytes(b"x" * (STEP_SUMMARY_LIMIT - 1000))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    warning = append_summary(report, None, None)
    assert warning is not None and "no room left" in warning
    assert target.stat().st_size == STEP_SUMMARY_LIMIT - 1000
    target.write_bytes(b"x" * (STEP_SUMMARY_LIMIT - 8000))
    assert append_summary(report, None, None) is None
    assert STEP_SUMMARY_LIMIT - 8000 < target.stat().st_size <= STEP_SUMMARY_LIMIT
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    assert append_summary(report, None, None) == "GITHUB_STEP_SUMMARY is not set: no step summary written"


def test_spec_location_is_the_tail_that_names_a_file_of_the_checkout(tmp_path: Path) -> None:
    """A runner's absolute path loses everything up to the checkout's root, whatever folders it names."""
    source = tmp_path / "test" / "integration" / "kubernaut" / "audit_test.go"
    source.parent.mkdir(parents=True)
    source.write_text("package x\n")
    runner = "/home/runner/work/kubernaut/kubernaut/test/integration/kubernaut/audit_test.go:42"
    found = repo_location(runner, tmp_path)
    assert found is not None and (found.path, found.line) == ("test/integration/kubernaut/audit_test.go", 42)
    laptop = "/Users/me/go/src/github.com/jordigilh/kubernaut/pkg/audit/store_test.go:7"
    found = repo_location(laptop, tmp_path)
    assert found is not None and (found.path, found.line) == ("pkg/audit/store_test.go", 7)
    found = repo_location("/opt/elsewhere/main_test.go:3", tmp_path)
    assert found is not None and found.path == ""
    assert repo_location(None, tmp_path) is None


def test_readme_workflow_step_uses_existing_options() -> None:
    """The README's GitHub Actions step runs `triage analyze` with options the command has, on failure."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```yaml\n(.*?)```", readme, re.S)
    assert block.count("if: failure()") == 3 and "actions/upload-artifact@" in block
    commands = re.findall(r"\$TRIAGE analyze (.*?)(?<!\\)\n", block, re.S)
    assert len(commands) == 2
    known = {
        name for param in main.commands["analyze"].params for name in (*param.opts, *param.secondary_opts)
    }
    used = {word for command in commands for word in command.split() if word.startswith("-")}
    assert used <= known and {"--no-github", "--test-log", "-o", "--format"} <= used


@needs_realworld
def test_a_runner_path_from_a_real_ci_log_becomes_a_repository_path(tmp_path: Path) -> None:
    """A real CI run whose batch was dropped after a 400 annotates its spec at its repository path."""
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "GITHUB_WORKSPACE": str(tmp_path)}
    result = CliRunner().invoke(
        main, ["analyze", str(case("k02") / "bundle"), "--github", "-o", str(tmp_path / "r.md")], env=env
    )
    assert result.exit_code == 0, result.output
    (error,) = result.stdout.splitlines()
    where = "file=test/integration/signalprocessing/severity_integration_test.go,line=1,"
    assert error.startswith(f"::error {where}") and "::dropped-events (high): " in error
