"""What the CI outputs (GitHub annotations and summary, JUnit) share: which specs and findings they
report, a spec's cause in words, and a spec's source location relative to the repository.

A finding is reported when it is at least as severe as `--fail-on`, or above info when no `--fail-on`
is given: info findings are observations, never problems.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from triage.facts.testrun import FAILED_STATES
from triage.report.model import Report
from triage.report.verdict import SpecVerdict
from triage.report.wording import short_location
from triage.rules.base import Finding, Severity

DEFAULT_THRESHOLD = Severity.LOW


@dataclass(frozen=True)
class Location:
    """Where a spec is in the repository: `path` relative to its root, `line` (None when unknown)."""

    path: str
    line: int | None


def threshold(fail_on: str | None) -> Severity:
    """The least severity a CI output reports.

    Args:
        fail_on: the `--fail-on` severity, or None.

    Returns:
        That severity, or low (everything above info) without one.
    """
    return Severity.parse(fail_on) if fail_on else DEFAULT_THRESHOLD


def failed_verdicts(report: Report) -> list[SpecVerdict]:
    """The verdicts of the specs that failed (interrupted ones excluded), in report order."""
    return [v for v in report.verdicts if v.spec.state in FAILED_STATES]


def reported_findings(report: Report, fail_on: str | None) -> list[Finding]:
    """The findings at or above the threshold, most severe first.

    Args:
        report: the analysis result.
        fail_on: the `--fail-on` severity, or None.

    Returns:
        The findings a CI output lists.
    """
    least = threshold(fail_on)
    return [f for f in report.findings if f.severity >= least]


def cause_text(verdict: SpecVerdict) -> str:
    """A failed spec's cause on one line of plain text, or why none is known.

    Args:
        verdict: the spec's verdict.

    Returns:
        e.g. `flush-query-race (high): <summary> (tied by its correlation ID)`.
    """
    f = verdict.cause
    if f is None:
        return "not explained: " + (verdict.reason or "no rule explains it")
    basis = verdict.basis or "its evidence"
    tie = basis if basis.startswith("inferred") else f"tied by {basis}"
    return f"{f.rule} ({f.severity.label}): {f.summary} ({tie})"


def repo_location(location: str | None, root: Path | None = None) -> Location | None:
    """A spec's `file:line` as Ginkgo printed it, made relative to the repository.

    Ginkgo prints absolute paths of the machine that ran it (`/home/runner/work/kubernaut/kubernaut/
    test/integration/x_test.go:12`, `/Users/me/go/src/github.com/o/kubernaut/test/...`). The path in
    the repository is the longest tail of that path that names a file in the checkout (`root`, else
    `$GITHUB_WORKSPACE`, else the current directory); when none does (triage runs outside the
    checkout), it is the path from its first `test/`, `pkg/`, `internal/` or `cmd/` folder, the
    top-level folders of a Go module.

    Args:
        location: `path:line`, or None.
        root: the repository's checkout.

    Returns:
        The location, or None when there is none.
    """
    if not location:
        return None
    path, _, line = location.rpartition(":")
    if not path or not line.isdigit():
        path, line = location, ""
    root = root or Path(os.environ.get("GITHUB_WORKSPACE") or ".")
    parts = [p for p in PurePosixPath(path.replace("\\", "/")).parts if p not in ("/", "")]
    relative = next(
        (
            "/".join(parts[i:])
            for i in range(len(parts))
            if not parts[i].endswith(":") and (root / Path(*parts[i:])).is_file()
        ),
        None,
    )
    if relative is None:
        relative = short_location(path)
    if relative.startswith("/") or re.match(r"[A-Za-z]:", relative):
        relative = ""  # no folder of a Go module in it: a path of another machine is no use here
    return Location(relative, int(line) if line else None)
