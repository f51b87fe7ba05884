"""Polars expressions shared by the parsers: timestamps, levels, message keys.

Everything here works on whole columns; nothing loops over lines in Python.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from triage.table.schema import TsDtype

# RFC 3339 / ISO 8601 with optional fraction and a zone of `Z`, `-05:00` or `-0500`.
# `kubectl logs --timestamps` (cluster must-gather) puts an RFC 3339 nano time before each line.
KUBECTL_TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z"
KUBECTL_PREFIX = rf"^{KUBECTL_TS} "
ISO_TS_PATTERN = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)"

# Emoji, pictographs, dingbats, arrows-as-symbols, variation selectors and joiners. Removing them
# lets the January spelling ("✅ Event buffered successfully") and the later one share a key.
_DECORATION = (
    r"[\x{1F000}-\x{1FAFF}\x{2600}-\x{27BF}\x{2300}-\x{23FF}\x{2B00}-\x{2BFF}"
    r"\x{FE00}-\x{FE0F}\x{200D}\x{20E3}]"
)

# Later spellings of the same event, keyed to the January wording.
MESSAGE_ALIASES: dict[str, str] = {
    "Dropping audit batch due to non-retryable client error (invalid request data)": (
        "Dropping audit batch due to non-retryable error (invalid data)"
    ),
}

_ZAP_LEVELS = {
    "debug": "debug",
    "info": "info",
    "warn": "warn",
    "warning": "warn",
    "error": "error",
    "dpanic": "panic",
    "panic": "panic",
    "fatal": "fatal",
    "level(-2)": "trace",
    "level(-3)": "trace",
}


def message_key(message: pl.Expr) -> pl.Expr:
    """Canonical key of a message: decorations stripped, spaces collapsed, later spellings aliased.

    Args:
        message: a String expression.

    Returns:
        A String expression.
    """
    key = message.str.replace_all(_DECORATION, "").str.replace_all(r"\s+", " ").str.strip_chars()
    return key.replace(MESSAGE_ALIASES)


def with_per_value(frame: pl.DataFrame, key: str, columns: Iterable[pl.Expr]) -> pl.DataFrame:
    """Add columns that depend on one column only, computing them once per distinct value.

    A log repeats its messages and timestamps many times over; regexes and date parsing run over the
    few distinct values and a hash join spreads the results back.

    Args:
        frame: any frame.
        key: the column the expressions read (nulls included: they form one value).
        columns: named expressions of `pl.col(key)` alone.

    Returns:
        `frame` with the columns added, rows in their order.
    """
    table = frame.select(pl.col(key).unique()).with_columns(columns)
    return frame.join(table, on=key, how="left", nulls_equal=True, maintain_order="left")


def zap_level(token: pl.Expr) -> pl.Expr:
    """Normalize a zap level token (`info`, `INFO`, `Level(-2)`, `LEVEL(-2)`, ...) to LEVELS.

    Args:
        token: a String expression holding the printed level.

    Returns:
        A String expression; unknown tokens become null.
    """
    return token.str.to_lowercase().replace_strict(_ZAP_LEVELS, default=None, return_dtype=pl.String)


def epoch_ts(seconds: pl.Expr) -> pl.Expr:
    """Turn epoch seconds (float) into a UTC instant, keeping microseconds; null outside the years
    1685-2255 that a nanosecond instant holds, so that one absurd number cannot fail its file."""
    value = seconds.cast(pl.Float64, strict=False)
    micros = pl.when(value.abs() < 9e9).then((value * 1_000_000).round(0)).cast(pl.Int64, strict=False)
    return (micros * 1000).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC").cast(TsDtype)


# Precision by the number of fraction digits (7 stands for more than 6).
_PRECISIONS = {0: "s", 1: "ms", 2: "ms", 3: "ms", 4: "us", 5: "us", 6: "us", 7: "ns"}


def fraction_precision(text: pl.Expr) -> pl.Expr:
    """Precision of a printed time from its fraction digits: none "s", 1-3 "ms", 4-6 "us", else "ns".

    Args:
        text: the printed timestamp.

    Returns:
        A String expression (cast it to PrecisionDtype).
    """
    digits = text.str.extract(r"\d\d:\d\d:\d\d\.(\d+)", 1).str.len_chars().fill_null(0)
    # The digits are read once: an expression used twice in one eager call is computed twice.
    return digits.clip(0, 7).replace_strict(_PRECISIONS, return_dtype=pl.String)


def utc_offset_seconds(text: pl.Expr) -> pl.Expr:
    """The UTC offset a printed ISO timestamp carries, in seconds (0 for `Z`, null when none)."""
    sign = text.str.extract(r"([+-])\d\d:?\d\d$", 1)
    hours = text.str.extract(r"[+-](\d\d):?\d\d$", 1).cast(pl.Int32)
    minutes = text.str.extract(r"[+-]\d\d:?(\d\d)$", 1).cast(pl.Int32)
    # Each part is read once: an expression used twice in one eager call is computed twice.
    direction = pl.when(sign == "-").then(pl.lit(-1, dtype=pl.Int32)).otherwise(pl.lit(1, dtype=pl.Int32))
    signed = (hours * 3600 + minutes * 60) * direction
    return pl.when(text.str.ends_with("Z")).then(pl.lit(0, dtype=pl.Int32)).otherwise(signed)


# A Go stack frame as zap prints it: a function line, then the file on a tab-indented line. Copies
# (and pagers such as lnav) expand that tab into spaces: a space-indented file line must then name a
# `.go` file. Panics add " +0x1d4" offsets and "created by ..." lines; both are accepted.
_STACK_FILE = r"^(?:\t\S.*| {2,}\S+\.go):\d+(?: \+0x[0-9a-f]+)?$"
_STACK_FUNC = r"^(?:created by )?[A-Za-z_][^\s]*\.[^\s]+(?: in goroutine \d+)?$"


def matching(text: pl.Expr, pattern: str) -> pl.Expr:
    """Whether each text matches `pattern`; False where the text is null, and there the regex does not run.

    `str.contains` runs its regex over the bytes of every row, null or not, so testing the few rows a
    `when` leaves costs as much as testing all of them; taking the match (`str.extract`) skips null rows.

    Args:
        text: a String expression, typically `pl.when(rows).then(column)`.
        pattern: a regular expression.

    Returns:
        A Boolean expression without nulls.
    """
    return text.str.extract(pattern, 0).is_not_null()


def stack_file_line(text: pl.Expr) -> pl.Expr:
    """Whether a line is the file line of a Go stack frame (`stack_frame_line`).

    Args:
        text: a String expression, indentation already removed.

    Returns:
        A Boolean expression.
    """
    # A file line is indented: the regex runs only on such rows.
    indented = text.str.starts_with("\t") | text.str.starts_with("  ")
    return matching(pl.when(indented).then(text), _STACK_FILE)


def stack_frame_line(text: pl.Expr, is_file: pl.Expr | None = None) -> pl.Expr:
    """Whether a line belongs to a Go stack trace: a function line before its file line, or a file line.

    Args:
        text: a String expression of consecutive lines (file order), indentation already removed.
        is_file: `stack_file_line(text)`, when the caller has it already (an expression used twice in
            one eager call is computed twice).

    Returns:
        A Boolean expression; whether the trace follows a record is for the caller to decide.
    """
    is_file = stack_file_line(text) if is_file is None else is_file
    # A function line precedes a file line: the regex runs only on the rows before one.
    before_file = is_file.shift(-1, fill_value=False)
    is_func = matching(pl.when(before_file).then(text), _STACK_FUNC)
    return is_file | is_func


def with_stacktrace(attrs: pl.Expr, stack: pl.Expr) -> pl.Expr:
    """Add a `stacktrace` member to a JSON object text.

    Args:
        attrs: a String expression holding a JSON object ("{}" when empty).
        stack: the trace text, null when the record has none.

    Returns:
        A String expression: attrs unchanged where stack is null, else attrs with the trace appended.
    """
    member = pl.struct(stack.alias("stacktrace")).struct.json_encode()
    return (
        pl.when(stack.is_null())
        .then(attrs)
        .when(attrs == "{}")
        .then(member)
        .otherwise(attrs.str.strip_suffix("}") + "," + member.str.strip_prefix("{"))
    )


def offset_counts(offsets: pl.Series) -> dict[int, int]:
    """Count the UTC offsets of a file's zoned records.

    Args:
        offsets: offsets in seconds (nulls for records without a zone are ignored).

    Returns:
        {offset_seconds: number of records}, in offset order.
    """
    counts = offsets.drop_nulls().value_counts(sort=False)
    pairs = zip(counts[offsets.name].to_list(), counts["count"].to_list(), strict=True)
    return {int(offset): int(count) for offset, count in sorted(pairs)}
