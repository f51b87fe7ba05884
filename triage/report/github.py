"""GitHub Actions output: a step summary and workflow-command annotations.

The summary is Markdown appended to the file `$GITHUB_STEP_SUMMARY` names: the verdict (every failed
spec with its cause), the findings at or above `--fail-on` and where the full report is. GitHub takes
1 MiB per step summary, so items are kept whole while they fit beside what the file already holds, and
the summary says how many were left out.

Annotations are workflow commands on stdout: `::error` for each failed spec with a cause, at its
source location in the repository (`ci.repo_location`), and `::error` (high or critical) or
`::warning` for each finding at or above `--fail-on` that is no annotated spec's cause. GitHub shows
10 errors and 10 warnings per step (50 per job): the first 10 of each are printed, and one notice says
how many were left out. Data is escaped as GitHub documents it (`%`, CR and LF in messages; also `:`
and `,` in properties), so no text of a log can end a command or start one on a line of its own.

Any other output printed on stdout in this mode (the report itself) is wrapped in
`::stop-commands::TOKEN` ... `::TOKEN::`, the token a hash of that output, so none of its lines is
read as a command. Everything goes through the report's redaction.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from triage.report.ci import cause_text, failed_verdicts, repo_location, reported_findings
from triage.report.model import Report
from triage.report.redact import Redactor
from triage.report.wording import clip, md_code, md_escape, spec_title
from triage.rules.base import Severity

STEP_SUMMARY_LIMIT = 1024 * 1024  # bytes GitHub takes per step summary
SUMMARY_MARGIN = 4096  # room for the notes of what was left out, and for redaction's placeholders
MAX_PER_LEVEL = 10  # error and warning annotations GitHub shows per step
MAX_MESSAGE = 1000
MAX_TITLE = 200


@dataclass(frozen=True)
class Annotation:
    """One workflow command: `::level file=…,line=…,title=…::message`."""

    level: str
    message: str
    title: str
    file: str = ""
    line: int | None = None

    def command(self) -> str:
        """The command line, its data escaped."""
        props = [("file", self.file), ("line", str(self.line) if self.line else ""), ("title", self.title)]
        shown = ",".join(f"{k}={escape_property(v)}" for k, v in props if v)
        return f"::{self.level} {shown}::{escape_data(self.message)}"


def escape_data(text: str) -> str:
    """Escape a command's message: `%`, CR and LF (GitHub's escapeData).

    Args:
        text: any text.

    Returns:
        The text on one line, safe after `::`.
    """
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command's property value: as a message, and also `:` and `,` (GitHub's escapeProperty).

    Args:
        text: any text.

    Returns:
        The text, safe as `key=value` inside a command.
    """
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def enabled(flag: bool | None, to_file: bool) -> bool:
    """Whether GitHub output is on.

    Args:
        flag: `--github` (True), `--no-github` (False), or None.
        to_file: whether the report goes to a file (`--output`).

    Returns:
        The flag when given; else whether the run is a GitHub Actions step (`GITHUB_ACTIONS=true`) that
        writes its report to a file, so a report printed on stdout (`> report.xml`) is left as it was.
    """
    if flag is not None:
        return flag
    return to_file and os.environ.get("GITHUB_ACTIONS") == "true"


def annotate(
    report: Report, fail_on: str | None, root: Path | None = None, redactor: Redactor | None = None
) -> list[Annotation]:
    """Every annotation the report calls for, before GitHub's limits, redacted.

    Args:
        report: the analysis result.
        fail_on: the `--fail-on` severity, or None (findings above info).
        root: the repository's checkout (`$GITHUB_WORKSPACE` or the current directory by default).
        redactor: the run's redactor, so a secret has the report's placeholder (a new one if None).

    Returns:
        Failed specs with a cause first, then findings, most severe first.
    """
    redactor = redactor or Redactor()
    out: list[Annotation] = []
    causes = set()
    for v in failed_verdicts(report):
        if v.cause is None:
            continue
        causes.add(v.cause)
        where = repo_location(v.spec.location, root)
        out.append(
            Annotation(
                "error",
                clip(redactor.text(cause_text(v)), MAX_MESSAGE),
                clip(redactor.text(f"Failed: {spec_title(v.spec.name)}"), MAX_TITLE),
                where.path if where else "",
                where.line if where and where.path else None,
            )
        )
    for f in reported_findings(report, fail_on):
        if f in causes:
            continue
        first = f" ({f.evidence[0].where})" if f.evidence else ""
        about = f" for {f.correlation_id}" if f.correlation_id else ""
        out.append(
            Annotation(
                "error" if f.severity >= Severity.HIGH else "warning",
                clip(redactor.text(f.summary + first), MAX_MESSAGE),
                redactor.text(f"triage: {f.rule} ({f.severity.label}){about}"),
            )
        )
    return out


