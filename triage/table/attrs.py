"""Each record's `attrs` (its remaining fields, as JSON text), kept compressed beside the event table.

The JSON text is most of a parsed log (three quarters of a large bundle's table), yet the analysis
reads it for few rows: the audit store's lines, DataStorage's requests and writes, Ginkgo's own
records. So ingest takes `attrs` out of each parsed piece and compresses it (zstd, about 12 to 1);
the table keeps, per record, the `attrs_id` where its text is, and `Attrs.attach` decompresses only
the parts that hold the records asked for. A piece's log records and its other records (Ginkgo
headers, failures, helper prints, container states) are kept in separate parts, so that reading the
few Ginkgo records of a large test log does not decompress its log lines. A part of little text (most
of a small bundle's) is kept uncompressed: writing and reading it as compressed IPC would cost about a
millisecond each way, more than the room it saves is worth.

A table that still has its `attrs` column (a parser's own output, a test's table) needs no store:
`attach` returns such a frame as it is.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

ID = "attrs_id"
# The least text, in bytes, of a part that is compressed.
COMPRESS_FROM = 64 * 1024
_EMPTY = pl.Series("attrs", [], pl.String())


@dataclass(frozen=True)
class Attrs:
    """The compressed `attrs` of a table's records, by `attrs_id`.

    Attributes:
        starts: the first id of each part, ascending.
        sizes: how many records each part holds; part i holds ids starts[i] .. starts[i] + sizes[i] - 1.
        parts: each part's `attrs` column, as compressed Arrow IPC, or as it is when its text is short.
    """

    starts: tuple[int, ...] = ()
    sizes: tuple[int, ...] = ()
    parts: tuple[bytes | pl.Series, ...] = ()

    @property
    def count(self) -> int:
        """How many ids the store holds."""
        return self.starts[-1] + self.sizes[-1] if self.starts else 0

    @property
    def nbytes(self) -> int:
        """The size of the parts as kept."""
        return sum(
            len(part) if isinstance(part, bytes) else int(part.estimated_size()) for part in self.parts
        )

    def attach(self, rows: pl.DataFrame) -> pl.DataFrame:
        """Add the `attrs` column to rows of the table (which carry `attrs_id`), in their order.

        Args:
            rows: rows of the event table; a frame that already has `attrs` is returned as it is.

        Returns:
            rows with `attrs` added last.

        Raises:
            ValueError: an id is not in the store (rows of another table).
        """
        if "attrs" in rows.columns:
            return rows
        return rows.with_columns(self.apply(rows, _owned).alias("attrs"))

    def apply(self, rows: pl.DataFrame, fn: Callable[[pl.Series], pl.Series]) -> pl.Series:
        """`fn` over the `attrs` texts of rows, one part at a time, so that one part's text is held at most.

        Args:
            rows: rows of the event table, with `attrs_id` or with `attrs`.
            fn: maps a String series to a series as long (e.g. decodes the JSON fields it needs).

        Returns:
            fn's values, one per row, in rows' order.

        Raises:
            ValueError: an id is not in the store (rows of another table).
        """
        if "attrs" in rows.columns:
            return fn(rows.get_column("attrs"))
        ids = rows.get_column(ID)
        # Rows picked from the table in its order have ascending ids: their values need no reordering.
        ascending = ids.null_count() == 0 and ids.is_sorted() and ids.n_unique() == ids.len()
        wanted = ids if ascending else ids.drop_nulls().unique().sort()
        if wanted.is_empty():
            return fn(_EMPTY).extend_constant(None, rows.height)
        if wanted[0] < (self.starts[0] if self.starts else 0) or wanted[-1] >= self.count:
            raise ValueError(f"{ID} {wanted[-1]} is not in this store of {self.count:,} records' attrs")
        starts = pl.Series(self.starts, dtype=ids.dtype)
        # ids of part i are wanted[bounds[i]:bounds[i + 1]]
        bounds = [*wanted.search_sorted(starts, side="left").to_list(), wanted.len()]
        found: list[pl.Series] = []
        for i, (start, part) in enumerate(zip(self.starts, self.parts, strict=True)):
            lo, hi = bounds[i], bounds[i + 1]
            if lo < hi:
                texts = (
                    part if isinstance(part, pl.Series) else pl.read_ipc(io.BytesIO(part)).get_column("attrs")
                )
                found.append(fn(texts.gather(wanted.slice(lo, hi - lo) - start)))
        if ascending:
            return pl.concat(found)
        table = pl.DataFrame([wanted.slice(bounds[0]), pl.concat(found).alias("_value")])
        joined = rows.select(ID).join(table, on=ID, how="left", maintain_order="left")
        return joined.get_column("_value").alias(found[0].name)

    def shifted(self, by: int) -> Attrs:
        """The same store with every id moved up by `by`."""
        return Attrs(tuple(start + by for start in self.starts), self.sizes, self.parts)

    @staticmethod
    def join(stores: Sequence[Attrs]) -> Attrs:
        """One store from stores whose ids follow one another (as `pack` and `shifted` make them)."""
        return Attrs(
            tuple(s for store in stores for s in store.starts),
            tuple(n for store in stores for n in store.sizes),
            tuple(p for store in stores for p in store.parts),
        )


def pack(events: pl.DataFrame, compress_from: int = COMPRESS_FROM) -> tuple[pl.DataFrame, Attrs]:
    """Take `attrs` out of a parsed piece: the events get ids from 0, their texts a store of two parts.

    Args:
        events: a parser's records, with `attrs`.
        compress_from: the least text, in bytes, of a part that is compressed.

    Returns:
        The records with `attrs_id` (UInt32) in place of `attrs`, and the store of their texts.
    """
    is_log = pl.col("record") == "log"
    logs = int(events.select(is_log.sum()).item() or 0)
    local = pl.when(is_log).then(is_log.cum_sum() - 1).otherwise(logs + (~is_log).cum_sum() - 1)
    starts: list[int] = []
    sizes: list[int] = []
    parts: list[bytes | pl.Series] = []
    for start, size, which in ((0, logs, is_log), (logs, events.height - logs, ~is_log)):
        if size:
            starts.append(start)
            sizes.append(size)
            texts = events.filter(which).get_column("attrs")
            # Kept as it is, a part is copied: picked rows share the buffers of the whole column.
            small = (texts.str.len_bytes().sum() or 0) < compress_from
            parts.append(_owned(texts) if small else _compress(texts))
    store = Attrs(tuple(starts), tuple(sizes), tuple(parts))
    return events.with_columns(local.cast(pl.UInt32).alias(ID)).drop("attrs"), store


def _owned(texts: pl.Series) -> pl.Series:
    """A copy of texts in buffers of their own.

    Strings picked from a column may share its buffers: picking most of a part's records would keep
    all of the part's text alive after the part is let go.
    """
    return texts.to_frame().select(pl.concat_str(pl.col("attrs"), pl.lit(""))).to_series()


def _compress(texts: pl.Series) -> bytes:
    buffer = io.BytesIO()
    texts.to_frame("attrs").write_ipc(buffer, compression="zstd")
    return buffer.getvalue()
