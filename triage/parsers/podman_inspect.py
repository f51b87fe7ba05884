"""`podman inspect` (and `docker inspect`) JSON: one "container" record per container object and one
"health" record per health-check probe in its State.Health.Log.

The document is small, so it is decoded with the json module; each value is decoded in place
(`raw_decode`) so that its character span, and hence its lines, are known for evidence.

Accounting: a container record spans its whole object (`{` to `}`); health records point at their
probe entries (`"Start"` to `}`) inside that span, so coverage is the union of the spans. The array
brackets and blank lines are structural. Whatever cannot be read as a container (a truncated or
invalid tail, an element that is not a container object, a top-level value that is not an array or
object) is returned as unparsed, and facts["problems"] says what was wrong. Unexpected value types are
coerced where the meaning is clear (`"1"` for an exit code), otherwise left null, and noted in
facts["problems"]; nothing here raises on bad input.
"""

from __future__ import annotations

import re

import polars as pl

from triage.bundle.sources import Source
from triage.parsers._common import fraction_precision, message_key
from triage.parsers.base import Format, ParseResult
from triage.parsers.json_text import (
    LineOf,
    array_items,
    line_text,
    read_document,
    value_span,
)
from triage.table.exprs import iso_ts
from triage.table.schema import conform

# Names whose values are secrets. Matched anywhere in the name, case-insensitively.
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|KEY|CREDENTIAL|AUTH", re.IGNORECASE)
# `scheme://user:password@host` in a URL or DSN: the password is replaced, the rest kept for triage.
URL_CREDENTIALS = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*):[^@/\s]*@")
# libpq keyword DSN: `host=db user=slm_user password=secret`.
DSN_PASSWORD = re.compile(r"\b(password|pwd)=('[^']*'|\S+)", re.IGNORECASE)
REDACTED = "[REDACTED]"
# Lines outside any container object that the JSON syntax itself puts there.
STRUCTURAL = frozenset({"", "[", "]", ",", "[]"})
# Go's zero time: podman's FinishedAt for a container that has not finished.
_ZERO_TIME = re.compile(r"^0001-01-01T")
_CONTAINER_KEYS = ("Id", "Name", "State", "Config")


def redact_env(entry: str) -> str:
    """Hide the secret part of one `NAME=value` environment entry.

    Args:
        entry: the entry as podman lists it.

    Returns:
        The entry with the whole value replaced for secret-looking names, and with passwords inside
        URLs (`user:pass@`) or keyword DSNs (`password=...`) replaced for any name.
    """
    name, sep, value = entry.partition("=")
    if sep and SECRET_NAME.search(name):
        return f"{name}={REDACTED}"
    value = URL_CREDENTIALS.sub(rf"\1:{REDACTED}@", value)
    value = DSN_PASSWORD.sub(rf"\1={REDACTED}", value)
    return f"{name}{sep}{value}"


STATE_KEYS = ("Status", "ExitCode", "OOMKilled")


def _state_lines(
    text: str, span: tuple[int, int], state: dict[str, object], raw_state: object, line_of: LineOf
) -> list[dict[str, object]]:
    """Where `State.Status`, `ExitCode` and `OOMKilled` are ({key, line, text}), for evidence."""
    located = value_span(text, span[0], span[1], "State", raw_state)
    if not located:
        return []
    cited: list[dict[str, object]] = []
    for key in STATE_KEYS:
        if key in state:
            at = value_span(text, located[1], located[2], key, state[key])
            if at:
                cited.append({"key": key, "line": line_of(at[0]), "text": line_text(text, at[0])})
    return cited


def _get(obj: object, *path: str) -> object:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


