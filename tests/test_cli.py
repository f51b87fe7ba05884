"""The command line: exit codes, output formats, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from triage.cli import main

POSTGRES = '2026-01-10 14:16:11.369 UTC [844] FATAL:  database "slm_user" does not exist\n'


def _mini_bundle(root: Path) -> Path:
    run = root / "signalprocessing-integration-20260114-102512"
    run.mkdir(parents=True)
    (run / "signalprocessing_signalprocessing_postgres_test.log").write_text(POSTGRES, encoding="utf-8")
    (run / "stray.bin").write_bytes(b"\x00\x01\x02")
    return run


def test_analyze_prints_markdown_to_stdout_and_exits_0(tmp_path: Path) -> None:
    """A readable bundle gives a Markdown report on stdout and exit code 0."""
    result = CliRunner().invoke(main, ["analyze", str(_mini_bundle(tmp_path))])
    assert result.exit_code == 0, result.output
    run = "signalprocessing-integration-20260114-102512"
    assert result.output.startswith(f"# Triage: signalprocessing run {run}")
    row = "| `signalprocessing_signalprocessing_postgres_test.log` | postgres | postgres | 1 | 1 | 0 |"
    assert row in result.output


def test_analyze_json_has_the_stable_fields(tmp_path: Path) -> None:
    """--format json prints the documented fields."""
    result = CliRunner().invoke(main, ["analyze", str(_mini_bundle(tmp_path)), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["schema_version"] == 1
    assert report["bundle"]["service"] == "signalprocessing"
    assert report["bundle"]["collected_at"] == "2026-01-14T10:25:12"
    assert report["tests"] is None
    by_file = {s["file"]: s for s in report["sources"]}
    assert by_file["stray.bin"] == {**by_file["stray.bin"], "kind": "binary", "lines": 1, "unparsed_lines": 1}


def test_analyze_writes_to_output_file(tmp_path: Path) -> None:
    """--output writes the report to a file and prints nothing."""
    out = tmp_path / "report.md"
    result = CliRunner().invoke(main, ["analyze", str(_mini_bundle(tmp_path)), "-o", str(out)])
    assert result.exit_code == 0
    assert result.output == ""
    assert out.read_text(encoding="utf-8").startswith("# Triage:")


def test_missing_path_is_a_one_line_error_with_exit_2(tmp_path: Path) -> None:
    """An unusable path gives exit 2 and one line on stderr, never a traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "triage", "analyze", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0
    assert "no such file or directory" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    """An unknown option is a usage error with exit 2."""
    proc = subprocess.run(
        [sys.executable, "-m", "triage", "analyze", "--bogus", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_help_lists_the_commands() -> None:
    """`triage --help` names analyze and simulate."""
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "analyze" in result.output
    assert "simulate" in result.output


def test_max_bytes_refuses_a_bundle_over_the_limit_with_one_line(tmp_path: Path) -> None:
    """--max-bytes below the bundle's size is a clear error with exit 2."""
    result = CliRunner().invoke(main, ["analyze", str(_mini_bundle(tmp_path)), "--max-bytes", "10"])
    assert result.exit_code == 2
    assert "over the limit of 10 bytes; raise it with --max-bytes" in result.output


def test_a_tar_gz_of_a_bundle_is_analysed_like_the_directory(tmp_path: Path) -> None:
    """A CI artifact (.tar.gz of the must-gather) gives the same findings as the unpacked directory."""
    import tarfile

    bundle = Path(__file__).resolve().parent.parent / "fixtures" / "bundles" / "02-healthy"
    archive = tmp_path / "must-gather-signalprocessing.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(bundle, arcname="kubernaut-must-gather")
    from_dir = json.loads(CliRunner().invoke(main, ["analyze", str(bundle), "--format", "json"]).output)
    from_tar = json.loads(CliRunner().invoke(main, ["analyze", str(archive), "--format", "json"]).output)
    assert from_tar["tests"] == from_dir["tests"]
    assert from_tar["findings"] == from_dir["findings"]
    assert [s["lines"] for s in from_tar["sources"]] == [s["lines"] for s in from_dir["sources"]]


def test_fail_on_exits_1_when_a_finding_is_that_severe() -> None:
    """--fail-on high gives exit 1 on the 2026-01-14 run, whose races are high."""
    bundle = Path(__file__).resolve().parent.parent / "fixtures" / "bundles" / "01-jan14-1025"
    result = CliRunner().invoke(main, ["analyze", str(bundle), "--fail-on", "high", "-o", "/dev/null"])
    assert result.exit_code == 1
    result = CliRunner().invoke(main, ["analyze", str(bundle), "--fail-on", "critical", "-o", "/dev/null"])
    assert result.exit_code == 0


def test_a_bundle_of_unknown_files_is_still_reported_with_samples(tmp_path: Path) -> None:
    """Only empty and unknown files: exit 0 and a report listing each file, the unknown one with samples."""
    (tmp_path / "httpd.log").write_text(
        "AH00558: httpd: Could not reliably determine the server's fully qualified domain name\n"
        '10.88.0.1 - - [15/Aug/2025:00:43:25 +0000] "GET / HTTP/1.1" 200 45\n',
        encoding="utf-8",
    )
    (tmp_path / "empty.log").write_bytes(b"")
    result = CliRunner().invoke(main, ["analyze", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    kinds = {s["file"]: (s["kind"], s["unparsed_lines"]) for s in report["sources"]}
    assert kinds == {"empty.log": ("empty", 0), "httpd.log": ("unknown", 2)}
    samples = next(s["unparsed_samples"] for s in report["sources"] if s["file"] == "httpd.log")
    assert samples[1] == {
        "line": 2,
        "text": '10.88.0.1 - - [15/Aug/2025:00:43:25 +0000] "GET / HTTP/1.1" 200 45',
    }
    assert "no file held a record triage reads (files are: empty, unknown)" in report["notes"]


def test_json_and_junit_reports_do_not_load_the_template_engine(tmp_path: Path) -> None:
    """A JSON or JUnit report is written without importing Jinja or the Markdown report's context."""
    bundle = _mini_bundle(tmp_path)
    script = (
        "import sys\n"
        "from triage.cli import run\n"
        "try:\n"
        "    run()\n"
        "finally:\n"
        "    loaded = [m for m in ('jinja2', 'triage.report.context') if m in sys.modules]\n"
        "    print(loaded, file=sys.stderr)\n"
    )
    for fmt in ("json", "junit"):
        args = ["analyze", str(bundle), "--format", fmt, "-o", str(tmp_path / fmt)]
        proc = subprocess.run(
            [sys.executable, "-c", script, *args],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.strip().splitlines()[-1] == "[]", fmt
        assert (tmp_path / fmt).stat().st_size > 0