def workflow_commands(items: list[Annotation]) -> list[str]:
    """The command lines to print: at most 10 errors and 10 warnings, and a notice of the rest.

    Args:
        items: annotations, most important first.

    Returns:
        Lines without their newline.
    """
    kept: list[Annotation] = []
    left = {"error": 0, "warning": 0}
    for item in items:
        if sum(k.level == item.level for k in kept) < MAX_PER_LEVEL:
            kept.append(item)
        else:
            left[item.level] += 1
    lines = [k.command() for k in kept]
    if any(left.values()):
        note = (
            f"{left['error']} error and {left['warning']} warning annotation(s) left out "
            f"(GitHub shows {MAX_PER_LEVEL} of each per step); the step summary and the report list them all"
        )
        lines.append(Annotation("notice", note, "triage").command())
    return lines


def summary(
    report: Report, fail_on: str | None, report_at: str | None, budget: int, redactor: Redactor | None = None
) -> str:
    """The step summary, at most `budget` bytes, redacted; empty when not even its head fits.

    Args:
        report: the analysis result.
        fail_on: the `--fail-on` severity, or None (findings above info).
        report_at: where the full report was written, None when it went to stdout.
        budget: bytes the summary may take.
        redactor: the run's redactor, so a secret has the report's placeholder (a new one if None).

    Returns:
        Markdown ending in a newline, or "".
    """
    from triage.report.context import build_context  # the Markdown report's context: only for a summary

    redactor = redactor or Redactor()
    ctx = build_context(report)
    where = md_code(report_at) if report_at else "this step's log"
    head = redactor.markdown(
        f"## {md_escape(ctx.title)}\n\nThe full report is in {where}.\n\n### Verdict\n\n"
    )
    findings = reported_findings(report, fail_on)
    rows = [
        redactor.markdown(
            f"| {f.severity.label} | `{f.rule}` | {md_code(f.correlation_id) if f.correlation_id else ''} "
            f"| {md_escape(clip(f.summary, MAX_MESSAGE))} |"
        )
        for f in findings
    ]
    verdict = [redactor.markdown(line) for line in ctx.verdict_md]
    table = "\n### Findings\n\n| Severity | Rule | Correlation ID | Summary |\n|---|---|---|---|\n"
    if not rows:
        table = "\n### Findings\n\nNo finding at or above the threshold.\n"
    room = budget - SUMMARY_MARGIN - len(head.encode()) - len(table.encode())
    if room < 0:
        return ""
    kept_verdict, room = _fit(verdict, room)
    kept_rows, _ = _fit(rows, room)
    text = head + "".join(line + "\n" for line in kept_verdict)
    if len(kept_verdict) < len(verdict):
        text += f"\n{len(verdict) - len(kept_verdict)} more verdict line(s) left out: see the report.\n"
    text += table + "".join(row + "\n" for row in kept_rows)
    if len(kept_rows) < len(rows):
        text += f"\n{len(rows) - len(kept_rows)} more finding(s) left out: see the report.\n"
    return text + "\n"


def _fit(items: list[str], room: int) -> tuple[list[str], int]:
    """The leading items that fit in `room` bytes (each with its newline), and the room left."""
    kept = []
    for item in items:
        size = len(item.encode()) + 1
        if size > room:
            break
        kept.append(item)
        room -= size
    return kept, room


def append_summary(
    report: Report, fail_on: str | None, report_at: str | None, redactor: Redactor | None = None
) -> str | None:
    """Append the summary to `$GITHUB_STEP_SUMMARY`, within what the file has left of 1 MiB.

    Args:
        report: the analysis result.
        fail_on: the `--fail-on` severity, or None.
        report_at: where the full report was written, None when it went to stdout.
        redactor: the run's redactor (a new one if None).

    Returns:
        A warning for stderr when no summary could be written, else None.
    """
    name = os.environ.get("GITHUB_STEP_SUMMARY")
    if not name:
        return "GITHUB_STEP_SUMMARY is not set: no step summary written"
    path = Path(name)
    try:
        used = path.stat().st_size if path.exists() else 0
        text = summary(report, fail_on, report_at, STEP_SUMMARY_LIMIT - used, redactor)
        if not text:
            return f"{name}: no room left of GitHub's 1 MiB step summary: no summary written"
        with path.open("a", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        return f"cannot write the step summary {name}: {exc.strerror}"
    return None


def without_commands(text: str) -> str:
    """Text for stdout in which no line can be read as a workflow command.

    Args:
        text: any output (a report), ending in a newline.

    Returns:
        The text between `::stop-commands::TOKEN` and `::TOKEN::`; the token is a hash of the text,
        so the text cannot hold the line that ends it, and the same text gives the same bytes.
    """
    token = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]
    end = "" if text.endswith("\n") else "\n"
    return f"::stop-commands::{token}\n{text}{end}::{token}::\n"
