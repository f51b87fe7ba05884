"""Which component wrote a file: read from its content, with its name as a hint.

A file's format (`recognise.classify`) says how to parse it; this module says whose output it is:
DataStorage, PostgreSQL, Redis, another container, the test process (Ginkgo output, or GinkgoWriter
output without Ginkgo's frame) or a controller. What the content shows wins over the name:

* PostgreSQL and Redis logs are what their format says, whatever the file is called.
* A zap log is DataStorage's when most of its named records come from the `datastorage` logger
  (kubelog names every DataStorage record after the service); when its records name other loggers it
  is not DataStorage's, whatever the file is called.
* A zap log is the test process's when it shows what only the test process writes: the suite's
  banners and helper prints, envtest's own logger, an audit store's lines without a caller (the test
  suites build their stores with `zap.New(zap.WriteTo(GinkgoWriter))`, which adds none; services and
  in-cluster controllers log a caller), or controller-runtime reconcile lines stamped with the test
  host's non-UTC offset (containers and pods log in UTC). Such a file is parsed as Ginkgo output.
* A zap log with controller-runtime reconcile fields is a controller's.
* A `podman inspect` document names its container and image.

Only when the content shows none of this does the name decide (`name_hint`): the must-gather names
files `{service}_{container}.log` after their containers (`signalprocessing_signalprocessing_postgres_test`,
`notification_notification_postgres_1`, `datastorage_datastorage-postgres-test`,
`aianalysis_mock-llm-aianalysis`), and CI names the test log `integration-<service>.log`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from triage.table.vocabulary import STORE_LOGGER

# The components a file can belong to (Source.service); None is another container or unknown.
DATASTORAGE, POSTGRES, REDIS = "datastorage", "postgres", "redis"
TEST_RUN, CONTROLLER = "test-run", "controller"
CONTAINERS = (DATASTORAGE, POSTGRES, REDIS)

# Name tokens of each component, most specific first: `datastorage-postgres-test` is a postgres.
_NAME_TOKENS: tuple[tuple[str, frozenset[str]], ...] = (
    (POSTGRES, frozenset({"postgres", "postgresql", "pg"})),
    (REDIS, frozenset({"redis"})),
    (DATASTORAGE, frozenset({"datastorage", "data-storage"})),
    (CONTROLLER, frozenset({"controller", "manager"})),
)
TEST_LOG_NAME = re.compile(r"^integration-[a-z0-9-]+\.log$|ginkgo", re.IGNORECASE)
_SUFFIXES = re.compile(r"(?:_inspect)?(?:\.(?:log|json|txt|out))?(?:\.gz)?$", re.IGNORECASE)

_ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)"
_CONSOLE = re.compile(rf"^({_ISO})(?:\t| {{2,}})([A-Za-z]+(?:\(-?\d+\))?)(?:\t| {{2,}})(.*)$")
_CALLER = re.compile(r"^\S+\.go:\d+$")
_UTC = re.compile(r"(?:Z|[+-]00:?00)$")
_STORE_LOGGER = re.compile(STORE_LOGGER)
# What a suite prints on GinkgoWriter around its tests: banners, the must-gather collector and the
# audit helpers' query prints.
_SUITE_PRINTS = re.compile(
    r"^\s*(?:[━═]{20,}$|\S+ Collecting container logs to |\S+ Must-gather collection complete"
    r"|\S+ No events yet for |\S+ Found \d+ event\(s\) for |\S+ Audit store flushed successfully"
    r"|\S+ Flush warning \(non-fatal|\S+ Query error for )"
)
_ENVTEST_LOGGER = "controller-runtime.test-env"
_RECONCILE = ('"reconcileID"', '"controllerKind"')


@dataclass(frozen=True)
class _Record:
    """What one sampled zap record shows about its writer."""

    logger: str | None
    caller: bool
    local_time: bool
    reconcile: bool


def _json_record(line: str) -> _Record | None:
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or ("msg" not in value and "level" not in value):
        return None
    logger, ts = value.get("logger"), value.get("ts")
    return _Record(
        logger if isinstance(logger, str) else None,
        "caller" in value,
        isinstance(ts, str) and not _UTC.search(ts),
        "reconcileID" in value or "controllerKind" in value,
    )


def _console_record(line: str) -> _Record | None:
    match = _CONSOLE.match(line)
    if match is None:
        return None
    parts = [p for p in re.split(r"\t| {2,}", match[3]) if p]
    if parts and parts[-1].startswith("{") and len(parts) > 1:
        parts = parts[:-1]
    logger = None
    caller = bool(parts) and _CALLER.match(parts[0]) is not None
    if not caller and len(parts) >= 2 and not re.search(r"\s", parts[0]):
        logger = parts[0]
        caller = _CALLER.match(parts[1]) is not None
    return _Record(logger, caller, not _UTC.search(match[1]), any(key in line for key in _RECONCILE))


def _records(lines: Sequence[str]) -> list[_Record]:
    out = []
    for line in lines:
        text = line.strip()
        record = _json_record(text) if text.startswith("{") else _console_record(text)
        if record is not None:
            out.append(record)
    return out


def name_hint(name: str) -> str | None:
    """The component a file's name suggests.

    Args:
        name: a file name (or container name), with or without directories.

    Returns:
        "test-run" for CI's test-log name, else "postgres", "redis", "datastorage" or "controller" by
        the name's tokens (the most specific first), else None.
    """
    base = name.rsplit("/", 1)[-1]
    if TEST_LOG_NAME.search(base):
        return TEST_RUN
    stem = _SUFFIXES.sub("", base).lower()
    tokens = set(re.split(r"[_.-]", stem)) | set(re.split(r"[_.]", stem))
    return next((component for component, names in _NAME_TOKENS if tokens & names), None)


def container_name(name: str, service: str | None) -> str | None:
    """The container a must-gather file is named after: `{service}_{container}.log` and `_inspect.json`.

    Args:
        name: the file name.
        service: the service under test (from the run directory), when known.

    Returns:
        The container name (`notification_postgres_1`, `mock-llm-aianalysis`); the whole stem when the
        service is not known but the name has podman's `_`; None for the test log and other names.
    """
    base = name.rsplit("/", 1)[-1]
    if TEST_LOG_NAME.search(base):
        return None
    stem = _SUFFIXES.sub("", base)
    if service and stem.startswith(f"{service}_") and len(stem) > len(service) + 1:
        return stem[len(service) + 1 :]
    return stem if "_" in stem.strip("_") else None


def _by_tokens(text: str | None) -> str | None:
    hint = name_hint(text) if text else None
    return hint if hint in CONTAINERS else None


def inspect_identity(head: str) -> tuple[str | None, str | None]:
    """The container and component a `podman inspect` document describes.

    Args:
        head: the document's first characters (it may be cut or invalid JSON).

    Returns:
        (container name, component from the container's name or image), each None when not shown.
    """
    try:
        value = json.loads(head)
        first = value[0] if isinstance(value, list) and value else value
        name = first.get("Name") if isinstance(first, dict) else None
        config = first.get("Config") if isinstance(first, dict) else None
        image = first.get("ImageName") or (config.get("Image") if isinstance(config, dict) else None)
    except (ValueError, RecursionError, AttributeError):
        found = re.search(r'"Name"\s*:\s*"([^"]*)"', head)
        name = found[1] if found else None
        found = re.search(r'"(?:ImageName|Image)"\s*:\s*"([^"]*[a-z][^"]*)"', head)
        image = found[1] if found else None
    name = name.lstrip("/") if isinstance(name, str) and name else None
    image = image if isinstance(image, str) else None
    repo = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0] if image else None
    return name, _by_tokens(name) or _by_tokens(repo)


def zap_identity(lines: Sequence[str], name: str) -> tuple[str | None, str]:
    """Whose zap log this is, from its sampled lines, with the file name as a hint.

    Args:
        lines: the sampled lines (ANSI codes and relay prefixes removed).
        name: the file name.

    Returns:
        (component, why): "datastorage", "test-run", "controller" or None, and what decided it.
    """
    records = _records(lines)
    named = [r for r in records if r.logger]
    ours = [r.logger == DATASTORAGE or str(r.logger).startswith(DATASTORAGE + ".") for r in named]
    own = sum(ours)
    prints = sum(1 for line in lines if _SUITE_PRINTS.match(line))
    # DataStorage's own store (`datastorage.audit-store`) is no sign of the test process.
    stores = sum(
        1
        for r, mine in zip(named, ours, strict=True)
        if _STORE_LOGGER.search(str(r.logger)) and not r.caller and not mine
    )
    envtest = sum(1 for r in named if str(r.logger).startswith(_ENVTEST_LOGGER))
    local = sum(1 for r in records if r.reconcile and r.local_time)
    if own and own * 2 >= len(named):
        return DATASTORAGE, f"{own} of {len(named)} named records from the datastorage logger"
    signs = [
        (prints, "suite banner or helper line(s)"),
        (stores, "audit-store line(s) without a caller"),
        (envtest, "envtest line(s)"),
        (local, "reconcile line(s) in the test host's local time"),
    ]
    shown = [f"{n} {what}" for n, what in signs if n]
    if shown:
        return TEST_RUN, "test process output: " + ", ".join(shown)
    reconcile = sum(1 for r in records if r.reconcile)
    if reconcile:
        return CONTROLLER, f"{reconcile} controller-runtime reconcile line(s)"
    hint = name_hint(name)
    if named and hint == DATASTORAGE:
        return None, "no record from the datastorage logger, whatever the name"
    if hint in (DATASTORAGE, CONTROLLER, TEST_RUN):
        return hint, f"named like a {hint} file"
    return None, "no sign of its writer"
