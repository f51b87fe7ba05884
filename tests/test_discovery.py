"""Discovery: sources are recognised by content, named relative to the bundle, metadata from the run dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.bundle.discovery import discover
from triage.bundle.sources import Source
from triage.errors import BundleError
from triage.parsers.recognise import RECOGNISER, classify, container_of, mark_same_runs

DS_CONSOLE = (
    "2026-01-14T15:24:53.447Z\tINFO\tdatastorage\tserver/server.go:157\tPostgreSQL connection established"
    '\t{"max_open_conns": 25, "max_idle_conns": 5}\n'
)
DS_JSON = (
    '{"level":"info","ts":"2026-04-30T10:00:00.123Z","logger":"datastorage",'
    '"caller":"server/handlers.go:141","msg":"HTTP request","method":"GET","path":"/health","status":200}\n'
)
POSTGRES = (
    'The files belonging to this database system will be owned by user "postgres".\n'
    '2026-01-10 14:16:11.369 UTC [844] FATAL:  database "slm_user" does not exist\n'
)
REDIS = "1:M 14 Jan 2026 15:24:52.264 * Ready to accept connections tcp\n"
INSPECT = (
    '[\n     {\n          "Id": "3f1c",\n          "Name": "signalprocessing_datastorage_test",\n'
    '          "State": {}\n     }\n]\n'
)
GINKGO = (
    "Running Suite: SignalProcessing Controller Integration Suite - /src/test/integration/signalprocessing\n"
    "=====================================================================================\n"
    "Random Seed: 1768404312\n\n"
    "Will run 90 of 92 specs\n"
    "Running in parallel across 12 processes\n"
)


def _bundle(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (DS_CONSOLE, "zap_console"),
        (DS_JSON, "zap_json"),
        (POSTGRES, "postgres"),
        (REDIS, "redis"),
        (INSPECT, "podman_inspect"),
        (GINKGO, "ginkgo"),
        ("", "empty"),
        ("\n\n  \n", "empty"),
        ("just some text\nmore text\n", "unknown"),
    ],
)
def test_classify_recognises_each_format_by_content(content: str, kind: str) -> None:
    """Each supported format is recognised from its first lines alone."""
    assert classify(content.encode())[0] == kind


def test_classify_calls_nul_bytes_binary() -> None:
    """A file with NUL bytes is binary, not a log."""
    assert classify(b"\x7fELF\x00\x00\x01")[0] == "binary"


def test_classify_prefers_ginkgo_over_embedded_zap_lines() -> None:
    """A test log full of embedded zap lines is still a Ginkgo log when Ginkgo markers appear."""
    embedded = "  " + DS_JSON * 50 + "  STEP: Creating SignalProcessing @ 01/14/26 10:25:09.674\n"
    assert classify((embedded).encode())[0] == "ginkgo"


def test_classify_strips_ansi_colour_before_matching() -> None:
    """The January DataStorage log's coloured level tokens do not hide the console format."""
    coloured = DS_CONSOLE.replace("\tINFO\t", "\t\x1b[34mINFO\x1b[0m\t")
    assert classify(coloured.encode())[0] == "zap_console"


@pytest.mark.parametrize(
    "name",
    [
        "signalprocessing_signalprocessing_datastorage_test.log",
        "signalprocessing_datastorage_test.log",
        "signalprocessing_sp_datastorage_test.log",
        "signalprocessing_sp_datastorage_test_inspect.json",
    ],
)
def test_container_of_accepts_all_three_naming_variants(name: str) -> None:
    """The real double-prefix name, the design doc's and the code comment's all name the container."""
    assert container_of(name, "zap_console", b"") == "datastorage"


def test_container_of_falls_back_to_content_for_renamed_files() -> None:
    """A renamed PostgreSQL log still belongs to postgres."""
    assert container_of("db.txt", "postgres", POSTGRES.encode()) == "postgres"


def test_discover_reads_run_metadata_and_names_sources_relative(tmp_path: Path) -> None:
    """A directory holding the run dir and the test log yields service, time and relative names."""
    run = "signalprocessing-integration-20260114-102512"
    root = _bundle(
        tmp_path,
        {
            f"{run}/signalprocessing_signalprocessing_datastorage_test.log": DS_CONSOLE,
            f"{run}/signalprocessing_signalprocessing_postgres_test.log": POSTGRES,
            f"{run}/signalprocessing_signalprocessing_redis_test.log": REDIS,
            f"{run}/signalprocessing_signalprocessing_datastorage_test_inspect.json": INSPECT,
            "integration-signalprocessing.log": GINKGO,
            ".hidden": "ignored",
        },
    )
    bundle = discover(root, recogniser=RECOGNISER)
    assert bundle.service == "signalprocessing"
    assert bundle.run_dir == run
    assert bundle.collected_at == "2026-01-14T10:25:12"
    kinds = {s.name: (s.kind, s.service) for s in bundle.sources}
    assert kinds == {
        "integration-signalprocessing.log": ("ginkgo", "test-run"),
        f"{run}/signalprocessing_signalprocessing_datastorage_test.log": ("zap_console", "datastorage"),
        f"{run}/signalprocessing_signalprocessing_datastorage_test_inspect.json": (
            "podman_inspect",
            "datastorage",
        ),
        f"{run}/signalprocessing_signalprocessing_postgres_test.log": ("postgres", "postgres"),
        f"{run}/signalprocessing_signalprocessing_redis_test.log": ("redis", "redis"),
    }


