"""A JSON document read as text, each value with its character span, so evidence can cite its lines.

Values are decoded in place with the json module (`raw_decode`); a damaged document gives what could
be read and says what was wrong, never raises.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from dataclasses import dataclass, field

_DECODER = json.JSONDecoder()
_WS = re.compile(r"\s*")


@dataclass
class Document:
    """Decoded top-level values with their character spans, and what was wrong."""

    elements: list[tuple[int, int, object]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    shape: str = "empty"
    broken: str | None = None


def skip_space(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


def decode_at(text: str, pos: int) -> tuple[object, int] | str:
    """Decode one JSON value at pos: (value, end) or the error, `JSON error at line N: what`."""
    try:
        return _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        return f"JSON error at line {exc.lineno}, column {exc.colno}: {exc.msg}"
    except (ValueError, RecursionError) as exc:
        return f"JSON error: {exc}" if isinstance(exc, ValueError) else "JSON error: nesting too deep"


def read_document(text: str, line_of: LineOf) -> Document:
    doc = Document()
    pos = skip_space(text, 0)
    if pos >= len(text):
        return doc
    in_array = text[pos] == "["
    doc.shape = "array" if in_array else "object"
    pos = skip_space(text, pos + 1) if in_array else pos
    while pos < len(text) and not (in_array and text[pos] == "]"):
        got = decode_at(text, pos)
        if isinstance(got, str):
            doc.problems.append(got)
            doc.broken = got
            return doc
        value, end = got
        if not in_array and not isinstance(value, dict):
            doc.problems.append(f"top-level value is {type(value).__name__}, not an array or object")
            return doc
        doc.elements.append((pos, end, value))
        pos = skip_space(text, end)
        if in_array and text.startswith(",", pos):
            pos = skip_space(text, pos + 1)
        elif in_array and pos < len(text) and text[pos] != "]":
            doc.problems.append(f"expected ',' or ']' at line {line_of(pos)}")
            return doc
    if in_array and pos >= len(text):
        doc.problems.append("the array is not closed (truncated document?)")
    elif in_array and (pos := skip_space(text, pos + 1)) < len(text):
        doc.problems.append(f"unexpected text after the array at line {line_of(pos)}")
    return doc


class LineOf:
    """Maps a character offset of the joined text to its 1-based line number."""

    def __init__(self, raws: list[str]) -> None:
        self.starts: list[int] = []
        offset = 0
        for raw in raws:
            self.starts.append(offset)
            offset += len(raw) + 1

    def __call__(self, offset: int) -> int:
        return bisect_right(self.starts, offset)


def value_span(text: str, start: int, end: int, key: str, expected: object) -> tuple[int, int, int] | None:
    """Find `"key": value` between start and end whose value decodes to expected.

    Returns:
        (key offset, value start, value end), or None. Comparing the decoded value avoids taking a
        same-named key nested elsewhere (a label called "State", Config.Healthcheck ...).
    """
    for match in re.finditer(r'"' + re.escape(key) + r'"\s*:\s*', text[start:end]):
        value_start = start + match.end()
        got = decode_at(text, value_start)
        if not isinstance(got, str) and got[0] == expected:
            return start + match.start(), value_start, got[1]
    return None


def line_text(text: str, offset: int) -> str:
    """The text of the line holding `offset`, without indentation or line ending."""
    begin = text.rfind("\n", 0, offset) + 1
    stop = text.find("\n", offset)
    return text[begin : stop if stop >= 0 else len(text)].strip()


def array_items(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the items of the JSON array text[start:end]."""
    items: list[tuple[int, int]] = []
    pos = skip_space(text, start + 1)
    while pos < end and text[pos] != "]":
        got = decode_at(text, pos)
        if isinstance(got, str):
            break
        items.append((pos, got[1]))
        pos = skip_space(text, got[1])
        if pos < end and text[pos] == ",":
            pos = skip_space(text, pos + 1)
    return items
