"""Render a Report as Markdown (Jinja, templates/) or JSON.

Templates see only the typed ReportContext (`views.py`, built by `context.py`), where every value
is worded and formatted; templates hold layout and nothing else. Undefined variables are errors.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from triage.report.fingerprint import finding_fingerprints, spec_fingerprint
from triage.report.model import Report
from triage.report.redact import Redactor
from triage.report.wording import latency_stats, md_code, md_escape, tool_version
from triage.table.exprs import attr
from triage.table.vocabulary import BUFFER_FULL, DROPS, QUERY_PATH, TIMER_BUG

if TYPE_CHECKING:  # Jinja is imported when a template is rendered: JSON and JUnit output need none of it
    import jinja2

SCHEMA_VERSION = 1
Seen = dict[str, dict[str, dict[str, Any]]]  # history.seen_in: kind -> fingerprint -> how often seen
_PACKAGE_DIR = Path(__file__).parents[1]
# Installed wheels carry the templates inside the package; a source checkout keeps them at the top.
TEMPLATE_DIRS = (_PACKAGE_DIR / "templates", _PACKAGE_DIR.parent / "templates")


@cache
def _cache_class() -> type[jinja2.FileSystemBytecodeCache]:
    """Compiled templates kept between runs (keyed by the template's checksum); a cache that cannot be
    read or written is passed over."""
    import jinja2.bccache

    class TemplateCache(jinja2.FileSystemBytecodeCache):
        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
                super().load_bytecode(bucket)

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            with contextlib.suppress(OSError):
                super().dump_bytecode(bucket)

    return TemplateCache


def _template_cache() -> jinja2.FileSystemBytecodeCache | None:
    """The cache under $XDG_CACHE_HOME (or ~/.cache)/triage, or None when there is no such place."""
    try:
        directory = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "triage" / "templates"
        directory.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError):
        return None
    return _cache_class()(str(directory))


def template_environment(*, autoescape: bool) -> jinja2.Environment:
    """A Jinja environment over the templates: undefined variables are errors, compiled ones cached.

    Args:
        autoescape: HTML-escape every value (the HTML report); off for Markdown.

    Returns:
        The environment, without filters.
    """
    import jinja2

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
def markdown_environment() -> jinja2.Environment:
    """The environment of the Markdown templates, with their `md` and `code` filters."""
    env = template_environment(autoescape=False)
    env.filters["md"] = md_escape
    env.filters["code"] = md_code
    return env


def render_markdown(report: Report, seen: Seen | None = None) -> str:
    """The Markdown report; with `seen` (`history.seen_in`), how often each problem was seen before."""
    from triage.report.context import build_context

    context = build_context(report, seen)
    text = markdown_environment().get_template("report.md.j2").render(ctx=context)
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
                "fingerprint": spec_fingerprint(v.spec.name, v.spec.location),
            }
            for v in report.verdicts
        ]
        tests["passed_fingerprints"] = sorted(
            {spec_fingerprint(name, location) for run in report.tests for name, location in run.passed_specs}
        )
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
                "fingerprint": fingerprint,
            }
            for f, fingerprint in zip(report.findings, finding_fingerprints(report), strict=True)
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
        **_pipeline_figures(report),
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


def _pipeline_figures(report: Report) -> dict[str, Any]:
    """What the logs show of every store and of DataStorage, beyond process 1's closing counters."""
    pipe = report.analysis.pipeline
    errors = pipe.store_errors
    drops = errors.filter(pl.col("msg_key").is_in(DROPS))
    dropped = int(drops.select(attr("batch_size", pl.Int64())).get_column("batch_size").sum() or 0)
    queries = pipe.requests.filter((pl.col("method") == "GET") & (pl.col("path") == QUERY_PATH))
    return {
        "buffered_lines": pipe.buffered.height or None,
        "store_dropped_batches": drops.height,
        "store_dropped_events": dropped + errors.filter(pl.col("msg_key") == BUFFER_FULL).height,
        "ds_failed_batches": pipe.rejects.height,
        "timer_bug_ticks": errors.filter(pl.col("msg_key") == TIMER_BUG).height,
        "write_ms": _latency_json(pipe.writes["duration_seconds"] * 1000),
        "query_ms": _latency_json(queries["duration_ms"]),
    }


def _latency_json(values: pl.Series) -> dict[str, float] | None:
    stats = latency_stats(values)
    if stats is None:
        return None
    return {key: round(value, 3) for key, value in zip(("p50", "p95", "max"), stats, strict=True)}


def _worst_status(report: Report) -> str:
    statuses = {run.status.value for run in report.tests}
    return next(s for s in ("failed", "incomplete", "passed") if s in statuses)


def _sum_or_none(values: Any) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def render(
    report: Report,
    fmt: str,
    fail_on: str | None = None,
    seen: Seen | None = None,
    redactor: Redactor | None = None,
) -> str:
    """Render in the named format ("markdown", "json", "junit" or "html"), with every secret redacted.

    The same secret gets the same placeholder throughout one output, and throughout every output of
    a run that shares `redactor`. `fail_on` is the least severity of the findings JUnit lists as test
    cases (above info when None). With `seen` (`history.seen_in`) each finding and failed spec says
    how often it was seen in earlier runs (JSON: a `history` field).
    """
    redactor = redactor or Redactor()
    if fmt == "junit":
        from triage.report.junit import render_junit

        return render_junit(report, fail_on, redactor)
    if fmt == "html":
        from triage.report.html import render_html

        return render_html(report, redactor)
    if fmt == "json":
        data = to_json(report)
        if seen is not None:
            add_history(data, seen)
        return json.dumps(redactor.json(data), indent=2, ensure_ascii=False) + "\n"
    return redactor.markdown(render_markdown(report, seen))


def add_history(data: dict[str, Any], seen: Seen) -> None:
    """Add `history` (seen, runs, first_seen, label; null when never seen) to each finding and failed spec.

    Args:
        data: a JSON report (`to_json`), changed in place.
        seen: `history.seen_in` of the same run.
    """
    for finding in data["findings"]:
        finding["history"] = seen["findings"].get(finding["fingerprint"])
    for spec in (data["tests"] or {}).get("specs", []):
        spec["history"] = seen["specs"].get(spec["fingerprint"])
