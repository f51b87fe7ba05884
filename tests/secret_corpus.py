"""A corpus of planted secrets, one of every kind detect-secrets knows, and the bundles that carry them.

Every value is made up here (shaped like the real thing, drawn from a fixed seed) and every source
kind triage reads gets the whole corpus: DataStorage console and JSON lines, PostgreSQL, Redis,
`podman inspect` environment and labels, the Ginkgo `-v` log, its JSON report and its JUnit report.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import string
from pathlib import Path

from detect_secrets import SecretsCollection
from detect_secrets.settings import transient_settings

from tests.bench import load_bench

BUNDLES = Path(__file__).resolve().parents[1] / "fixtures" / "bundles"
_rng = random.Random(20260114)
_ALNUM = string.ascii_letters + string.digits
_HEX = "0123456789abcdef"


def _draw(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


AWS_KEY_ID = "AKIA" + _draw(16, string.ascii_uppercase + string.digits)
AWS_SECRET = _draw(40, _ALNUM + "/+")
GITHUB = "ghp_" + _draw(36)
GITLAB = "glpat-" + _draw(20)
SLACK = f"xoxb-{_draw(11, string.digits)}-{_draw(12, string.digits)}-{_draw(24, string.ascii_lowercase)}"
SLACK_HOOK = f"https://hooks.slack.com/services/T{_draw(8)}/B{_draw(8)}/{_draw(24)}"
STRIPE = "sk_live_" + _draw(24)
TWILIO_SID = "AC" + _draw(32, _HEX)
TWILIO_KEY = "SK" + _draw(32, _HEX)
SENDGRID = f"SG.{_draw(22)}.{_draw(43)}"
NPM = "npm_" + _draw(36)
PYPI = "pypi-AgEIcHlwaS5vcmc" + _draw(72)
DISCORD = f"M{_draw(23)}.{_draw(6)}.{_draw(27)}"
TELEGRAM = f"{_draw(9, string.digits)}:{_draw(35)}"
OPENAI = f"sk-{_draw(20)}T3BlbkFJ{_draw(20)}"
MAILCHIMP = f"{_draw(32, _HEX)}-us{_draw(1, '123456789')}"
AZURE = _draw(86, _ALNUM + "+/") + "=="
SQUARE = "sq0csp-" + _draw(43)
ARTIFACTORY = "AKC" + _draw(20)
JWT = f"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ0cmlhZ2UtdGVzdCJ9.{_draw(43)}"
BASIC_PW = "Bq" + _draw(12)
PASSWORD = "pw-" + _draw(14)
TOKEN = _draw(28)
API_KEY = _draw(32)
HIGH_ENTROPY = _draw(44, _ALNUM + "+/")
PEM_BODY = [_draw(64, _ALNUM + "+/") for _ in range(3)]
PEM = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(PEM_BODY) + "\n-----END RSA PRIVATE KEY-----"

# One secret per phrase, each in a context where logs and environments carry it.
PHRASES = (
    f"credentials for key id {AWS_KEY_ID} were rejected",
    f'aws_secret_access_key = "{AWS_SECRET}"',
    f"GITHUB_TOKEN={GITHUB}",
    f"clone with {GITLAB}",
    f"notify via {SLACK}",
    f"webhook {SLACK_HOOK}",
    f"charge with {STRIPE}",
    f"twilio account {TWILIO_SID} key {TWILIO_KEY}",
    f"SENDGRID {SENDGRID}",
    f"//registry.npmjs.org/:_authToken={NPM}",
    f"upload {PYPI}",
    f"bot {DISCORD}",
    f"telegram {TELEGRAM}",
    f"model key {OPENAI}",
    f"mailchimp {MAILCHIMP}",
    f"DefaultEndpointsProtocol=https;AccountName=triage;AccountKey={AZURE};EndpointSuffix=core.windows.net",
    f"square {SQUARE}",
    f"artifactory {ARTIFACTORY} ",
    f"Authorization: Bearer {JWT}",
    f"dial https://admin:{BASIC_PW}@registry.example.com/v2/",
    f"password={PASSWORD}",
    f"token: {TOKEN}",
    f'"api_key": "{API_KEY}"',
    f"signing material {HIGH_ENTROPY}",
)
ONE_LINE = " ; ".join(PHRASES)
PLANTED = (
    AWS_KEY_ID, AWS_SECRET, GITHUB, GITLAB, SLACK, SLACK_HOOK, STRIPE, TWILIO_SID, TWILIO_KEY, SENDGRID,
    NPM, PYPI, DISCORD, TELEGRAM, OPENAI, MAILCHIMP, AZURE, SQUARE, ARTIFACTORY, JWT, BASIC_PW, PASSWORD,
    TOKEN, API_KEY, HIGH_ENTROPY, *PEM_BODY,
)  # fmt: skip

# detect-secrets' plugins, less two that report identifiers, not secrets: hex strings (container
# IDs, image digests, event hashes, correlation IDs, which the report must keep readable) and public
# IP addresses.
NOT_SECRET_PLUGINS = frozenset({"HexHighEntropyString", "IPPublicDetector"})


def scanner_settings() -> dict[str, object]:
    """detect-secrets settings: every plugin it ships but the two that flag identifiers."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    names = sorted(cls.__name__ for cls in get_mapping_from_secret_type_to_class().values())
    return {"plugins_used": [{"name": n} for n in names if n not in NOT_SECRET_PLUGINS]}


