"""Render a comparison of two runs as Markdown (templates/compare.md.j2) or JSON."""

from __future__ import annotations

import json

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
