"""Everything the rules read: the event table, the reconstructed pipeline, stores, tests, containers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import polars as pl

from triage.facts.audit_pipeline import Pipeline, reconstruct
from triage.facts.containers import ContainerState, LogHealth
from triage.facts.stores import Store, attribute
from triage.facts.testrun import TestRun
from triage.table.attrs import Attrs
from triage.table.texts import LineTexts


@dataclass(frozen=True)
class Analysis:
    """The input of every rule. Rules read it and never change it.

    Attributes:
        events: the normalized event table.
        attrs: the `attrs` of its records (`attrs.attach(rows)`).
        pipeline: buffered -> flushed -> written -> queried, as the logs show it.
        stores: spec timelines grouped by audit store (one per Ginkgo process).
        tests: the test-run summary of each Ginkgo log.
        containers: inspected container states.
        log_health: per container log, records by severity, with known start-up noise apart.
        kinds: the source kinds present in the bundle (rules that need a missing kind are skipped).
        texts: the input lines' texts, for quoting and for the few rules that read a line's text.
        run_dir: the must-gather run directory's name, None when the bundle is laid out otherwise.
    """

    events: pl.DataFrame
    attrs: Attrs
    pipeline: Pipeline
    stores: tuple[Store, ...]
    tests: tuple[TestRun, ...]
    containers: tuple[ContainerState, ...]
    log_health: tuple[LogHealth, ...]
    kinds: frozenset[str]
    texts: LineTexts
    run_dir: str | None = None

    @cached_property
    def store_of_spec(self) -> dict[int, Store]:
        """Spec block index -> the store its timeline belongs to."""
        return {index: store for store in self.stores for index in store.spec_indices}

    @cached_property
    def owners(self) -> pl.DataFrame:
        """Which spec block owns each correlation ID: the one that queried it, else the first that logged it.

        Returns:
            Columns correlation_id, file, spec_index.
        """
        queried = self.pipeline.queries.select("correlation_id", "file", "spec_index", "line")
        logged = self.pipeline.buffered.select("correlation_id", "file", "spec_index", "line")
        ranked = pl.concat(
            [queried.with_columns(pl.lit(0).alias("rank")), logged.with_columns(pl.lit(1).alias("rank"))]
        ).drop_nulls(["correlation_id", "spec_index"])
        return (
            ranked.sort("rank", "file", "line")
            .group_by("correlation_id", maintain_order=True)
            .first()
            .select("correlation_id", "file", "spec_index")
        )


def build_analysis(
    events: pl.DataFrame,
    tests: tuple[TestRun, ...],
    containers: tuple[ContainerState, ...],
    log_health: tuple[LogHealth, ...],
    kinds: frozenset[str],
    texts: LineTexts | None = None,
    attrs: Attrs | None = None,
    *,
    run_dir: str | None = None,
) -> Analysis:
    """Reconstruct the pipeline and the stores from the event table.

    Args:
        events: the normalized event table.
        tests: test-run summaries.
        containers: container states.
        log_health: container log health.
        kinds: source kinds present.
        texts: the input lines' texts; when None, those of the `raw` column if `events` has one.
        attrs: the store of the records' `attrs`; None when `events` has its `attrs` column.
        run_dir: the must-gather run directory's name (`Bundle.run_dir`).

    Returns:
        The analysis.
    """
    attrs = Attrs() if attrs is None else attrs
    pipeline = reconstruct(events, attrs)
    return Analysis(
        events=events,
        attrs=attrs,
        pipeline=pipeline,
        stores=attribute(pipeline, events, attrs),
        tests=tests,
        containers=containers,
        log_health=log_health,
        kinds=kinds,
        texts=LineTexts.from_events(events) if texts is None else texts,
        run_dir=run_dir,
    )
