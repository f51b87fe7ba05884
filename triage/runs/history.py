"""`triage history PATH…`: how each cause and each failing spec fared across many runs.

Labels and summarises the runs `history_load` read (exports and saved JSON reports). Per service:

* a cause (a finding's fingerprint) is seen in a run when the run reports it above info (info findings
  are observations, not problems); its failure rate is the share of the service's runs that report it;
* a spec is seen failing in a run when it failed, panicked, timed out, was aborted or interrupted
  there, and passing when it passed; its failure rate is failures over the runs that show it either way.

Each gets one label, the first that holds:

* fixed: not seen in the newest `fixed_after` runs;
* new: first seen in the newest run;
* flaky: it came and went: the spec (a cause's: the spec it explained when first seen) passed in a run
  after the first failure, or a run-wide cause was absent from a run after it was first seen;
* known: otherwise: seen before the newest run, in one of the newest `fixed_after`, and not seen to
  come and go (a spec that did not run, or whose passing its log does not show, is no evidence).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from triage.facts.testrun import NOT_PASSED_STATES
from triage.runs.history_load import History, with_run

FIXED_AFTER = 3  # a cause absent from this many newest runs is fixed
HISTORY_SCHEMA_VERSION = 1
FAILED = [str(s) for s in NOT_PASSED_STATES]
LABELS = ("new", "flaky", "known", "fixed")


def _label(fixed: pl.Expr, new: pl.Expr, flaky: pl.Expr) -> pl.Expr:
    return (
        pl.when(fixed)
        .then(pl.lit("fixed"))
        .when(new)
        .then(pl.lit("new"))
        .when(flaky)
        .then(pl.lit("flaky"))
        .otherwise(pl.lit("known"))
    )


def spec_summary(history: History, fixed_after: int = FIXED_AFTER) -> pl.DataFrame:
    """One row per spec that failed in some run, per service.

    Args:
        history: the runs.
        fixed_after: a spec that failed in none of the service's newest this many runs is fixed.

    Returns:
        service, fingerprint, name and location (as the newest failure printed them), label,
        failed_runs, passed_runs, failure_rate, first_seen, last_seen, first_n, last_n, runs; most
        failures first.
    """
    runs = history.runs.lazy()
    rows = history.specs.join(runs, on="run_id").with_columns(pl.col("state").is_in(FAILED).alias("failed"))
    per = (
        rows.group_by("service", "fingerprint")
        .agg(
            pl.col("failed").sum().alias("failed_runs"),
            (pl.col("state") == "passed").sum().alias("passed_runs"),
            pl.col("n").filter(pl.col("failed")).min().alias("first_n"),
            pl.col("n").filter(pl.col("failed")).max().alias("last_n"),
            pl.col("n").filter(pl.col("state") == "passed").max().alias("last_passed_n"),
            pl.col("runs").first(),
            pl.col("name").filter(pl.col("failed")).sort_by(pl.col("n").filter(pl.col("failed"))).last(),
            pl.col("location").filter(pl.col("failed")).sort_by(pl.col("n").filter(pl.col("failed"))).last(),
        )
        .filter(pl.col("failed_runs") > 0)
    )
    return _finish(
        per.with_columns(
            (pl.col("failed_runs") / (pl.col("failed_runs") + pl.col("passed_runs"))).alias("failure_rate"),
            _label(
                pl.col("last_n") <= pl.col("runs") - fixed_after,
                pl.col("first_n") == pl.col("runs"),
                pl.col("last_passed_n").fill_null(0) > pl.col("first_n"),
            ).alias("label"),
        ),
        history,
        "failed_runs",
    ).select(
        "service",
        "fingerprint",
        "name",
        "location",
        "label",
        "failed_runs",
        "passed_runs",
        "failure_rate",
        "first_seen",
        "last_seen",
        "first_n",
        "last_n",
        "runs",
    )


def cause_summary(history: History, fixed_after: int = FIXED_AFTER) -> pl.DataFrame:
    """One row per cause (finding fingerprint), per service.

    Args:
        history: the runs.
        fixed_after: a cause absent from the service's newest this many runs is fixed.

    Returns:
        service, fingerprint, rule, severity, summary, spec_fingerprint, label, runs_seen, runs,
        failure_rate, first_seen, last_seen, first_n, last_n; the most recurring first.
    """
    runs = history.runs.lazy()
    problems = history.findings.filter(pl.col("severity") != "info")
    per = (
        problems.join(runs, on="run_id")
        .group_by("service", "fingerprint")
        .agg(
            pl.len().alias("runs_seen"),
            pl.col("n").min().alias("first_n"),
            pl.col("n").max().alias("last_n"),
            pl.col("runs").first(),
            pl.col("rule").sort_by("n").last(),
            pl.col("severity").sort_by("n").last(),
            pl.col("summary").sort_by("n").last(),
            pl.col("spec_fingerprint").sort_by("n").drop_nulls().first(),
        )
    )
    passes = (
        history.specs.filter(pl.col("state") == "passed")
        .join(runs, on="run_id")
        .select("service", pl.col("fingerprint").alias("spec_fingerprint"), pl.col("n").alias("passed_n"))
    )
    came_back = (
        per.join(passes, on=["service", "spec_fingerprint"])
        .filter(pl.col("passed_n") > pl.col("first_n"))
        .select("service", "fingerprint")
        .unique()
        .with_columns(pl.lit(True).alias("spec_passed"))
    )
    per = per.join(came_back, on=["service", "fingerprint"], how="left").with_columns(
        (pl.col("runs_seen") / pl.col("runs")).alias("failure_rate"),
        _label(
            pl.col("last_n") <= pl.col("runs") - fixed_after,
            pl.col("first_n") == pl.col("runs"),
            pl.when(pl.col("spec_fingerprint").is_not_null())
            .then(pl.col("spec_passed").fill_null(False))
            .otherwise(pl.col("runs_seen") < pl.col("runs") - pl.col("first_n") + 1),
        ).alias("label"),
    )
    return _finish(per, history, "runs_seen").select(
        "service",
        "fingerprint",
        "rule",
        "severity",
        "summary",
        "spec_fingerprint",
        "label",
        "runs_seen",
        "runs",
        "failure_rate",
        "first_seen",
        "last_seen",
        "first_n",
        "last_n",
    )


def _finish(per: pl.LazyFrame, history: History, count: str) -> pl.DataFrame:
    """Add when each row was first and last seen (collection time, else run id) and sort, most seen first."""
    when = history.runs.lazy().select("service", "n", pl.coalesce("collected_at", "run_id").alias("at"))
    return (
        per.join(when.rename({"n": "first_n", "at": "first_seen"}), on=["service", "first_n"], how="left")
        .join(when.rename({"n": "last_n", "at": "last_seen"}), on=["service", "last_n"], how="left")
        .sort([count, "last_n", "service", "fingerprint"], descending=[True, True, False, False])
        .collect()
    )


def summarize(history: History, fixed_after: int = FIXED_AFTER) -> dict[str, Any]:
    """The history as the JSON document `triage history --format json` prints.

    Args:
        history: the runs.
        fixed_after: see `cause_summary`.

    Returns:
        A JSON-able dict (documented in README.md).
    """
    services = (
        history.runs.group_by("service")
        .agg(
            pl.len().alias("runs"),
            pl.col("collected_at").drop_nulls().first().alias("first_collected_at"),
            pl.col("collected_at").drop_nulls().last().alias("last_collected_at"),
            pl.col("run_id").last().alias("newest_run"),
        )
        .sort("service")
    )
    return {
        "schema_version": HISTORY_SCHEMA_VERSION,
        "fixed_after": fixed_after,
        "runs": history.runs.height,
        "services": services.to_dicts(),
        "causes": _rows(cause_summary(history, fixed_after)),
        "specs": _rows(spec_summary(history, fixed_after)),
        "warnings": list(history.warnings),
    }


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
        for row in frame.drop("first_n", "last_n").to_dicts()
    ]


def seen_in(history: History, data: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """How often each finding and failed spec of one run was seen across the history and that run.

    Args:
        history: earlier runs.
        data: the run's JSON report (`to_json`).

    Returns:
        {"findings": {fingerprint: info}, "specs": {fingerprint: info}}, info being `seen` (runs
        that had it), `runs` (the service's runs, this one included), `first_seen`, `label`.
    """
    history, rid = with_run(history, data)
    service = history.runs.filter(pl.col("run_id") == rid).get_column("service")[0]
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, frame, seen in (
        ("findings", cause_summary(history), "runs_seen"),
        ("specs", spec_summary(history), "failed_runs"),
    ):
        rows = frame.filter(pl.col("service") == service)
        out[kind] = {
            r["fingerprint"]: {
                "seen": r[seen],
                "runs": r["runs"],
                "first_seen": r["first_seen"],
                "label": r["label"],
            }
            for r in rows.iter_rows(named=True)
        }
    return out
