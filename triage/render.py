"""Render a Report as Markdown (Jinja, templates/) or JSON.

Templates see only the typed ReportContext of triage/report.py, where every value is worded and
formatted; templates hold layout and nothing else. Undefined variables are errors.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache

from triage.api import Report
from triage.redact import Redactor
from triage.report import build_context, md_code, md_escape, tool_version

SCHEMA_VERSION = 1
_PACKAGE_DIR = Path(__file__).parent
# Installed wheels carry the templates inside the package; a source checkout keeps them at the top.
TEMPLATE_DIRS = (_PACKAGE_DIR / "templates", _PACKAGE_DIR.parent / "templates")


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between runs (keyed by the template's checksum); a cache that cannot be
    read or written is passed over."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
            super().load_bytecode(bucket)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _template_cache() -> _TemplateCache | None:
    """The cache under $XDG_CACHE_HOME (or ~/.cache)/triage, or None when there is no such place."""
    try:
        directory = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "triage" / "templates"
        directory.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError):
        return None
    return _TemplateCache(str(directory))


def template_environment(*, autoescape: bool) -> jinja2.Environment:
    """A Jinja environment over the templates: undefined variables are errors, compiled ones cached.

    Args:
        autoescape: HTML-escape every value (the HTML report); off for Markdown.

    Returns:
        The environment, without filters.
    """
    directory = next((d for d in TEMPLATE_DIRS if d.is_dir()), TEMPLATE_DIRS[0])
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=_template_cache(),
    )


@cache
def _environment() -> jinja2.Environment:
    env = template_environment(autoescape=False)
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
        if any(run.ran is None for run in report.tests):
            tests["ran"] = None  # a log ends before its summary: how many ran is unknown
        tests["status"] = _worst_status(report)
        tests["reason"] = next((run.reason for run in report.tests if run.reason), None)
        tests["flags"] = next((list(run.flags) for run in report.tests if run.flags), [])
        tests["unfinished"] = [name for run in report.tests for name in run.unfinished]
        tests["specs"] = [
            {
                "name": v.spec.name,
                "state": v.spec.state,
                "location": v.spec.location,
                "correlation_ids": list(v.spec.correlation_ids),
                "file": v.spec.file,
                "line": v.spec.line,
                "process": v.spec.process,
                "cause": None
                if v.cause is None
                else {"rule": v.cause.rule, "finding": v.finding, "basis": v.basis},
                "cause_reason": v.reason,
            }
            for v in report.verdicts
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
        "audit": audit_json(report),
        "findings": [
            {
                "rule": f.rule,
                "severity": f.severity.label,
                "correlation_id": f.correlation_id,
                "summary": f.summary,
                "evidence": [{"file": e.file, "line": e.line, "text": e.text} for e in f.evidence],
            }
            for f in report.findings
        ],
        "rules": [
            {"rule": o.rule.id, "status": o.status, "reason": o.reason, "findings": len(o.findings)}
            for o in report.outcomes
        ],
        "assumptions": list(report.assumptions),
        "notes": list(bundle.notes),
    }


def audit_json(report: Report) -> dict[str, Any]:
    """The `audit` object: process 1's closing counters (null when absent) and DataStorage's writes."""
    pipe = report.analysis.pipeline
    closed = pipe.closed.row(-1, named=True) if pipe.closed.height else {}
    return {
        "buffered": closed.get("buffered_count"),
        "written": closed.get("written_count"),
        "dropped": closed.get("dropped_count"),
        "failed_batches": closed.get("failed_batch_count"),
        "counters_scope": "process 1 only (the only process that calls Close())" if closed else None,
        "ds_batch_writes": pipe.writes.height,
        "ds_events_written": int(pipe.writes["count"].sum() or 0),
        "stores": [
            {
                "name": s.name,
                "specs": len(s.spec_indices),
                "max_total_buffered": s.max_total_buffered,
                "closed": s.closed,
                "basis": s.basis,
            }
            for s in report.analysis.stores
        ],
    }


def _worst_status(report: Report) -> str:
    statuses = {run.status.value for run in report.tests}
    return next(s for s in ("failed", "incomplete", "passed") if s in statuses)


def _sum_or_none(values: Any) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def render(report: Report, fmt: str, fail_on: str | None = None, redactor: Redactor | None = None) -> str:
    """Render in the named format ("markdown", "json", "junit" or "html"), with every secret redacted.

    The same secret gets the same placeholder throughout one output, and throughout every output of
    a run that shares `redactor`. `fail_on` is the least severity of the findings JUnit lists as test
    cases (above info when None).
    """
    redactor = redactor or Redactor()
    if fmt == "junit":
        from triage.junit import render_junit

        return render_junit(report, fail_on, redactor)
    if fmt == "html":
        from triage.html import render_html

        return render_html(report, redactor)
    if fmt == "json":
        return json.dumps(redactor.json(to_json(report)), indent=2, ensure_ascii=False) + "\n"
    return redactor.markdown(render_markdown(report))
