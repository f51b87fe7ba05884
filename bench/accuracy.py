"""Measure every rule's accuracy, and each failed spec's cause, against the simulator's ground truth.

    python bench/accuracy.py [--out FILE]                   # seeds 1-75 and 1001-1075
    python bench/accuracy.py --seeds N [--first-seed S]     # one range

Seed i picks a scenario, a service (SignalProcessing, RemediationOrchestrator, Notification), a log
era (`january`, `later`, `current`) and a random combination of up to two extra faults on top of the
scenario's own, with varied knobs, all derived from i alone, so a run of the command is
reproducible. One seed in six is a healthy run (scenario `healthy`, no fault). Each bundle is kept
small (at most 4 processes and 16 specs) and deleted once scored.

Scoring follows the truth's `findings` entries (see triage/simulate/truth.py):

* a `must` entry is found (TP) when a finding above info has that rule and correlation ID (for a
  null correlation ID: any finding above info of that rule), else it is missed (FN);
* a `must_not` entry is violated (FP) when such a finding exists;
* entries of a rule that was skipped (a needed source is absent) or crashed are counted apart;
* `extra` counts findings above info that match no truth entry of their rule (rules the truth does
  not cover, or correlation IDs it does not list);
* a healthy run (no fault, nothing missing, no `must` entry) must have no finding above info;
* a failed spec's cause matches when the report's cause for it (`tests.specs[].cause`, read by
  `reported_cause`) is a rule that explains the truth's cause (RULE_EXPLAINS); a failed spec the
  report does not list, or lists without a cause, does not match;
* a failed spec of a run whose report lists no spec at all (no test log and no Ginkgo report in the
  bundle: triage cannot see the tests) is counted apart: the causes line gives the share over all
  failed specs and over those triage could see, and how many it could not.

The tables give precision and recall per rule, per rule in each era, per era and per service, and
causes matched per era, per service and per true cause.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from triage.api import analyze
from triage.report.render import to_json
from triage.rules import ALL_RULES, RuleOutcome
from triage.rules.base import Severity
from triage.simulate import FAULTS, SCENARIOS, simulate
from triage.simulate.knobs import CONTAINERS, ERAS, NAMINGS
from triage.simulate.services import SERVICE_NAMES

DEFAULT_RANGES = ((1, 75), (1001, 75))  # (first seed, runs): two ranges, 150 runs
DEFAULT_SEEDS = sum(n for _, n in DEFAULT_RANGES)
# The big fault runs (DataStorage down, every batch retried, a hung writer) grow the test log fastest.
HEAVY_FAULTS = ("datastorage-down", "datastorage-oom", "flush-stuck")
FAULTY_SCENARIOS = tuple(s for s in SCENARIOS if s.name != "healthy")
# Which true causes (triage/simulate/truth.py) a rule explains when a report gives it as a spec's cause.
RULE_EXPLAINS: dict[str, tuple[str, ...]] = {
    "flush-query-race": ("flush-query-race",),
    "unflushed-events": ("unflushed-events",),
    "write-rate-gap": ("unflushed-events", "dropped-events"),
    "dropped-events": ("dropped-events",),
    "unexpected-event-count": ("duplicate-events", "shared-correlation-id", "missing-events"),
    "container-unhealthy": ("datastorage-unavailable", "dropped-events"),
    "timer-stall": ("write-delayed",),
    "slow-write": ("write-delayed",),
}


@dataclass(frozen=True)
class Plan:
    """One simulated run: what to simulate."""

    seed: int
    scenario: str
    knobs: dict[str, Any]


@dataclass(frozen=True)
class CauseScore:
    """One failed spec: its true cause, the rule its report gave as cause (or None), whether that fits,
    and whether the report lists any spec of the run (False: no test output in the bundle)."""

    truth: str
    reported: str | None
    matched: bool
    seen: bool = True


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
    causes: list[CauseScore] = field(default_factory=list)

    @property
    def era(self) -> str:
        """The run's log era."""
        return str(self.knobs.get("era", "january"))

    @property
    def service(self) -> str:
        """The service whose suite ran."""
        return str(self.knobs.get("service", "signalprocessing"))