class _Coerce:
    """Typed reads that note, rather than raise on, unexpected types."""

    def __init__(self, label: str, problems: list[str]) -> None:
        self.label = label
        self.problems = problems

    def note(self, where: str, value: object) -> None:
        self.problems.append(f"{self.label}: {where} is {type(value).__name__} {value!r:.40}")

    def text(self, value: object, where: str) -> str | None:
        if value is None or isinstance(value, str):
            return value
        self.note(where, value)
        return None if isinstance(value, dict | list) else str(value)

    def integer(self, value: object, where: str) -> int | None:
        if value is None or (isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63):
            return value
        self.note(where, value)
        if isinstance(value, str) and re.fullmatch(r"-?\d{1,18}", value.strip()):
            return int(value)
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**62:
            return int(value)
        return None

    def flag(self, value: object, where: str) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        self.note(where, value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return None

    def strings(self, value: object, where: str) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.note(where, value)
            return []
        out = [self.text(item, where) for item in value]
        return [item for item in out if item is not None]


def _ports(container: dict[str, object], coerce: _Coerce) -> list[str]:
    ports = _get(container, "NetworkSettings", "Ports")
    if not ports:
        ports = _get(container, "HostConfig", "PortBindings")
    if ports is None:
        return []
    if not isinstance(ports, dict):
        coerce.note("NetworkSettings.Ports", ports)
        return []
    out: list[str] = []
    for inner, bindings in ports.items():
        if not isinstance(bindings, list) or not bindings:
            out.append(inner)
            continue
        for binding in bindings:
            # An empty HostIp publishes on every interface.
            ip = coerce.text(_get(binding, "HostIp"), "Ports.HostIp") or "0.0.0.0"
            port = coerce.text(_get(binding, "HostPort"), "Ports.HostPort") or ""
            out.append(f"{inner}->{ip}:{port}")
    return out


def _time(value: str | None) -> str | None:
    return None if value is None or _ZERO_TIME.match(value) else value


def _container_rows(
    text: str, span: tuple[int, int], obj: dict[str, object], line_of: LineOf, problems: list[str]
) -> tuple[dict[str, object], list[dict[str, object]]]:
    """The container row and its health rows for one inspected object."""
    start, end = span
    first = line_of(start)
    label = f"container at line {first}"
    coerce = _Coerce(label, problems)
    raw_state = obj.get("State")
    state = raw_state if isinstance(raw_state, dict) else {}
    if raw_state is not None and not isinstance(raw_state, dict):
        coerce.note("State", raw_state)
    name = coerce.text(obj.get("Name"), "Name")
    name = name.lstrip("/") if name else name
    coerce.label = f"{name or label}"
    raw_health = state.get("Health", state.get("Healthcheck"))
    health = raw_health if isinstance(raw_health, dict) else {}
    if raw_health is not None and not isinstance(raw_health, dict):
        coerce.note("State.Health", raw_health)
    image = obj.get("ImageName") or _get(obj, "Config", "Image") or obj.get("Image")
    container: dict[str, object] = {
        "line": first,
        "n_lines": line_of(end - 1) - first + 1,
        "name": name,
        "image": coerce.text(image, "Image"),
        "status": coerce.text(state.get("Status"), "State.Status"),
        "running": coerce.flag(state.get("Running"), "State.Running"),
        "exit_code": coerce.integer(state.get("ExitCode"), "State.ExitCode"),
        "oom_killed": coerce.flag(state.get("OOMKilled"), "State.OOMKilled"),
        "restart_count": coerce.integer(obj.get("RestartCount"), "RestartCount"),
        "started_text": _time(coerce.text(state.get("StartedAt"), "State.StartedAt")),
        "finished_text": _time(coerce.text(state.get("FinishedAt"), "State.FinishedAt")),
        "health_status": coerce.text(health.get("Status"), "State.Health.Status"),
        "failing_streak": coerce.integer(health.get("FailingStreak"), "State.Health.FailingStreak"),
        "ports": _ports(obj, coerce),
        "env": [redact_env(e) for e in coerce.strings(_get(obj, "Config", "Env"), "Config.Env")],
        "state_lines": _state_lines(text, span, state, raw_state, line_of),
    }
    probes = health.get("Log")
    if probes is None:
        return container, []
    if not isinstance(probes, list):
        coerce.note("State.Health.Log", probes)
        return container, []
    items: list[tuple[int, int]] = []
    located = value_span(text, start, end, "State", raw_state)
    if located:
        key = "Health" if "Health" in state else "Healthcheck"
        in_health = value_span(text, located[1], located[2], key, raw_health)
        if in_health:
            in_log = value_span(text, in_health[1], in_health[2], "Log", probes)
            if in_log:
                items = array_items(text, in_log[1], in_log[2])
    rows: list[dict[str, object]] = []
    for index, probe in enumerate(probes):
        item_start, item_end = items[index] if index < len(items) else (start, end)
        key_at = value_span(text, item_start, item_end, "Start", _get(probe, "Start"))
        line = line_of(key_at[0] if key_at else item_start)
        rows.append(
            {
                "line": line,
                "n_lines": line_of(item_end - 1) - line + 1,
                "container": name,
                "started_text": coerce.text(_get(probe, "Start"), "Health.Log.Start"),
                "end_text": coerce.text(_get(probe, "End"), "Health.Log.End"),
                "exit_code": coerce.integer(_get(probe, "ExitCode"), "Health.Log.ExitCode"),
                "output": coerce.text(_get(probe, "Output"), "Health.Log.Output"),
            }
        )
    return container, rows


def _utc_text(column: str) -> pl.Expr:
    return iso_ts(pl.col(column)).dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ")


_CONTAINER_SCHEMA: dict[str, pl.DataType] = {
    **dict.fromkeys(("line", "n_lines"), pl.UInt32()),
    **dict.fromkeys(
        ("name", "image", "status", "started_text", "finished_text", "health_status"), pl.String()
    ),
    **dict.fromkeys(("running", "oom_killed"), pl.Boolean()),
    **dict.fromkeys(("exit_code", "restart_count", "failing_streak"), pl.Int64()),
    **dict.fromkeys(("ports", "env"), pl.List(pl.String())),
    "state_lines": pl.List(pl.Struct({"key": pl.String(), "line": pl.UInt32(), "text": pl.String()})),
}
_HEALTH_SCHEMA: dict[str, pl.DataType] = {
    **dict.fromkeys(("line", "n_lines"), pl.UInt32()),
    **dict.fromkeys(("container", "started_text", "end_text", "output"), pl.String()),
    "exit_code": pl.Int64(),
}


def _container_events(rows: list[dict[str, object]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=_CONTAINER_SCHEMA)
    failed = pl.col("oom_killed").fill_null(False) | (
        (pl.col("running") == False) & (pl.col("exit_code").fill_null(0) != 0)  # noqa: E712
    )
    return frame.select(
        "line",
        "n_lines",
        record=pl.lit("container"),
        ts=iso_ts(pl.col("started_text")),
        ts_precision=fraction_precision(pl.col("started_text")),
        level=pl.when(failed)
        .then(pl.lit("error"))
        .when(pl.col("health_status") == "unhealthy")
        .then(pl.lit("warn"))
        .otherwise(pl.lit("info")),
        message=pl.concat_str(
            pl.col("name").fill_null("(unnamed)"),
            pl.lit(": "),
            pl.col("status").fill_null("unknown status"),
            pl.when(pl.col("health_status").is_not_null())
            .then(pl.lit(", health ") + pl.col("health_status"))
            .otherwise(pl.lit("")),
            pl.when(pl.col("running") == False)  # noqa: E712
            .then(pl.lit(", exit code ") + pl.col("exit_code").cast(pl.String).fill_null("unknown"))
            .otherwise(pl.lit("")),
        ),
        attrs=pl.struct(
            "name",
            "image",
            "status",
            "running",
            "exit_code",
            "oom_killed",
            "restart_count",
            _utc_text("started_text").alias("started_at"),
            _utc_text("finished_text").alias("finished_at"),
            "health_status",
            "failing_streak",
            "ports",
            "env",
            "state_lines",
        ).struct.json_encode(),
    )


def _health_events(rows: list[dict[str, object]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=_HEALTH_SCHEMA)
    output = pl.col("output").str.strip_chars()
    return frame.select(
        "line",
        "n_lines",
        record=pl.lit("health"),
        ts=iso_ts(pl.col("started_text")),
        ts_precision=fraction_precision(pl.col("started_text")),
        level=pl.when(pl.col("exit_code").is_not_null() & (pl.col("exit_code") != 0))
        .then(pl.lit("warn"))
        .otherwise(pl.lit("info")),
        message=pl.when(output.is_not_null() & (output != ""))
        .then(output)
        .otherwise(pl.lit("health check exit code ") + pl.col("exit_code").cast(pl.String).fill_null("?")),
        attrs=pl.struct(
            "container",
            "exit_code",
            "output",
            _utc_text("end_text").alias("end"),
        ).struct.json_encode(),
    )


def parse(lines: pl.DataFrame, source: Source) -> ParseResult:
    """Parse a `podman inspect` / `docker inspect` document.

    Args:
        lines: numbered lines (`line`, `raw`).
        source: the file being parsed.

    Returns:
        "container" and "health" records, unparsed lines, and facts: the document's shape, the
        number of containers, and any problems found.
    """
    raws: list[str] = lines["raw"].to_list()
    text = "\n".join(raws)
    line_of = LineOf(raws)
    doc = read_document(text, line_of)
    containers: list[dict[str, object]] = []
    probes: list[dict[str, object]] = []
    spans: list[tuple[int, int]] = []
    for index, (start, end, value) in enumerate(doc.elements, start=1):
        if not isinstance(value, dict) or not any(key in value for key in _CONTAINER_KEYS):
            what = "an object without container fields" if isinstance(value, dict) else type(value).__name__
            doc.problems.append(f"element {index} (line {line_of(start)}) is {what}, not a container")
            continue
        container, health = _container_rows(text, (start, end), value, line_of, doc.problems)
        containers.append(container)
        probes.extend(health)
        spans.append((line_of(start), line_of(end - 1)))
    events = pl.concat([_container_events(containers), _health_events(probes)], how="vertical_relaxed").sort(
        "line", "record"
    )
    events = events.with_columns(
        file=pl.lit(source.name),
        source_kind=pl.lit(source.kind),
        service=pl.lit(source.service, dtype=pl.String),
        logger=pl.lit("podman"),
        msg_key=message_key(pl.col("message")),
        ts_precision=pl.when(pl.col("ts").is_not_null()).then(pl.col("ts_precision")),
        ts_assumed=pl.when(pl.col("ts").is_not_null()).then(pl.lit(False)),
    ).join(lines.select("line", "raw"), on="line", how="left", maintain_order="left")
    covered = {n for first, last in spans for n in range(first, last + 1)}
    unparsed = lines.select("line", "raw").filter(
        ~pl.col("line").is_in(sorted(covered)) & ~pl.col("raw").str.strip_chars().is_in(STRUCTURAL)
    )
    facts: dict[str, object] = {"shape": doc.shape, "containers": len(containers)}
    if doc.problems:
        facts["problems"] = doc.problems
    if doc.broken is not None:
        # The file is there and is an inspect document, but what follows the error cannot be read.
        read = f"{len(containers)} container(s) read before it" if containers else "no container read"
        facts["notes"] = [f"present but unreadable: {doc.broken} ({read})"]
    return ParseResult(conform(events), unparsed, facts)


_INSPECT_START = re.compile(r'^\s*[\[{]\s*(?:\{\s*)?"(?:Id|ID|Name|State|Config|Image)"\s*:')


def _is_inspect(opening: str, text: str) -> bool:
    return bool(_INSPECT_START.match(opening))


FORMAT = Format(
    kind="podman_inspect", label="JSON document with container fields", parse=parse, document=_is_inspect
)
