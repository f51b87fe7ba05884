"""Measure every rule's accuracy against the simulator's ground truth over many simulated runs.

    python bench/accuracy.py [--seeds N] [--out FILE] [--first-seed S]

Seed i picks a scenario (all of them in turn), one extra fault (all of them in turn, with some runs
left without one) and varied knobs, all derived from i alone, so a run of the command is
reproducible. Each bundle is kept small (at most 4 processes and 16 specs) and deleted once scored.

Scoring follows the truth's `findings` entries (see triage/simulate/truth.py):

* a `must` entry is found (TP) when a finding above info has that rule and correlation ID (for a
  null correlation ID: any finding above info of that rule), else it is missed (FN);
* a `must_not` entry is violated (FP) when such a finding exists;
* entries of a rule that was skipped (a needed source is absent) or crashed are counted apart;
* `extra` counts findings above info that match no truth entry of their rule (rules the truth does
  not cover, or correlation IDs it does not list);
* a healthy run (no fault, nothing missing, no `must` entry) must have no finding above info.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from triage.api import analyze
from triage.rules import ALL_RULES, RuleOutcome
from triage.rules.base import Severity
from triage.simulate import FAULTS, SCENARIOS, simulate
from triage.simulate.knobs import CONTAINERS, NAMINGS

DEFAULT_SEEDS = 90  # ten runs of each of the nine scenarios
# The big fault runs (DataStorage down, every batch retried) grow the test log fastest.
HEAVY_FAULTS = ("datastorage-down", "datastorage-oom")


@dataclass(frozen=True)
class Plan:
    """One simulated run: what to simulate."""

    seed: int
    scenario: str
    knobs: dict[str, Any]


@dataclass
class Tally:
    """Counts for one rule."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    skipped: int = 0
    errors: int = 0
    extra: int = 0
    healthy_findings: int = 0

    def add(self, other: Tally) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class RunResult:
    """The scores of one run, per rule id."""

    seed: int
    scenario: str
    knobs: dict[str, Any]
    healthy: bool
    tallies: dict[str, Tally] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)


