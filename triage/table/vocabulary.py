"""The words the event table's rows carry that the analysis matches on, each defined once.

Message strings are matched on `msg_key` (the message with emoji and extra spaces removed), as the
audit store (kubernaut's `pkg/audit/store.go`), DataStorage and the suites' helpers print them; spec
states are Ginkgo's, as the `state` field of spec records holds them.
"""

from __future__ import annotations

# Ginkgo's end states. A failed spec is one of FAILED_STATES; Ginkgo's "N Failed" counts interrupted
# specs too (Ran = Passed + Failed), so the specs that did not pass are NOT_PASSED_STATES.
FAILED_STATES = ("failed", "panicked", "timedout", "aborted")
NOT_PASSED_STATES = (*FAILED_STATES, "interrupted")

# DataStorage's audit API: where the stores write their batches and where the tests query.
BATCH_PATH = "/api/v1/audit/events/batch"
QUERY_PATH = "/api/v1/audit/events"

# The audit store's logger (`audit-store`, or a name ending in `.audit-store`) and its lines.
STORE_LOGGER = r"(?:^|\.)audit-store$"
BUFFERED = "Event buffered successfully"
TICK = "Timer tick received"
CLOSED = "Audit store closed"
FAILED_WRITE = "Failed to write audit batch"
DROP_4XX = "Dropping audit batch due to non-retryable error (invalid data)"
# Later code names the 4xx drop differently; both mean the batch is gone.
DROP_4XX_LATER = "Dropping audit batch due to non-retryable client error (invalid request data)"
DROP_RETRIES = "AUDIT DATA LOSS: Dropping batch after max retries (infrastructure unavailable)"
BUFFER_FULL = "Audit buffer full, event dropped"
SLOW_WRITE = "Slow audit batch write detected"
TIMER_BUG = "TIMER BUG DETECTED: Tick interval significantly exceeded expected"
DROPS = (DROP_4XX, DROP_4XX_LATER, DROP_RETRIES)
WRITER_STARTED = "Audit background writer started"
# Every error or warning line of the store the pipeline keeps.
STORE_ERRORS = (
    FAILED_WRITE,
    DROP_4XX,
    DROP_4XX_LATER,
    DROP_RETRIES,
    SLOW_WRITE,
    TIMER_BUG,
    BUFFER_FULL,
    "Failed to write audit event",
    "Failed to write phase transition audit",
    "Timeout waiting for audit store to close",
)

# DataStorage's lines: its request log, and what it did with audit batches and queries.
DS_HTTP_REQUEST = "HTTP request"
DS_WRITTEN = "Batch audit events created successfully"
DS_QUERIED = "Audit events queried successfully"
DB_WRITE_FAILED = "Batch database write failed"
DS_VALIDATION_FAILED = "Request validation failed"

# The tests' prints. A Flush() that timed out (`Flush warning …: flush timeout`, `Failed to flush …`):
FLUSH_TIMED_OUT = r"(?i)(?:flush warning|failed to flush audit store).*(?:timeout|deadline exceeded)"
# A query helper's debug print: groups (event type, namespace, count).
DEBUG_QUERY = r"^DEBUG queryAuditEvents: eventType=([^,\s]+), namespace=([^,\s]+), total_returned=(\d+)$"
# Other suites' query prints that name a correlation ID, one pattern per shape the helpers print, with
# named groups: `cid`, and where printed `count` (absent: the print says nothing was found), `type`
# (the type filter) and `kind` (a type word before `events`, used when no filter is printed). E.g.
# `Found 2 phase_transition events (expected 1) for correlation_id=X`, `No phase_transition events
# found for correlation_id=X`, `✅ Query successful: found N events (correlation=X, type=T)`,
# `⚠️  No data in response from Data Storage (correlation=X, type=T, category=C)`, `⏳ No completion
# events found yet (correlation_id=X, event_type=T)`, `[label] signal.processed audit events: N
# (correlation_id: X)`, `🔍 DEBUG: Retrieved N audit events for correlation_id=X:`.
_LEAD = r"^[^A-Za-z0-9\[]*"
_ID = r"[^\s,)]+"
COUNTED_QUERIES = (
    _LEAD + r"Found (?P<count>\d+) (?:(?P<kind>\S+) )?events?(?:\(s\))?(?: \(expected \d+\))? for "
    rf"correlation_id=(?P<cid>{_ID})(?:, event_type=(?P<type>\S+))?$",
    _LEAD + rf"No (?P<kind>\S+) events found(?: yet)? for correlation_id=(?P<cid>{_ID})$",
    _LEAD + r"Query successful: found (?P<count>\d+) events? "
    rf"\(correlation=(?P<cid>{_ID}), type=(?P<type>{_ID})\)$",
    _LEAD + rf"No data in response from Data ?Storage \(correlation=(?P<cid>{_ID}), type=(?P<type>[^\s,)]*)",
    _LEAD + rf"No [\w.]+ events found yet \(correlation_id=(?P<cid>{_ID}), event_type=(?P<type>{_ID})\)$",
    r"^\[[^\]]*\] (?P<type>[\w.]+) audit events(?: found)?: (?P<count>\d+) \((?:expected: [^,]+, )?"
    rf"correlation_id: (?P<cid>{_ID})\)$",
    _LEAD + r"DEBUG: Retrieved (?P<count>\d+) audit events for correlation_id=(?P<cid>[^\s,):]+):?$",
)
# A test's print of a query to DataStorage that failed, whatever the suite's helper words it:
# `❌ Failed to query Data Storage: …`, `Failed to query audit events: …`, `Query error: …`, `⏳ Audit
# query error: …`, `⏳ Query error for T (correlation_id=X): …`, `⚠️  Audit query failed: …`, `⚠️  Query
# failed or no data: err=…` (not `err=<nil>`: no data), `⏳ Waiting for … audit event (error: …)`.
QUERY_FAILED = (
    r"(?i)^[^A-Za-z0-9]*(?:failed to query (?:data ?storage|audit events)\b|(?:audit )?query error\b"
    r"|audit query failed\b|query failed or no data: err=[^<\s]|waiting for .*audit events? \(error: [^<\s])"
)
# An error that says DataStorage could not be reached at all (a store's write, a test's query).
UNREACHABLE = r"(?i)connection refused|no such host|i/o timeout"
