"""log-sampling-gap on a rule fixture and the committed bundles."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.api import analyze
from triage.rules.base import Severity

ROOT = Path(__file__).resolve().parents[2] / "fixtures"
RULE = "log-sampling-gap"


def test_total_buffered_jumps_count_the_hidden_lines() -> None:
    """Jumps 100 to 200 and 200 to 282 inside one timeline mean 180 buffered lines were sampled away."""
    report = analyze(ROOT / "rules" / RULE / "sampled-burst", select=(RULE,))
    (finding,) = report.findings
    assert finding.severity == Severity.LOW and finding.correlation_id is None
    assert finding.summary.startswith(
        "180 Event buffered successfully lines of store B missing from 14:13:23 UTC on"
    )
    assert "makes 2 jumps (100 to 200; 200 to 282)" in finding.summary


def test_evidence_is_the_buffered_lines_on_both_sides_of_each_jump() -> None:
    """Evidence quotes the lines with total_buffered 100, 200 and 282."""
    (finding,) = analyze(ROOT / "rules" / RULE / "sampled-burst", select=(RULE,)).findings
    assert [e.line for e in finding.evidence] == [772, 869, 940]
    for evidence, total in zip(finding.evidence, (100, 200, 282), strict=True):
        assert f'"total_buffered":{total}' in evidence.text


@pytest.mark.parametrize("bundle", ["02-healthy", "01-jan14-1025"])
def test_counters_that_only_jump_between_timelines_are_not_sampling(bundle: str) -> None:
    """total_buffered steps between two timelines of one store (lost between specs) are not reported."""
    assert analyze(ROOT / "bundles" / bundle, select=(RULE,)).findings == ()