def test_discover_recognises_a_renamed_test_log_and_lists_unknown_files(tmp_path: Path) -> None:
    """Content, not the name, decides: a renamed Ginkgo log is ginkgo, a stray file is unknown."""
    root = _bundle(tmp_path, {"notes.txt": "hello\n", "run-output.txt": GINKGO, "empty.log": ""})
    kinds = {s.name: s.kind for s in discover(root, recogniser=RECOGNISER).sources}
    assert kinds == {"empty.log": "empty", "notes.txt": "unknown", "run-output.txt": "ginkgo"}


def test_discover_adds_an_outside_test_log_by_file_name(tmp_path: Path) -> None:
    """A --test-log outside the bundle is named by its bare file name."""
    root = _bundle(tmp_path / "mg", {"signalprocessing_redis_test.log": REDIS})
    log = (
        _bundle(tmp_path / "ci", {"integration-signalprocessing.log": GINKGO})
        / "integration-signalprocessing.log"
    )
    names = [s.name for s in discover(root, [log], recogniser=RECOGNISER).sources]
    assert names == ["signalprocessing_redis_test.log", "integration-signalprocessing.log"]


def test_discover_takes_the_run_dir_itself_as_path(tmp_path: Path) -> None:
    """PATH may be the run directory itself."""
    run = _bundle(tmp_path / "gateway-integration-20260131-231200", {"gateway_redis_test.log": REDIS})
    bundle = discover(run, recogniser=RECOGNISER)
    assert (bundle.service, bundle.collected_at) == ("gateway", "2026-01-31T23:12:00")


def test_discover_rejects_a_missing_path(tmp_path: Path) -> None:
    """A path that does not exist is a BundleError naming it."""
    with pytest.raises(BundleError, match="no such file"):
        discover(tmp_path / "nope", recogniser=RECOGNISER)


def test_discover_rejects_an_empty_directory(tmp_path: Path) -> None:
    """A directory with no files has nothing to analyse."""
    with pytest.raises(BundleError, match="no files"):
        discover(tmp_path, recogniser=RECOGNISER)


def test_identical_files_are_parsed_once_and_the_copy_is_marked(tmp_path: Path) -> None:
    """A log copied into the bundle twice is marked duplicate, so its findings are not doubled."""
    root = _bundle(tmp_path, {"a/redis.log": REDIS * 3, "b/redis-copy.log": REDIS * 3, "c/other.log": REDIS})
    kinds = {s.name: (s.kind, s.why) for s in discover(root, recogniser=RECOGNISER).sources}
    assert kinds["a/redis.log"][0] == "redis"
    assert kinds["b/redis-copy.log"] == ("duplicate", "identical to a/redis.log; not parsed again")
    assert kinds["c/other.log"][0] == "redis"


def test_a_junit_report_with_an_escaped_suite_name_is_the_same_run_as_its_log(tmp_path: Path) -> None:
    """A JUnit report's `&amp;` in its suite name reads as `&`: the `-v` log of that run is read instead."""
    suite = "Audit & Storage Integration Suite"
    log = tmp_path / "integration-datastorage.log"
    log.write_text(f"Running Suite: {suite} - /src/test/integration\n====\nRandom Seed: 1768404312\n")
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n'
        '  <testsuite name="Audit &amp; Storage Integration Suite" tests="1">\n'
        '    <properties><property name="RandomSeed" value="1768404312"></property></properties>\n'
        "  </testsuite>\n</testsuites>\n"
    )
    sources = [
        Source(log, log.name, "ginkgo", "test-run", "test"),
        Source(junit, junit.name, "ginkgo_junit", "test-run", "test"),
    ]
    marked = {s.name: s.kind for s in mark_same_runs(sources)}
    assert marked == {"integration-datastorage.log": "ginkgo", "junit.xml": "duplicate"}
    (other,) = mark_same_runs([Source(junit, junit.name, "ginkgo_junit", "test-run", "test")])
    assert other.kind == "ginkgo_junit"
