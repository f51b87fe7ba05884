"""Polars expressions shared by the parsers: timestamps, levels, message keys.

Everything here works on whole columns; nothing loops over lines in Python.
"""

from __future__ import annotations

import polars as pl

from triage.schema import TsDtype

# RFC 3339 / ISO 8601 with optional fraction and a zone of `Z`, `-05:00` or `-0500`.
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%#z"
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
    key = (
        message.str.replace_all(_DECORATION, "")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    return key.replace(MESSAGE_ALIASES)


def zap_level(token: pl.Expr) -> pl.Expr:
    """Normalize a zap level token (`info`, `INFO`, `Level(-2)`, `LEVEL(-2)`, ...) to LEVELS.

    Args:
        token: a String expression holding the printed level.

    Returns:
        A String expression; unknown tokens become null.
    """
    return token.str.to_lowercase().replace_strict(_ZAP_LEVELS, default=None, return_dtype=pl.String)


def iso_ts(text: pl.Expr) -> pl.Expr:
    """Parse RFC 3339 / ISO 8601 text with a zone into a UTC instant; anything else gives null."""
    return text.str.to_datetime(ISO_FORMAT, time_zone="UTC", time_unit="ns", strict=False)


def epoch_ts(seconds: pl.Expr) -> pl.Expr:
    """Turn epoch seconds (float) into a UTC instant, keeping microseconds."""
    micros = (seconds.cast(pl.Float64) * 1_000_000).round(0).cast(pl.Int64)
    return (micros * 1000).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC").cast(TsDtype)


def fraction_precision(text: pl.Expr) -> pl.Expr:
    """Precision of a printed time from its fraction digits: none "s", 1-3 "ms", 4-6 "us", else "ns".

    Args:
        text: the printed timestamp.

    Returns:
        A String expression (cast it to PrecisionDtype).
    """
    digits = text.str.extract(r"\d\d:\d\d:\d\d\.(\d+)", 1).str.len_chars().fill_null(0)
    return (
        pl.when(digits == 0)
        .then(pl.lit("s"))
        .when(digits <= 3)
        .then(pl.lit("ms"))
        .when(digits <= 6)
        .then(pl.lit("us"))
        .otherwise(pl.lit("ns"))
    )


def utc_offset_seconds(text: pl.Expr) -> pl.Expr:
    """The UTC offset a printed ISO timestamp carries, in seconds (0 for `Z`, null when none)."""
    sign = text.str.extract(r"([+-])\d\d:?\d\d$", 1)
    hours = text.str.extract(r"[+-](\d\d):?\d\d$", 1).cast(pl.Int32)
    minutes = text.str.extract(r"[+-]\d\d:?(\d\d)$", 1).cast(pl.Int32)
    magnitude = hours * 3600 + minutes * 60
    return (
        pl.when(text.str.ends_with("Z"))
        .then(pl.lit(0, dtype=pl.Int32))
        .when(sign == "-")
        .then(-magnitude)
        .otherwise(magnitude)
    )
