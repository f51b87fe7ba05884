"""The Ginkgo v2.27.2 test-run log: the default reporter's parallel `-v` output, without colour.

Colour is off, as when the console is piped with `--no-color` (the reporter's `{{…}}` styles render as
nothing). Framing follows reporters/default_reporter.go: 30-dash delimiters (never two in a row), a
header per report, the hierarchy line (`[It]` only on failure), the location, the `Timeline >>` block
(GinkgoWriter output and `STEP:` lines indented two spaces), the failure block, `S` for each skipped
spec on one line, the `Summarizing N Failures:` list, `Ran N of M Specs in X seconds` and the status
line; then the ginkgo CLI's `Ginkgo ran 1 suite in …` and `Test Suite Passed|Failed`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from triage.simulate.reports import Report
from triage.simulate.timefmt import SECOND, ginkgo_at, go_duration

_STATE_WORD = {
    "failed": "FAILED",
    "interrupted": "INTERRUPTED",
    "timedout": "TIMEDOUT",
    "panicked": "PANICKED",
}
_SUMMARY_WORD = {
    "failed": "[FAIL]",
    "interrupted": "[INTERRUPTED]",
    "timedout": "[TIMEDOUT]",
    "panicked": "[PANICKED!]",
}


class Emitter:
    """The reporter's emission stream: block emissions start on a fresh line; no double delimiters."""

    def __init__(self, write: Callable[[str], object]) -> None:
        self._write = write
        self.last_newline = True
        self.last_delimiter = False

    def emit(self, text: str, block: bool = False, delimiter: bool = False) -> None:
        if not text:
            return
        if delimiter and self.last_delimiter:
            return
        if block and not self.last_newline:
            self._write("\n")
        self.last_newline = text.endswith("\n")
        self._write(text)
        if block and not self.last_newline:
            self._write("\n")
            self.last_newline = True
        self.last_delimiter = delimiter

    def block(self, text: str) -> None:
        self.emit(text, block=True)

    def delimiter(self) -> None:
        self.emit("-" * 30, block=True, delimiter=True)


def indent(text: str, level: int = 1) -> str:
    """Indent every non-empty line by two spaces per level (formatter.Fi)."""
    pad = "  " * level
    return "\n".join(pad + line if line else line for line in text.split("\n"))


@dataclass(frozen=True)
class SuiteHeader:
    """What SuiteWillBegin prints."""

    description: str
    path: str
    seed: int
    will_run: int
    total: int
    processes: int


class GinkgoLog:
    """Writes the test log incrementally as reports arrive."""

    def __init__(self, write: Callable[[str], object], offset_minutes: int) -> None:
        self.out = Emitter(write)
        self._raw = write
        self.offset = offset_minutes
        self.failures: list[Report] = []

    def preamble(self, lines: list[str]) -> None:
        """Lines printed before Ginkgo starts (the make recipe's echo)."""
        for line in lines:
            self._raw(line + "\n")

    def begin(self, h: SuiteHeader) -> None:
        banner = f"Running Suite: {h.description} - {h.path}"
        self.out.block(banner)
        self.out.block("=" * len(banner))
        self.out.block(f"Random Seed: {h.seed}")
        self.out.emit("\n")
        self.out.block(f"Will run {h.will_run} of {h.total} specs")
        if h.processes > 1:
            self.out.block(f"Running in parallel across {h.processes} processes")

    def at(self, t_us: int) -> str:
        return ginkgo_at(t_us, self.offset)

    def report(self, r: Report) -> None:
        """DidRun for one report (verbose, parallel)."""
        out = self.out
        state = r.state
        if state == "skipped":
            out.emit("S")
            return
        suite_node = r.spec is None
        failed = state in _STATE_WORD
        if failed:
            self.failures.append(r)
        if suite_node:
            header = f"[{r.node}] PASSED" if not failed else f"[{r.node}] [{_STATE_WORD[state]}]"
        elif state == "pending":
            header = "P [PENDING]"
        elif failed:
            header = f"• [{_STATE_WORD[state]}]"
        else:
            header = "•"
        if state != "pending":
            header += f" [{(r.end - r.start) / SECOND:.3f} seconds]"
        out.delimiter()
        out.block(header)
        out.block(self._location_block(r, precise=False))
        if state != "pending" and r.timeline:
            out.block("\n")
            out.block("  Timeline >>")
            self._timeline(r)
            out.block("  << Timeline")
        if r.failure is not None:
            out.block("\n")
            word = _STATE_WORD[state]
            out.block(indent(f"[{word}] {r.failure.message}"))
            out.block(indent(f"In [{r.failure.node}] at: {r.failure.location} @ {self.at(r.failure.at)}\n"))
        out.delimiter()

    def _location_block(self, r: Report, precise: bool) -> str:
        if r.spec is None:
            return f"[{r.node}] \n{r.location}"
        leaf = f"[It] {r.spec.text}" if r.failure is not None else r.spec.text
        hierarchy = " ".join((*r.spec.containers, leaf))
        where = r.failure.location if precise and r.failure is not None else r.spec.location
        return f"{hierarchy}\n{where}"

    def _timeline(self, r: Report) -> None:
        for kind, t_us, text in r.timeline:
            if kind == "gw":
                self.out.emit(indent(text) + "\n")
            elif kind == "step":
                self.out.block(f"  STEP: {text} @ {self.at(t_us)}")
            else:
                word = _STATE_WORD.get(r.state, "FAILED")
                self.out.block(f"  [{word}] in [It] - {text} @ {self.at(t_us)}")

    def end(
        self, ran: int, total: int, run_seconds: float, counts: dict[str, int], reason: str, wall_us: int
    ) -> None:
        """SuiteDidEnd, then the ginkgo CLI's closing lines."""
        out = self.out
        if self.failures:
            out.block("\n")
            n = len(self.failures)
            out.block(f"Summarizing {n} Failures:" if n > 1 else "Summarizing 1 Failure:")
            for r in self.failures:
                out.block(indent(f"{_SUMMARY_WORD[r.state]} {self._location_block(r, precise=True)}"))
        out.block("\n")
        succeeded = not self.failures and not reason
        out.block(f"Ran {ran} of {total} Specs in {run_seconds:.3f} seconds")
        status = "SUCCESS!" if succeeded else "FAIL!"
        out.emit(f"{status} - {reason} -- " if reason else f"{status} -- ")
        out.emit(
            f"{counts['passed']} Passed | {counts['failed']} Failed | {counts['pending']} Pending | "
            f"{counts['skipped']} Skipped\n"
        )
        self._raw(f"\nGinkgo ran 1 suite in {go_duration(wall_us, 417)}\n")
        if succeeded:
            self._raw("Test Suite Passed\n")
        else:
            self._raw("\nTest Suite Failed\n")
