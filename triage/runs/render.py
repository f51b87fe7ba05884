"""Render what is said across runs, a comparison or a history, as Markdown (templates/) or JSON."""

from __future__ import annotations

import json
from typing import Any

from triage.report.fingerprint import short
from triage.report.redact import Redactor
from triage.report.render import markdown_environment
from triage.report.wording import tool_version
from triage.runs.compare import Comparison
from triage.runs.compare_view import comparison_context, comparison_json


def render_comparison(comparison: Comparison, fmt: str) -> str:
    """Render `triage compare` in the named format ("markdown" or "json"), with every secret redacted.

    Args:
        comparison: two runs compared.
        fmt: "markdown" or "json".

    Returns:
        The text, ending in one newline.
    """
    redactor = Redactor()
    if fmt == "json":
        data = comparison_json(comparison, tool_version())
        return json.dumps(redactor.json(data), indent=2, ensure_ascii=False) + "\n"
    context = comparison_context(comparison, tool_version(), short)
    text = markdown_environment().get_template("compare.md.j2").render(ctx=context)
    return redactor.markdown(text.rstrip("\n") + "\n")


def render_history(doc: dict[str, Any], fmt: str) -> str:
    """Render `triage history` in the named format ("markdown" or "json"), with every secret redacted.

    Args:
        doc: `history.summarize`'s output.
        fmt: "markdown" or "json".

    Returns:
        The text, ending in one newline.
    """
    from triage.runs.history_view import history_context

    redactor = Redactor()
    if fmt == "json":
        data = {"schema_version": doc["schema_version"], "tool_version": tool_version(), **doc}
        return json.dumps(redactor.json(data), indent=2, ensure_ascii=False) + "\n"
    context = history_context(doc, tool_version())
    text = markdown_environment().get_template("history.md.j2").render(ctx=context)
    return redactor.markdown(text.rstrip("\n") + "\n")
