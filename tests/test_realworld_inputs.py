"""Real-world container logs, inspect documents and test output: what each file is, how much is read.

The corpus lives beside the clone (`../shared/realworld`); these tests skip where it is absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.realworld import REALWORLD, needs_realworld
from tests.realworld import case as _case
from triage.cli import main

pytestmark = needs_realworld


def _analyze(path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["analyze", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)  # warnings go to stderr
    return report


def _sources(report: dict[str, Any]) -> dict[str, tuple[str, str | None, int, int]]:
    """Per file name (last part): kind, component, lines and lines not understood."""
    return {
        s["file"].rsplit("/", 1)[-1]: (s["kind"], s["service"], s["lines"], s["unparsed_lines"])
        for s in report["sources"]
    }


def test_e01_redis_start_up_is_parsed_and_healthy() -> None:
    """Redis 7.4's start-up is a Redis log read whole, with nothing above info."""
    report = _analyze(_case("e01") / "redis.log")
    assert _sources(report) == {"redis.log": ("redis", "redis", 13, 0)}
    assert not [f for f in report["findings"] if f["severity"] != "info"]


def test_e02_postgres_with_a_trailing_comma_on_every_line_is_understood() -> None:
    """Every line of a PostgreSQL log pasted with trailing commas is understood, the comma ignored."""
    report = _analyze(_case("e02") / "postgres.log")
    assert _sources(report) == {"postgres.log": ("postgres", "postgres", 29, 0)}
    (source,) = report["sources"]
    assert source["notes"] == ["every line ends with a comma a copying tool added; it was ignored"]


def test_e06_invalid_inspect_json_is_present_but_unreadable_and_the_run_goes_on() -> None:
    """An inspect document that is not valid JSON is reported present but unreadable, with the JSON error."""
    report = _analyze(_case("e06") / "foobar_inspect.json")
    (source,) = report["sources"]
    assert source["kind"] == "podman_inspect"
    assert source["notes"] == [
        "present but unreadable: JSON error at line 57, column 9: Expecting value (no container read)"
    ]
    result = CliRunner().invoke(main, ["analyze", str(_case("e06") / "foobar_inspect.json")])
    assert "No `podman inspect` output was found." not in result.output
    assert "| foobar | `unknown` | unreadable: JSON error at line 57" in result.output


def test_e07_inspect_is_read_and_the_httpd_log_listed_as_unknown_with_samples() -> None:
    """Podman 5's inspect gives a running container, exit code 0; Apache's lines are unknown, with samples."""
    report = _analyze(_case("e07"))
    (container,) = report["containers"]
    assert (container["name"], container["running"], container["exit_code"]) == ("vigorous_napier", True, 0)
    log = next(s for s in report["sources"] if s["file"] == "vigorous_napier.log")
    assert (log["kind"], log["unparsed_lines"]) == ("unknown", 5)
    assert log["unparsed_samples"][2]["text"].startswith(
        "[Fri Aug 15 00:37:59.242526 2025] [mpm_event:notice]"
    )


def test_e08_space_indented_frames_attach_to_their_error_record() -> None:
    """A zap console log with lowercase levels has its space-indented frames folded into the error."""
    report = _analyze(_case("e08") / "otelcol-console.log")
    assert _sources(report) == {"otelcol-console.log": ("zap_console", None, 9, 0)}
    assert report["sources"][0]["records"] == 3


