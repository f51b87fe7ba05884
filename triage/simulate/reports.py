"""What the runner records: spec and suite-node reports, failures, test queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from triage.simulate.catalogue import SpecDef


@dataclass
class Failure:
    """A Ginkgo failure: message, location and time."""

    message: str
    location: str
    at: int
    node: str = "It"


@dataclass
class Report:
    """One reported node: a spec, or a suite-level node of one process.

    Attributes:
        spec: The spec, or None for a suite node.
        node: For suite nodes, e.g. `SynchronizedAfterSuite`.
        location: The node's code location.
        process: The Ginkgo process.
        start: Start time (µs).
        end: End time, i.e. when it was reported.
        state: passed, failed, timedout, interrupted, pending, skipped.
        failure: The failure, if any.
        timeline: (kind, time, text) with kind `gw` (GinkgoWriter text) or `step` or `fail`.
        correlation_ids: RemediationRequest names the spec created.
        queries: Test queries the spec ran.
        resources: Names of the resources the spec created.
        check: The failed assertion about audit events, when one failed (see Check).
    """

    spec: SpecDef | None
    node: str
    location: str
    process: int
    start: int
    end: int = 0
    state: str = "passed"
    failure: Failure | None = None
    timeline: list[tuple[str, int, str]] = field(default_factory=list)
    correlation_ids: list[str] = field(default_factory=list)
    queries: list[QueryRecord] = field(default_factory=list)
    cancelled: bool = False
    resources: list[str] = field(default_factory=list)
    check: Check | None = None


@dataclass(frozen=True)
class Check:
    """A failed assertion about audit events: what was counted, how, and what was seen.

    Attributes:
        correlation_id: The queried correlation ID.
        event_type: The event_type filter, or None for the category query.
        expected: The count the assertion wanted (for `> 0` assertions, 1).
        got: The count the assertion saw, or None when the query failed.
        at: When the counted query ran (µs).
        retried: Whether the count came from an Eventually that re-ran the query until its timeout
            (False: a single evaluation, then an immediate assertion or a stale value).
    """

    correlation_id: str
    event_type: str | None
    expected: int
    got: int | None
    at: int
    retried: bool


@dataclass
class QueryRecord:
    """One DataStorage query made by a test helper.

    Attributes:
        correlation_id: The queried correlation ID.
        event_type: The event_type filter, or None for the category query.
        at: When DataStorage read the data (µs).
        found: Events returned, or None when the query failed.
        spec: The spec's full text.
        raced: Filled in at the end of the run (see truth.py).
        buffered_before: Matching events buffered before the query (filled in at the end).
        observable: Whether the test log shows the race (filled in at the end): a raced event's
            `Event buffered successfully` line is in it, or the helper printed this query's count
            with its correlation ID and the controller line of a raced event's step is in the log
            before it; a race nothing shows cannot be asked of an analysis.
        printed: Whether the test helper printed this query's count with its correlation ID.
    """

    correlation_id: str
    event_type: str | None
    at: int
    found: int | None
    spec: str
    raced: bool = False
    buffered_before: int = 0
    observable: bool = False
    printed: bool = False
