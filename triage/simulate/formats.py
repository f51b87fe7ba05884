"""Line formatting: zap production JSON, zap console (plain or coloured), values and stack traces."""

from __future__ import annotations

import json
from dataclasses import dataclass

from triage.simulate.timefmt import go_duration, go_float, seconds_json


@dataclass(frozen=True, slots=True)
class Dur:
    """A Go time.Duration value: JSON encoders print float seconds, console encoders Go strings."""

    us: int
    ns: int = 0


@dataclass(frozen=True, slots=True)
class Raw:
    """A value already rendered as compact JSON (e.g. a marshalled struct)."""

    text: str


Value = int | float | str | bool | Dur | Raw
Fields = tuple[tuple[str, Value], ...]

# zap's CapitalColorLevelEncoder colours (DataStorage's January console output).
LEVEL_COLOURS = {"DEBUG": "\x1b[35m", "INFO": "\x1b[34m", "WARN": "\x1b[33m", "ERROR": "\x1b[31m"}


def quote(text: str) -> str:
    """Quote a string the way zap's JSON encoder does (UTF-8 kept, control characters escaped).

    Args:
        text: The string.

    Returns:
        The JSON string literal.
    """
    return json.dumps(text, ensure_ascii=False)


def render(value: Value, console: bool) -> str:
    """Render one field value as zap does.

    Args:
        value: The value.
        console: True for the console encoder (durations as Go strings).

    Returns:
        The JSON text of the value.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, Dur):
        return quote(go_duration(value.us, value.ns)) if console else seconds_json(value.us, value.ns)
    return value.text


def json_line(
    level: str,
    ts: str,
    logger: str,
    caller: str,
    msg: str,
    fields: Fields,
    error: str | None = None,
    stacktrace: str | None = None,
) -> str:
    """Format one zap production JSON line (key order: level, ts, logger, caller, msg, fields).

    Args:
        level: Lower-case level name.
        ts: The rendered timestamp (quoted here unless it is a number).
        logger: Logger name, or empty for none.
        caller: Caller `file.go:line`, or empty for none.
        msg: The message.
        fields: Key/value pairs in call order.
        error: zapr's `error` field, appended after the fields.
        stacktrace: zap's stacktrace, the last key.

    Returns:
        The line without a newline.
    """
    parts = [f'{{"level":"{level}","ts":{ts if ts[:1].isdigit() and "T" not in ts else quote(ts)}']
    if logger:
        parts.append(f',"logger":{quote(logger)}')
    if caller:
        parts.append(f',"caller":{quote(caller)}')
    parts.append(f',"msg":{quote(msg)}')
    for key, value in fields:
        parts.append(f",{quote(key)}:{render(value, False)}")
    if error is not None:
        parts.append(f',"error":{quote(error)}')
    if stacktrace is not None:
        parts.append(f',"stacktrace":{quote(stacktrace)}')
    parts.append("}")
    return "".join(parts)


def console_line(
    ts: str,
    level: str,
    logger: str,
    caller: str,
    msg: str,
    fields: Fields,
    error: str | None = None,
    colour: bool = False,
) -> str:
    """Format one zap console line: tab-separated header, then the fields as spaced JSON.

    Args:
        ts: The rendered timestamp.
        level: Upper-case level name.
        logger: Logger name, or empty for none.
        caller: Caller, or empty for none.
        msg: The message.
        fields: Key/value pairs in call order.
        error: zapr's `error` field, appended after the fields.
        colour: Wrap the level in its ANSI colour (CapitalColorLevelEncoder).

    Returns:
        The line without a newline (stack traces, if any, are added by the caller).
    """
    level_text = f"{LEVEL_COLOURS[level]}{level}\x1b[0m" if colour else level
    head = [ts, level_text]
    if logger:
        head.append(logger)
    if caller:
        head.append(caller)
    head.append(msg)
    pairs = [f"{quote(key)}: {render(value, True)}" for key, value in fields]
    if error is not None:
        pairs.append(f'"error": {quote(error)}')
    line = "\t".join(head)
    return f"{line}\t{{{', '.join(pairs)}}}" if pairs else line


def go_stack(frames: tuple[tuple[str, str], ...]) -> str:
    """Render Go stack frames as zap's stacktrace text (function, then tab-indented file:line).

    Args:
        frames: (function, file:line) pairs, innermost first.

    Returns:
        The multi-line text.
    """
    return "\n".join(f"{func}\n\t{where}" for func, where in frames)
