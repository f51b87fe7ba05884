"""`podman inspect` JSON for the three containers (the fields triage reads, in podman's shape)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from triage.simulate.timefmt import SECOND, rfc3339_nano

_DS_HEALTH_OUTPUT = "/bin/sh: line 1: [/usr/bin/curl,: No such file or directory"


@dataclass(frozen=True)
class ContainerState:
    """What the model knows about one container when it was inspected."""

    name: str
    image: str
    started: int
    inspected: int
    host_port: int
    container_port: str
    env: tuple[str, ...]
    cmd: tuple[str, ...]
    oom_at: int | None = None
    never_started: bool = False
    healthcheck: tuple[str, ...] = ()


def _ts(t_us: int, rng: random.Random) -> str:
    return rfc3339_nano(t_us, 0, rng.randrange(1000))


def inspect_json(c: ContainerState, rng: random.Random, network: str) -> str:
    """Render `podman inspect <name>` output (a one-element array, 4-space indent as podman prints it).

    Args:
        c: The container's state.
        rng: Random source (IDs and nanoseconds).
        network: The test network name.

    Returns:
        The JSON text with a trailing newline.
    """
    cid = "".join(rng.choice("0123456789abcdef") for _ in range(64))
    exited = c.oom_at is not None or c.never_started
    finished = c.oom_at if c.oom_at is not None else (c.started + 2 * SECOND if c.never_started else 0)
    state: dict[str, Any] = {
        "OciVersion": "1.2.0",
        "Status": "exited" if exited else "running",
        "Running": not exited,
        "Paused": False,
        "Restarting": False,
        "OOMKilled": c.oom_at is not None,
        "Dead": False,
        "Pid": 0 if exited else rng.randrange(2000, 9000),
        "ConmonPid": rng.randrange(1500, 2000),
        "ExitCode": 137 if c.oom_at is not None else (1 if c.never_started else 0),
        "Error": "",
        "StartedAt": _ts(c.started, rng),
        "FinishedAt": _ts(finished, rng) if exited else "0001-01-01T00:00:00Z",
        "CheckpointedAt": "0001-01-01T00:00:00Z",
        "RestoredAt": "0001-01-01T00:00:00Z",
    }
    if c.healthcheck:
        log: list[dict[str, Any]] = []
        t = c.started + int(rng.uniform(0.5, 2.5) * SECOND)  # podman runs the first check at start
        end = c.oom_at or c.inspected
        while t < end and len(log) < 5:
            malformed = c.name.endswith("datastorage_test")
            log.append(
                {
                    "Start": _ts(t, rng),
                    "End": _ts(t + rng.randrange(30_000, 90_000), rng),
                    "ExitCode": 127 if malformed else 0,
                    "Output": _DS_HEALTH_OUTPUT
                    if malformed
                    else "/var/run/postgresql:5432 - accepting connections\n",
                }
            )
            t += 30 * SECOND
        failing = all(entry["ExitCode"] != 0 for entry in log) and bool(log)
        state["Health"] = {
            "Status": ("unhealthy" if len(log) >= 3 else "starting")
            if failing
            else ("healthy" if log else "starting"),
            "FailingStreak": len(log) if failing else 0,
            "Log": log,
        }
    doc = {
        "Id": cid,
        "Created": _ts(c.started - 400_000, rng),
        "Path": c.cmd[0],
        "Args": list(c.cmd[1:]),
        "State": state,
        "Image": "".join(rng.choice("0123456789abcdef") for _ in range(64)),
        "ImageDigest": "sha256:" + "".join(rng.choice("0123456789abcdef") for _ in range(64)),
        "ImageName": c.image,
        "Name": c.name,
        "RestartCount": 0,
        "Driver": "overlay",
        "Config": {
            "Hostname": cid[:12],
            "Env": list(c.env),
            "Cmd": list(c.cmd),
            "Image": c.image,
            "Labels": None,
            "StopSignal": "SIGTERM",
            **(
                {"Healthcheck": {"Test": list(c.healthcheck), "Interval": 30_000_000_000}}
                if c.healthcheck
                else {}
            ),
        },
        "NetworkSettings": {
            "Ports": {c.container_port: [{"HostIp": "", "HostPort": str(c.host_port)}]},
            "Networks": {network: {"IPAddress": f"10.89.0.{rng.randrange(2, 9)}", "Gateway": "10.89.0.1"}},
        },
    }
    return json.dumps([doc], indent=4, ensure_ascii=False) + "\n"
