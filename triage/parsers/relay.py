"""What a relay or a copying tool adds around a container's own lines, and taking it off again.

A container's output often reaches the bundle through something that decorates every line:

* Testcontainers' logger relays a container's output as
  `HH:MM:SS.mmm LEVEL  🐳 [image:tag] - STDOUT: <the container's line>` (logback's
  `%d{HH:mm:ss.SSS} %-5level %logger - %msg`, the logger named after the image);
* a tool that pastes a log as a list puts a comma after every line, blank ones included.

The line parsers take these off before reading the line (`peel`), and the classifier does the same
on the sampled lines (`peel_text`), so the container's format decides the kind. A comma is taken off
only when every non-blank line of the text ends with one: a single line ending with a comma is the
log's own text.
"""

from __future__ import annotations

import re

import polars as pl

# The relay's own time (no date) and level, its logger (any text, the image in brackets) and stream.
TESTCONTAINERS_PREFIX = r"^\d\d:\d\d:\d\d\.\d{3} +(?:TRACE|DEBUG|INFO|WARN|ERROR) +.*? - STD(?:OUT|ERR): ?"
_TESTCONTAINERS = re.compile(TESTCONTAINERS_PREFIX)
# Lines looked at before deciding a piece of a log has no relay prefix: a relayed file has it on all.
_PROBE_ROWS = 64


def _all_end_with_comma(texts: list[str]) -> bool:
    filled = [t for t in texts if t.strip()]
    return len(filled) >= 2 and all(t.endswith(",") for t in filled)


def peel_text(lines: list[str]) -> list[str]:
    """Take relay prefixes and a copying tool's trailing commas off sampled lines.

    Args:
        lines: consecutive lines of one file.

    Returns:
        The lines as the container printed them.
    """
    peeled = [_TESTCONTAINERS.sub("", line, count=1) for line in lines]
    if _all_end_with_comma(peeled):
        peeled = [line[:-1] for line in peeled]
    return peeled


def peel(lines: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Take relay prefixes and a copying tool's trailing commas off a piece of a log.

    Args:
        lines: columns `line` and `raw`, consecutive lines of one file.

    Returns:
        The lines with `raw` as the container printed it (the frame itself when nothing was taken off),
        and a note per kind of decoration taken off.
    """
    raw = pl.col("raw")
    notes: list[str] = []
    probe = lines.head(_PROBE_ROWS).get_column("raw")
    if probe.str.contains(TESTCONTAINERS_PREFIX).any():
        relayed = lines.select(raw.str.contains(TESTCONTAINERS_PREFIX).sum()).item()
        lines = lines.with_columns(raw.str.replace(TESTCONTAINERS_PREFIX, ""))
        notes.append(f"the Testcontainers relay prefix was taken off {relayed:,} line(s)")
    # The whole piece is looked at only when its first lines all end with a comma.
    if _all_end_with_comma(probe.to_list()):
        filled = lines.filter(raw.str.strip_chars() != "").get_column("raw")
        if filled.str.ends_with(",").all():
            lines = lines.with_columns(raw.str.strip_suffix(","))
            notes.append("every line ends with a comma a copying tool added; it was ignored")
    return lines, notes


def original_rows(lines: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """The original text of some peeled rows, so that samples quote the file as it is.

    Args:
        lines: the piece before `peel` (`line`, `raw`).
        rows: rows of the peeled piece, with `line`.

    Returns:
        `lines` restricted to those rows, in file order.
    """
    return lines.join(rows.select("line"), on="line", how="semi", maintain_order="left")