def plan(seed: int) -> Plan:
    """The scenario and knobs of one seed: every scenario and every fault come round in turn.

    Args:
        seed: the run's seed (1-based).

    Returns:
        The plan.
    """
    rng = random.Random(seed * 7919)
    scenario = SCENARIOS[(seed - 1) % len(SCENARIOS)]
    # Fault slots cycle independently of scenarios; one slot in four adds no fault.
    slots: tuple[str | None, ...] = (*FAULTS, None, None, None)
    extra = slots[((seed - 1) // len(SCENARIOS) + seed) % len(slots)]
    if not scenario.knobs.faults and ((seed - 1) // len(SCENARIOS)) % 2 == 0:
        extra = None  # half the fault-free scenarios' runs stay healthy
    faults = tuple(sorted({*scenario.knobs.faults, *([extra] if extra else [])}))
    heavy = any(f in HEAVY_FAULTS for f in faults)
    knobs: dict[str, Any] = {
        "processes": rng.choice((1, 2, 3, 4)),
        "specs": rng.randint(4, 6) if heavy else rng.randint(4, 16),
        "faults": faults,
        "flush_interval": rng.choice((0.1, 0.1, 0.1, 0.05, 0.2)),
        "ds_latency_ms": rng.choice((20.0, 40.0, 40.0, 120.0, 450.0)),
        "fail_fast": rng.random() < 0.5,
        "naming": rng.choice(NAMINGS),
        "test_log": "none" if seed % 11 == 0 else rng.choice(("ci", "ci", "local")),
        "missing_container": CONTAINERS[seed % len(CONTAINERS)] if seed % 7 == 0 else "",
    }
    if rng.random() < 0.2:
        knobs["era"] = "later"
    if "timer-stall" in faults:
        knobs["stall_seconds"] = round(rng.uniform(2.0, 35.0), 1)
    # A separate stream, so adding skew left every other knob of a seed as it was.
    skews = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 8.0, -8.0, 75.0, -120.0, 300.0, -2000.0)
    knobs["clock_skew_ms"] = random.Random(seed * 104729).choice(skews)
    return Plan(seed, scenario.name, knobs)


def _found(outcome: RuleOutcome) -> set[str | None]:
    return {f.correlation_id for f in outcome.findings if f.severity > Severity.INFO}


def score(truth: dict[str, Any], outcomes: Sequence[RuleOutcome]) -> tuple[dict[str, Tally], list[str]]:
    """Score rule outcomes against a truth's `findings`.

    Args:
        truth: the parsed `.expected.json`.
        outcomes: what each rule did.

    Returns:
        A Tally per rule id, and a line per missed or violated entry.
    """
    tallies: dict[str, Tally] = {}
    notes: list[str] = []
    for outcome in outcomes:
        rid = outcome.rule.id
        tally = tallies.setdefault(rid, Tally())
        found = _found(outcome)
        listed: set[str | None] = set()
        for kind in ("must", "must_not"):
            for entry in truth["findings"][kind]:
                if entry["rule"] != rid:
                    continue
                cid = entry["correlation_id"]
                listed.add(cid)
                if outcome.status == "skipped":
                    tally.skipped += 1
                    continue
                if outcome.status == "error":
                    tally.errors += 1
                    continue
                hit = cid in found if cid is not None else bool(found)
                if kind == "must":
                    tally.tp += hit
                    tally.fn += not hit
                else:
                    tally.fp += hit
                    tally.tn += not hit
                if hit == (kind == "must_not"):
                    notes.append(f"{'missed' if kind == 'must' else 'violated'} {rid}({cid})")
        tally.extra += sum(1 for cid in found if cid not in listed and None not in listed)
    return tallies, notes


def run_one(p: Plan, work: Path) -> RunResult:
    """Simulate, analyse and score one planned run, then delete its bundle.

    Args:
        p: the plan.
        work: a scratch directory.

    Returns:
        The run's scores.
    """
    bundle = work / f"seed-{p.seed:04d}"
    truth_path = simulate(p.scenario, bundle, seed=p.seed, **p.knobs)
    try:
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        report = analyze(bundle)
    finally:
        shutil.rmtree(bundle, ignore_errors=True)
        truth_path.unlink(missing_ok=True)
    tallies, notes = score(truth, report.outcomes)
    healthy = not p.knobs["faults"] and not p.knobs["missing_container"] and not truth["findings"]["must"]
    if healthy:
        for outcome in report.outcomes:
            above = sum(1 for f in outcome.findings if f.severity > Severity.INFO)
            tallies[outcome.rule.id].healthy_findings += above
    return RunResult(p.seed, p.scenario, p.knobs, healthy, tallies, notes)


def _ratio(num: int, den: int) -> str:
    return f"{num / den:.3f}" if den else "n/a"


def table(results: Sequence[RunResult]) -> str:
    """The per-rule summary table.

    Args:
        results: scored runs.

    Returns:
        The table as text.
    """
    totals = {rule.id: Tally() for rule in ALL_RULES}
    for result in results:
        for rid, tally in result.tallies.items():
            totals[rid].add(tally)
    healthy_runs = sum(1 for r in results if r.healthy)
    head = (
        f"{'rule':24} {'TP':>5} {'FP':>5} {'FN':>5} {'TN':>5} {'prec':>6} {'recall':>6} "
        f"{'skip':>5} {'err':>4} {'extra':>5} {'healthy>info':>12}"
    )
    lines = [
        f"{len(results)} runs, {healthy_runs} healthy; scenarios: "
        + ", ".join(sorted({r.scenario for r in results})),
        head,
        "-" * len(head),
    ]
    for rid, t in totals.items():
        lines.append(
            f"{rid:24} {t.tp:5} {t.fp:5} {t.fn:5} {t.tn:5} {_ratio(t.tp, t.tp + t.fp):>6} "
            f"{_ratio(t.tp, t.tp + t.fn):>6} {t.skipped:5} {t.errors:4} {t.extra:5} {t.healthy_findings:12}"
        )
    overall = sum(t.healthy_findings for t in totals.values())
    lines.append(f"findings above info on healthy runs: {overall} (must be 0)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table.

    Args:
        argv: command-line arguments (default: sys.argv[1:]).

    Returns:
        The exit code.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help="number of simulated runs")
    parser.add_argument("--first-seed", type=int, default=1, help="seed of the first run")
    parser.add_argument("--out", type=Path, help="write per-run scores and totals as JSON here")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as scratch:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            result = run_one(plan(seed), Path(scratch))
            results.append(result)
            flagged = "; ".join(result.misses) or "ok"
            print(f"seed {seed:4} {result.scenario:26} {flagged}", file=sys.stderr)
    print(table(results))
    if args.out:
        doc = {
            "runs": [
                {
                    "seed": r.seed,
                    "scenario": r.scenario,
                    "knobs": {**r.knobs, "faults": list(r.knobs["faults"])},
                    "healthy": r.healthy,
                    "misses": r.misses,
                    "tallies": {rid: asdict(t) for rid, t in sorted(r.tallies.items())},
                }
                for r in results
            ]
        }
        args.out.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
