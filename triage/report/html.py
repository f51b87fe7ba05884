"""The report as one self-contained HTML file (`--format html`), from the Markdown report's context.

`templates/report.html.j2` lays out the same typed `ReportContext` as `report.md.j2` (triage/report.py
words every value), with HTML autoescape on. The context's few Markdown fields (`*_md`: the verdict,
causes, fixes, lists of IDs) use only code spans, bold, backslash escapes, paragraphs and bullet
lists, which `md_inline` and `md_block` turn into HTML. The page has inline CSS and no script and
refers to nothing outside it, so it reads offline; Mermaid diagrams are shown as their source.

Secrets are redacted in the context, field by field, before anything is escaped (the Markdown
fields as Markdown), so an HTML escape cannot hide a secret and the placeholders are not escaped.
"""

from __future__ import annotations

import dataclasses
import re
from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup, escape

from triage.report.context import build_context
from triage.report.model import Report
from triage.report.redact import Redactor
from triage.report.render import template_environment

_CODE = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.S)
_ESCAPED = re.compile(r"\\([\\`*_\[\]<>|#])")
_ITEM = re.compile(r"[-*] ")


def md_inline(text: str) -> Markup:
    """HTML of one line of the report's Markdown: code spans, bold, backslash escapes.

    Args:
        text: Markdown as `md_escape`, `md_code` and the context's `*_md` fields write it.

    Returns:
        Escaped HTML.
    """
    out, last = [], 0
    for match in _CODE.finditer(text):
        out.append(_plain(text[last : match.start()]))
        code = match[2]
        if len(code) > 2 and code.startswith(" ") and code.endswith(" "):
            code = code[1:-1]
        out.append(f"<code>{escape(code.replace(chr(92) + '|', '|'))}</code>")
        last = match.end()
    out.append(_plain(text[last:]))
    return Markup("".join(out))


def _plain(text: str) -> str:
    """Text outside code spans: `**` toggles bold, escapes are undone, the rest is escaped."""
    parts = [str(escape(_ESCAPED.sub(r"\1", part))) for part in text.split("**")]
    return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))


def md_block(text: str) -> Markup:
    """HTML of Markdown lines: paragraphs and bullet lists (`- ` or `* `, continued by indented lines).

    Args:
        text: lines of Markdown.

    Returns:
        `<p>` and `<ul>` elements.
    """
    html: list[str] = []
    para: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if para:
            html.append(f"<p>{md_inline(' '.join(para))}</p>")
        if items:
            html.append("<ul>" + "".join(f"<li>{md_inline(i)}</li>" for i in items) + "</ul>")
        para.clear()
        items.clear()

    for line in text.splitlines():
        if not line.strip():
            flush()
        elif _ITEM.match(line):
            if para:
                flush()
            items.append(line[2:].strip())
        elif items and line.startswith(" "):
            items[-1] += " " + line.strip()
        else:
            if items:
                flush()
            para.append(line.strip())
    flush()
    return Markup("\n".join(html))


def _code(value: object) -> Markup:
    return Markup(f"<code>{escape(' '.join(str(value).split()))}</code>")


@cache
def markdown_environment() -> jinja2.Environment:
    env = template_environment(autoescape=True)
    env.filters["md"] = md_inline
    env.filters["mdblock"] = md_block
    env.filters["code"] = _code
    return env


def redacted(value: Any, redactor: Redactor, markdown: bool = False) -> Any:
    """A copy of a context value with every text redacted, in field order.

    Args:
        value: a dataclass, tuple, str or scalar of the report's context.
        redactor: the output's redactor.
        markdown: whether texts are Markdown (a `*_md` field).

    Returns:
        The same structure, its texts redacted.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: redacted(getattr(value, f.name), redactor, f.name.endswith("_md"))
            for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple):
        return tuple(redacted(v, redactor, markdown) for v in value)
    if isinstance(value, str):
        return redactor.markdown(value) if markdown else redactor.text(value)
    return value


def render_html(report: Report, redactor: Redactor) -> str:
    """The HTML report.

    Args:
        report: the analysis result.
        redactor: the output's redactor.

    Returns:
        One HTML document, ending in a newline.
    """
    context = redacted(build_context(report), redactor)
    text = markdown_environment().get_template("report.html.j2").render(ctx=context)
    return text.rstrip("\n") + "\n"
