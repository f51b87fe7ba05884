"""Small hand-written Ginkgo test logs of another service's integration suite, for rule and verdict tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

LOCATION = "/home/ci/src/kubernaut/test/integration/notification/delivery_test.go"
REFUSED = "Data Storage Service returned status 400: HTTP 400 error from Data Storage API"
DROP = "Dropping audit batch due to non-retryable error (invalid data)"


@dataclass(frozen=True)
class Spec:
    """One spec block: its name, end state, timeline lines and failure message lines."""

    name: str
    timeline: list[str]
    failure: list[str] = field(default_factory=list)
    minute: int = 15

    def lines(self, line_no: int) -> list[str]:
        """The block as Ginkgo prints it in a parallel `-v` run."""
        at = f"03/02/26 09:{self.minute:02d}"
        header = "• [FAILED] [12.004 seconds]" if self.failure else "• [2.101 seconds]"
        out = [header, f"Notification Delivery Audit [It] {self.name}", f"{LOCATION}:{line_no}", ""]
        out += ["  Timeline >>", f"  STEP: Creating the NotificationRequest @ {at}:01.100"]
        out += [f"  {line}" for line in self.timeline]
        if self.failure:
            out.append(f"  [FAILED] in [It] - {LOCATION}:{line_no + 37} @ {at}:13.104")
        out += ["  << Timeline"]
        if self.failure:
            out += ["", *self.failure, f"  In [It] at: {LOCATION}:{line_no + 37} @ {at}:13.104"]
        return [*out, "------------------------------"]


def ginkgo_log(*specs: Spec) -> str:
    """A parallel Ginkgo run of `specs`, with its header and summary."""
    failed = sum(1 for s in specs if s.failure)
    out = [
        "Running Suite: Notification Controller Integration Suite - /home/ci/src/kubernaut/test/integration",
        "===================================================================================",
        "Random Seed: 1770000000",
        "",
        f"Will run {len(specs)} of {len(specs)} specs",
        "Running in parallel across 4 processes",
        "------------------------------",
    ]
    for i, spec in enumerate(specs):
        out += spec.lines(40 + 60 * i)
    out += [
        "",
        f"Ran {len(specs)} of {len(specs)} Specs in 14.210 seconds",
        f"FAIL! -- {len(specs) - failed} Passed | {failed} Failed | 0 Pending | 0 Skipped",
    ]
    return "\n".join(out) + "\n"


def write_bundle(tmp_path: Path, log: str) -> Path:
    """A must-gather directory holding only the test log."""
    bundle = tmp_path / "notification-integration-20260302-091530"
    bundle.mkdir()
    (bundle / "integration-notification.log").write_text(log, encoding="utf-8")
    return bundle


def store_line(ts: str, msg: str, level: str = "error", **fields: object) -> str:
    """A zap JSON audit-store line as the test process writes it."""
    return json.dumps({"level": level, "ts": ts, "logger": "audit-store", "msg": msg, **fields})


def buffered_line(
    cid: str, total: int, size_after: int = 1, event_type: str = "notification.message.sent"
) -> str:
    """The store's `Event buffered successfully` line for one event (logged at Info, as in January)."""
    return store_line(
        "2026-03-02T09:15:02-05:00",
        "✅ Event buffered successfully",
        level="info",
        event_type=event_type,
        correlation_id=cid,
        buffer_size_after=size_after,
        total_buffered=total,
    )
