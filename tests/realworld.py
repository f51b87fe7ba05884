"""Where the real-world corpus is: `shared/realworld` beside the clone (or beside a folder above it).

A user's clone has none, so every test that reads it is marked `needs_realworld` and skips there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REALWORLD: Path | None = next(
    (
        p / "shared" / "realworld"
        for p in Path(__file__).resolve().parents
        if (p / "shared" / "realworld").is_dir()
    ),
    None,
)
needs_realworld = pytest.mark.skipif(
    REALWORLD is None, reason="the real-world corpus (../shared/realworld) is absent"
)


def case(prefix: str) -> Path:
    """The corpus folder whose name starts with `prefix` (e.g. `k01`), the only one."""
    assert REALWORLD is not None
    (found,) = [p for p in REALWORLD.iterdir() if p.name.startswith(prefix + "-")]
    return found
