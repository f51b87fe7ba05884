"""Typed values from the untyped rows polars hands out (`DataFrame.iter_rows(named=True)`, `group_by` keys).

A row's cell is typed `Any`; these read one as the type its column holds, so a caller states the type
once instead of casting through `str`.
"""

from __future__ import annotations


def as_int(value: object, default: int | None = None) -> int:
    """A cell of an integer column as an `int`.

    Args:
        value: the cell (an `int`, or anything whose text is an integer).
        default: what a null cell reads as; without it a null is an error.

    Returns:
        The integer.
    """
    if value is None and default is not None:
        return default
    if isinstance(value, int):
        return value
    return int(str(value))


def as_float(value: object, default: float | None = None) -> float:
    """A cell of a numeric column as a `float`.

    Args:
        value: the cell (a number, or anything whose text is one).
        default: what a null cell reads as; without it a null is an error.

    Returns:
        The number.
    """
    if value is None and default is not None:
        return default
    if isinstance(value, (int, float)):
        return float(value)
    return float(str(value))
