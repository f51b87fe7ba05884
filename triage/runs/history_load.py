"""Reading the runs `triage history` works on: exports and saved JSON reports, into one `History`.

Exports (`triage analyze --export DIR`) are read with polars' lazy Parquet scans over their Hive
partitions, only the `runs`, `specs` and `findings` tables and only the columns history needs (never
the events); saved JSON reports (`--format json`) are turned into the same tables. Runs are ordered by
collection time, then run id; a run read twice (its export and its report) counts once. A file that
cannot be read is named in a warning and passed over.
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from triage.errors import TriageError
from triage.report.export import EXPORT_SCHEMA_VERSION, partition_value, report_tables, run_id
from triage.report.redact import Redactor
from triage.runs.sides import CompareError, Json, load_side

Warn = Callable[[str], None]

# What history reads of each table; anything else in the files is left on disk.
_RUNS: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "export_schema_version": pl.Int32(),
    "collected_at": pl.String(),
}
_SPECS: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "fingerprint": pl.String(),
    "state": pl.String(),
    "name": pl.String(),
    "location": pl.String(),
}
_FINDINGS: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "fingerprint": pl.String(),
    "rule": pl.String(),
    "severity": pl.String(),
    "spec_fingerprint": pl.String(),
    "summary": pl.String(),
}
_COLUMNS: dict[str, dict[str, pl.DataType]] = {"runs": _RUNS, "specs": _SPECS, "findings": _FINDINGS}
_HIVE: dict[str, pl.DataType] = {"service": pl.String(), "date": pl.String()}
BATCH = 250  # files per scan: peak memory grows with the files one scan reads, time barely with scans


class HistoryError(TriageError):
    """No run could be read; the message is one line."""


@dataclass(frozen=True)
class History:
    """Runs, failed and passed specs, and findings of many runs, one row per run and fingerprint.

    Attributes:
        runs: run_id, service, collected_at, `n` (1 = the service's oldest run), `runs` (the
            service's run count); sorted by service, then n.
        specs: run_id, fingerprint, state, name, location (lazy).
        findings: run_id, fingerprint, rule, severity, spec_fingerprint, summary (lazy).
        sources: how many files were read.
        warnings: files passed over, each named with why.
    """

    runs: pl.DataFrame
    specs: pl.LazyFrame
    findings: pl.LazyFrame
    sources: int
    warnings: tuple[str, ...]


def expand(paths: Sequence[str]) -> tuple[list[Path], list[Path], list[Path]]:
    """The Parquet files and JSON files under each path (a directory, a file or a glob).

    Args:
        paths: as given on the command line.

    Returns:
        (Parquet files of the runs, specs and findings tables, JSON files, files history cannot
        use: Parquet files outside an export's layout, and files named on their own that are
        neither), each sorted. Other files inside a directory are left alone.

    Raises:
        HistoryError: a path that is neither a file, a directory nor a glob matching something.
    """
    found: set[Path] = set()
    named: set[Path] = set()
    for path in paths:
        matches = [Path(p) for p in sorted(glob.glob(path, recursive=True))] or [Path(path)]
        for match in matches:
            if match.is_dir():
                found.update(p for p in match.rglob("*") if p.is_file() and not p.name.startswith("."))
            elif match.is_file():
                found.add(match)
                named.add(match)
            else:
                raise HistoryError(f"{path}: no such file or directory")
    parquet = sorted(p for p in found if p.suffix == ".parquet" and _table_of(p) in _COLUMNS)
    reports = sorted(p for p in found if p.suffix == ".json")
    unusable = sorted(
        p
        for p in found
        if (p.suffix == ".parquet" and _table_of(p) not in (*_COLUMNS, "events"))
        or (p in named and p.suffix not in (".parquet", ".json"))
    )
    return parquet, reports, unusable


def _table_of(path: Path) -> str:
    """The table an export file belongs to: the folder above its `service=` partition."""
    parts = path.parts
    for i, part in enumerate(parts):
        if part.startswith("service=") and i > 0:
            return parts[i - 1]
    return path.parent.name


def _scan(files: list[Path], table: str) -> pl.LazyFrame:
    """A lazy scan of one table's files over their Hive partitions: only the columns history reads."""
    return pl.scan_parquet(
        files,
        hive_partitioning=True,
        hive_schema=_HIVE,
        try_parse_hive_dates=False,
        include_file_paths="source_file",
        missing_columns="raise",
        extra_columns="ignore",
    ).select(*(pl.col(c).cast(t) for c, t in _COLUMNS[table].items()), "service", "source_file")


def _read_table(files: list[Path], table: str, warn: Warn) -> tuple[pl.DataFrame, int]:
    """The columns history reads of one table's files; a file that cannot be read is named in a
    warning and left out.

    The files are scanned `BATCH` at a time, each batch's rows made one chunk before the next is
    read: one scan over thousands of small files holds every file's buffers at once and keeps a chunk
    per file, most of the memory of a large history. Only when a batch fails is each of its files
    read on its own.

    Returns:
        (the rows, in the order of `files`; how many files were read).
    """
    parts = [_empty(table)]
    read = 0
    for start in range(0, len(files), BATCH):
        batch = files[start : start + BATCH]
        try:
            parts.append(_scan(batch, table).collect().rechunk())
            read += len(batch)
            continue
        except (pl.exceptions.PolarsError, OSError, ValueError):
            pass
        for file in batch:
            rows = _read_file(file, table, warn)
            if rows is not None:
                parts.append(rows)
                read += 1
    return pl.concat(parts, rechunk=True), read


def _read_file(file: Path, table: str, warn: Warn) -> pl.DataFrame | None:
    """The columns history reads of one file, or None (and a warning) when it cannot be read."""
    try:
        schema = pl.read_parquet_schema(file)
        missing = [c for c in _COLUMNS[table] if c not in schema]
        if missing:
            warn(
                f"{file}: not a triage {table} export of schema version {EXPORT_SCHEMA_VERSION} "
                f"(no column {missing[0]}); passed over"
            )
            return None
        return _scan([file], table).collect()
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        warn(f"{file}: cannot read as Parquet ({reason[:120]}); passed over")
        return None


def _empty(table: str) -> pl.DataFrame:
    return pl.DataFrame(schema={**_COLUMNS[table], "service": pl.String(), "source_file": pl.String()})


def _first_rows(rows: pl.DataFrame, ids: pl.LazyFrame) -> pl.DataFrame:
    """The rows of the runs in `ids`, one per run and fingerprint: the first by file name.

    Only the keys are sorted; the rows are copied once, in the order of their files' names.
    """
    first = (
        rows.lazy()
        .with_row_index("row")
        .select("row", "run_id", "fingerprint", "source_file")
        .join(ids, on="run_id", how="semi")
        .sort("source_file")
        .unique(["run_id", "fingerprint"], keep="first", maintain_order=True)
        .collect()
        .get_column("row")
    )
    return rows[first]


def _not_a_report(path: Path) -> Json:
    raise CompareError(f"{path}: not a triage JSON report")


def _json_runs(files: list[Path], warn: Warn) -> dict[str, list[pl.DataFrame]]:
    """The tables of each saved JSON report; a file that is not one is named in a warning."""
    out: dict[str, list[pl.DataFrame]] = {table: [] for table in _COLUMNS}
    for file in files:
        try:
            data = load_side(file, _not_a_report)
            tables = report_tables(Redactor().json(data))
        except CompareError as exc:
            warn(f"{exc}; passed over")
            continue
        except (KeyError, TypeError, ValueError, pl.exceptions.PolarsError) as exc:
            warn(f"{file}: not a triage JSON report ({type(exc).__name__}); passed over")
            continue
        service = partition_value(data["bundle"].get("service"))
        for table, columns in _COLUMNS.items():
            frame = tables[table].select(
                *(pl.col(c).cast(t) for c, t in columns.items()),
                pl.lit(service).alias("service"),
                pl.lit(str(file)).alias("source_file"),
            )
            out[table].append(frame)
    return out


def load_history(paths: Sequence[str], warn: Warn | None = None) -> History:
    """Read the runs under `paths`.

    Args:
        paths: directories (exports, folders of reports), files, or globs.
        warn: called with a one-line message for each file passed over (and kept in `warnings`).

    Returns:
        The history.

    Raises:
        HistoryError: a path does not exist.
    """
    warnings: list[str] = []

    def note(message: str) -> None:
        warnings.append(message)
        if warn is not None:
            warn(message)

    parquet, others, unusable = expand(paths)
    for path in unusable:
        note(
            f"{path}: neither a table of an export (<table>/service=…/date=…/) nor a JSON report; passed over"
        )
    by_table: dict[str, list[Path]] = {t: [p for p in parquet if _table_of(p) == t] for t in _COLUMNS}
    scans = {}
    read = 0
    for table in _COLUMNS:
        scans[table], good = _read_table(by_table[table], table, note)
        read += good
    saved = _json_runs(others, note)
    read += len(saved["runs"])
    frames = {t: pl.concat([scans.pop(t), *saved.pop(t)], how="vertical") for t in _COLUMNS}
    runs = frames.pop("runs")
    newer = runs.filter(pl.col("export_schema_version") != EXPORT_SCHEMA_VERSION)
    for file, version in (
        newer.select("source_file", "export_schema_version").unique().sort("source_file").rows()
    ):
        note(
            f"{file}: export schema version {version}; this triage reads {EXPORT_SCHEMA_VERSION}; passed over"
        )
    runs = (
        runs.filter(pl.col("export_schema_version") == EXPORT_SCHEMA_VERSION)
        .sort("source_file")
        .unique("run_id", keep="first", maintain_order=True)
        .select("run_id", "service", "collected_at")
        .sort("service", "collected_at", "run_id", nulls_last=False)
        .with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("service").alias("n"),
            pl.len().over("service").cast(pl.Int64).alias("runs"),
        )
    )
    ids = runs.lazy().select("run_id")
    keep = {"specs": list(_SPECS), "findings": list(_FINDINGS)}
    # read once: every summary starts from these rows
    tables = {t: _first_rows(frames.pop(t), ids).select(keep[t]).lazy() for t in keep}
    return History(runs, tables["specs"], tables["findings"], read, tuple(warnings))


def with_run(history: History, data: Mapping[str, Any]) -> tuple[History, str]:
    """The history with one more run (a JSON report), unless it holds that run already.

    Args:
        history: runs read so far.
        data: the run's JSON report (`to_json`, not yet redacted).

    Returns:
        (the history, the run's id).
    """
    redacted = Redactor().json(dict(data))
    rid = run_id(redacted)
    if rid in set(history.runs.get_column("run_id").to_list()):
        return history, rid
    tables = report_tables(redacted)
    service = partition_value(redacted["bundle"].get("service"))
    runs = (
        pl.concat(
            [
                history.runs.select("run_id", "service", "collected_at"),
                tables["runs"].select("run_id", pl.lit(service).alias("service"), "collected_at"),
            ]
        )
        .sort("service", "collected_at", "run_id", nulls_last=False)
        .with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("service").alias("n"),
            pl.len().over("service").cast(pl.Int64).alias("runs"),
        )
    )
    specs = pl.concat([history.specs, tables["specs"].lazy().select(list(_SPECS))])
    findings = pl.concat([history.findings, tables["findings"].lazy().select(list(_FINDINGS))])
    return History(runs, specs, findings, history.sources, history.warnings), rid
