"""A side of `triage compare`: a bundle analysed now, or a saved `--format json` report, checked.

The comparison reads only what the JSON report documents, so a saved report and the bundle it was
made from compare alike; a report that lacks a field the comparison reads is refused in one line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from triage.errors import TriageError

MAX_REPORT_BYTES = 256 * 1024 * 1024
SEVERITIES = ("info", "low", "medium", "high", "critical")

Json = dict[str, Any]


class CompareError(TriageError):
    """A side of a comparison is not a usable report; the message is one line naming the file."""


def load_side(path: str | os.PathLike[str], analyze: Callable[[Path], Json]) -> Json:
    """One side of a comparison as a JSON report.

    A file whose content is a JSON object holding `schema_version` (pretty or on one line) is a saved
    report; another file that starts with `{` is refused unless its first line is a whole JSON object
    (a zap log's). Anything else (a bundle directory, an archive, a log) is given to `analyze`.

    Args:
        path: a bundle directory, an archive, a log file, or a saved `--format json` report.
        analyze: turns a bundle path into its JSON report (the CLI passes analyze + to_json).

    Returns:
        The report, checked: the fields the comparison reads are there with the right types.

    Raises:
        CompareError: a saved report that is not valid JSON, not a triage report, of another
            schema version, or missing a field.
    """
    path = Path(path)
    saved = _saved_report(path)
    report = analyze(path) if saved is None else saved
    return check_report(report, str(path))


def _saved_report(path: Path) -> Json | None:
    """The JSON report `path` holds, or None when it is not a JSON object (a bundle, a log)."""
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            head = handle.read(65536)
    except OSError as exc:
        raise CompareError(f"{path}: cannot read: {exc.strerror}") from None
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if not text.startswith("{"):
        return None
    first = text.split("\n", 1)[0]
    try:
        line = json.loads(first)
    except ValueError:
        line = None
    if isinstance(line, dict) and "schema_version" not in line:
        return None  # a whole JSON object on the first line without a schema version: a zap log
    if path.stat().st_size > MAX_REPORT_BYTES:
        raise CompareError(f"{path}: a JSON report over {MAX_REPORT_BYTES // 2**20} MiB is refused")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise CompareError(f"{path}: not a triage JSON report: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise CompareError(f"{path}: not a triage JSON report: JSON error at line {exc.lineno}") from None
    except (OSError, RecursionError) as exc:
        raise CompareError(f"{path}: cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise CompareError(f"{path}: not a triage JSON report: not a JSON object")
    return data


def _need(value: Any, where: str, name: str, *kinds: type | None) -> Any:
    ok = any(value is None if kind is None else _is(value, kind) for kind in kinds)
    if not ok:
        wanted = " or ".join("null" if k is None else _KIND_NAMES.get(k, k.__name__) for k in kinds)
        raise CompareError(f"{name}: field {where} is missing or not {wanted}")
    return value


_KIND_NAMES: dict[type, str] = {
    dict: "an object",
    list: "a list",
    str: "text",
    int: "an integer",
    float: "a number",
    bool: "true or false",
}


def _is(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, kind)


def _field(obj: Json, key: str, where: str, name: str, *kinds: type | None) -> Any:
    if key in ("fingerprint", "passed_fingerprints") and key not in obj:
        raise CompareError(
            f"{name}: {where}{key} is missing: the report was written by an older triage; "
            "analyse the bundle again"
        )
    return _need(obj.get(key), f"{where}{key}", name, *kinds)


def check_report(data: Json, name: str) -> Json:
    """Check that a JSON report holds every field the comparison reads, with its type.

    Args:
        data: the parsed report.
        name: the file it came from, for messages.

    Returns:
        The same report.

    Raises:
        CompareError: a one-line message naming the file and the first field at fault.
    """
    if "schema_version" not in data:
        raise CompareError(f"{name}: not a triage JSON report (no schema_version)")
    if not _is(data["schema_version"], int) or data["schema_version"] != 1:
        raise CompareError(f"{name}: report schema_version {data['schema_version']!r}; this triage reads 1")
    bundle = _field(data, "bundle", "", name, dict)
    _field(bundle, "path", "bundle.", name, str)
    for key in ("service", "run_dir"):
        _field(bundle, key, "bundle.", name, str, None)
    tests = _field(data, "tests", "", name, dict, None)
    if tests is not None:
        for key in ("ran", "total", "passed", "failed", "interrupted"):
            _field(tests, key, "tests.", name, int, None)
        for i, spec in enumerate(_field(tests, "specs", "tests.", name, list)):
            where = f"tests.specs[{i}]."
            _need(spec, where[:-1], name, dict)
            _field(spec, "name", where, name, str)
            _field(spec, "state", where, name, str)
            _field(spec, "location", where, name, str, None)
            _field(spec, "fingerprint", where, name, str)
            if _field(spec, "cause", where, name, dict, None) is not None:
                _field(spec["cause"], "rule", f"{where}cause.", name, str)
        for i, fingerprint in enumerate(_field(tests, "passed_fingerprints", "tests.", name, list)):
            _need(fingerprint, f"tests.passed_fingerprints[{i}]", name, str)
    audit = _field(data, "audit", "", name, dict)
    for key in (
        "buffered",
        "written",
        "dropped",
        "failed_batches",
        "ds_batch_writes",
        "ds_events_written",
        "buffered_lines",
        "store_dropped_events",
        "ds_failed_batches",
        "timer_bug_ticks",
    ):
        _field(audit, key, "audit.", name, int, None)
    for key in ("write_ms", "query_ms"):
        stats = _field(audit, key, "audit.", name, dict, None)
        for stat in ("p50", "p95", "max") if stats is not None else ():
            _field(stats, stat, f"audit.{key}.", name, float)
    for i, finding in enumerate(_field(data, "findings", "", name, list)):
        where = f"findings[{i}]."
        _need(finding, where[:-1], name, dict)
        for key in ("rule", "summary", "fingerprint"):
            _field(finding, key, where, name, str)
        _field(finding, "correlation_id", where, name, str, None)
        if _field(finding, "severity", where, name, str) not in SEVERITIES:
            raise CompareError(f"{name}: field {where}severity is not one of {', '.join(SEVERITIES)}")
    for i, source in enumerate(_field(data, "sources", "", name, list)):
        where = f"sources[{i}]."
        _need(source, where[:-1], name, dict)
        _field(source, "kind", where, name, str)
        _field(source, "service", where, name, str, None)
    for i, container in enumerate(_field(data, "containers", "", name, list)):
        where = f"containers[{i}]."
        _need(container, where[:-1], name, dict)
        for key in ("service", "name", "status", "health"):
            _field(container, key, where, name, str, None)
        _field(container, "exit_code", where, name, int, None)
        _field(container, "restart_count", where, name, int, None)
        _field(container, "oom_killed", where, name, bool, None)
    return data
