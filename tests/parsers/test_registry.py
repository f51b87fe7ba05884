"""The format registry: every format is registered whole, in one module and one registry line."""

from __future__ import annotations

import pkgutil
from importlib import import_module

import pytest

import triage.parsers
from triage.parsers import REGISTRY, Format, formats, parser_for
from triage.parsers.recognise import classify
from triage.table.schema import SOURCE_KINDS

# Kinds a file can be recognised as that no parser reads.
UNPARSED = {"empty", "binary", "duplicate", "unknown"}


def _exported_formats() -> dict[str, Format]:
    """Every Format record any module of triage.parsers defines, by `module.NAME`."""
    found = {}
    for info in pkgutil.iter_modules(triage.parsers.__path__):
        module = import_module(f"triage.parsers.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, Format) and name.isupper():
                found[f"{info.name}.{name}"] = value
    return found


def test_every_format_a_module_defines_is_in_the_registry() -> None:
    """A Format record left out of REGISTRY fails, so a new format cannot be half added."""
    assert sorted(_exported_formats()) == sorted(REGISTRY)


def test_every_parsed_source_kind_has_exactly_one_format() -> None:
    """Each source kind a parser reads has one registered format, and every format's kind is a source kind."""
    kinds = [f.kind for f in formats()]
    assert len(kinds) == len(set(kinds))
    assert set(kinds) == set(SOURCE_KINDS) - UNPARSED


@pytest.mark.parametrize("fmt", formats(), ids=lambda f: f.kind)
def test_every_format_can_be_recognised_and_parsed(fmt: Format) -> None:
    """A format without a recogniser, a label or a parser is incomplete."""
    assert fmt.document is not None or fmt.line is not None
    assert fmt.label.strip()
    assert parser_for(fmt.kind) is fmt.parse
    assert not (fmt.marker and fmt.line is None)


def test_a_document_format_is_recognised_before_a_line_format() -> None:
    """A Ginkgo JSON report is JSON, yet it is recognised as the report, not as container JSON."""
    head = b'[\n  {\n    "SuitePath": "/s", "SuiteDescription": "X", "SpecReports": []\n  }\n]\n'
    assert classify(head)[0] == "ginkgo_report"