def plan(seed: int) -> Plan:
    """The scenario and knobs of one seed: scenarios, services, eras and faults come round in turn.

    Args:
        seed: the run's seed (1-based).

    Returns:
        The plan.
    """
    rng = random.Random(seed * 7919)
    healthy = seed % 6 == 0
    scenario = (
        next(s for s in SCENARIOS if s.name == "healthy")
        if healthy
        else FAULTY_SCENARIOS[(seed - 1) % len(FAULTY_SCENARIOS)]
    )
    extra: set[str] = set()
    if not healthy:
        # One fault in turn, so each comes round, plus up to one more at random: combined faults.
        extra.add(FAULTS[(seed * 7) % len(FAULTS)])
        if rng.random() < 0.5:
            extra.add(rng.choice(FAULTS))
    faults = tuple(sorted({*(() if healthy else scenario.knobs.faults), *extra}))
    heavy = any(f in HEAVY_FAULTS for f in faults)
    knobs: dict[str, Any] = {
        "processes": rng.choice((1, 2, 3, 4)),
        "specs": rng.randint(6, 8) if heavy else rng.randint(6, 16),
        "faults": faults,
        "flush_interval": rng.choice((0.1, 0.1, 0.1, 0.05, 0.2, 1.0)),
        "ds_latency_ms": rng.choice((20.0, 40.0, 40.0, 120.0, 450.0)),
        "fail_fast": rng.random() < 0.5,
        "naming": rng.choice(NAMINGS),
        "test_log": "none" if seed % 11 == 0 else rng.choice(("ci", "ci", "local")),
        "missing_container": CONTAINERS[seed % len(CONTAINERS)] if seed % 7 == 0 and not healthy else "",
        "era": ERAS[(seed // 2) % len(ERAS)],
        "service": SERVICE_NAMES[(seed + seed // len(SERVICE_NAMES)) % len(SERVICE_NAMES)],
    }
    if "timer-stall" in faults:
        knobs["stall_seconds"] = round(rng.uniform(2.0, 35.0), 1)
    # A separate stream, so adding skew left every other knob of a seed as it was.
    skews = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 8.0, -8.0, 75.0, -120.0, 300.0, -2000.0)
    knobs["clock_skew_ms"] = 0.0 if healthy else random.Random(seed * 104729).choice(skews)
    return Plan(seed, scenario.name, knobs)


def reported_cause(spec: dict[str, Any], findings: list[dict[str, Any]]) -> str | None:
    """The rule a report gives as a failed spec's cause, from its JSON.

    Reads `tests.specs[].cause`: a rule id, or an object with a `rule`. A report without that field
    (older reports) is read as giving the first finding above info about one of the spec's
    correlation IDs (findings are sorted most severe first).

    Args:
        spec: One `tests.specs[]` entry of the report's JSON.
        findings: The report's `findings`.

    Returns:
        The rule id, or None when the report gives no cause.
    """
    if "cause" in spec:
        cause = spec["cause"]
        if isinstance(cause, dict):
            return str(cause["rule"]) if cause.get("rule") else None
        return str(cause) if cause else None
    ids = set(spec.get("correlation_ids") or ())
    for finding in findings:
        if finding["severity"] != "info" and finding.get("correlation_id") in ids:
            return str(finding["rule"])
    return None


def _spec_key(name: str, location: str) -> tuple[str, str]:
    return location, " ".join(name.replace("[It] ", "").split())


def score_causes(truth: dict[str, Any], doc: dict[str, Any]) -> list[CauseScore]:
    """Compare each failed spec's true cause with the cause its report gives.

    Args:
        truth: the parsed `.expected.json`.
        doc: the report's JSON (`triage.report.render.to_json`).

    Returns:
        One score per failed spec of the truth.
    """
    listed = {_spec_key(s["name"], s["location"]): s for s in ((doc.get("tests") or {}).get("specs") or [])}
    scores = []
    for spec in truth["tests"]["specs"]:
        cause = spec.get("cause")
        if cause is None:
            continue
        entry = listed.get(_spec_key(spec["name"], spec["location"]))
        rule = None if entry is None else reported_cause(entry, doc.get("findings") or [])
        matched = rule is not None and (rule == cause or cause in RULE_EXPLAINS.get(rule, ()))
        scores.append(CauseScore(cause, rule, matched, bool(listed)))
    return scores


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
        doc = to_json(report)
    finally:
        shutil.rmtree(bundle, ignore_errors=True)
        truth_path.unlink(missing_ok=True)
    tallies, notes = score(truth, report.outcomes)
    healthy = not p.knobs["faults"] and not p.knobs["missing_container"] and not truth["findings"]["must"]
    if healthy:
        for outcome in report.outcomes:
            above = sum(1 for f in outcome.findings if f.severity > Severity.INFO)
            tallies[outcome.rule.id].healthy_findings += above
    return RunResult(p.seed, p.scenario, p.knobs, healthy, tallies, notes, score_causes(truth, doc))


def _ratio(num: int, den: int) -> str:
    return f"{num / den:.3f}" if den else "n/a"


def _group_rows(results: Sequence[RunResult], label: str, key: Any) -> list[str]:
    """Precision, recall, healthy findings and causes matched per value of `key` (era or service)."""
    head = (
        f"{label:24} {'runs':>5} {'TP':>5} {'FP':>5} {'FN':>5} {'prec':>6} {'recall':>6} "
        f"{'healthy>info':>12} {'causes':>9} {'of':>4} {'share':>6}"
    )
    lines = [head, "-" * len(head)]
    for value in sorted({key(r) for r in results}):
        group = [r for r in results if key(r) == value]
        t = _sum(tally for r in group for tally in r.tallies.values())
        causes = [c for r in group for c in r.causes]
        hit = sum(c.matched for c in causes)
        counts = f"{value:24} {len(group):5} {t.tp:5} {t.fp:5} {t.fn:5}"
        lines.append(
            f"{counts} {_pr(t)} {t.healthy_findings:12} {hit:9} {len(causes):4} {_ratio(hit, len(causes)):>6}"
        )
    return lines


def _era_rule_rows(results: Sequence[RunResult]) -> list[str]:
    """Precision and recall of each rule in each era (`n/a` where the era has no entry of the rule)."""
    eras = sorted({r.era for r in results})
    head = f"{'rule by era':24} " + " ".join(f"{era + ' prec/recall':>22}" for era in eras)
    lines = [head, "-" * len(head)]
    for rule in ALL_RULES:
        cells = []
        for era in eras:
            t = _sum(r.tallies[rule.id] for r in results if r.era == era and rule.id in r.tallies)
            cells.append(f"{_ratio(t.tp, t.tp + t.fp) + ' ' + _ratio(t.tp, t.tp + t.fn):>22}")
        lines.append(f"{rule.id:24} " + " ".join(cells))
    return lines


def _sum(tallies: Iterable[Tally]) -> Tally:
    total = Tally()
    for tally in tallies:
        total.add(tally)
    return total


def _pr(t: Tally) -> str:
    """Precision and recall, each right-aligned in six characters."""
    return f"{_ratio(t.tp, t.tp + t.fp):>6} {_ratio(t.tp, t.tp + t.fn):>6}"


def table(results: Sequence[RunResult]) -> str:
    """The summary tables: per rule, per era, per service, and causes per true cause.

    Args:
        results: scored runs.

    Returns:
        The tables as text.
    """
    totals = {
        rule.id: _sum(r.tallies[rule.id] for r in results if rule.id in r.tallies) for rule in ALL_RULES
    }
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
        counts = f"{rid:24} {t.tp:5} {t.fp:5} {t.fn:5} {t.tn:5}"
        lines.append(f"{counts} {_pr(t)} {t.skipped:5} {t.errors:4} {t.extra:5} {t.healthy_findings:12}")
    overall = sum(t.healthy_findings for t in totals.values())
    lines.append(f"findings above info on healthy runs: {overall} (must be 0)")
    causes = [c for r in results for c in r.causes]
    hit = sum(c.matched for c in causes)
    seen = [c for c in causes if c.seen]
    seen_hit = sum(c.matched for c in seen)
    lines.append(
        f"failed specs whose reported cause matches the truth: {hit} of {len(causes)} "
        f"({_ratio(hit, len(causes))}); without a test log: "
        f"{sum(len(r.causes) for r in results if r.knobs.get('test_log') == 'none')}"
    )
    lines.append(
        f"  of the failed specs triage can see: {seen_hit} of {len(seen)} ({_ratio(seen_hit, len(seen))}); "
        f"unseen (no test log and no Ginkgo report in the bundle, left out): {len(causes) - len(seen)}"
    )
    lines.append("")
    lines += _era_rule_rows(results)
    lines.append("")
    lines += _group_rows(results, "era", lambda r: r.era)
    lines.append("")
    lines += _group_rows(results, "service", lambda r: r.service)
    lines.append("")
    head = f"{'true cause':24} {'specs':>5} {'matched':>7} {'share':>6}  reported as"
    lines += [head, "-" * len(head)]
    for cause in sorted({c.truth for c in causes}):
        group = [c for c in causes if c.truth == cause]
        said: dict[str, int] = {}
        for c in group:
            said[c.reported or "-"] = said.get(c.reported or "-", 0) + 1
        shown = ", ".join(f"{k} {v}" for k, v in sorted(said.items(), key=lambda kv: (-kv[1], kv[0])))
        matched = sum(c.matched for c in group)
        lines.append(f"{cause:24} {len(group):5} {matched:7} {_ratio(matched, len(group)):>6}  {shown}")
    return "\n".join(lines)


def _seeds(args: argparse.Namespace) -> list[int]:
    if args.seeds is None and args.first_seed is None:
        return [first + i for first, n in DEFAULT_RANGES for i in range(n)]
    first = 1 if args.first_seed is None else args.first_seed
    return list(range(first, first + (DEFAULT_SEEDS if args.seeds is None else args.seeds)))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the tables.

    Args:
        argv: command-line arguments (default: sys.argv[1:]).

    Returns:
        The exit code.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seeds", type=int, help="number of simulated runs (default: the two ranges)")
    parser.add_argument("--first-seed", type=int, help="seed of the first run")
    parser.add_argument("--out", type=Path, help="write per-run scores and totals as JSON here")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as scratch:
        for seed in _seeds(args):
            result = run_one(plan(seed), Path(scratch))
            results.append(result)
            flagged = "; ".join(result.misses) or "ok"
            print(
                f"seed {seed:4} {result.scenario:26} {result.service:24} {result.era:8} {flagged}",
                file=sys.stderr,
            )
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
                    "causes": [asdict(c) for c in r.causes],
                }
                for r in results
            ]
        }
        args.out.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
