"""The Ginkgo v2 JSON report as a document: its suite reports and their fields read defensively.

A field of an unexpected type reads as absent, so a report written by another Ginkgo version, or
damaged, still gives what it holds. `ginkgo_report` turns what is read here into records.
"""

from __future__ import annotations

import json
from typing import Any


class NotAReport(ValueError):
    """The text is not a Ginkgo JSON report."""


def suites_of(text: str) -> list[dict[str, Any]]:
    """The suite reports of a Ginkgo JSON report.

    Args:
        text: the report's text.

    Returns:
        Its suite reports.

    Raises:
        NotAReport: the text is not JSON, or not a list of suite reports with `SpecReports`.
    """
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise NotAReport(f"not valid JSON: {exc}") from None
    if not isinstance(doc, list) or not all(isinstance(s, dict) and "SpecReports" in s for s in doc):
        raise NotAReport("not a list of Ginkgo suite reports with SpecReports")
    for suite in doc:  # a field of an unexpected type reads as absent
        suite["SpecReports"] = [r for r in field_list(suite.get("SpecReports")) if isinstance(r, dict)]
    return doc


def field_list(value: object) -> list[Any]:
    """A list field: the list, or empty when the field is not one.

    Args:
        value: the field.

    Returns:
        The list.
    """
    return value if isinstance(value, list) else []


def field_dict(value: object) -> dict[str, Any]:
    """An object field: the dict, or empty when the field is not one.

    Args:
        value: the field.

    Returns:
        The dict.
    """
    return value if isinstance(value, dict) else {}


def field_int(value: object) -> int | None:
    """An integer field (a JSON boolean is none).

    Args:
        value: the field.

    Returns:
        The integer, or None.
    """
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def field_str(value: object) -> str:
    """A string field.

    Args:
        value: the field.

    Returns:
        The string, or empty when the field is not one.
    """
    return value if isinstance(value, str) else ""


def output_lines(spec: dict[str, Any]) -> list[str]:
    """A spec report's captured GinkgoWriter output, split at its newlines.

    Args:
        spec: the spec report.

    Returns:
        Its lines, without the empty one after a final newline.
    """
    lines = field_str(spec.get("CapturedGinkgoWriterOutput")).split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def location_of(value: object) -> str | None:
    """A code location (`FileName`, `LineNumber`) as `file:line`.

    Args:
        value: the location field.

    Returns:
        `file:line`, or None without a file name.
    """
    if not isinstance(value, dict) or not value.get("FileName"):
        return None
    return f"{value['FileName']}:{value.get('LineNumber', 0)}"


def spec_name(spec: dict[str, Any]) -> str:
    """A spec's full name as a `-v` log prints it: its containers' texts and its own, a suite node's
    type in brackets first.

    Args:
        spec: the spec report.

    Returns:
        The name.
    """
    node = field_str(spec.get("LeafNodeType")) or "It"
    texts = [t for t in field_list(spec.get("ContainerHierarchyTexts")) if isinstance(t, str) and t]
    leaf = field_str(spec.get("LeafNodeText"))
    if node != "It":
        return " ".join([f"[{node}]", *texts, leaf]).strip()
    return " ".join([*texts, leaf]).strip()


def suite_flags(config: dict[str, Any]) -> str | None:
    """The command-line options a suite config shows (the report keeps no command line).

    Args:
        config: the suite's `SuiteConfig`.

    Returns:
        The options as `ginkgo` takes them, or None when it shows none.
    """
    flags = []
    processes, attempts, labels = (
        field_int(config.get("ParallelTotal")),
        field_int(config.get("FlakeAttempts")),
        field_str(config.get("LabelFilter")),
    )
    if processes and processes > 1:
        flags.append(f"--procs={processes}")
    if config.get("FailFast") is True:
        flags.append("--fail-fast")
    if attempts:
        flags.append(f"--flake-attempts={attempts}")
    if labels:
        flags.append(f"--label-filter={labels}")
    return " ".join(flags) or None
