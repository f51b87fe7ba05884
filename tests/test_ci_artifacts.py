"""CI's artifacts as CI keeps them: the must-gather archive, with the test log beside it or missing."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from triage.cli import main

BUNDLE = Path(__file__).resolve().parents[1] / "fixtures" / "bundles" / "06-rejections-400"
RUN_DIR = next(p.name for p in BUNDLE.iterdir() if p.is_dir())
TEST_LOG = BUNDLE / "integration-signalprocessing.log"


def _ci_archive(tmp_path: Path) -> Path:
    """`must-gather-<svc>-<ts>.tar.gz` holding `kubernaut-must-gather/<svc>-integration-<ts>/…` only."""
    stamp = RUN_DIR.rsplit("-integration-", 1)[1]
    archive = tmp_path / f"must-gather-signalprocessing-{stamp}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(BUNDLE / RUN_DIR, arcname=f"kubernaut-must-gather/{RUN_DIR}")
    return archive


def _json(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["analyze", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_the_must_gather_archive_with_the_test_log_as_its_own_artifact() -> None:
    """The archive plus `--test-log` gives the run's metadata and the same findings as the unpacked bundle."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        archive = _ci_archive(Path(tmp))
        from_ci = _json(str(archive), "--test-log", str(TEST_LOG))
    from_dir = _json(str(BUNDLE))
    assert (from_ci["bundle"]["service"], from_ci["bundle"]["run_dir"]) == ("signalprocessing", RUN_DIR)
    # The archive's one run directory is the bundle: its files are named relative to it.
    names = [s["file"] for s in from_ci["sources"]]
    containers = sorted(p.name for p in (BUNDLE / RUN_DIR).iterdir())
    assert names == [*containers, "integration-signalprocessing.log"]
    assert from_ci["tests"] == from_dir["tests"]
    assert json.loads(json.dumps(from_ci["findings"])) == json.loads(
        json.dumps(from_dir["findings"]).replace(f"{RUN_DIR}/", "")
    )
    assert any(f["rule"] == "dropped-events" and f["severity"] == "high" for f in from_ci["findings"])


def test_the_must_gather_archive_without_a_test_log(tmp_path: Path) -> None:
    """Runs before March 2026 have no test log: the containers are analysed and the test rules say skipped."""
    report = _json(str(_ci_archive(tmp_path)))
    assert report["tests"] is None
    assert report["bundle"]["run_dir"] == RUN_DIR
    kinds = sorted((s["service"], s["kind"]) for s in report["sources"])
    assert kinds == [
        ("datastorage", "podman_inspect"),
        ("datastorage", "zap_console"),
        ("postgres", "podman_inspect"),
        ("postgres", "postgres"),
        ("redis", "podman_inspect"),
        ("redis", "redis"),
    ]
    skipped = {r["rule"] for r in report["rules"] if r["status"] == "skipped"}
    assert {"flush-query-race", "unexpected-event-count"} <= skipped
