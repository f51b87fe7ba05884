"""slow-write on the committed bundles and a hand-edited copy."""

from __future__ import annotations

import shutil
from pathlib import Path

from triage.api import analyze
from triage.rules.base import Severity

BUNDLES = Path(__file__).resolve().parents[2] / "fixtures" / "bundles"
RULE = "slow-write"
TEST_LOG = "integration-signalprocessing.log"


def test_each_timeline_with_a_slow_write_line_is_a_finding() -> None:
    """The four slow-write lines of the slow-writes run give four medium findings, one per store."""
    report = analyze(BUNDLES / "03-races-pass-after-retries", select=(RULE,))
    findings = [f for f in report.findings if f.severity > Severity.INFO]
    assert len(findings) == 4 and {f.severity for f in findings} == {Severity.MEDIUM}
    assert sorted(f.evidence[0].line for f in findings) == [852, 913, 929, 995]
    process_1 = next(f for f in findings if f.evidence[0].line == 913)
    assert process_1.summary.startswith(
        "A slow batch write in process 1's store (3.4 s for 3 events, logged 19:33:58 UTC)"
    )


def test_datastorage_durations_stand_in_when_the_store_lines_were_not_captured(tmp_path: Path) -> None:
    """Without the store's slow-write lines, four DataStorage writes over 2 s give a low, inferred finding."""
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLES / "03-races-pass-after-retries", bundle)
    log = bundle / TEST_LOG
    kept = [
        line for line in log.read_text(encoding="utf-8").splitlines(keepends=True) if "Slow audit" not in line
    ]
    log.write_text("".join(kept), encoding="utf-8")
    findings = [f for f in analyze(bundle, select=(RULE,)).findings if f.severity > Severity.INFO]
    (finding,) = findings
    assert finding.severity == Severity.LOW
    assert finding.summary.startswith("DataStorage took over 2.0 s for 4 batch writes (longest 3.4 s")
    assert "(inferred)" in finding.summary
    assert len(finding.evidence) == 4
    assert all(
        '"duration_seconds": ' in e.text and e.file.endswith("_datastorage_test.log")
        for e in finding.evidence
    )


def test_datastorage_writes_under_two_seconds_are_only_a_note() -> None:
    """The flush-bug run's 450 ms DataStorage writes exceed the 100 ms interval but stay an info note."""
    report = analyze(BUNDLES / "05-flush-bug", select=(RULE,))
    (note,) = report.findings
    assert note.severity == Severity.INFO
    assert note.summary.startswith(
        "27 DataStorage batch writes took over 500 ms (the flush interval is 100 ms"
    )
