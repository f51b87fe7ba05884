"""Redaction: planted secrets never survive, identifiers that only look random do, placeholders are stable."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from triage.report.redact import Redactor, is_secret_name, looks_random

BUNDLES = Path(__file__).resolve().parents[1] / "fixtures" / "bundles"
HEALTHY = BUNDLES / "02-healthy"
RUN_DIR = "signalprocessing-integration-20260116-091329"
PREFIX = "signalprocessing_signalprocessing_"

DSN_PW = "Pl4nted-DSN-pw"
BEARER = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzaWduYWxwcm9jZXNzaW5nIn0.c2lnbmF0dXJlLXBsYW50ZWQtMTIz"
ROLE_PW = "Planted-Role-Pw-42"
API_KEY = "k3yPl4nted0001"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REDIS_PW = "r3dis-Pl4nted"
BASIC = "c2xtX3VzZXI6cGxhbnRlZA=="
PLANTED = (DSN_PW, BEARER, ROLE_PW, API_KEY, AWS_SECRET, REDIS_PW, BASIC)

DS_FAILED = (
    "2026-01-16T14:13:17.990Z\tERROR\tdatastorage\tserver/server.go:120\tFailed to connect, retrying...\t"
    '{"attempt": 1, "max_retries": 10, "error": "failed to connect to '
    f'postgres://slm_user:{DSN_PW}@host.containers.internal:15436/action_history: connection refused", '
    '"next_retry_in": "2s"}'
)
DS_HEADER = (
    "2026-01-16T14:13:19.990Z\tINFO\tdatastorage\tserver/handlers.go:119\tHTTP request\t"
    '{"request_id": "8961977b5846/4taZoy8Vuq-000002", "method": "GET", "path": "/api/v1/audit/events", '
    f'"authorization": "Bearer {BEARER}", "status": 200, "duration": "2.870128ms"}}'
)
DS_BASIC = f"Authorization: Basic {BASIC}"
PG_ROLE = (
    f"2026-01-16 14:12:47.300 UTC [84] STATEMENT:  CREATE ROLE audit_writer WITH LOGIN PASSWORD '{ROLE_PW}';"
)
TEST_LOG_LINE = f"  export REDIS_PASSWORD={REDIS_PW} redis://:{REDIS_PW}@localhost:16382/0"

# Must stay readable: each is a value triage quotes and none is a secret.
NOT_SECRETS = (
    "audit-test-rr-05",
    '"request_id": "554ff40ee932/7RnVlVwVPd-000001"',
    '"event_hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"',
    '"previous_event_hash": "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"',
    "localhost/kubernaut/datastorage:signalprocessing-1a225d02",
    "event_id=3f2c8a1e-6b7d-4c2e-9a1f-0e8d7c6b5a49",
    "/Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/signalprocessing/audit_integration_test.go:296",
    '"duration": "2.870128ms", "flush_interval": "1s", "timeout": "5m0s"',
    "CONFIG_PATH=/etc/datastorage/config.yaml POSTGRES_USER=slm_user PG_VERSION=16.11",
    "DB_PASSWORD_FILE=/run/secrets/db_password",
    '"key_size": 2048, "token_count": 3, "auth_enabled": true',
    "Loading secrets from mounted files (ADR-030 Section 6)",
    'FATAL:  password authentication failed for user "slm_user"',
    "BR-SP-105: Audit Event Integration (DD-TESTING-001) [It] should emit audit event with fallback severity",
    "github.com/jordigilh/kubernaut/pkg/signalprocessing/audit.(*AuditClient).RecordPhaseTransitionWithContext",
)


def _plant(root: Path) -> Path:
    """Copy the healthy bundle and plant one secret of each kind where real bundles carry them."""
    bundle = root / "02-healthy"
    shutil.copytree(HEALTHY, bundle)
    run = bundle / RUN_DIR
    inspect = run / f"{PREFIX}datastorage_test_inspect.json"
    doc = json.loads(inspect.read_text())
    doc[0]["Config"]["Env"] += [f"API_KEY={API_KEY}", f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}"]
    inspect.write_text(json.dumps(doc, indent=4) + "\n")
    ds = run / f"{PREFIX}datastorage_test.log"
    ds.write_text(ds.read_text() + f"{DS_FAILED}\n{DS_HEADER}\n{DS_BASIC}\n")
    pg = run / f"{PREFIX}postgres_test.log"
    pg.write_text(pg.read_text() + PG_ROLE + "\n")
    test_log = bundle / "integration-signalprocessing.log"
    lines = test_log.read_text().splitlines(keepends=True)
    test_log.write_text("".join([*lines[:20], TEST_LOG_LINE + "\n", *lines[20:]]))
    return bundle


def test_every_planted_secret_is_removed_from_each_file(tmp_path: Path) -> None:
    """Redacting any planted file leaves none of the planted secrets and none of the fixture password."""
    bundle = _plant(tmp_path)
    redactor = Redactor()
    for path in sorted(bundle.rglob("*")):
        if path.is_file():
            out = redactor.text(path.read_text())
            leaked = [s for s in (*PLANTED, "slm_password") if s in out]
            assert leaked == [], path.name
    assert redactor.secrets == len(PLANTED) + 1


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (DS_FAILED, "postgres://slm_user:[REDACTED-1]@host.containers.internal"),
        (DS_HEADER, '"authorization": "Bearer [REDACTED-1]"'),
        (DS_BASIC, "Authorization: Basic [REDACTED-1]"),
        (PG_ROLE, "WITH LOGIN PASSWORD '[REDACTED-1]';"),
        (TEST_LOG_LINE, "export REDIS_PASSWORD=[REDACTED-1] redis://:[REDACTED-1]@localhost:16382/0"),
        ("POSTGRES_PASSWORD=slm_password", "POSTGRES_PASSWORD=[REDACTED-1]"),
        ("host=db user=slm_user password='s3 cret' dbname=x", "password='[REDACTED-1]' dbname=x"),
        ("DB_PASS=hunter22 DB_PASSWORD=hunter22", "DB_PASS=[REDACTED-1] DB_PASSWORD=[REDACTED-1]"),
        ("GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789", "GITHUB_TOKEN=[REDACTED-1]"),
        ('{"client_secret":"abc123def","x":1}', '{"client_secret":"[REDACTED-1]","x":1}'),
        ('"msg": "{\\"api_key\\":\\"abc123def\\"}"', '"msg": "{\\"api_key\\":\\"[REDACTED-1]\\"}"'),
        ("X-Auth-Token: abc123def", "X-Auth-Token: [REDACTED-1]"),
        ("curl -H 'Authorization: token ghp_x1' https://x", "Authorization: token [REDACTED-1]' https://x"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N", "jwt [REDACTED-1]"),
        ("signing key 8xQzR4tLp2VnW7sYk9BdF3hJmC6gA1eUo5TiNyKw0ZrS", "signing key [REDACTED-1]"),
        ("AKIAIOSFODNN7EXAMPLE is the key id", "[REDACTED-1] is the key id"),
    ],
)
def test_each_secret_shape_is_redacted(line: str, expected: str) -> None:
    """Env assignments, DSNs, headers, tokens, SQL and key-like strings lose only their secret part."""
    assert expected in Redactor().text(line)


def test_private_key_block_is_redacted_whole() -> None:
    """A PEM private key, on its own lines or JSON-escaped in one line, becomes a single placeholder."""
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\nabc\n-----END RSA PRIVATE KEY-----"
    assert Redactor().text(f"key:\n{pem}\ndone") == "key:\n[REDACTED-1]\ndone"
    escaped = json.dumps({"tls": pem})
    assert json.loads(Redactor().text(escaped)) == {"tls": "[REDACTED-1]"}


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_identifiers_that_only_look_random_are_kept(text: str) -> None:
    """Correlation and request IDs, hashes, image tags, UUIDs, paths and durations are not redacted."""
    assert Redactor().text(text) == text


def test_committed_bundles_lose_only_their_database_password() -> None:
    """Across every committed fixture bundle, the only text redacted is the PostgreSQL password."""
    redactor = Redactor()
    for path in sorted(BUNDLES.rglob("*")):
        if path.is_file() and path.suffix in (".log", ".json"):
            text = path.read_text(errors="replace")
            assert redactor.text(text) == text.replace("slm_password", "[REDACTED-1]"), path.name


def test_same_secret_same_placeholder_numbered_by_first_appearance() -> None:
    """A secret keeps its number across calls and contexts; numbers follow first appearance."""
    redactor = Redactor()
    first = redactor.text("REDIS_PASSWORD=alpha-secret-1 POSTGRES_PASSWORD=beta-secret-2")
    second = redactor.text("CREATE ROLE x PASSWORD 'beta-secret-2'; echo beta-secret-2")
    assert first == "REDIS_PASSWORD=[REDACTED-1] POSTGRES_PASSWORD=[REDACTED-2]"
    assert second == "CREATE ROLE x PASSWORD '[REDACTED-2]'; echo [REDACTED-2]"
    assert redactor.text(first) == first


def test_markdown_escapes_do_not_hide_secrets() -> None:
    """Escaped Markdown (`slm\\_password`) is redacted whole, escapes included."""
    md = "| `x` | POSTGRES\\_PASSWORD=slm\\_password and \\[done\\] | `Authorization: Basic c2xtX3Vz` |"
    assert Redactor().markdown(md) == (
        "| `x` | POSTGRES\\_PASSWORD=[REDACTED-1] and \\[done\\] | `Authorization: Basic [REDACTED-2]` |"
    )


def test_json_walk_redacts_strings_and_secret_keys() -> None:
    """Strings anywhere and any value under a secret-looking key are redacted; flags and counts are not."""
    doc = {
        "env": ["POSTGRES_PASSWORD=slm_password", "PGDATA=/var/lib/postgresql/data"],
        "password": 123456,
        "credentials": {"user": "slm_user", "pin": "9876"},
        "auth_enabled": True,
        "token_count": 3,
        "notes": ["dsn postgres://u:slm_password@h/db"],
    }
    assert Redactor().json(doc) == {
        "env": ["POSTGRES_PASSWORD=[REDACTED-1]", "PGDATA=/var/lib/postgresql/data"],
        "password": "[REDACTED-2]",
        "credentials": {"user": "[REDACTED-3]", "pin": "[REDACTED-4]"},
        "auth_enabled": True,
        "token_count": 3,
        "notes": ["dsn postgres://u:[REDACTED-1]@h/db"],
    }


def test_secret_names_and_random_tokens_are_told_apart() -> None:
    """Names holding secrets are recognised; descriptive names and hex or dashed IDs are not secrets."""
    secret = ["POSTGRES_PASSWORD", "apiKey", "AWS_SECRET_ACCESS_KEY", "DB_PASS", "x-auth-token"]
    assert all(map(is_secret_name, secret))
    assert not any(map(is_secret_name, ["PASSWORD_FILE", "key", "key_size", "token_count", "PATH", "BYPASS"]))
    assert looks_random("8xQzR4tLp2VnW7sYk9BdF3hJmC6gA1eUo5TiNyKw0ZrS")
    assert not looks_random("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
    assert not looks_random("signalprocessing-audit-rr-05-1768404312-Ab")


def test_no_output_format_leaks_a_planted_secret(tmp_path: Path) -> None:
    """Markdown and JSON reports of a bundle with planted secrets contain none of them."""
    from triage.api import analyze
    from triage.report.render import render

    bundle = _plant(tmp_path)
    ds = bundle / RUN_DIR / f"{PREFIX}datastorage_test.log"
    # Lines the parser does not understand are quoted as samples, so these surface in every format.
    ds.write_text(ds.read_text() + f"DATABASE_URL=postgres://u:{DSN_PW}@h/db\nPOSTGRES_PASSWORD={ROLE_PW}\n")
    report = analyze(bundle)
    for fmt in ("markdown", "json"):
        out = render(report, fmt)
        leaked = [s for s in (*PLANTED, "slm_password") if s in out]
        assert leaked == [], fmt


def test_ci_outputs_leak_no_planted_secret(tmp_path: Path) -> None:
    """JUnit, HTML, the GitHub step summary and annotations quote the planted lines redacted."""
    from triage.api import analyze
    from triage.report.github import annotate, summary, workflow_commands
    from triage.report.render import render

    bundle = _plant(tmp_path)
    ds = bundle / RUN_DIR / f"{PREFIX}datastorage_test.log"
    ds.write_text(ds.read_text() + f"POSTGRES_PASSWORD={ROLE_PW}\n")  # quoted as a line not understood
    report = analyze(bundle)
    outputs = {
        "junit": render(report, "junit", fail_on="info"),
        "html": render(report, "html"),
        "summary": summary(report, "info", None, 1024 * 1024),
        "annotations": "\n".join(workflow_commands(annotate(report, "info"))),
    }
    for name, out in outputs.items():
        leaked = [s for s in (*PLANTED, "slm_password") if s in out]
        assert leaked == [], name
    assert "postgres://slm_user:[REDACTED-" in outputs["junit"]
    assert "POSTGRES_PASSWORD=[REDACTED-" in outputs["html"]


def test_a_quote_cut_inside_a_key_shows_no_part_of_it() -> None:
    """Clipping a quote leaves out the word the cut would halve, so half a key never shows."""
    from triage.report.wording import clip

    key = "AKIAIOSFODNN7EXAMPLE"
    line = "upload failed for key " + key + " in region us-east-1"
    for limit in range(len("upload failed for key ") + 3, len(line)):
        shown = clip(line, limit)
        assert key[:4] not in shown or key in shown, limit
    assert clip(line, 26) == "upload failed for key …"
