"""The command line: parse flags, call the library, write the output, pick the exit code."""

from __future__ import annotations

import glob
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import click

from triage.errors import TriageError
from triage.memory import address_limit_mb, check_address_space, limit_arenas, polars_load_error

if TYPE_CHECKING:
    from triage.api import Report
    from triage.report.redact import Redactor

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
@click.option(
    "--export",
    "export_dir",
    type=click.Path(path_type=Path),
    help="Also write the run as Parquet tables under this directory (one dataset for many runs).",
)
@click.option(
    "--history",
    "history_paths",
    multiple=True,
    metavar="PATH",
    help="Exports or saved JSON reports of earlier runs: say how often each problem was seen (repeatable).",
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
    export_dir: Path | None,
    history_paths: tuple[Path, ...],
) -> None:
    """Analyse PATH (a must-gather directory or archive) and print a triage report."""
    from triage.api import analyze as run_analysis
    from triage.bundle.archive import Limits, parse_size
    from triage.bundle.progress import Progress
    from triage.report.github import enabled, without_commands
    from triage.report.redact import Redactor
    from triage.report.render import render
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
            seen = _seen_before(report, history_paths) if history_paths else None
            redactor = Redactor()  # one numbering for the report, the summary and the annotations
            text = render(report, fmt, fail_on=fail_on, seen=seen, redactor=redactor)
        if export_dir is not None:
            from triage.report.export import export_run
            from triage.report.render import to_json

            export_run(report, to_json(report), export_dir)
    except TriageError as exc:
        raise InputError(str(exc)) from None
    for warning in _warnings(report):
        click.echo(f"warning: {redactor.text(warning)}", err=True)
    github = enabled(github, to_file=output is not None)
    _emit(without_commands(text) if github and output is None else text, output)
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
    from triage.report.github import annotate, append_summary, workflow_commands

    for line in workflow_commands(annotate(report, fail_on, redactor=redactor)):
        click.echo(line)
    warning = append_summary(report, fail_on, None if output is None else str(output), redactor)
    if warning:
        click.echo(f"warning: {warning}", err=True)


def _seen_before(report: Any, paths: tuple[Path, ...]) -> Any:
    """How often each finding and failed spec of `report` was seen in the runs under `paths`."""
    from triage.report.render import to_json
    from triage.runs.history import seen_in
    from triage.runs.history_load import load_history

    history = load_history([str(p) for p in paths], warn=_warn)
    return seen_in(history, to_json(report))


def _warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def _emit(text: str, output: Path | None) -> None:
    """Print `text`, or write it to `output`."""
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}") from None


def _output_options(command: Callable[..., None]) -> Callable[..., None]:
    """`--format markdown|json` and `--output FILE`, as `compare` and `history` take them."""
    command = click.option(
        "--output", "-o", type=click.Path(path_type=Path), help="Write here instead of stdout."
    )(command)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["markdown", "json"]),
        default="markdown",
        show_default=True,
        help="Output format.",
    )(command)


@main.command()
@click.argument("before", type=click.Path(path_type=Path))
@click.argument("after", type=click.Path(path_type=Path))
@_output_options
@click.option("--fail-on-worse", is_flag=True, help="Exit 1 when anything got worse from BEFORE to AFTER.")
def compare(before: Path, after: Path, fmt: str, output: Path | None, fail_on_worse: bool) -> None:
    """Compare two runs: BEFORE and AFTER are each a bundle, an archive or a saved `--format json` report."""
    from triage.api import analyze as run_analysis
    from triage.report.render import to_json
    from triage.runs.compare import compare as compare_runs
    from triage.runs.render import render_comparison
    from triage.runs.sides import load_side

    try:
        sides = [load_side(side, lambda path: to_json(run_analysis(path))) for side in (before, after)]
        comparison = compare_runs(sides[0], sides[1])
        text = render_comparison(comparison, fmt)
    except TriageError as exc:
        raise InputError(str(exc)) from None
    _emit(text, output)
    if fail_on_worse and comparison.worse:
        raise SystemExit(1)


@main.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@_output_options
@click.option(
    "--fixed-after",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="A problem none of the newest N runs had is fixed.",
)
def history(paths: tuple[str, ...], fmt: str, output: Path | None, fixed_after: int) -> None:
    """How each cause and failing spec fared across runs: PATHs are exports, saved JSON reports or globs."""
    import polars as pl

    from triage.runs.history import summarize
    from triage.runs.history_load import load_history
    from triage.runs.render import render_history

    try:
        runs = load_history(list(paths), warn=_warn)
        if not runs.runs.height:
            raise InputError(f"no run found in {', '.join(paths)}")
        text = render_history(summarize(runs, fixed_after), fmt)
    except TriageError as exc:
        raise InputError(str(exc)) from None
    except (pl.exceptions.PolarsError, OSError) as exc:
        reason = (str(exc).strip() or type(exc).__name__).splitlines()[0]
        raise InputError(f"cannot read the runs: {reason}") from None
    _emit(text, output)


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


def _inputs(args: list[str]) -> tuple[str, list[Path]]:
    """The subcommand in `args` and the paths it reads (its arguments, globs expanded), nothing run."""
    name = next((a for a in args if not a.startswith("-")), "")
    command = main.get_command(click.Context(main), name) if name else None
    if command is None:
        return name, []
    try:
        params = command.make_context(name, args[args.index(name) + 1 :], resilient_parsing=True).params
    except click.ClickException:
        return name, []
    paths: list[Path] = []
    for param in command.params:
        if isinstance(param, click.Argument):
            value = params.get(param.name or "")
            for item in value if isinstance(value, tuple) else [value]:
                if item is not None:
                    paths.extend(Path(p) for p in sorted(glob.glob(str(item), recursive=True)) or [str(item)])
    return name, paths


def run() -> None:
    """Entry point of `triage` and `python -m triage`."""
    limit_arenas()  # before polars is imported: see triage/memory.py
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    if address_limit_mb() is not None:
        command, inputs = _inputs(sys.argv[1:])
        warning = check_address_space(command, inputs) if command in ("analyze", "history") else None
        if warning:
            sys.stderr.write(f"warning: {warning}\n")
        failed = polars_load_error() if command else None
        if failed:
            room = f"the address-space limit (ulimit -v) of {address_limit_mb() or 0:.0f} MB"
            sys.stderr.write(f"triage: cannot load polars under {room}: {failed}\n")
            sys.exit(InputError.exit_code)
    try:
        main.main(prog_name="triage")
    except MemoryError:  # a Python allocation failed: the run unwinds, so its temporary files go
        command, inputs = _inputs(sys.argv[1:])
        limit = address_limit_mb()
        reason = (
            "no memory left" if limit is None else f"the address-space limit (ulimit -v) is {limit:.0f} MB"
        )
        names = ", ".join(str(p) for p in inputs) or "the input"
        sys.stderr.write(f"triage: out of memory reading {names}: {reason}\n")
        sys.exit(InputError.exit_code)
    except BrokenPipeError:  # `triage analyze ... | head` closed the pipe: not an error
        sys.exit(0)
    except Interrupted as exc:
        sys.stderr.write(f"\ntriage: interrupted by {signal.Signals(exc.signum).name}\n")
        sys.exit(128 + exc.signum)