def scan(paths: list[Path]) -> set[str]:
    """Every secret value detect-secrets finds in these files.

    A few plugins report only a token's prefix (`ghp`, `glpat`): the value is then the whole token
    that starts there on its line, and surrounding blanks are dropped.
    """
    with transient_settings(scanner_settings()):
        found = SecretsCollection()
        for path in paths:
            found.scan_file(str(path))
    values = set()
    for filename, secret in found:
        value = (secret.secret_value or "").strip()
        if 0 < len(value) < 8:
            line = Path(filename).read_text(encoding="utf-8").splitlines()[secret.line_number - 1]
            tokens = re.findall(re.escape(value) + r"[\w-]*", line)
            value = max(tokens, key=len, default=value)
        if value:
            values.add(value)
    return values


def _zap_console(ts: str, message: str) -> str:
    return f"{ts}\tERROR\tdatastorage\tserver/server.go:120\t{message}\t" + json.dumps({"error": ONE_LINE})


def _zap_json(ts: str, message: str) -> str:
    return json.dumps(
        {"level": "error", "ts": ts, "logger": "datastorage", "caller": "server/server.go:120",
         "msg": message, "error": ONE_LINE, "tls_key": PEM}
    )  # fmt: skip


def _inspect(path: Path) -> None:
    doc = json.loads(path.read_text())
    config = doc[0]["Config"]
    config["Env"] = [*(config.get("Env") or []), *(f"PLANTED_{i}={p}" for i, p in enumerate(PHRASES))]
    config["Env"].append(f"TLS_KEY={PEM}")
    config["Labels"] = {**(config.get("Labels") or {}), **{f"planted.{i}": p for i, p in enumerate(PHRASES)}}
    path.write_text(json.dumps(doc, indent=4) + "\n")


def plant(root: Path, source: Path = BUNDLES / "01-jan14-1025") -> Path:
    """Copy a bundle and plant the whole corpus in every source kind it has, plus two Ginkgo reports.

    Args:
        root: where the copy goes.
        source: a bundle directory (a run directory and a test log with a failed spec).

    Returns:
        The planted bundle's directory.
    """
    bundle = root / source.name
    shutil.copytree(source, bundle)
    run = next(p for p in bundle.iterdir() if p.is_dir())
    for path in sorted(run.iterdir()):
        text = path.read_text(encoding="utf-8")
        last = text.rstrip("\n").rsplit("\n", 1)[-1]
        if path.name.endswith("_inspect.json"):
            _inspect(path)
        elif "datastorage" in path.name and last.startswith("{"):
            ts = json.loads(last)["ts"]
            path.write_text(text + _zap_json(ts, "Failed to connect, retrying...") + "\n")
        elif "datastorage" in path.name:
            ts = last.split("\t", 1)[0]
            path.write_text(text + _zap_console(ts, "Failed to connect, retrying...") + "\n")
        elif "postgres" in path.name:
            stamp = last.split(" [", 1)[0]
            lines = [f"{stamp} [91] FATAL:  could not connect with {ONE_LINE}"]
            lines.append(f"{stamp} [91] STATEMENT:  ALTER ROLE slm_user WITH PASSWORD '{PASSWORD}';")
            path.write_text(text + "\n".join(lines) + "\n")
        elif "redis" in path.name:
            stamp = last.split(" ", 4)
            path.write_text(text + f"{' '.join(stamp[:4])} # Failed to authenticate: {ONE_LINE}\n")
    test_log = next(bundle.glob("integration-*.log"))
    lines = test_log.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("  [FAILED] ") and " in [" not in line)
    planted = [f"  {p}\n" for p in PHRASES] + [f"  {line}\n" for line in PEM.splitlines()]
    test_log.write_text("".join([*lines[: at + 1], *planted, *lines[at + 1 :]]), encoding="utf-8")
    report, junit = load_bench("fuzz").ginkgo_reports(
        "\n".join(PHRASES) + "\n" + PEM + "\n", f"Expected\n    <string>: {ONE_LINE}\nto be empty"
    )
    (bundle / "report.json").write_text(report, encoding="utf-8")
    (bundle / "junit.xml").write_text(junit, encoding="utf-8")
    return bundle
