"""`triage analyze --export DIR`: a run as Parquet tables, so a directory of many runs is one dataset.

Four tables, each written to `DIR/<table>/service=<service>/date=<YYYY-MM-DD>/<run id>.parquet`
(Hive-style partitions; `service=unknown`, `date=unknown` when the bundle does not say). Every row
carries `run_id`; the partition columns are in the path only. Columns are documented in README.md
("Exports"). Rows are taken from the redacted JSON report (`to_json`), and the event table keeps no
line text (no `message`, no `msg_key`, no `attrs`), so an export holds nothing the reports do not show.
Same input, same bytes: no time of the export is written, rows and columns have a fixed order, and
files are written with fixed options.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from triage.errors import TriageError
from triage.report.fingerprint import spec_fingerprint
from triage.report.model import Report
from triage.report.redact import Redactor
from triage.table.schema import TABLE_SCHEMA

EXPORT_SCHEMA_VERSION = 1
TABLES = ("runs", "specs", "findings", "events")
UNKNOWN = "unknown"

RUNS_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "export_schema_version": pl.Int32(),
    "report_schema_version": pl.Int32(),
    "tool_version": pl.String(),
    "suite_service": pl.String(),
    "run_dir": pl.String(),
    "collected_at": pl.String(),
    "status": pl.String(),
    "ran": pl.Int64(),
    "total": pl.Int64(),
    "passed": pl.Int64(),
    "failed": pl.Int64(),
    "interrupted": pl.Int64(),
    "pending": pl.Int64(),
    "skipped": pl.Int64(),
    "buffered": pl.Int64(),
    "written": pl.Int64(),
    "dropped": pl.Int64(),
    "ds_batch_writes": pl.Int64(),
    "ds_events_written": pl.Int64(),
    "buffered_lines": pl.Int64(),
    "store_dropped_events": pl.Int64(),
    "ds_failed_batches": pl.Int64(),
    "findings": pl.Int64(),
}
SPECS_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "fingerprint": pl.String(),
    "state": pl.String(),
    "name": pl.String(),
    "location": pl.String(),
    "duration_s": pl.Float64(),
    "process": pl.Int64(),
    "correlation_ids": pl.List(pl.String()),
    "cause_rule": pl.String(),
    "cause_fingerprint": pl.String(),
}
FINDINGS_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "fingerprint": pl.String(),
    "rule": pl.String(),
    "severity": pl.String(),
    "correlation_id": pl.String(),
    "spec_fingerprint": pl.String(),
    "summary": pl.String(),
    "evidence": pl.List(pl.String()),
}
# The event table's columns that carry no line text (TABLE_SCHEMA has no `raw` or `attrs` already).
EVENTS_COLUMNS = tuple(c for c in TABLE_SCHEMA if c not in ("message", "msg_key", "attrs_id"))
# Columns an events file holds beyond EVENTS_COLUMNS; `service` is a partition key, so the writer's
# service is `source_service`.
_RENAMED = {"service": "source_service"}
_REDACTED_EVENT_COLUMNS = ("file", "correlation_id", "spec")


class ExportError(TriageError):
    """The export directory cannot be written; the message is one line naming it."""


def run_id(data: Mapping[str, Any]) -> str:
    """A run's id, from its content: `<service>-<YYYYMMDD-HHMMSS>-<12 hex digits>`.

    Args:
        data: the JSON report (`to_json`, redacted or not: the digest is of what it says, not where
            the bundle was read from, nor which triage read it).

    Returns:
        The id; `unknown` stands for a missing service or collection time.
    """
    bundle = data.get("bundle") or {}
    content = {k: v for k, v in data.items() if k != "tool_version"}
    content["bundle"] = {k: v for k, v in bundle.items() if k != "path"}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode("utf-8")).hexdigest()
    collected = str(bundle.get("collected_at") or "")
    stamp = collected.replace("-", "").replace(":", "").replace("T", "-")[:15] or UNKNOWN
    return f"{bundle.get('service') or UNKNOWN}-{stamp}-{digest[:12]}"


def _frame(rows: list[dict[str, Any]], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    return (
        pl.DataFrame(rows, schema=dict(schema), orient="row") if rows else pl.DataFrame(schema=dict(schema))
    )


def report_tables(
    data: Mapping[str, Any], known: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, pl.DataFrame]:
    """The `runs`, `specs` and `findings` tables of one JSON report.

    Args:
        data: a checked JSON report (`to_json`, redacted).
        known: spec fingerprint -> what the analysis knows of it (`name`, `location`, `duration_s`),
            when it is at hand: a saved report names passed specs by fingerprint only, and gives no
            durations.

    Returns:
        Table name -> frame (RUNS_SCHEMA, SPECS_SCHEMA, FINDINGS_SCHEMA).
    """
    rid = run_id(data)
    bundle, tests, audit = data.get("bundle") or {}, data.get("tests") or {}, data.get("audit") or {}
    findings = data.get("findings") or []
    runs = {
        "run_id": rid,
        "export_schema_version": EXPORT_SCHEMA_VERSION,
        "report_schema_version": data.get("schema_version"),
        "tool_version": data.get("tool_version"),
        "suite_service": bundle.get("service"),
        "run_dir": bundle.get("run_dir"),
        "collected_at": bundle.get("collected_at"),
        "status": tests.get("status"),
        **{
            k: tests.get(k) for k in ("ran", "total", "passed", "failed", "interrupted", "pending", "skipped")
        },
        **{
            k: audit.get(k)
            for k in (
                "buffered",
                "written",
                "dropped",
                "ds_batch_writes",
                "ds_events_written",
                "buffered_lines",
                "store_dropped_events",
                "ds_failed_batches",
            )
        },
        "findings": len(findings),
    }
    known = known or {}
    specs = []
    explained: dict[int, str] = {}
    for spec in tests.get("specs") or []:
        cause = spec.get("cause") or {}
        index = cause.get("finding")
        cause_fp = None
        if isinstance(index, int) and 0 <= index < len(findings):
            cause_fp = findings[index].get("fingerprint")
            explained.setdefault(index, spec["fingerprint"])
        specs.append(
            {
                "run_id": rid,
                "fingerprint": spec["fingerprint"],
                "state": spec["state"],
                "name": spec["name"],
                "location": spec.get("location"),
                "duration_s": (known.get(spec["fingerprint"]) or {}).get("duration_s"),
                "process": spec.get("process"),
                "correlation_ids": list(spec.get("correlation_ids") or []),
                "cause_rule": cause.get("rule"),
                "cause_fingerprint": cause_fp,
            }
        )
    for fingerprint in tests.get("passed_fingerprints") or []:
        specs.append(
            {
                **dict.fromkeys(SPECS_SCHEMA),
                **(known.get(fingerprint) or {}),
                "run_id": rid,
                "fingerprint": fingerprint,
                "state": "passed",
                "correlation_ids": [],
            }
        )
    rows = [
        {
            "run_id": rid,
            "fingerprint": f["fingerprint"],
            "rule": f["rule"],
            "severity": f["severity"],
            "correlation_id": f.get("correlation_id"),
            "spec_fingerprint": explained.get(i),
            "summary": f.get("summary"),
            "evidence": [f"{e.get('file')}:{e.get('line')}" for e in f.get("evidence") or []],
        }
        for i, f in enumerate(findings)
    ]
    return {
        "runs": _frame([runs], RUNS_SCHEMA),
        "specs": _frame(specs, SPECS_SCHEMA),
        "findings": _frame(rows, FINDINGS_SCHEMA),
    }


def events_table(report: Report, rid: str, redactor: Redactor) -> pl.DataFrame:
    """The normalized event table without line text, its text columns redacted, `run_id` first.

    Args:
        report: the analysis result.
        rid: the run's id.
        redactor: the export's redactor (the same secret, the same placeholder as in its other tables).

    Returns:
        One row per record, in the table's file and line order; enums and categories as text.
    """
    schema = report.events.schema
    events = report.events.select(
        pl.lit(rid).alias("run_id"),
        *(
            pl.col(c).cast(pl.String) if isinstance(schema[c], pl.Categorical | pl.Enum) else pl.col(c)
            for c in EVENTS_COLUMNS
        ),
    ).rename(_RENAMED)
    for column in _REDACTED_EVENT_COLUMNS:
        values = events.get_column(column).drop_nulls().unique(maintain_order=True).to_list()
        mapping = {v: redactor.text(v) for v in values}
        changed = {k: v for k, v in mapping.items() if k != v}
        if changed:
            events = events.with_columns(pl.col(column).replace(changed))
    return events


def export_run(report: Report, data: Mapping[str, Any], directory: str | os.PathLike[str]) -> str:
    """Write one run's tables under `directory`.

    Args:
        report: the analysis result.
        data: its JSON report (`to_json`), not yet redacted.
        directory: the dataset's root; created if missing.

    Returns:
        The run's id.

    Raises:
        ExportError: a file cannot be written.
    """
    redactor = Redactor()
    redacted = redactor.json(dict(data))
    rid = run_id(redacted)
    known: dict[str, dict[str, Any]] = {}
    for run in report.tests:
        for name, location in run.passed_specs:
            known[spec_fingerprint(name, location)] = {"name": name, "location": location}
        for spec in run.specs:
            known[spec_fingerprint(spec.name, spec.location)] = {"duration_s": spec.duration_s}
    tables = report_tables(redacted, redactor.json(known))
    tables["events"] = events_table(report, rid, redactor)
    bundle = redacted.get("bundle") or {}
    service = partition_value(bundle.get("service"))
    date = partition_value(str(bundle.get("collected_at") or "")[:10])
    root = Path(directory)
    for name in TABLES:
        target = root / name / f"service={service}" / f"date={date}" / f"{rid}.parquet"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".parquet.partial")
            write_table(tables[name], partial)
            partial.replace(target)
        except OSError as exc:
            raise ExportError(f"cannot write {target}: {exc.strerror}") from None
    return rid


def write_table(frame: pl.DataFrame, path: Path) -> None:
    """Write a frame as Parquet with fixed options, so the same frame gives the same bytes.

    Args:
        frame: the table.
        path: where to write it.
    """
    frame.write_parquet(
        path, compression="zstd", compression_level=3, statistics=True, row_group_size=1 << 20
    )


def partition_value(value: Any) -> str:
    """A Hive partition value.

    Args:
        value: a service name or a date.

    Returns:
        The text with `/`, `\\`, `=`, `%` and spaces made `_`; `unknown` when empty.
    """
    text = str(value or "").strip()
    return "".join("_" if c in "/\\= %" else c for c in text) or UNKNOWN
