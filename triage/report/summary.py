"""The report's verdict section: what failed, the most likely root cause, how sure, what to do first.

Every failed spec's cause is decided once (`Report.verdicts`); this words the run's verdict from them.
"""

from __future__ import annotations

from triage.facts.testrun import FAILED_STATES
from triage.report.model import Report
from triage.report.wording import first_step, fix_of, ids_md, md_code, md_escape, quantiles, spec_title
from triage.rules import get_rule
from triage.rules.base import Finding, Severity


def verdict_lines(report: Report, numbered: dict[Finding, int]) -> tuple[str, ...]:
    failed_specs = [v.spec for v in report.verdicts if v.spec.state in FAILED_STATES]
    out = []
    failed = sum(run.failed or 0 for run in report.tests)
    interrupted = sum(run.interrupted or 0 for run in report.tests)
    ran = sum(run.ran or 0 for run in report.tests)
    cut = any(run.ran is None for run in report.tests)
    ran_md = "how many ran is unknown: the test log ends before Ginkgo's summary" if cut else f"{ran} ran"
    if not report.tests:
        out.append("**No Ginkgo test-run log was found**: the verdict rests on the container logs alone.")
    elif failed or interrupted:
        parts = [f"{failed} spec(s) failed"]
        if interrupted:
            parts.append(f"{interrupted} {_interrupted_md(report)} and did not fail on their own")
        out.append(f"**{' and '.join(parts)}** ({ran_md}).")
    elif failed_specs:
        out.append(f"**No spec failed, but {len(failed_specs)} suite node(s) did** ({ran_md}).")
    elif cut:
        out.append(f"**No failed spec in the test log** ({ran_md}).")
    else:
        out.append(f"**All {ran} specs that ran passed.**")
    for v in report.verdicts:
        if v.spec.state not in FAILED_STATES:
            continue
        head = f"- **{md_escape(spec_title(v.spec.name))}** ({ids_md(v.correlation_ids)}): "
        if v.cause is not None:
            inferred = " (inferred)" if (v.basis or "").startswith("inferred") else ""
            out.append(head + _cause_ref(v.cause, numbered) + inferred + ".")
        else:
            out.append(head + md_escape(v.reason or "not explained"))
    serious = [f for f in report.findings if f.severity >= Severity.MEDIUM]
    if serious:
        top = serious[0]
        where = f" for {md_code(top.correlation_id)}" if top.correlation_id else ""
        sure = "inferred" if "inferred" in top.summary.lower() else "observed in the logs"
        label = "Most likely root cause" if failed_specs else "Main finding"
        if failed_specs and not any(v.cause is not None for v in report.verdicts):
            label = "Main finding, not tied to a failed spec"  # the specs above say why none is explained
        out.append(f"- **{label}:** {_cause_ref(top, numbered)}{where}; {sure}.")
        fix = first_step(fix_of(top.rule))
        if fix:
            out.append(f"- **Do first:** {fix}")
    low = [f for f in report.findings if f.severity == Severity.LOW]
    if low:
        by_rule: dict[str, int] = {}
        for f in low:
            by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
        listed = ", ".join(f"{n} x `{rule}`" for rule, n in sorted(by_rule.items()))
        out.append(f"- **Low severity:** {listed}: worth fixing before they turn into failures.")
    elif not serious and report.tests and not (failed or interrupted):
        out.append("- No finding above info.")
    out.extend(_not_the_cause(report))
    caveat = _counters_caveat(report)
    if caveat:
        out.append(caveat)
    return tuple(out)


def _interrupted_md(report: Report) -> str:
    """How the interrupted specs came to be interrupted, as far as the test logs say."""
    if any("--fail-fast" in run.flags for run in report.tests):
        return "were interrupted by `--fail-fast`"
    reason = next((run.reason for run in report.tests if run.reason), None)
    known = {
        "Interrupted by Other Ginkgo Process": "were interrupted when another Ginkgo process failed",
        "Interrupted by User": "were interrupted by the user",
    }
    if reason in known:
        return known[reason]
    if reason and reason.startswith("Interrupted "):
        return "were " + md_escape(reason[0].lower() + reason[1:])
    return "were interrupted"


def _cause_ref(f: Finding, numbered: dict[Finding, int]) -> str:
    rule = get_rule(f.rule)
    title = rule.title[:1].lower() + rule.title[1:] if rule else f.rule
    number = f", finding {numbered[f]}" if f in numbered else ""
    return f"{title} (`{f.rule}`, {f.severity.label}{number})"


def _not_the_cause(report: Report) -> list[str]:
    """What the evidence clears, said only when it does."""
    pipe = report.analysis.pipeline
    cleared = []
    troubled = {f.rule for f in report.findings if f.severity > Severity.INFO}
    lost = troubled & {"dropped-events", "container-unhealthy", "slow-write", "write-rate-gap"}
    lost |= troubled & {"unflushed-events"}
    if pipe.writes.height and not pipe.rejects.height and not lost:
        latency = quantiles(pipe.writes["duration_seconds"] * 1000)
        cleared.append(f"DataStorage accepted every batch it logged ({pipe.writes.height} writes; {latency})")
    unhealthy = [f for f in report.findings if f.rule == "container-unhealthy" and f.severity > Severity.INFO]
    if report.containers and not unhealthy:
        cleared.append("the containers are running, apart from known start-up noise")
    return [f"- **Checked and fine:** {'; '.join(cleared)}."] if cleared else []


def _counters_caveat(report: Report) -> str:
    """A warning that the closing counters are process 1's, naming the stores the failed specs ran on."""
    failed = [v for v in report.verdicts if v.spec.state in FAILED_STATES]
    pipe = report.analysis.pipeline
    if not failed or not pipe.closed.height or len(report.analysis.stores) < 2:
        return ""
    closed = pipe.closed.row(-1, named=True)
    elsewhere = sorted(
        {
            store.name
            for v in failed
            if v.spec_index is not None
            and (store := report.analysis.store_of_spec.get(v.spec_index)) is not None
            and not store.closed
        }
    )
    where = f"; the failing specs ran on {', '.join(elsewhere)}" if elsewhere else ""
    return (
        f"- **Careful:** `Audit store closed` (buffered {closed['buffered_count']}, written "
        f"{closed['written_count']}) describes process 1's store only{where}. Do not compare it with "
        "other processes' `total_buffered`."
    )
