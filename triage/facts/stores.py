"""Which spec timelines share an audit store, i.e. ran on the same Ginkgo process.

Lines carry no process ID, but a store leaves three fingerprints in every timeline it writes to:

* its ticker's phase: Go's ticker fires at start + k x interval whatever the receiver does, so
  `tick_time mod interval` is constant for a store (dropped ticks do not move it);
* its epoch `tick_time - tick_number x interval`, which only grows (by whole intervals, when ticks
  are dropped during slow writes);
* `total_buffered`, a per-store counter that only grows.

Timelines are chained in time order: a timeline joins the store whose phase matches, whose epoch is
not later and whose counter is below this timeline's, and which is not busy with another spec.
What cannot be told apart stays unknown. Only process 1 calls Close(), so the store whose chain
holds the `Audit store closed` line is process 1's; its counters describe that process alone.

A Ginkgo JSON report names the process of every spec (`ParallelProcess`): when it names the process
of every timeline with store lines, timelines are grouped by it and nothing is inferred.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from triage.facts.audit_pipeline import Pipeline
from triage.table.attrs import Attrs
from triage.table.exprs import with_attrs

BY_PROCESS = "the process Ginkgo's report names for each spec"
PHASE_TOLERANCE_NS = 1_000_000  # tick delivery jitter is far below this
EPOCH_SLACK_NS = 5_000_000


@dataclass(frozen=True)
class Window:
    """What one spec timeline shows of its store."""

    spec_index: int
    spec: str | None
    start_ns: int
    end_ns: int
    phase_ns: int | None
    epoch_ns: int | None
    interval_ns: int | None
    tb_min: int | None
    tb_max: int | None


@dataclass(frozen=True)
class Store:
    """One inferred audit store (one Ginkgo process).

    Attributes:
        name: "process 1" for the store that logged `Audit store closed`, else "store A", "store B", ...
            in order of first appearance.
        spec_indices: the timelines attributed to it, in time order.
        specs: their spec names.
        phase_ms: its ticker phase, None when its timelines showed no tick.
        max_total_buffered: the highest `total_buffered` it logged.
        closed: True when its chain holds the `Audit store closed` line.
        basis: how the timelines were tied together, for the report.
    """

    name: str
    spec_indices: tuple[int, ...]
    specs: tuple[str, ...]
    phase_ms: float | None
    max_total_buffered: int | None
    closed: bool
    basis: str


@dataclass
class _Chain:
    # The fingerprints are kept up to date as windows are added: recomputing them over the whole chain
    # for every candidate window made attribution quadratic in the number of timelines.
    windows: list[Window] = field(default_factory=list)
    _phase: int | None = None
    _epoch: int | None = None
    _tb: int | None = None

    def add(self, w: Window) -> None:
        self.windows.append(w)
        if w.phase_ns is not None:
            self._phase = w.phase_ns
        if w.epoch_ns is not None:
            self._epoch = w.epoch_ns if self._epoch is None else max(self._epoch, w.epoch_ns)
        if w.tb_max is not None:
            self._tb = w.tb_max if self._tb is None else max(self._tb, w.tb_max)

    @property
    def last(self) -> Window:
        return self.windows[-1]

    def phase(self) -> int | None:
        return self._phase

    def epoch(self) -> int | None:
        return self._epoch

    def tb_max(self) -> int | None:
        return self._tb


def windows(pipeline: Pipeline, events: pl.DataFrame) -> list[Window]:
    """Summarize each spec timeline's store fingerprints.

    Args:
        pipeline: the reconstructed pipeline.
        events: the event table (for the timelines' time spans and names).

    Returns:
        One Window per timeline with store lines, in time order.
    """
    ticks = pipeline.ticks.filter(pl.col("tick_at").is_not_null() & (pl.col("expected_interval") > 0))
    interval = (pl.col("expected_interval") * 1e9).round(0).cast(pl.Int64)
    at = pl.col("tick_at").cast(pl.Int64)
    tick_stats = ticks.group_by("file", "spec_index").agg(
        (at % interval).median().cast(pl.Int64).alias("phase_ns"),
        (at - pl.col("tick_number") * interval).min().alias("epoch_ns"),
        interval.first().alias("interval_ns"),
    )
    counters = pipeline.buffered.group_by("file", "spec_index").agg(
        pl.col("total_buffered").min().alias("tb_min"), pl.col("total_buffered").max().alias("tb_max")
    )
    store_specs = pl.concat(
        [tick_stats.select("file", "spec_index"), counters.select("file", "spec_index")]
    ).unique()
    spans = (
        events.lazy()
        .filter(pl.col("service") == "test-run")
        .group_by("file", "spec_index")
        .agg(
            pl.col("ts").min().cast(pl.Int64).alias("start_ns"),
            pl.col("ts").max().cast(pl.Int64).alias("end_ns"),
            pl.col("spec").drop_nulls().first().alias("spec"),
        )
        .collect()
    )
    table = (
        store_specs.join(spans, on=["file", "spec_index"], how="left")
        .join(tick_stats, on=["file", "spec_index"], how="left")
        .join(counters, on=["file", "spec_index"], how="left")
        .filter(pl.col("spec_index").is_not_null() & pl.col("start_ns").is_not_null())
        .sort("start_ns", "spec_index")
    )
    return [Window(*row) for row in table.select(list(Window.__dataclass_fields__)).iter_rows()]


def _phase_gap(a: int, b: int, interval: int) -> int:
    gap = abs(a - b) % interval
    return min(gap, interval - gap)


def _fits(chain: _Chain, w: Window) -> tuple[bool, tuple[int, int]]:
    """Can w continue chain? With a score: smaller is a better fit."""
    if w.start_ns < chain.last.end_ns - 1_000_000_000:  # seconds-precision times: allow 1 s overlap
        return False, (0, 0)
    phase, epoch, tb = chain.phase(), chain.epoch(), chain.tb_max()
    score_phase = 0
    if w.phase_ns is not None and phase is not None and w.interval_ns:
        score_phase = _phase_gap(w.phase_ns, phase, w.interval_ns)
        if score_phase > PHASE_TOLERANCE_NS:
            return False, (0, 0)
    if w.epoch_ns is not None and epoch is not None and w.epoch_ns < epoch - EPOCH_SLACK_NS:
        return False, (0, 0)
    gap = 0
    if w.tb_min is not None and tb is not None:
        if w.tb_min <= tb:
            return False, (0, 0)
        gap = w.tb_min - tb
    return True, (score_phase, gap)


def processes(events: pl.DataFrame, attrs: Attrs | None = None) -> dict[int, int]:
    """The Ginkgo process of each spec block whose source names it (a JSON report does).

    Args:
        events: the event table.
        attrs: the store of the table's `attrs`; None when the table has its `attrs` column.

    Returns:
        spec_index -> process, for the blocks of the one test-run file that names processes; empty
        when none does, or when several do (their block numbers would collide).
    """
    specs = events.filter((pl.col("record") == "spec") & pl.col("spec_index").is_not_null())
    rows = with_attrs(
        specs.select("file", "spec_index", pl.col("^attrs(_id)?$")),
        ["file", "spec_index"],
        {"process": pl.Int64()},
        attrs,
    ).drop_nulls("process")
    if rows["file"].n_unique() != 1:
        return {}
    return {int(i): int(p) for i, p in rows.select("spec_index", "process").iter_rows()}


def attribute(pipeline: Pipeline, events: pl.DataFrame, attrs: Attrs | None = None) -> tuple[Store, ...]:
    """Group spec timelines into stores: by their process where the test run names it, else inferred.

    Args:
        pipeline: the reconstructed pipeline.
        events: the event table.
        attrs: the store of the table's `attrs`; None when the table has its `attrs` column.

    Returns:
        The stores, process 1's first when known.
    """
    found = windows(pipeline, events)
    named = processes(events, attrs)
    if found and all(w.spec_index in named for w in found):
        return _by_process(found, named, pipeline)
    chains: list[_Chain] = []
    for w in found:
        fits = [(score, i) for i, c in enumerate(chains) for ok, score in [_fits(c, w)] if ok]
        if fits and (w.phase_ns is not None or w.tb_min is not None):
            chains[min(fits)[1]].add(w)
        else:
            chains.append(chain := _Chain())
            chain.add(w)
    closing = set(pipeline.closed["spec_index"].drop_nulls().to_list())
    stores = []
    letters = iter("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    ordered = sorted(
        chains, key=lambda c: (not any(w.spec_index in closing for w in c.windows), c.windows[0].start_ns)
    )
    for chain in ordered:
        closed = any(w.spec_index in closing for w in chain.windows)
        name = "process 1" if closed else f"store {next(letters, '?')}"
        phase = chain.phase()
        basis = "ticker phase and total_buffered continuity" if phase is not None else "total_buffered only"
        stores.append(
            Store(
                name=name,
                spec_indices=tuple(w.spec_index for w in chain.windows),
                specs=tuple(w.spec or f"spec block {w.spec_index}" for w in chain.windows),
                phase_ms=None if phase is None else round(phase / 1e6, 3),
                max_total_buffered=chain.tb_max(),
                closed=closed,
                basis=basis,
            )
        )
    return tuple(stores)


def _by_process(found: list[Window], named: dict[int, int], pipeline: Pipeline) -> tuple[Store, ...]:
    """One store per process the test run names, process 1's first."""
    closing = set(pipeline.closed["spec_index"].drop_nulls().to_list())
    chains: dict[int, _Chain] = {}
    for w in found:
        chains.setdefault(named[w.spec_index], _Chain()).add(w)
    stores = []
    for process, chain in sorted(chains.items()):
        phase = chain.phase()
        stores.append(
            Store(
                name=f"process {process}",
                spec_indices=tuple(w.spec_index for w in chain.windows),
                specs=tuple(w.spec or f"spec block {w.spec_index}" for w in chain.windows),
                phase_ms=None if phase is None else round(phase / 1e6, 3),
                max_total_buffered=chain.tb_max(),
                closed=any(w.spec_index in closing for w in chain.windows),
                basis=BY_PROCESS,
            )
        )
    return tuple(stores)
