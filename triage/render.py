"""Render a Report as Markdown (Jinja, templates/) or JSON.

Templates see only a typed ReportContext: every value is already worded and formatted here, so the
templates hold layout and nothing else. Undefined variables are errors.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import jinja2

from triage.api import Report, format_offset
from triage.testrun import TestRun

SCHEMA_VERSION = 1
_PACKAGE_DIR = Path(__file__).parent
# Installed wheels carry the templates inside the package; a source checkout keeps them at the top.
TEMPLATE_DIRS = (_PACKAGE_DIR / "templates", _PACKAGE_DIR.parent / "templates")
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#"})


def tool_version() -> str:
    """The installed version of triage."""
    try:
        return metadata.version("triage")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def md_escape(value: object) -> str:
    """Escape text for Markdown prose and table cells (one line, no markup)."""
    return " ".join(str(value).split()).translate(_MD_SPECIAL)


def md_code(value: object) -> str:
    """Wrap text in a code span that survives backticks inside it and table cells."""
    text = " ".join(str(value).split()).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


@dataclass(frozen=True)
class SpecRow:
    """A failed or interrupted spec, worded for the report."""

    state: str
    name: str
    location: str
    correlation_ids: tuple[str, ...]
    failure: str


@dataclass(frozen=True)
class TestsView:
    """One test log's results."""

    file: str
    headline: str
    count_labels: tuple[str, ...]
    count_values: tuple[str, ...]
    specs: tuple[SpecRow, ...]


@dataclass(frozen=True)
class ContainerRow:
    """One container's state and the health of its log."""

    service: str
    name: str
    image: str
    state: str
    health: str
    log_errors: str
    evidence: str


@dataclass(frozen=True)
class SourceRow:
    """Line accounting of one file."""

    file: str
    kind: str
    service: str
    lines: int
    parsed: int
    unparsed: int
    records: int
    why: str


@dataclass(frozen=True)
class SampleRow:
    """A line not understood."""

    where: str
    text: str


@dataclass(frozen=True)
class ReportContext:
    """Everything report.md.j2 shows."""

    title: str
    version: str
    bundle_path: str
    service: str
    run_dir: str
    collected_at: str
    tests: tuple[TestsView, ...]
    containers: tuple[ContainerRow, ...]
    sources: tuple[SourceRow, ...]
    samples: tuple[SampleRow, ...]
    notes: tuple[str, ...]
    assumptions: tuple[str, ...]


def _state_label(state: str) -> str:
    return state.replace("_", " ").upper()


def _tests_view(run: TestRun) -> TestsView:
    ran = f"Ran {run.ran} of {run.total} specs" if run.ran is not None else "Spec totals not printed"
    parts = [ran]
    if run.duration_s is not None:
        parts.append(f"in {run.duration_s:.1f} s")
    if run.processes:
        parts.append(f"on {run.processes} parallel processes")
    headline = " ".join(parts) + (f" ({run.status})" if run.status else "")
    counts = tuple(
        (label.capitalize(), str(value))
        for label, value in (
            ("passed", run.passed),
            ("failed", run.failed),
            ("interrupted", run.interrupted),
            ("pending", run.pending),
            ("skipped", run.skipped),
        )
        if value is not None
    )
    specs = tuple(
        SpecRow(
            state=_state_label(spec.state),
            name=spec.name,
            location=spec.location or "unknown",
            correlation_ids=spec.correlation_ids,
            failure=spec.failure_message or "",
        )
        for spec in run.specs
    )
    labels = tuple(label for label, _ in counts)
    return TestsView(run.file, headline, labels, tuple(value for _, value in counts), specs)


def _collected(local: str | None, offset: int | None) -> str:
    """The collection time as the run directory names it, and in UTC when the host offset is known."""
    if local is None:
        return "unknown"
    shown = local.replace("T", " ")
    if offset is None:
        return f"{shown} test host time (zone unknown)"
    utc = datetime.fromisoformat(local) - timedelta(seconds=offset)
    return f"{shown} test host time ({format_offset(offset)}) = {utc:%Y-%m-%d %H:%M:%S} UTC"


