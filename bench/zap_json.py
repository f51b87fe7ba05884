"""Measure decoding zap JSON records: the regex read of zap's own shape against the JSON decoder alone.

    python bench/zap_json.py FILE [--repeats 3]

FILE is a log holding zap JSON lines (a Ginkgo test log with the audit store's lines, a DataStorage
JSON log). Its lines are read once; then, interleaved `--repeats` times, `zap_json.decode_records`
decodes them as it runs and with every record sent to the JSON decoder (the reference). CPU time is
the process's own (user + system, every thread), the median of the rounds. Both must give the same
frame, or the run stops.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from triage.parsers import zap_json


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _lines(path: Path) -> pl.DataFrame:
    frame = pl.read_csv(
        path,
        has_header=False,
        separator="\x1f",
        quote_char=None,
        new_columns=["raw"],
        schema_overrides={"raw": pl.String},
        encoding="utf8-lossy",
        truncate_ragged_lines=True,
    )
    return frame.select(pl.col("raw").fill_null("").str.strip_chars_start().alias("text"))


# The groups of zap_json._PLAIN behind a NUL no line starts with: every record goes to the JSON decoder.
_NEVER = r"^\x00" + "".join(f"(?P<{name}>)" for name in ("level", "ts", "logger", "caller", "msg", "fields"))


def _json_only(rows: pl.DataFrame) -> pl.DataFrame:
    plain = zap_json._PLAIN
    zap_json._PLAIN = _NEVER
    try:
        return zap_json.decode_records(rows, "text")
    finally:
        zap_json._PLAIN = plain


def main(argv: list[str] | None = None) -> int:
    """Print CPU seconds of both decoders and their ratio.

    Args:
        argv: command-line arguments (default: sys.argv[1:]).

    Returns:
        The exit code.
    """
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    rows = _lines(args.file)
    runs: dict[str, Callable[[pl.DataFrame], pl.DataFrame]] = {
        "JSON decoder only (reference)": _json_only,
        "as triage runs": lambda frame: zap_json.decode_records(frame, "text"),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeats):
        outputs = []
        for name, run in runs.items():
            start = _cpu()
            outputs.append(run(rows))
            times[name].append(_cpu() - start)
        assert_frame_equal(outputs[0], outputs[1])
    mb = int(rows.select(pl.col("text").str.len_bytes().sum()).item()) / 1e6
    print(f"{args.file}: {rows.height} lines, {outputs[0].height} zap JSON records, {mb:.1f} MB")
    reference = statistics.median(times[next(iter(runs))])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<32} CPU s {median:7.3f}   x{median / reference:5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
