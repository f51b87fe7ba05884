"""Store log lines hidden by the logger's sampler.

## What it detects
Jumps in a store's `total_buffered` between consecutive `Event buffered successfully` lines of one
spec timeline. `total_buffered` counts every buffered event of the store, and a timeline keeps
every line its process wrote, so a jump means lines were never written: controller-runtime's
production logger samples, and after 100 identical messages in one second it keeps only every
100th. The finding says how many buffered lines are missing and where.

Jumps between two timelines of the same store are not counted: lines written between specs are
lost with GinkgoWriter's per-spec buffer, whatever the sampler did.

## Why it matters
Counts read from the test log (events buffered per correlation ID, per spec, per second) are too
low wherever the sampler was active, and other findings that rely on buffered lines (races,
unflushed events) cannot see the hidden events.

## How to fix
Do not read event counts from the log in that window; read them from DataStorage or from the
`Audit store closed` counters. To keep every line, build the test logger without sampling
(`zap.Options{Development: true}` or a zapcore without `NewSamplerWithOptions`), or stop logging
every buffered event at Info.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from triage.facts.analysis import Analysis
from triage.rules._store import evidence, spec_label, store_label
from triage.rules.base import Finding, Rule, Severity
from triage.rules.wording import plural, when
from triage.table.rows import as_int

RULE_ID = "log-sampling-gap"
SHOWN_JUMPS = 3


def check(analysis: Analysis) -> Iterator[Finding]:
    """Find `total_buffered` jumps inside spec timelines.

    Args:
        analysis: the analysed bundle.

    Yields:
        One finding per timeline with jumps.
    """
    buffered = analysis.pipeline.buffered  # in file and line order, so each timeline in line order
    group = ["file", "spec_index"]
    # The jumps are found on a few columns; only the rows that jump are copied whole.
    found = (
        buffered.select(*group, "line", "total_buffered", "ts")
        .with_row_index("_at")
        .filter(pl.col("total_buffered").is_not_null() & pl.col("spec_index").is_not_null())
        .with_columns(
            pl.col("total_buffered").shift().over(group).alias("prev_total"),
            pl.col("line").shift().over(group).alias("prev_line"),
            pl.col("ts").shift().over(group).alias("prev_ts"),
        )
        .with_columns((pl.col("total_buffered") - pl.col("prev_total") - 1).alias("missing"))
        .filter(pl.col("missing") > 0)
    )
    if found.is_empty():
        return
    jumps = pl.concat(
        [buffered[found["_at"]], found.drop(*group, "line", "total_buffered", "ts", "_at")], how="horizontal"
    )
    for _, rows in sorted(jumps.group_by(group), key=lambda g: (str(g[0][0]), as_int(g[0][1]))):
        yield _finding(analysis, rows.sort("line"))


def _finding(analysis: Analysis, rows: pl.DataFrame) -> Finding:
    missing = int(rows["missing"].sum())
    biggest = rows.sort("missing", "line", descending=[True, False]).head(SHOWN_JUMPS).sort("line")
    cited: list[dict[str, object]] = []
    spans = []
    for row in biggest.iter_rows(named=True):
        cited.append({"file": row["file"], "line": row["prev_line"], "ts": row["prev_ts"]})
        cited.append(row)
        spans.append(f"{row['prev_total']} to {row['total_buffered']}")
    first = rows.row(0, named=True)
    jumps = f"{rows.height} jumps" if rows.height > 1 else "a jump"
    shown = "; ".join(spans) + (" …" if rows.height > SHOWN_JUMPS else "")
    return Finding(
        rule=RULE_ID,
        severity=Severity.LOW,
        summary=(
            f"{plural(missing, 'Event buffered successfully line')} of "
            f"{store_label(analysis, first['spec_index'])} missing from {when(first)} on: total_buffered "
            f"makes {jumps} ({shown}) inside spec {spec_label(first)}; the logger's sampler keeps only "
            "every 100th identical line after 100 in one second."
        ),
        correlation_id=None,
        evidence=evidence(cited),
    )


RULE = Rule(
    id=RULE_ID,
    title="Store log lines hidden by the logger's sampler",
    severity=Severity.LOW,
    requires=("ginkgo",),
    check=check,
    doc=__doc__ or "",
)