def build_context(report: Report) -> ReportContext:
    """Word and format everything the Markdown report shows.

    Args:
        report: the analysis result.

    Returns:
        The template context.
    """
    bundle = report.bundle
    containers = []
    for c in report.containers:
        logs = [h for h in report.log_health if h.service == c.service]
        errors = ", ".join(f"{h.file}: {h.errors} error(s), {h.noise} known noise" for h in logs) or "no log"
        state = c.status or "unknown"
        if c.exit_code not in (None, 0):
            state += f", exit code {c.exit_code}"
        if c.oom_killed:
            state += ", OOM-killed"
        if c.restart_count:
            state += f", {c.restart_count} restart(s)"
        containers.append(
            ContainerRow(
                service=c.service or "unknown",
                name=c.name or "unknown",
                image=c.image or "unknown",
                state=state,
                health=c.health or "no health check",
                log_errors=errors,
                evidence=f"{c.file}:{c.line}",
            )
        )
    sources = tuple(
        SourceRow(
            file=a.source.name,
            kind=a.source.kind,
            service=a.source.service or "unknown",
            lines=a.lines,
            parsed=a.parsed_lines,
            unparsed=a.unparsed_lines,
            records=a.records,
            why=a.source.why,
        )
        for a in report.accounts
    )
    samples = tuple(
        SampleRow(f"{a.source.name}:{s.line}", s.text) for a in report.accounts for s in a.samples
    )
    notes = tuple(bundle.notes) + tuple(f"{a.source.name}: {n}" for a in report.accounts for n in a.notes)
    what = bundle.service or "integration"
    title = f"Triage: {what} run {bundle.run_dir}" if bundle.run_dir else f"Triage: {bundle.display_path}"
    return ReportContext(
        title=title,
        version=tool_version(),
        bundle_path=bundle.display_path,
        service=bundle.service or "unknown",
        run_dir=bundle.run_dir or "not found",
        collected_at=_collected(bundle.collected_at, report.host_offset),
        tests=tuple(_tests_view(run) for run in report.tests),
        containers=tuple(containers),
        sources=sources,
        samples=samples,
        notes=notes,
        assumptions=report.assumptions,
    )


@cache
def _environment() -> jinja2.Environment:
    directory = next((d for d in TEMPLATE_DIRS if d.is_dir()), TEMPLATE_DIRS[0])
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = md_escape
    env.filters["code"] = md_code
    return env


def render_markdown(report: Report) -> str:
    """The Markdown report."""
    context = build_context(report)
    text = _environment().get_template("report.md.j2").render(ctx=context)
    return text.rstrip("\n") + "\n"


def to_json(report: Report) -> dict[str, Any]:
    """The machine-readable report (documented in README.md; fields stay stable).

    Args:
        report: the analysis result.

    Returns:
        A JSON-able dict.
    """
    bundle = report.bundle
    tests: dict[str, Any] | None = None
    if report.tests:
        tests = {
            key: _sum_or_none(getattr(run, key) for run in report.tests)
            for key in ("ran", "total", "passed", "failed", "interrupted", "pending", "skipped")
        }
        tests["specs"] = [
            {
                "name": spec.name,
                "state": spec.state,
                "location": spec.location,
                "correlation_ids": list(spec.correlation_ids),
                "file": spec.file,
                "line": spec.line,
            }
            for run in report.tests
            for spec in run.specs
        ]
    return {
        "schema_version": SCHEMA_VERSION,
        "tool_version": tool_version(),
        "bundle": {
            "path": bundle.display_path,
            "service": bundle.service,
            "run_dir": bundle.run_dir,
            "collected_at": bundle.collected_at,
        },
        "tests": tests,
        "sources": [
            {
                "file": a.source.name,
                "kind": a.source.kind,
                "service": a.source.service,
                "lines": a.lines,
                "parsed_lines": a.parsed_lines,
                "unparsed_lines": a.unparsed_lines,
                "records": a.records,
                "unparsed_samples": [asdict(s) for s in a.samples],
                "notes": list(a.notes),
            }
            for a in report.accounts
        ],
        "containers": [asdict(c) for c in report.containers],
        "assumptions": list(report.assumptions),
        "notes": list(bundle.notes),
    }


def _sum_or_none(values: Any) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def render(report: Report, fmt: str) -> str:
    """Render in the named format ("markdown" or "json")."""
    if fmt == "json":
        return json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n"
    return render_markdown(report)
