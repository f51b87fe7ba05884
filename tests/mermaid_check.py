"""A strict checker for the Mermaid subset the report emits (sequenceDiagram, xychart-beta).

The Mermaid CLI needs a browser; this checker needs nothing and runs in every test run. It accepts
only the statements `triage.report.mermaid` writes, so anything else (a stray `;`, an unknown participant,
an unbalanced axis) is reported.
"""

from __future__ import annotations

import re

_SAFE = r"[A-Za-z0-9 .,:_()/'=+\-]*"
_SEQ = (
    re.compile(rf"^    participant [A-Z] as {_SAFE}$"),
    re.compile(rf"^    Note over [A-Z]: {_SAFE}$"),
    re.compile(rf"^    [A-Z]-{{1,2}}>>[A-Z]: {_SAFE}$"),
)
_XY = (
    re.compile(rf'^    title "{_SAFE}"$'),
    re.compile(rf'^    x-axis \[(?:"{_SAFE}"(?:, "{_SAFE}")*)\]$'),
    re.compile(rf'^    y-axis "{_SAFE}" 0 --> \d+$'),
    re.compile(r"^    bar \[(?:\d+(?:, \d+)*)\]$"),
)


def problems(source: str) -> list[str]:
    """What is wrong with a diagram's source; empty when it is valid.

    Args:
        source: the text between the ```mermaid fences.

    Returns:
        One message per problem, with its line number.
    """
    lines = source.split("\n")
    kind = lines[0].strip() if lines else ""
    if kind == "sequenceDiagram":
        declared = set()
        out = []
        for n, line in enumerate(lines[1:], 2):
            if not any(p.match(line) for p in _SEQ):
                out.append(f"line {n}: not a statement of the emitted subset: {line!r}")
                continue
            words = line.split()
            if words[0] == "participant":
                declared.add(words[1])
                continue
            used = re.findall(r"\b([A-Z])(?=-|:|>>)|>>([A-Z]):|over ([A-Z]):", line)
            for name in {x for group in used for x in group if x}:
                if name not in declared:
                    out.append(f"line {n}: participant {name} is not declared")
        return out
    if kind == "xychart-beta":
        out = [
            f"line {n}: unexpected {line!r}"
            for n, line in enumerate(lines[1:], 2)
            if not any(p.match(line) for p in _XY)
        ]
        axis = next((line for line in lines if line.startswith("    x-axis")), "")
        bar = next((line for line in lines if line.startswith("    bar")), "")
        if axis.count('"') // 2 != (bar.count(",") + 1 if bar.strip() != "bar []" else 0):
            out.append("x-axis labels and bar values differ in number")
        return out
    return [f"line 1: unknown diagram type {kind!r}"]
