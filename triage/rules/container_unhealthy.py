"""A container is unhealthy or its log shows failures.

## What it detects
Problems with the containers the integration suite runs (DataStorage, PostgreSQL, Redis), one finding
per container and kind of problem:

* the inspect output shows it was not running (exited, non-zero exit code, OOM-killed) or restarted;
* its health check really fails (not the known malformed DataStorage probe, see below);
* the must-gather could not collect it (`Skipping <ctr> (container not found)`), or its log is not
  in the bundle;
* its log shows a panic (`PANIC RECOVERED`, PANIC records), DataStorage giving up or retrying its
  PostgreSQL/Redis connection (`Failed to connect, retrying...`), or FATAL/ERROR records.

Only containers count: PostgreSQL and Redis logs, DataStorage's log and other logs the must-gather
named after a container. The test process's output and a controller's (the audit store's lines,
reconcile errors that are retried) are not container health, whatever their file is called.

Reported as info only, because they are not failures: the entries of the table of expected errors
(`triage/expected.toml`): known start-up noise (PostgreSQL's `database "slm_user" does not exist`
from the readiness probe, `role "slm_user" already exists` from the migration, and the DataStorage
image's malformed HEALTHCHECK whose every probe prints `[/usr/bin/curl,: No such file or
directory`, which is why podman calls it `starting` or `unhealthy`) and errors that kubernaut's
specs provoke on purpose (duplicate keys, a parent row deleted under its children), named beside
the spec that provoked them when the test log shows it; and DataStorage 5xx responses while it kept
serving (the audit store retries them; whether events were lost is what `dropped-events` decides).
A provoked error logged while a failed spec was running, with no passing spec that provokes it
running too, is reported like any other error.

## Why it matters
Every audit event goes through DataStorage into PostgreSQL. A DataStorage that was OOM-killed or never
started refuses the store's batches, so specs fail on missing events that the test code never lost.
A container whose log is missing from the bundle leaves its part of the story unreadable. Triage
should start from the infrastructure before blaming the code under test.

## How to fix
* Exited or OOM-killed DataStorage: read the last lines of its log and the inspect `State`; raise the
  container's memory limit or fix the leak, then re-run.
* `Skipping ... (container not found)` or a missing log: the container was gone before
  `SynchronizedAfterSuite` collected it; look for an earlier teardown or a failed bootstrap.
* Connection retries or PostgreSQL FATAL records: make the bootstrap wait for PostgreSQL to accept
  connections before starting DataStorage.
* Expected errors are listed in `triage/expected.toml`; add one there to teach triage another.
* The malformed HEALTHCHECK is harmless here, but the image should use the exec form
  `["CMD", "curl", "-f", "http://localhost:8080/health"]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import polars as pl

from triage.facts.analysis import Analysis
from triage.facts.containers import ContainerState, noise
from triage.facts.expected import SpecWindow, Verdict, for_kinds, spec_windows
from triage.parsers.recognise import container_of
from triage.rules._containers import (
    BAD_LEVELS,
    ContainerLogs,
    container_label,
    container_logs,
    inspect_clock,
    matched_text,
    not_running,
    provoked,
    spec_names,
    state_evidence,
)
from triage.rules._store import spec_states
from triage.rules.base import Evidence, Finding, Rule, Severity, quote
from triage.rules.wording import clock
from triage.table.vocabulary import DB_WRITE_FAILED, DS_HTTP_REQUEST

RULE_ID = "container-unhealthy"
# DD-TESTING-002: an integration must-gather collects these three containers.
EXPECTED = ("datastorage", "postgres", "redis")
MAX_EVIDENCE = 8
RETRYING = "Failed to connect, retrying..."
GAVE_UP = "Failed to create server after all retries"
PANIC = "PANIC RECOVERED"


def _cite(rows: Iterable[dict[str, Any]]) -> tuple[Evidence, ...]:
    return tuple(quote(r["file"], r["line"]) for r in rows)


def _finding(severity: Severity, summary: str, evidence: Sequence[Evidence]) -> Finding:
    return Finding(RULE_ID, severity, summary, None, tuple(evidence[:MAX_EVIDENCE]))


def _state_findings(analysis: Analysis, logs: ContainerLogs) -> Iterator[Finding]:
    """Exited, restarted and failing-health findings from the inspected states."""
    health = analysis.attrs.attach(analysis.events.filter(pl.col("record") == "health")).with_columns(
        container=pl.col("attrs").str.json_path_match("$.container")
    )
    for c in analysis.containers:
        name = container_label(c)
        inspect_line = Evidence(c.file, c.line, "{")
        at = analysis.events.filter((pl.col("file") == c.file) & (pl.col("line") == c.line))
        inspect_row = analysis.attrs.attach(at)
        state_lines: list[Evidence] = []
        if inspect_row.height:
            inspect_line = _cite(inspect_row.head(1).to_dicts())[0]
            state_lines = state_evidence(c, inspect_row["attrs"][0])
        if not_running(c):
            own = logs.records.filter(pl.col("service") == c.service) if c.service else logs.records.clear()
            yield _exited(c, name, own, state_lines or [inspect_line])
        if (c.restart_count or 0) > 0:
            yield _finding(
                Severity.MEDIUM,
                f"{name} was restarted {c.restart_count} time(s) before it was inspected "
                f"(RestartCount {c.restart_count}); its log may hold more than one start-up.",
                [inspect_line],
            )
        if c.health == "unhealthy" or (c.failing_streak or 0) > 0:
            probes = health.filter(pl.col("file").eq_missing(c.file) & pl.col("container").eq_missing(c.name))
            yield _health(c, name, probes.sort("ts", "line").tail(3).to_dicts() or [], inspect_line)


def _exited(c: ContainerState, name: str, own: pl.DataFrame, state_lines: list[Evidence]) -> Finding:
    how = [f"status {c.status or 'unknown'}", f"exit code {c.exit_code}"]
    if c.oom_killed:
        how.append("OOM-killed")
    summary = (
        f"{name} was not running when inspected ({', '.join(how)}); "
        f"started {inspect_clock(c.started_at)}, finished {inspect_clock(c.finished_at)}."
    )
    evidence = list(state_lines)
    if own.height:
        last = own.tail(1).to_dicts()[0]
        summary += f" Its last log record is at {clock(last['ts'], last['ts_precision'])}."
        evidence.extend(_cite([last]))
    else:
        summary += " Its log holds no records, so it failed before logging anything."
    return _finding(Severity.HIGH, summary, evidence)


def _health(c: ContainerState, name: str, probes: list[dict[str, Any]], inspect_line: Evidence) -> Finding:
    evidence = _cite(probes) or (inspect_line,)
    streak = f"Health.Status {c.health}, FailingStreak {c.failing_streak}"
    output = c.last_health_output or ""
    for entry in for_kinds("podman_inspect"):
        found = re.search(entry.pattern, output)
        if found:
            return _finding(
                Severity.INFO,
                f"{name}: {streak}, the last probe printed `{found.group(0)}`; known noise: {entry.why}.",
                evidence,
            )
    severity = Severity.MEDIUM if c.health == "unhealthy" else Severity.LOW
    said = f"; the last probe printed `{output}`" if output else ""
    return _finding(severity, f"{name}: {streak}{said}.", evidence)


def _missing_findings(analysis: Analysis, logs: ContainerLogs) -> Iterator[Finding]:
    """Containers the must-gather skipped, or whose log is not in the bundle."""
    collector = (
        analysis.attrs.attach(analysis.events.filter(pl.col("record") == "collector"))
        .with_columns(
            action=pl.col("attrs").str.json_path_match("$.action"),
            container=pl.col("attrs").str.json_path_match("$.container"),
        )
        .filter(pl.col("action").is_in(["log", "skipped"]) & pl.col("container").is_not_null())
        .sort("file", "line")
    )
    exited = {c.service for c in analysis.containers if not_running(c)}
    inspected: set[str | None] = {c.service for c in analysis.containers if c.service}
    if collector.height and not logs.services and not analysis.containers:
        # Only the test log was given: say so once rather than once per collected container.
        yield _finding(
            Severity.INFO,
            "The bundle holds none of the container files the must-gather collected, so container "
            "health was not checked; pass the must-gather directory as well.",
            _cite(collector.head(1).to_dicts()),
        )
        return
    named: set[str] = set()
    for row in collector.to_dicts():
        service = container_of(row["container"], "podman_inspect", b"")
        named.add(service or row["container"])
        if row["action"] == "skipped":
            yield _finding(
                Severity.MEDIUM,
                f"The must-gather skipped {row['container']} (container not found), so the bundle has "
                "neither its log nor its inspect output.",
                _cite([row]),
            )
        elif service not in logs.services and service not in exited:
            yield _finding(
                Severity.MEDIUM,
                f"The must-gather wrote the log of {row['container']}, but the bundle holds no records "
                "from it: the file is missing, empty or unreadable.",
                _cite([row]),
            )
    if named:
        return
    yield from _absent_without_collector(analysis, logs, inspected, exited)


def _absent_without_collector(
    analysis: Analysis, logs: ContainerLogs, inspected: set[str | None], exited: set[str | None]
) -> Iterator[Finding]:
    """Without the collector lines, infer the expected containers from the must-gather layout."""
    in_run_dir = analysis.run_dir is not None
    expected = sorted(set(EXPECTED) if in_run_dir else {s for s in inspected if s})
    present = [c for c in analysis.containers if c.service]
    for service in expected:
        if service in logs.services or service in exited:
            continue
        own = [c for c in present if c.service == service]
        if own:
            summary = (
                f"The bundle has the inspect output of {container_label(own[0])} but no records from its log "
                "(the file is missing, empty or unreadable)."
            )
            evidence = [Evidence(own[0].file, own[0].line, "{")]
        else:
            summary = (
                f"The bundle holds neither a log nor an inspect output of {service}, which an "
                "integration must-gather collects beside the others (inferred: the test log with the "
                "collector lines is not in the bundle)."
            )
            evidence = [Evidence(c.file, c.line, "{") for c in present]
        if evidence:
            yield _finding(Severity.MEDIUM, summary, _requote(analysis.events, evidence))


def _requote(events: pl.DataFrame, evidence: Sequence[Evidence]) -> list[Evidence]:
    """Quote the cited inspect lines with their real text."""
    out: list[Evidence] = []
    for ev in evidence:
        row = events.filter((pl.col("file") == ev.file) & (pl.col("line") == ev.line)).head(1)
        out.extend(_cite(row.to_dicts()) if row.height else [ev])
    return out


def _log_findings(analysis: Analysis, logs: ContainerLogs) -> Iterator[Finding]:
    """Panics, connection retries, server errors, other error records and known noise, per log."""
    rec = logs.records
    names = {c.service: container_label(c) for c in analysis.containers if c.service}
    panic = (pl.col("msg_key") == PANIC) | (pl.col("level") == "panic")
    retry = pl.col("msg_key").is_in([RETRYING, GAVE_UP])
    server = ((pl.col("msg_key") == DS_HTTP_REQUEST) & (pl.col("status") >= 500)).fill_null(False) | (
        pl.col("msg_key") == DB_WRITE_FAILED
    )
    other = pl.col("bad") & ~pl.col("noise") & ~panic & ~retry & ~server
    noise = pl.col("noise") & pl.col("bad")
    # Most records are none of these: only the others are grouped by log.
    flagged = rec.filter(pl.any_horizontal(e.fill_null(False) for e in (panic, retry, server, other, noise)))
    windows: tuple[SpecWindow, ...] | None = None
    for (file,), group in sorted(flagged.group_by("file"), key=lambda item: str(item[0][0])):
        service = group["service"][0]
        where = names.get(service) or _log_label(str(file), service, group["source_kind"][0])
        panics = group.filter(panic.fill_null(False))
        if panics.height:
            yield _finding(
                Severity.HIGH,
                f"{where} logged {panics.height} panic record(s), the first at "
                f"{clock(panics['ts'][0], panics['ts_precision'][0])}: `{panics['message'][0]}`.",
                _cite(panics.head(MAX_EVIDENCE).to_dicts()),
            )
        retries = group.filter(retry.fill_null(False))
        if retries.height:
            yield _retries(where, retries)
        failed = group.filter(server.fill_null(False))
        if failed.height:
            yield _server_errors(where, failed)
        errors = group.filter(other.fill_null(False))
        if errors.height:
            if windows is None:
                windows = spec_windows(analysis.events, spec_states(analysis))
            verdicts = provoked(analysis, errors, windows)
            expected = [i for i, v in enumerate(verdicts) if v is not None and v.expected]
            if expected:
                yield _expected(where, errors, verdicts, expected, bool(windows))
            rest = [i for i in range(errors.height) if i not in set(expected)]
            if rest:
                yield _errors(where, errors[rest], [verdicts[i] for i in rest])
        known = group.filter(noise.fill_null(False))
        if known.height:
            yield _noise(where, known)


def _retries(where: str, rows: pl.DataFrame) -> Finding:
    gave_up = rows.filter(pl.col("msg_key") == GAVE_UP)
    tries = rows.filter(pl.col("msg_key") == RETRYING)
    first = rows.row(0, named=True)
    if gave_up.height:
        summary = (
            f"{where} could not connect to PostgreSQL/Redis: {tries.height} retries from "
            f"{clock(first['ts'], first['ts_precision'])}, then `{GAVE_UP}` and the process exited."
        )
        return _finding(
            Severity.HIGH, summary, _cite([*tries.head(3).to_dicts(), *gave_up.head(1).to_dicts()])
        )
    summary = (
        f"{where} retried its PostgreSQL/Redis connection {tries.height} time(s) from "
        f"{clock(first['ts'], first['ts_precision'])} (`{RETRYING}`); its dependencies were not ready "
        "when it started."
    )
    return _finding(Severity.LOW, summary, _cite(tries.head(4).to_dicts()))


def _server_errors(where: str, rows: pl.DataFrame) -> Finding:
    responses = rows.filter(pl.col("msg_key") == DS_HTTP_REQUEST)
    first, last = rows.row(0, named=True), rows.row(-1, named=True)
    begin, end = clock(first["ts"], first["ts_precision"]), clock(last["ts"], last["ts_precision"])
    span = f"between {begin} and {end}" if rows.height > 1 else f"at {begin}"
    statuses = sorted({int(s) for s in responses["status"].drop_nulls().to_list()})
    codes = "/".join(str(s) for s in statuses) or "5xx"
    failed = rows.filter(pl.col("msg_key") == DB_WRITE_FAILED).height
    detail = f", {failed} `{DB_WRITE_FAILED}` record(s)" if failed else ""
    summary = (
        f"{where} answered {responses.height} request(s) with {codes} {span}{detail}, and kept serving; "
        "the audit store retries these, so lost events (if any) are reported by dropped-events."
    )
    return _finding(Severity.INFO, summary, _cite(rows.head(MAX_EVIDENCE).to_dicts()))


def _log_label(file: str, service: str | None, kind: object) -> str:
    """How a log no inspected container names is called: `the PostgreSQL log x.log`, or its service."""
    formats = {"postgres": "PostgreSQL", "redis": "Redis"}
    if str(kind) in formats:
        return f"the {formats[str(kind)]} log {file.rsplit('/', 1)[-1]}"
    return service or file


def _expected(
    where: str, rows: pl.DataFrame, verdicts: Sequence[Verdict | None], picked: list[int], specs_shown: bool
) -> Finding:
    """Errors that specs provoke on purpose, with the spec that provoked them where the log shows it."""
    groups: dict[str, list[tuple[dict[str, Any], Verdict]]] = {}
    for i in picked:
        verdict = verdicts[i]
        if verdict is not None:
            groups.setdefault(verdict.entry.id, []).append((rows.row(i, named=True), verdict))
    parts: list[str] = []
    cited: list[dict[str, Any]] = []
    for hits in sorted(groups.values(), key=lambda h: int(h[0][0]["line"])):
        entry = hits[0][1].entry
        specs = sorted({v.spec.spec for _, v in hits if v.spec is not None})
        if specs:
            by = f"logged while {spec_names(specs)} ran and passed"
        else:
            shown = "no failed spec was running then" if specs_shown else "no test log shows the specs"
            by = f"provoked by {entry.provoked_by or 'a spec'}; {shown}"
        parts.append(f"{len(hits)}x `{matched_text(entry, hits[0][0])}` ({entry.why}; {by})")
        cited.extend(row for row, _ in hits[:2])
    cited.sort(key=lambda r: int(r["line"]))
    summary = f"{where}: errors that specs provoke on purpose, expected, not a fault: {'; '.join(parts)}."
    return _finding(Severity.INFO, summary, _cite(cited))


def _errors(where: str, rows: pl.DataFrame, verdicts: Sequence[Verdict | None] = ()) -> Finding:
    levels = set(rows["level"].drop_nulls().to_list())
    severity = Severity.MEDIUM if "fatal" in levels else Severity.LOW
    first = rows.row(0, named=True)
    by_level = ", ".join(
        f"{rows.filter(pl.col('level') == lv).height} {lv.upper()}" for lv in BAD_LEVELS if lv in levels
    )
    summary = (
        f"{where} logged {by_level} record(s) that are not known start-up noise; the first, at "
        f"{clock(first['ts'], first['ts_precision'])}: `{first['message']}`."
    )
    failed = sorted({v.spec.spec for v in verdicts if v is not None and v.spec is not None})
    if failed:
        count = sum(1 for v in verdicts if v is not None)
        summary += (
            f" {count} of them match errors that specs provoke on purpose, but were logged while failed "
            f"{spec_names(failed)} ran, so they are not discounted."
        )
    return _finding(severity, summary, _cite(rows.head(MAX_EVIDENCE).to_dicts()))


def _noise(where: str, rows: pl.DataFrame) -> Finding:
    parts: list[str] = []
    firsts: list[dict[str, Any]] = []
    message = pl.col("message").cast(pl.String)
    for entry in noise():
        hits = rows.filter(message.str.contains(entry.pattern).fill_null(False))
        if hits.height:
            parts.append(f"{hits.height}x `{matched_text(entry, hits.row(0, named=True))}` ({entry.why})")
            firsts.append(hits.row(0, named=True))
    firsts.sort(key=lambda r: r["line"])
    summary = f"{where}: known start-up noise, not a failure: {'; '.join(parts)}."
    return _finding(Severity.INFO, summary, _cite(firsts))


def check(analysis: Analysis) -> Iterator[Finding]:
    """Find exited, restarted, missing or failing containers and the failures their logs show.

    Args:
        analysis: the analysed bundle.

    Returns:
        Findings, one per container and kind of problem; known noise as info.
    """
    logs = container_logs(analysis)
    yield from _state_findings(analysis, logs)
    yield from _missing_findings(analysis, logs)
    yield from _log_findings(analysis, logs)


RULE = Rule(
    id="container-unhealthy",
    title="A container is unhealthy or its log shows failures",
    severity=Severity.HIGH,
    requires=(),
    check=check,
    doc=__doc__ or "",
)
