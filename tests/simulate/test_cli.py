"""The `triage simulate` command: thin shell, one-line usage errors."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from triage.simulate.cli import simulate_command


def test_list_shows_scenarios_and_faults() -> None:
    """--list prints every scenario and the fault names."""
    result = CliRunner().invoke(simulate_command, ["--list"])
    assert result.exit_code == 0
    assert "jan14-1025" in result.output and "later-format" in result.output
    assert "flush-bug" in result.output


def test_writes_bundle_and_truth(tmp_path: Path) -> None:
    """A run writes the bundle into OUTDIR and the truth beside it."""
    out = tmp_path / "bundle"
    result = CliRunner().invoke(
        simulate_command,
        ["healthy", str(out), "--seed", "4", "--processes", "2", "--specs", "8", "--era", "later"],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "bundle.expected.json").is_file()
    assert (out / "integration-signalprocessing.log").is_file()


def test_bad_values_are_usage_errors(tmp_path: Path) -> None:
    """An unknown scenario or fault exits 2 with a one-line message."""
    for args in (["nope", str(tmp_path / "a")], ["healthy", str(tmp_path / "b"), "--fault", "gremlins"]):
        result = CliRunner().invoke(simulate_command, args)
        assert result.exit_code == 2
        assert "Error:" in result.output