@pytest.mark.parametrize(
    ("case", "path", "source"),
    [
        # PostgreSQL output relayed by Testcontainers, its prefix peeled.
        ("e03", "postgres-via-testcontainers.log", ("postgres", "postgres", 13, 0)),
        # Controller console lines at second precision, some without a logger.
        ("k07", "controller-console.log", ("zap_console", "controller", 10, 0)),
        # PostgreSQL's lines under a name that starts with datastorage.
        ("k04", "bundle", ("postgres", "postgres", 5, 0)),
        # A `_1` container suffix.
        ("k05", "bundle", ("postgres", "postgres", 3, 0)),
        # The test process's store lines at teardown without a Ginkgo frame: not a container.
        ("k06", "bundle-rejoined", ("ginkgo", "test-run", 3, 0)),
    ],
    ids=["e03", "k07", "k04", "k05", "k06"],
)
def test_each_file_is_what_its_content_says_and_every_line_is_understood(
    case: str, path: str, source: tuple[str, str | None, int, int]
) -> None:
    """The one file of each case gets the kind and component its content shows, every line understood."""
    report = _analyze(_case(case) / path)
    assert list(_sources(report).values()) == [source]


@pytest.mark.parametrize("name", ["failed-spec-ginkgowriter.log", "all-specs-ginkgowriter.log"])
def test_k01_captured_ginkgowriter_output_is_the_test_process(name: str) -> None:
    """The report's captured GinkgoWriter output is the test process's own output, not DataStorage's log."""
    report = _analyze(_case("k01") / "derived" / name)
    ((kind, service, _, _),) = _sources(report).values()
    assert (kind, service) == ("ginkgo", "test-run")


def test_k02_unframed_store_lines_and_helper_prints_are_the_test_process() -> None:
    """Audit-store JSON lines and helper prints with no Ginkgo frame are the test process's output."""
    report = _analyze(_case("k02") / "excerpt-lines.log")
    ((kind, service, _, _),) = _sources(report).values()
    assert (kind, service) == ("ginkgo", "test-run")


@pytest.mark.parametrize(
    ("case", "name"),
    [("k04", "excerpt-aianalysis-ds-lines-as-quoted.log"), ("k06", "excerpt-lines-as-quoted.log")],
)
def test_human_wrapped_quotes_keep_their_wrapped_lines_not_understood(case: str, name: str) -> None:
    """Lines a document's author wrapped are not log lines: they stay not understood, with samples."""
    report = _analyze(_case(case) / name)
    (source,) = report["sources"]
    assert source["unparsed_lines"] >= 3
    assert source["unparsed_samples"]


def test_x01_every_file_is_recognised_by_content_whatever_its_name() -> None:
    """Under kubernaut's names each file is what its content is; the invalid inspect is said unreadable."""
    report = _analyze(_case("x01"))
    assert _sources(report) == {
        "integration-signalprocessing.log": ("ginkgo", "test-run", 24, 0),
        "signalprocessing_signalprocessing_datastorage_test.log": ("zap_console", "datastorage", 9, 0),
        "signalprocessing_signalprocessing_postgres_test.log": ("postgres", "postgres", 13, 0),
        "signalprocessing_signalprocessing_postgres_test_inspect.json": ("podman_inspect", None, 227, 225),
        "signalprocessing_signalprocessing_redis_test.log": ("redis", "redis", 13, 0),
        "signalprocessing_signalprocessing_redis_test_inspect.json": ("podman_inspect", None, 298, 0),
    }
    inspect = next(s for s in report["sources"] if s["file"].endswith("postgres_test_inspect.json"))
    assert inspect["notes"][0].startswith("present but unreadable: JSON error at line 57")
    assert not [f for f in report["findings"] if "neither a log nor an inspect" in f["summary"]]


def test_every_corpus_input_is_analysed_without_a_usage_error() -> None:
    """Each corpus file and bundle gives a report (exit 0), never a traceback or "nothing usable"."""
    assert REALWORLD is not None
    inputs = sorted(
        [*REALWORLD.glob("*/*.log"), *REALWORLD.glob("*/*.json"), *REALWORLD.glob("*/bundle*")]
        + [p for p in REALWORLD.glob("x01-*") if p.is_dir()]
    )
    assert len(inputs) >= 20
    for path in inputs:
        result = CliRunner().invoke(main, ["analyze", str(path), "--format", "json", "-o", "/dev/null"])
        assert result.exit_code == 0, f"{path}: {result.output}"
