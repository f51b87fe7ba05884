"""Mermaid diagrams for the report: a spec's buffer -> flush -> write -> query sequence, write rate.

Only a small, safe subset of Mermaid is emitted, and every label goes through `label()`, so the
diagrams parse whatever the logs contain.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_UNSAFE = re.compile(r"[^A-Za-z0-9 .,:_()/'=+\-]")
MAX_LABEL = 80


def label(text: str) -> str:
    """Text safe inside a Mermaid message or note: no `;`, `#`, quotes, brackets or arrows."""
    clean = " ".join(_UNSAFE.sub(" ", text).split())
    return clean if len(clean) <= MAX_LABEL else clean[: MAX_LABEL - 3].rstrip() + "..."


@dataclass(frozen=True)
class Message:
    """One arrow or note of a sequence diagram.

    Attributes:
        sender: participant key ("T" test, "C" controller, "S" store, "D" DataStorage).
        receiver: participant key; equal to sender for a note.
        text: what happened (a time prefix is added by the caller).
        dashed: a reply or an inferred step (drawn dashed).
    """

    sender: str
    receiver: str
    text: str
    dashed: bool = False


PARTICIPANTS = (("T", "Test"), ("C", "Controller"), ("S", "Audit store"), ("D", "DataStorage"))


def sequence(messages: Sequence[Message], store_name: str) -> str:
    """A sequenceDiagram of a spec's audit events.

    Args:
        messages: in time order.
        store_name: the store's name ("process 1", "store B", ...), shown on its participant.

    Returns:
        Mermaid source (no fences).
    """
    lines = ["sequenceDiagram"]
    for key, name in PARTICIPANTS:
        shown = f"{name} ({label(store_name)})" if key == "S" else name
        lines.append(f"    participant {key} as {shown}")
    for m in messages:
        if m.sender == m.receiver:
            lines.append(f"    Note over {m.sender}: {label(m.text)}")
        else:
            arrow = "-->>" if m.dashed else "->>"
            lines.append(f"    {m.sender}{arrow}{m.receiver}: {label(m.text)}")
    return "\n".join(lines)


def bar_chart(title: str, labels: Sequence[str], values: Sequence[int], y_label: str) -> str:
    """An xychart-beta bar chart.

    Args:
        title: chart title.
        labels: x-axis labels.
        values: bar heights, one per label.
        y_label: y-axis title.

    Returns:
        Mermaid source (no fences).
    """
    top = max([*values, 1])
    xs = ", ".join(f'"{label(x)}"' for x in labels)
    bars = ", ".join(str(v) for v in values)
    return "\n".join(
        [
            "xychart-beta",
            f'    title "{label(title)}"',
            f"    x-axis [{xs}]",
            f'    y-axis "{label(y_label)}" 0 --> {top}',
            f"    bar [{bars}]",
        ]
    )


_BLOCKS = " ▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[int]) -> str:
    """A one-line text chart of the values (eight levels, blank for zero)."""
    top = max([*values, 1])
    return "".join(_BLOCKS[0] if v <= 0 else _BLOCKS[max(1, round(v / top * 8))] for v in values)
