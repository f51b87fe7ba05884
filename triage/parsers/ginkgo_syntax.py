"""The line shapes of Ginkgo v2 (2.27) console output, and the expression helpers that read them.

Shapes follow reporters/default_reporter.go: spec state headers, `Timeline >>` sections, STEP and node
enter/exit markers, failure locations, the `Summarizing N Failures:` list and the closing lines; plus
the test helpers' and the must-gather collector's own prints.
"""

from __future__ import annotations

import polars as pl

from triage.table.schema import TsDtype

GINKGO_TIME_FORMAT = "%m/%d/%y %H:%M:%S%.f"
_T = r"(\d\d/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d{1,9})?)"
_STATE = r"(FAILED|PANICKED|INTERRUPTED|TIMEDOUT|ABORTED|SKIPPED|PENDING)"

HEADER = (
    r"^(?:(•|↺|P|S)|\[([A-Za-z ()]+)\])(?: \[" + _STATE + r"\]| (PASSED)"
    r"| \[FLAKEY TEST - TOOK \d+ ATTEMPTS TO PASS\])?(?: DURING REPETITION #\d+)?"
    r"(?: \[(\d+(?:\.\d+)?) seconds\])?$"
)
# A header ends with a bracketed state or runtime, or PASSED; a bare "[SynchronizedAfterSuite]" is the
# name line of a suite node.
HEADER_END = r" (?:\[[^\]]*\]|PASSED)$"
DENOTERS = r"^[•↺PS]+$"
# The first characters of the lines that start or end a block: headers and the closing lines.
BLOCK_LEAD = r"^[•↺PS\[\-RFG]"
LOCATION = r"^(?:\[([^\]]+)\] )?(\S.*:\d+)$"
SUITE = r"^Running Suite: (.*) - (.*)$"
SEED = r"^Random Seed: (\d+)( - will randomize all specs)?$"
WILL_RUN = r"^Will run (\d+) of (\d+) specs$"
PARALLEL = r"^Running in parallel across (\d+) processes$"
SUMMARY_HEAD = r"^Summarizing (\d+) Failures?:$"
ENTRY = r"^\s*\[(FAIL|INTERRUPTED|PANICKED!|TIMEDOUT|ABORTED)\] (.*)$"
ENTRY_NAME = r"^(.*?) ?\[([A-Za-z ()]+)\] ?(.*)$"
ENTRY_LOC = r"^\s*\S+:\d+$"
RAN = r"^Ran (\d+) of (\d+) Specs in (\d+(?:\.\d+)?) seconds$"
STATUS = r"^(SUCCESS!|FAIL!)(?: - (.+?))?(?: -- (.*))?$"
COUNTS = (
    r"^(\d+) Passed \| (\d+) Failed \|(?: (\d+) Flaked \|)?(?: (\d+) Repeated \|)?"
    r" (\d+) Pending \| (\d+) Skipped$"
)
GINKGO_RAN = r"^Ginkgo ran (\d+) suites? in (.+)$"
TEST_SUITE = r"^Test Suite (Passed|Failed)$"
STEP = r"^(STEP:|END STEP:|> Enter \[([^\]]+)\]|< Exit \[([^\]]+)\]) (.*?) @ " + _T + r"(?: \(([^)]*)\))?$"
FAIL_MARK = r"^\[" + _STATE + r"\] in \[([^\]]+)\] - (.+) @ " + _T + "$"
FAIL_START = r"^\[" + _STATE + r"\] (.*)$"
IN_LINE = r"^In \[([^\]]+)\] at: (.+) @ " + _T + "$"
PROCESS_NAME = "Progress Report for Ginkgo Process #"
PROCESS = PROCESS_NAME + r"(\d+)"
SEPARATOR = r"^-{30,}$"
RULE = r"^={3,}$"
INDENTED_SEPARATOR = r"^\s*-{30,}$"
# The command that started the run, as CI logs echo it: `ginkgo -v --procs=12 --fail-fast ./...`, maybe
# after a shell prompt, by path, or through `go run`.
COMMAND = (
    r"^(?:[$#>] )?(?:\S*/)?(?:ginkgo|go run \S*onsi/ginkgo/v2/ginkgo(?:@\S+)?)"
    r"((?: +\S+)*? +-\S*(?: +\S+)*)?\s*$"
)
# A suite's own banners in its GinkgoWriter output: rules of box-drawing characters, titles ending in
# "...", status lines led by a symbol or emoji, and indented bullet lists.
BANNERS = (
    r"^\s*[━─═▬┅┄]{3,}\s*$",
    r"^\S[^\t{}]*(?:\.\.\.|:)$",
    r"^\s*(?:[^\w\s\[\](){}<>\"'`/\\.,;:!?@#$%^&*+=|~-]\x{FE0F}?)+\s+\S",
    r"^\s+(?:[•◦▪*-]|\d+[.)]) \S",
)
SECTION_OPEN = ["Timeline >>", "Captured StdOut/StdErr Output >>", "Report Entries >>"]
SECTION_CLOSE = ["<< Timeline", "<< Captured StdOut/StdErr Output", "<< Report Entries"]

