"""Small Ginkgo v2 `-v` test logs written the way Ginkgo prints them, for rule tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SUITE = "/home/runner/work/kubernaut/kubernaut/test/integration/signalprocessing"


@dataclass(frozen=True)
class Block:
    """One spec or suite-node block: its name, end state and timeline lines (already indented)."""

    name: str
    state: str  # "passed", "failed" or "after-suite"
    lines: Sequence[str]
    seconds: float = 1.5
    at: str = "01/22/26 17:19:20.5"  # where a failure is reported


def render(blocks: Sequence[Block]) -> str:
    """A whole test log: header, the blocks, the failure summary and the totals."""
    specs = [b for b in blocks if b.state != "after-suite"]
    failed = [b for b in specs if b.state == "failed"]
    out = [
        f"Running Suite: SignalProcessing Controller Integration Suite (ENVTEST) - {SUITE}",
        "=" * 60,
        "Random Seed: 1768000006",
        "",
        f"Will run {len(specs)} of {len(specs)} specs",
    ]
    for number, block in enumerate(blocks, 1):
        out.append("------------------------------")
        if block.state == "after-suite":
            out += [
                f"[SynchronizedAfterSuite] PASSED [{block.seconds:.3f} seconds]",
                "[SynchronizedAfterSuite] ",
            ]
            out.append(f"{SUITE}/suite_test.go:612")
        elif block.state == "failed":
            out += [
                f"• [FAILED] [{block.seconds:.3f} seconds]",
                block.name.replace(" should", " [It] should"),
            ]
            out.append(f"{SUITE}/audit_test.go:{100 + number}")
        else:
            out += [f"• [{block.seconds:.3f} seconds]", block.name, f"{SUITE}/audit_test.go:{100 + number}"]
        out += ["", "  Timeline >>", *block.lines]
        if block.state == "failed":
            out += [
                f"  [FAILED] in [It] - {SUITE}/audit_test.go:{200 + number} @ {block.at}",
                "  << Timeline",
                "",
            ]
            out += ["  [FAILED] Expected", "      <int>: 0", "  to equal", "      <int>: 1"]
            out.append(f"  In [It] at: {SUITE}/audit_test.go:{200 + number} @ {block.at}")
        else:
            out.append("  << Timeline")
    out.append("------------------------------")
    if failed:
        out += ["", f"Summarizing {len(failed)} Failure{'s' if len(failed) > 1 else ''}:"]
        for number, block in enumerate(blocks, 1):
            if block.state == "failed":
                out += [
                    f"  [FAIL] {block.name.replace(' should', ' [It] should')}",
                    f"  {SUITE}/audit_test.go:{200 + number}",
                ]
    passed = len(specs) - len(failed)
    verdict = "FAIL!" if failed else "SUCCESS!"
    out += ["", f"Ran {len(specs)} of {len(specs)} Specs in 41.337 seconds"]
    out.append(f"{verdict} -- {passed} Passed | {len(failed)} Failed | 0 Pending | 0 Skipped")
    return "\n".join(out) + "\n"


def store(ts: str, msg: str, level: str = "info", **fields: object) -> str:
    """An audit-store line as the test process prints it into a timeline (zap JSON, seconds, -05:00)."""
    import json

    record = {"level": level, "ts": ts, "logger": "audit-store", "msg": msg, **fields}
    return "  " + json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def step(text: str, at: str) -> str:
    """A `STEP:` line of a timeline."""
    return f"  STEP: {text} @ {at}"
