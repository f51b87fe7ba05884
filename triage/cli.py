"""The command line: parse flags, call the library, write the output, pick the exit code."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import click

from triage.errors import TriageError

if TYPE_CHECKING:
    from triage.api import Report
    from triage.redact import Redactor

SEVERITIES = ("info", "low", "medium", "high", "critical")


class InputError(click.ClickException):
    """Unusable input or options: one line on stderr, exit code 2 (1 is kept for --fail-on)."""

    exit_code = 2


class _LazyGroup(click.Group):
    """A group whose subcommands are imported only when they run, so `triage --help` stays fast."""

    _lazy: ClassVar[dict[str, str]] = {"simulate": "triage.simulate.cli:simulate_command"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self._lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            module_name, attr = self._lazy[cmd_name].split(":")
            module = __import__(module_name, fromlist=[attr])
            command: click.Command = getattr(module, attr)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="triage")
def main() -> None:
    """Turn a failed integration run's must-gather and test log into a triage report."""


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--test-log",
    "test_logs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Ginkgo test-run log kept outside PATH (repeatable).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "json", "junit", "html"]),
    default="markdown",
    show_default=True,
    help="Output format.",
)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write here instead of stdout.")
@click.option("--select", multiple=True, metavar="RULE", help="Run only these rules (repeatable).")
@click.option("--ignore", multiple=True, metavar="RULE", help="Do not run these rules (repeatable).")
@click.option(
    "--max-bytes",
    metavar="SIZE",
    default=None,
    help="Refuse archives that unpack to more than SIZE (e.g. 2GiB, 500MB).",
)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default=None,
    help="Exit 1 when a finding is at least this severe (for CI).",
)
@click.option(
    "--github/--no-github",
    default=None,
    help="GitHub step summary and annotations (default: on under GITHUB_ACTIONS=true with -o).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show progress on stderr (default: when stderr is a terminal).",
)
def analyze(
    path: Path,
    test_logs: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    max_bytes: str | None,
    fail_on: str | None,
    github: bool | None,
    progress: bool | None,
) -> None:
    """Analyse PATH (a must-gather directory or archive) and print a triage report."""
    from triage.api import analyze as run_analysis
    from triage.archive import Limits, parse_size
    from triage.github import enabled, without_commands
    from triage.progress import Progress
    from triage.redact import Redactor
    from triage.render import render
    from triage.rules.base import Severity

    limits = Limits()
    if max_bytes is not None:
        try:
            limits = limits.with_max_bytes(parse_size(max_bytes))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--max-bytes") from None
    try:
        with Progress.on_stderr(progress) as shown:
            report = run_analysis(
                path, test_logs=test_logs, select=select, ignore=ignore, limits=limits, progress=shown
            )
            shown.stage("rendering")
            redactor = Redactor()  # one numbering for the report, the summary and the annotations
            text = render(report, fmt, fail_on=fail_on, redactor=redactor)
    except TriageError as exc:
        raise InputError(str(exc)) from None
    for warning in _warnings(report):
        click.echo(f"warning: {redactor.text(warning)}", err=True)
    github = enabled(github, to_file=output is not None)
    if output is None:
        click.echo(without_commands(text) if github else text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8", errors="replace")
        except OSError as exc:
            raise InputError(f"cannot write {output}: {exc.strerror}") from None
    if github:
        _github_outputs(report, fail_on, output, redactor)
    if fail_on and any(f.severity >= Severity.parse(fail_on) for f in report.findings):
        raise SystemExit(1)


def _warnings(report: Report) -> list[str]:
    """Files skipped (FIFOs, sockets, devices, links leaving the bundle) or unreadable, each by name."""
    skipped = [note for note in report.bundle.notes if note.startswith("skipped ")]
    unreadable = [
        f"{a.source.name}: {note}"
        for a in report.accounts
        for note in a.notes
        if note.startswith("present but unreadable")
    ]
    return skipped + unreadable


def _github_outputs(report: Report, fail_on: str | None, output: Path | None, redactor: Redactor) -> None:
    """Print the annotations on stdout and append the step summary (a warning on stderr if it cannot)."""
    from triage.github import annotate, append_summary, workflow_commands

    for line in workflow_commands(annotate(report, fail_on, redactor=redactor)):
        click.echo(line)
    warning = append_summary(report, fail_on, None if output is None else str(output), redactor)
    if warning:
        click.echo(f"warning: {warning}", err=True)


@main.command(name="rules")
def list_rules() -> None:
    """List the rules: id, default severity, title."""
    from triage.rules import ALL_RULES

    width = max(len(rule.id) for rule in ALL_RULES)
    for rule in ALL_RULES:
        click.echo(f"{rule.id:<{width}}  {rule.severity.label:<8}  {rule.title}")


@main.command()
@click.argument("rule_id", metavar="RULE")
def explain(rule_id: str) -> None:
    """Print a rule's documentation: what it detects, why it matters, how to fix it."""
    from triage.rules import get_rule

    rule = get_rule(rule_id)
    if rule is None:
        raise InputError(f"no rule {rule_id!r}; `triage rules` lists them")
    click.echo(f"# {rule.id}: {rule.title}\n\nDefault severity: {rule.severity.label}\n")
    click.echo(rule.doc.split("\n", 1)[1].strip() if "\n" in rule.doc else rule.doc)


class Interrupted(BaseException):
    """SIGINT or SIGTERM: unwinds the run, so its temporary files go, then exits 128 + the signal number.

    A BaseException of its own, so that click, which turns KeyboardInterrupt into exit code 1, lets it
    through.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _interrupt(signum: int, frame: object) -> None:
    for other in (signal.SIGINT, signal.SIGTERM):  # a second signal must not interrupt the clean-up
        signal.signal(other, signal.SIG_IGN)
    raise Interrupted(signum)


def run() -> None:
    """Entry point of `triage` and `python -m triage`."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    try:
        main.main(prog_name="triage")
    except BrokenPipeError:  # `triage analyze ... | head` closed the pipe: not an error
        sys.exit(0)
    except Interrupted as exc:
        sys.stderr.write(f"\ntriage: interrupted by {signal.Signals(exc.signum).name}\n")
        sys.exit(128 + exc.signum)