# Test-helper prints (audit_integration_test.go): the only per-correlation evidence of queries.
HELPERS = {
    "no_events": r"^[^A-Za-z0-9]*No events yet for (.+?) \(correlation_id=([^)]*)\)$",
    "found": r"^[^A-Za-z0-9]*Found (\d+) event\(s\) for (.+?) \(correlation_id=([^)]*)\)$",
    "query_error": r"^[^A-Za-z0-9]*Query error for (.+?) \(correlation_id=([^)]*)\): (.*)$",
    "flushed": r"^[^A-Za-z0-9]*Audit store flushed successfully$",
    "flush_warning": r"^[^A-Za-z0-9]*Flush warning \(non-fatal, Eventually will retry\): (.*)$",
}
# MustGatherContainerLogs progress (shared_integration_utils.go).
COLLECTORS = {
    "collecting": r"^\s*📦 Collecting container logs(?: to (.+?)/?\.\.\.| .*)?$",
    "inspect": r"^\s*✅ (\S+) inspect → (.+)$",
    "log": r"^\s*✅ (\S+) → (.+)$",
    "skipped": r"^\s*⏭️?\s+Skipping (\S+) \(container not found\)$",
    "error": r"^\s*⚠️?\s+Failed to (?:get logs for|write log file for|inspect|write inspect file for|create "
    r"must-gather directory)(?: (\S+?))?: (.*)$",
    "complete": r"^\s*✅ Must-gather collection complete: (.+?)/?$",
}


def ginkgo_ts(text: pl.Expr) -> pl.Expr:
    """Parse a Ginkgo `@` time (`01/14/26 10:25:09.674`, no zone) as if it were UTC."""
    naive = text.str.to_datetime(GINKGO_TIME_FORMAT, strict=False, time_unit="ns")
    return naive.dt.replace_time_zone("UTC").cast(TsDtype)


def group(pattern: str, index: int, col: str = "text") -> pl.Expr:
    """Capture group `index` of `pattern` in column `col` (null when it does not match)."""
    return pl.col(col).str.extract(pattern, index)


def integer(pattern: str, index: int, col: str = "text") -> pl.Expr:
    """Capture group `index` of `pattern` in column `col`, as an Int64 (null when absent)."""
    return group(pattern, index, col).cast(pl.Int64, strict=False)


def any_of(*patterns: str) -> str:
    """One pattern that matches where any of `patterns` matches.

    A regex is compiled for each call that uses it unless polars still holds it compiled, and it
    holds few: one alternation costs less than a test per pattern.
    """
    return "|".join(f"(?:{pattern})" for pattern in patterns)


def has(pattern: str, col: str = "text") -> pl.Expr:
    """Whether column `col` matches `pattern` (null text gives False)."""
    return matches(pl.col(col), pattern)


def matches(text: pl.Expr, pattern: str) -> pl.Expr:
    """Whether `text` matches `pattern` (null text gives False).

    The regex passes over every row, null or not, so a test meant for a few rows of many is cheaper
    on those rows gathered first (`ginkgo._tested`).
    """
    return text.str.contains(pattern).fill_null(False)
