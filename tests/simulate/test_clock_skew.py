"""The clock-skew knob: container clocks run off the test host's, only printed container times move."""

from __future__ import annotations

import calendar
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from triage.simulate import KnobError, simulate
from triage.simulate.cli import simulate_command
from triage.simulate.truth import findings

# The container-side time shapes (log-formats.md): zap ISO8601 and Go RFC3339Nano (UTC), PostgreSQL
# `%m` and Redis' log time.
_ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})"
_PG = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} UTC"
_REDIS = r"\d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}\.\d{3}"
STAMP = re.compile(f"{_ISO}|{_PG}|{_REDIS}")
GO_ZERO_TIME = "0001-01-01T00:00:00Z"  # podman's unset FinishedAt etc., not a clock reading
TEST_LOG = "integration-signalprocessing.log"
RUN = {"seed": 21, "processes": 2, "specs": 12}


def _epoch_ns(stamp: str) -> int:
    """Nanoseconds since the epoch of one container timestamp (all shapes in STAMP)."""
    if stamp.endswith(" UTC"):
        whole, frac, shift = datetime.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S"), stamp[20:23], 0
    elif "T" in stamp:
        zone = "Z" if stamp.endswith("Z") else stamp[-6:]
        body = stamp[: -len(zone)]
        whole = datetime.strptime(body[:19], "%Y-%m-%dT%H:%M:%S")
        frac = body[20:]
        shift = (
            0 if zone == "Z" else (1 if zone[0] == "+" else -1) * (int(zone[1:3]) * 60 + int(zone[4:6])) * 60
        )
    else:
        whole, frac, shift = datetime.strptime(stamp[:20], "%d %b %Y %H:%M:%S"), stamp[21:24], 0
    return (calendar.timegm(whole.timetuple()) - shift) * 1_000_000_000 + int(frac.ljust(9, "0"))


def _files(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _run(tmp: Path, name: str, skew_ms: float) -> tuple[dict[str, str], dict[str, Any]]:
    truth = simulate("healthy", tmp / name, clock_skew_ms=skew_ms, **RUN)
    return _files(tmp / name), json.loads(truth.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def unskewed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], dict[str, Any]]:
    """The reference run: same scenario, seed and knobs, clocks agreeing."""
    return _run(tmp_path_factory.mktemp("skew"), "zero", 0)


def test_stamp_parser_reads_the_reference_examples() -> None:
    """The test's own timestamp reader agrees with hand-computed epochs for each container time shape."""
    base = calendar.timegm((2026, 1, 14, 15, 24, 53, 0, 0, 0)) * 1_000_000_000
    assert _epoch_ns("2026-01-14T15:24:53.447Z") == base + 447_000_000
    assert _epoch_ns("2026-01-14T10:24:53.516650875-05:00") == base + 516_650_875
    assert _epoch_ns("2026-01-14 15:24:53.123 UTC") == base + 123_000_000
    assert _epoch_ns("14 Jan 2026 15:24:53.264") == base + 264_000_000


@pytest.mark.parametrize("skew_ms", [300, -2000])
def test_skew_moves_every_container_time_by_the_knob_and_nothing_else(
    skew_ms: int, unskewed: tuple[dict[str, str], dict[str, Any]], tmp_path: Path
) -> None:
    """Every container log and inspect time moves by exactly the skew; the test log and other text stay."""
    base_files, _ = unskewed
    files, _ = _run(tmp_path, "skewed", skew_ms)
    assert sorted(files) == sorted(base_files)
    assert files[TEST_LOG] == base_files[TEST_LOG]
    containers = [name for name in files if name != TEST_LOG]
    assert len(containers) == 6  # three logs and three inspect documents
    for name in containers:
        got, want = STAMP.findall(files[name]), STAMP.findall(base_files[name])
        assert len(got) == len(want) > 0, name
        for new, old in zip(got, want, strict=True):
            if old == GO_ZERO_TIME:
                assert new == old, name
            else:
                assert _epoch_ns(new) - _epoch_ns(old) == skew_ms * 1_000_000, (name, old, new)
        assert STAMP.sub("<t>", files[name]) == STAMP.sub("<t>", base_files[name]), name


def test_skew_leaves_the_true_history_alone_and_records_the_knob(
    unskewed: tuple[dict[str, str], dict[str, Any]], tmp_path: Path
) -> None:
    """A 300 ms skew changes the truth only in its knob and clock-skew finding; events keep host times."""
    _, base = unskewed
    _, truth = _run(tmp_path, "skewed", 300)
    assert truth["knobs"]["clock_skew_ms"] == 300.0 and base["knobs"]["clock_skew_ms"] == 0.0
    for key in ("events", "queries", "stores", "tests", "datastorage", "bundle"):
        assert truth[key] == base[key], key
    skew = {"correlation_id": None, "rule": "clock-skew"}
    assert skew in truth["findings"]["must"] and skew not in truth["findings"]["must_not"]
    assert skew in base["findings"]["must_not"] and skew not in base["findings"]["must"]
    strip = {side: [f for f in base["findings"][side] if f != skew] for side in ("must", "must_not")}
    assert {side: [f for f in truth["findings"][side] if f != skew] for side in strip} == strip


@pytest.mark.parametrize(
    ("skew_ms", "side"),
    [
        (0.0, "must_not"),
        (10.0, "must_not"),
        (-10.0, "must_not"),
        (10.5, None),
        (-50.0, None),
        (50.0, None),
        (50.5, "must"),
        (-50.5, "must"),
        (300.0, "must"),
    ],
)
def test_clock_skew_truth_follows_the_rule_threshold(skew_ms: float, side: str | None) -> None:
    """Over 50 ms either way is must, 10 ms or less is must_not, and the band between is in neither list."""
    found = findings([], [], {}, None, False, {}, 0, skew_ms)
    entry = {"correlation_id": None, "rule": "clock-skew"}
    assert (entry in found["must"], entry in found["must_not"]) == (side == "must", side == "must_not")


def test_unusable_skews_are_refused(tmp_path: Path) -> None:
    """A skew beyond a day, a non-finite one or a non-number raises KnobError with one line."""
    for value in (86_400_001.0, float("nan"), float("inf"), "300", True):
        with pytest.raises(KnobError) as info:
            simulate("healthy", tmp_path / "x", clock_skew_ms=value)
        assert "\n" not in str(info.value)


def test_cli_passes_the_skew_through(tmp_path: Path) -> None:
    """--clock-skew-ms reaches the model: the truth records it and the finding it implies."""
    out = tmp_path / "bundle"
    result = CliRunner().invoke(
        simulate_command,
        ["healthy", str(out), "--seed", "4", "--processes", "1", "--specs", "4", "--clock-skew-ms", "-75.5"],
    )
    assert result.exit_code == 0, result.output
    truth = json.loads((tmp_path / "bundle.expected.json").read_text(encoding="utf-8"))
    assert truth["knobs"]["clock_skew_ms"] == -75.5
    assert {"correlation_id": None, "rule": "clock-skew"} in truth["findings"]["must"]
