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
# Other suites' query prints, groups (count, type, ID, type): `Found N <type> events (expected M) for
# correlation_id=X[, event_type=T]` and `✅ Query successful: found N events (correlation=X, type=T)`.
COUNTED_QUERY = (
    r"^[^A-Za-z0-9]*(?:Found (\d+) (?:(\S+) )?events?(?:\(s\))?(?: \(expected \d+\))? for "
    r"correlation_id=([^\s,]+)(?:, event_type=(\S+))?"
    r"|Query successful: found (\d+) events? \(correlation=([^\s,)]+), type=([^\s,)]+)\))$"
)
