"""Container and log variants: relayed, pasted and copied forms of the formats the parsers read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from triage.bundle.lines import split_lines
from triage.bundle.sources import Source
from triage.parsers import ParseResult, parse_lines
from triage.parsers.relay import peel, peel_text
from triage.table.schema import validate_events

# postgres:16-alpine's first start as Testcontainers' logger relays it (the container's lines after
# `- STDOUT: `, blank lines relayed as an empty payload).
RELAYED_POSTGRES = """\
09:14:02.310 INFO  \U0001f433 [postgres:16-alpine] - STDOUT: waiting for server to start....\
2026-03-09 09:14:02.118 UTC [48] LOG:  starting PostgreSQL 16.4 on x86_64-pc-linux-musl
09:14:02.311 INFO  \U0001f433 [postgres:16-alpine] - STDOUT: 2026-03-09 09:14:02.125 UTC [48] LOG:  \
listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"
09:14:02.311 INFO  \U0001f433 [postgres:16-alpine] - STDOUT:  done
09:14:02.311 INFO  \U0001f433 [postgres:16-alpine] - STDOUT: server started
09:14:02.402 INFO  \U0001f433 [postgres:16-alpine] - STDOUT: CREATE DATABASE
09:14:02.402 INFO  \U0001f433 [postgres:16-alpine] - STDOUT: \n\
09:14:02.520 INFO  \U0001f433 [postgres:16-alpine] - STDERR: 2026-03-09 09:14:02.519 UTC [61] FATAL:  \
database "slm_user" does not exist
09:14:02.521 INFO  \U0001f433 [postgres:16-alpine] - STDOUT: /usr/local/bin/docker-entrypoint.sh: \
ignoring /docker-entrypoint-initdb.d/*
"""

# initdb 11's output pasted by a tool that ends every line, blank ones too, with a comma.
PASTED_POSTGRES = """\
The files belonging to this database system will be owned by user "postgres".,
This user must also own the server process.,
,
Data page checksums are disabled.,
,
syncing data to disk ... ok,
,
WARNING: enabling "trust" authentication for local connections,
You can change this by editing pg_hba.conf or using the option -A, or,
--auth-local and --auth-host, the next time you run initdb.,
,
Success. You can now start the database server using:,
,
    pg_ctl -D /var/lib/postgresql/data -l logfile start,
,
waiting for server to start....2026-02-02 08:01:10.004 UTC [40] LOG:  \
listening on IPv4 address "0.0.0.0", port 5432,
2026-02-02 08:01:10.020 UTC [41] LOG:  database system was shut down at 2026-02-02 08:01:09 UTC,
"""

REDIS_STOPPED = """\
1:C 09 Mar 2026 09:14:02.601 * oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo
1:M 09 Mar 2026 09:14:02.604 * Ready to accept connections tcp
1:signal-handler (1773048900) Received SIGTERM scheduling shutdown...
1:M 09 Mar 2026 09:35:00.112 * User requested shutdown...
1:M 09 Mar 2026 09:35:00.131 # Redis is now ready to exit, bye bye...
"""

# A zap console log as a pager copies it: lowercase levels, the frames' tabs expanded to spaces.
COPIED_ZAP = """\
2026-03-09T09:20:11.402Z\tinfo\tserver/server.go:157\tPostgreSQL connection established
2026-03-09T09:20:14.950Z\terror\tserver/audit_events_batch_handler.go:201\tBatch database write failed\t\
{"count": 3, "duration_seconds": 5.002}
github.com/jordigilh/kubernaut/pkg/datastorage/server.(*Server).handleCreateAuditEventsBatch
     /opt/app-root/src/pkg/datastorage/server/audit_events_batch_handler.go:201
net/http.HandlerFunc.ServeHTTP
     /usr/lib/golang/src/net/http/server.go:2294
2026-03-09T09:20:15.011Z\twarn\tserver/handlers.go:119\tHTTP request\t{"status": 500}
"""

# A controller's console lines at second precision, some without a logger name.
CONTROLLER_CONSOLE = """\
2026-03-09T09:21:40Z\tERROR\tdelivery-orchestrator\tDelivery failed with retryable error
2026-03-09T09:21:40Z\tINFO\t\u23f0 RETRY SCHEDULED\t{"attempt": 2, "backoff": "10.5s"}
2026-03-09T09:21:40Z\tINFO\tReconcile finished
"""


def _lines(text: str) -> pl.DataFrame:
    return split_lines(text.encode("utf-8")).frame


def _parse(kind: str, text: str) -> ParseResult:
    source = Source(Path("x.log"), "x.log", kind, None, "test")
    result = parse_lines(kind, _lines(text), source)
    validate_events(result.events)
    return result


def _accounted(text: str, result: ParseResult) -> None:
    lines = _lines(text)
    covered = set()
    for line, n in zip(result.events["line"], result.events["n_lines"], strict=True):
        covered.update(range(line, line + n))
    peeled, _ = peel(lines)
    blank = set(peeled.filter(pl.col("raw").str.strip_chars() == "")["line"])
    assert covered | blank | set(result.unparsed["line"]) == set(lines["line"])


def test_testcontainers_relay_is_peeled_and_every_postgres_line_understood() -> None:
    """PostgreSQL lines relayed by Testcontainers parse as PostgreSQL records without the relay's prefix."""
    result = _parse("postgres", RELAYED_POSTGRES)
    assert result.unparsed.is_empty()
    _accounted(RELAYED_POSTGRES, result)
    fatal = result.events.filter(pl.col("level") == "fatal").row(0, named=True)
    assert fatal["line"] == 7
    assert fatal["message"] == 'database "slm_user" does not exist'
    assert fatal["ts"] == datetime(2026, 3, 9, 9, 14, 2, 519000, tzinfo=UTC)
    assert result.events.filter(pl.col("line") == 1)["message"].item().startswith("starting PostgreSQL 16.4")
    assert result.facts["notes"] == ["the Testcontainers relay prefix was taken off 8 line(s)"]


def test_trailing_commas_on_every_line_are_ignored_and_initdb_lines_understood() -> None:
    """A pasted initdb log whose every line ends with a comma is read whole, the glued server line too."""
    result = _parse("postgres", PASTED_POSTGRES)
    assert result.unparsed.is_empty()
    _accounted(PASTED_POSTGRES, result)
    listening = result.events.filter(pl.col("line") == 16).row(0, named=True)
    assert listening["message"] == 'listening on IPv4 address "0.0.0.0", port 5432'
    assert listening["ts"] == datetime(2026, 2, 2, 8, 1, 10, 4000, tzinfo=UTC)
    trust = result.events.filter(pl.col("line") == 8).row(0, named=True)
    assert (trust["logger"], trust["level"]) == ("initdb", "warn")
    assert result.facts["notes"] == ["every line ends with a comma a copying tool added; it was ignored"]


def test_a_comma_that_only_some_lines_end_with_is_the_logs_own_text() -> None:
    """Commas are taken off only when every non-blank line ends with one."""
    text = "2026-02-02 08:01:10.004 UTC [40] LOG:  a,\n2026-02-02 08:01:10.005 UTC [40] LOG:  b\n"
    result = _parse("postgres", text)
    assert result.events["message"].to_list() == ["a,", "b"]
    assert "notes" not in result.facts


def test_unparsed_samples_quote_the_file_as_it_is() -> None:
    """A relayed line no parser understands is reported with its relay prefix, as the file holds it."""
    text = RELAYED_POSTGRES + "09:14:03.000 INFO  \U0001f433 [postgres:16-alpine] - STDOUT: something else\n"
    result = _parse("postgres", text)
    assert result.unparsed["raw"].to_list() == [text.splitlines()[-1]]


def test_redis_signal_handler_lines_are_records_with_epoch_time() -> None:
    """Redis' signal-handler line is a record timed by its epoch seconds, at second precision."""
    result = _parse("redis", REDIS_STOPPED)
    assert result.unparsed.is_empty()
    row = result.events.filter(pl.col("line") == 3).row(0, named=True)
    assert row["message"] == "Received SIGTERM scheduling shutdown..."
    assert row["ts"] == datetime(2026, 3, 9, 9, 35, tzinfo=UTC)
    assert (row["ts_precision"], row["ts_assumed"]) == ("s", False)
    assert json.loads(row["attrs"]) == {"pid": 1, "role": "signal-handler"}


def test_space_indented_frames_attach_to_their_lowercase_error_record() -> None:
    """Stack frames indented with spaces fold into the error record above them; lowercase levels are read."""
    result = _parse("zap_console", COPIED_ZAP)
    assert result.unparsed.is_empty()
    error = result.events.filter(pl.col("level") == "error").row(0, named=True)
    assert (error["line"], error["n_lines"]) == (2, 5)
    trace = json.loads(error["attrs"])["stacktrace"]
    assert trace.splitlines()[-1].strip() == "/usr/lib/golang/src/net/http/server.go:2294"
    assert result.events["level"].to_list() == ["info", "error", "warn"]


def test_controller_console_lines_at_second_precision_without_a_logger_parse() -> None:
    """Console lines with second precision parse whether or not they name a logger."""
    result = _parse("zap_console", CONTROLLER_CONSOLE)
    assert result.unparsed.is_empty()
    rows = result.events.select("logger", "message", "ts_precision").rows()
    assert rows == [
        ("delivery-orchestrator", "Delivery failed with retryable error", "s"),
        (None, "\u23f0 RETRY SCHEDULED", "s"),
        (None, "Reconcile finished", "s"),
    ]


def test_peel_leaves_undecorated_lines_alone() -> None:
    """Lines without a relay prefix or trailing commas come back as the same frame."""
    lines = _lines("2026-03-09T09:20:11.402Z\tINFO\tdatastorage\tok\n")
    peeled, notes = peel(lines)
    assert peeled is lines and notes == []
    assert peel_text(["a,", "b,"]) == ["a", "b"]
    assert peel_text(["a,"]) == ["a,"]
