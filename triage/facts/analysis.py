"""Everything the rules read: the event table, the reconstructed pipeline, stores, tests, containers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, wraps
from typing import Any, TypeVar

import polars as pl

from triage.facts.audit_pipeline import Pipeline, reconstruct
from triage.facts.containers import ContainerState, LogHealth
from triage.facts.stores import Store, attribute
from triage.facts.testrun import TestRun
from triage.table.attrs import Attrs
from triage.table.texts import LineTexts

_T = TypeVar("_T")


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
    _shared: dict[Callable[..., Any], _Once] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _shared_lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    def shared(self, fn: Callable[[Analysis], _T]) -> _T:
        """`fn(self)`, worked out once: what several rules and the report read is derived once.

        The rules run on several threads; a second caller of the same `fn` waits for the first's value.

        Args:
            fn: a function of the analysis alone, whose value its callers only read.

        Returns:
            fn's value.
        """
        with self._shared_lock:
            once = self._shared.setdefault(fn, _Once())
        value: _T = once.get(lambda: fn(self))
        return value

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


class _Once:
    """A value computed by its first reader; one that fails leaves it for the next to compute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = False
        self._value: Any = None

    def get(self, compute: Callable[[], Any]) -> Any:
        """The value, computed now when no reader has computed it yet."""
        with self._lock:
            if not self._done:
                self._value = compute()
                self._done = True
            return self._value


def per_analysis(fn: Callable[[Analysis], _T]) -> Callable[[Analysis], _T]:
    """Decorate a function of the analysis alone: it is worked out once per analysis (`Analysis.shared`).

    Args:
        fn: what several rules (or the report) derive from the analysis and only read.

    Returns:
        fn, computed once per analysis.
    """

    @wraps(fn)
    def once(analysis: Analysis) -> _T:
        return analysis.shared(fn)

    return once


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
