"""The package's stages import only the stages below them, and no stage reads another's private module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "triage"
# Lowest first. A module may import its own stage and the stages before it; `simulate` stands apart.
STAGES = (
    ("errors",),
    ("bundle",),
    ("table",),
    ("parsers",),
    ("facts",),
    ("rules",),
    ("report",),
    ("runs", "api"),
    ("cli", "__main__", "memory"),
)
RANK = {name: rank for rank, names in enumerate(STAGES) for name in names}


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every `triage.…` module a source file imports, with its line number."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found += [(node.lineno, n) for n in names if n.startswith("triage.")]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("triage.")]
    return found


def _modules() -> list[Path]:
    """The package's source files, the simulator aside."""
    return sorted(p for p in PACKAGE.rglob("*.py") if "simulate" not in p.relative_to(PACKAGE).parts)


def test_every_module_belongs_to_a_stage() -> None:
    """Each module of the package (the simulator aside) sits in one of the named stages."""
    unplaced = [str(p.relative_to(PACKAGE)) for p in _modules() if p.stem != "__init__"]
    unplaced = [p for p in unplaced if p.split("/")[0].removesuffix(".py") not in RANK]
    assert unplaced == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_down_the_stages(path: Path) -> None:
    """A module imports only its own stage or lower ones, and never another stage's private module."""
    here = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    if here == "__init__":
        return
    wrong = []
    for line, module in _imports(path):
        parts = module.split(".")
        stage = parts[1]
        if stage == "simulate" or stage not in RANK:
            continue  # the simulator stands apart
        if RANK[stage] > RANK[here]:
            wrong.append(f"{line}: {module} is a later stage than {here}")
        elif stage != here and any(p.startswith("_") and p != "__init__" for p in parts[2:3]):
            wrong.append(f"{line}: {module} is private to {stage}")
    assert wrong == []
