"""PostgreSQL stderr parser: prefixed records, attached detail lines, start-up output, accounting."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.bundle.lines import split_lines
from triage.bundle.sources import Source
from triage.parsers import ParseResult
from triage.parsers.postgres import parse
from triage.table.schema import validate_events

REALINES = Path("/work/shared/realines/postgres.jsonl")
SOURCE = Source(
    path=Path("must-gather/signalprocessing_signalprocessing_postgres_test.log"),
    name="signalprocessing_signalprocessing_postgres_test.log",
    kind="postgres",
    service="postgres",
    why="%m [%p] prefix",
)

# First start of postgres:16-alpine with POSTGRES_USER=slm_user, POSTGRES_DB=action_history: initdb,
# the temporary server, the final server, the readiness probe's FATAL and the migration's ERROR.
FIRST_START = """\
The files belonging to this database system will be owned by user "postgres".
This user must also own the server process.

The database cluster will be initialized with locale "en_US.utf8".
The default database encoding has accordingly been set to "UTF8".
The default text search configuration will be set to "english".

Data page checksums are disabled.

fixing permissions on existing directory /var/lib/postgresql/data ... ok
creating subdirectories ... ok
selecting dynamic shared memory implementation ... posix
selecting default max_connections ... 100
selecting default shared_buffers ... 128MB
selecting default time zone ... UTC
creating configuration files ... ok
running bootstrap script ... ok
sh: locale: not found
2026-01-14 15:23:42.331 UTC [35] WARNING:  no usable system locales were found
performing post-bootstrap initialization ... ok
initdb: warning: enabling "trust" authentication for local connections
initdb: hint: You can change this by editing pg_hba.conf or using the option -A, or --auth-local and \
--auth-host, the next time you run initdb.
syncing data to disk ... ok


Success. You can now start the database server using:

    pg_ctl -D /var/lib/postgresql/data -l logfile start

waiting for server to start....2026-01-14 15:23:43.012 UTC [41] LOG:  starting PostgreSQL 16.11 on \
x86_64-pc-linux-musl, compiled by gcc (Alpine 14.2.0) 14.2.0, 64-bit
2026-01-14 15:23:43.015 UTC [41] LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"
2026-01-14 15:23:43.022 UTC [44] LOG:  database system was shut down at 2026-01-14 15:23:42 UTC
2026-01-14 15:23:43.027 UTC [41] LOG:  database system is ready to accept connections
 done
server started
CREATE DATABASE


/usr/local/bin/docker-entrypoint.sh: ignoring /docker-entrypoint-initdb.d/*

waiting for server to shut down....2026-01-14 15:23:43.213 UTC [41] LOG:  received fast shutdown request
2026-01-14 15:23:43.302 UTC [41] LOG:  database system is shut down
 done
server stopped

PostgreSQL init process complete; ready for start up.

2026-01-14 15:23:43.433 UTC [1] LOG:  starting PostgreSQL 16.11 on x86_64-pc-linux-musl, compiled by \
gcc (Alpine 14.2.0) 14.2.0, 64-bit
2026-01-14 15:23:43.447 UTC [1] LOG:  database system is ready to accept connections
2026-01-14 15:23:45.123 UTC [63] FATAL:  database "slm_user" does not exist
2026-01-14 15:23:50.881 UTC [70] ERROR:  role "slm_user" already exists
2026-01-14 15:23:50.881 UTC [70] STATEMENT:  CREATE ROLE slm_user LOGIN PASSWORD 'slm_user';
"""


def _parse(text: str) -> ParseResult:
    return parse(split_lines(text.encode()).frame, SOURCE)


def _attrs(result: ParseResult) -> list[dict[str, object]]:
    return [json.loads(a) for a in result.events["attrs"]]


def _row(result: ParseResult, line: int) -> dict[str, object]:
    rows = result.events.filter(pl.col("line") == line).to_dicts()
    assert len(rows) == 1, f"no single record at line {line}"
    row = rows[0]
    row["attrs"] = json.loads(row["attrs"])
    return row


def _check_accounting(text: str, result: ParseResult) -> None:
    """Every line is in exactly one record span, or blank, or unparsed."""
    lines = split_lines(text.encode()).frame
    spans: list[int] = []
    for line, n_lines in result.events.select("line", "n_lines").iter_rows():
        spans.extend(range(line, line + n_lines))
    assert len(spans) == len(set(spans)), "a line is in two record spans"
    unparsed = set(result.unparsed["line"].to_list())
    assert not unparsed & set(spans)
    blank = set(lines.filter(pl.col("raw").str.strip_chars() == "")["line"].to_list())
    assert set(spans) | unparsed | blank == set(lines["line"].to_list())


def test_every_realine_parses_to_its_expected_fields() -> None:
    """Each captured line on its own yields one record with the printed time, pid, level and text."""
    levels = {"FATAL": "fatal", "ERROR": "error", "DETAIL": None}
    cases = [json.loads(line) for line in REALINES.read_text().splitlines()]
    assert cases
    for case in cases:
        expect = case["expect"]
        result = _parse(case["line"] + "\n")
        assert result.unparsed.height == 0
        row = _row(result, 1)
        printed = datetime.strptime(expect["ts"].removesuffix(" UTC"), "%Y-%m-%d %H:%M:%S.%f")
        assert row["ts"] == printed.replace(tzinfo=UTC)
        assert row["ts_precision"] == "ms"
        assert row["level"] == levels[expect["level"]]
        assert row["attrs"]["pg_level"] == expect["level"]
        assert row["attrs"]["pid"] == expect["pid"]
        assert row["message"] == expect["message"]
        assert row["raw"] == case["line"]
        assert row["logger"] == "postgres"


def test_realines_together_attach_detail_to_the_error_above() -> None:
    """In file order each DETAIL joins the ERROR of its pid directly above, widening it to two lines."""
    cases = [json.loads(line) for line in REALINES.read_text().splitlines()]
    text = "".join(case["line"] + "\n" for case in cases)
    result = _parse(text)
    validate_events(result.events)
    assert result.unparsed.height == 0
    details = [(n, c["expect"]) for n, c in enumerate(cases, start=1) if c["expect"]["level"] == "DETAIL"]
    assert details
    for line, expect in details:
        parent = _row(result, line - 1)
        assert parent["n_lines"] == 2
        assert parent["attrs"]["detail"] == expect["message"]
        assert parent["attrs"]["pid"] == expect["pid"]
        assert result.events.filter(pl.col("line") == line).height == 0
    assert result.events.height == len(cases) - len(details)
    _check_accounting(text, result)


def test_first_start_output_is_fully_understood() -> None:
    """The image's initdb and entrypoint lines become records with no time; nothing is unparsed."""
    result = _parse(FIRST_START)
    validate_events(result.events)
    assert result.unparsed.height == 0
    _check_accounting(FIRST_START, result)
    loggers = dict(zip(result.events["line"].to_list(), result.events["logger"].to_list(), strict=True))
    assert loggers[1] == "initdb"
    assert loggers[18] == "initdb"  # sh: locale: not found
    assert loggers[21] == "initdb"
    assert loggers[36] == "entrypoint"  # CREATE DATABASE
    assert loggers[46] == "entrypoint"  # init process complete
    initdb = result.events.filter(pl.col("logger") == "initdb")
    assert initdb["ts"].null_count() == initdb.height
    assert _row(result, 21)["level"] == "warn"
    assert (
        _row(result, 10)["message"]
        == "fixing permissions on existing directory /var/lib/postgresql/data ... ok"
    )


def test_pg_ctl_dots_before_a_record_do_not_hide_it() -> None:
    """A server line printed after pg_ctl's `waiting for server to start....` is still a postgres record."""
    result = _parse(FIRST_START)
    row = _row(result, 30)
    assert row["logger"] == "postgres"
    assert row["attrs"]["pid"] == 41
    assert row["message"].startswith("starting PostgreSQL 16.11 on x86_64-pc-linux-musl")
    assert row["ts"] == datetime(2026, 1, 14, 15, 23, 43, 12000, tzinfo=UTC)
    assert _row(result, 41)["message"] == "received fast shutdown request"


def test_levels_map_to_normalized_levels() -> None:
    """LOG is info, WARNING warn, FATAL fatal, ERROR error, while the printed level stays in attrs."""
    result = _parse(FIRST_START)
    assert _row(result, 19)["level"] == "warn"
    assert _row(result, 19)["attrs"]["pg_level"] == "WARNING"
    assert _row(result, 49)["level"] == "info"
    assert _row(result, 50)["level"] == "fatal"
    assert _row(result, 51)["level"] == "error"


def test_adjacent_statement_joins_its_error() -> None:
    """The migration's STATEMENT directly below its ERROR is inside the ERROR record and in its attrs."""
    result = _parse(FIRST_START)
    row = _row(result, 51)
    assert row["n_lines"] == 2
    assert row["message"] == 'role "slm_user" already exists'
    assert row["attrs"]["statement"] == "CREATE ROLE slm_user LOGIN PASSWORD 'slm_user';"
    assert "attached_lines" not in row["attrs"]


def test_separated_detail_is_its_own_row_and_copied_to_the_parent() -> None:
    """A DETAIL separated from its ERROR by another pid's line stays a null-level row naming its parent."""
    text = (
        "2026-01-23 16:34:51.169 UTC [63] ERROR:  duplicate key value violates unique constraint "
        '"notification_audit_notification_id_key"\n'
        "2026-01-23 16:34:51.169 UTC [64] LOG:  checkpoint starting: time\n"
        "2026-01-23 16:34:51.169 UTC [63] DETAIL:  Key (notification_id)=(notif-1) already exists.\n"
        "2026-01-23 16:34:51.169 UTC [63] STATEMENT:  INSERT INTO notification_audit VALUES ($1)\n"
    )
    result = _parse(text)
    validate_events(result.events)
    _check_accounting(text, result)
    parent = _row(result, 1)
    assert parent["n_lines"] == 1
    assert parent["attrs"]["detail"] == "Key (notification_id)=(notif-1) already exists."
    assert parent["attrs"]["statement"] == "INSERT INTO notification_audit VALUES ($1)"
    assert parent["attrs"]["attached_lines"] == [3, 4]
    apart = _row(result, 3)
    assert apart["n_lines"] == 2
    assert apart["level"] is None
    assert apart["attrs"]["attached_to"] == 1
    assert apart["message"] == "Key (notification_id)=(notif-1) already exists."
    assert result.facts["detail_segments_apart"] == 2


def test_detail_without_parent_is_kept() -> None:
    """A DETAIL whose pid has no earlier record is a record of its own with no parent."""
    result = _parse("2026-01-23 16:35:12.322 UTC [100] DETAIL:  Key (workflow_name)=(wf) already exists.\n")
    row = _row(result, 1)
    assert row["level"] is None
    assert "attached_to" not in row["attrs"]
    assert result.facts["detail_segments_orphaned"] == 1


def test_multi_line_statement_belongs_to_its_record() -> None:
    """Tab-indented continuation lines extend a STATEMENT, and its whole text reaches the parent's attrs."""
    text = (
        '2026-01-14 15:30:01.002 UTC [88] ERROR:  column "evnt_type" does not exist at character 8\n'
        "2026-01-14 15:30:01.002 UTC [88] STATEMENT:  SELECT evnt_type\n"
        "\tFROM audit_events\n"
        "\tWHERE correlation_id = 'audit-test-rr-04';\n"
        "2026-01-14 15:30:02.000 UTC [1] LOG:  checkpoint starting: time\n"
    )
    result = _parse(text)
    row = _row(result, 1)
    assert row["n_lines"] == 4
    assert row["attrs"]["statement"] == (
        "SELECT evnt_type\nFROM audit_events\nWHERE correlation_id = 'audit-test-rr-04';"
    )
    assert _row(result, 5)["n_lines"] == 1
    _check_accounting(text, result)


def test_unindented_sql_after_statement_is_continuation_but_not_after_log() -> None:
    """An unprefixed line continues a STATEMENT, but after an ordinary LOG record it is unparsed."""
    text = (
        "2026-01-14 15:30:01.002 UTC [88] ERROR:  syntax error at end of input\n"
        "2026-01-14 15:30:01.002 UTC [88] STATEMENT:  SELECT 1\n"
        "FROM dual\n"
        "2026-01-14 15:30:02.000 UTC [1] LOG:  checkpoint starting: time\n"
        "something odd\n"
    )
    result = _parse(text)
    assert _row(result, 1)["attrs"]["statement"] == "SELECT 1\nFROM dual"
    assert result.unparsed.to_dicts() == [{"line": 5, "raw": "something odd"}]


def test_numeric_offset_zone_is_converted_to_utc() -> None:
    """A `-05` zone token shifts the time by five hours to UTC."""
    result = _parse("2026-01-14 10:24:50.123 -05 [7] LOG:  database system is ready to accept connections\n")
    assert _row(result, 1)["ts"] == datetime(2026, 1, 14, 15, 24, 50, 123000, tzinfo=UTC)
    assert "unknown_zones" not in result.facts


def test_unknown_zone_abbreviation_gives_null_time_and_a_fact() -> None:
    """An abbreviation like EST leaves ts null (it is ambiguous) and is reported in the facts."""
    result = _parse("2026-01-14 10:24:50.123 EST [7] LOG:  database system is ready to accept connections\n")
    row = _row(result, 1)
    assert row["ts"] is None
    assert row["ts_precision"] is None
    assert row["message"] == "database system is ready to accept connections"
    assert result.facts["unknown_zones"] == ["EST"]


def test_user_and_database_prefix_is_read() -> None:
    """The Kubernetes prefix `%m [%p] %q%u@%d ` puts user and database in attrs."""
    result = _parse("2026-01-14 15:24:50.123 UTC [91] slm_user@action_history LOG:  statement: SELECT 1\n")
    attrs = _row(result, 1)["attrs"]
    assert attrs["user"] == "slm_user"
    assert attrs["database"] == "action_history"


def test_kubectl_timestamp_prefix_is_stripped() -> None:
    """A `kubectl logs --timestamps` prefix is removed and dates an initdb line that has no time."""
    text = (
        "2026-01-14T15:23:41.600000000Z The files belonging to this database system will be owned by user "
        '"postgres".\n'
        "2026-01-14T15:23:45.124000000Z 2026-01-14 15:23:45.123 UTC [63] FATAL:  "
        'database "slm_user" does not exist\n'
    )
    result = _parse(text)
    assert result.unparsed.height == 0
    assert _row(result, 1)["ts"] == datetime(2026, 1, 14, 15, 23, 41, 600000, tzinfo=UTC)
    assert _row(result, 1)["ts_precision"] == "ns"
    assert _row(result, 2)["ts"] == datetime(2026, 1, 14, 15, 23, 45, 123000, tzinfo=UTC)


def test_events_carry_the_source_identity() -> None:
    """Every record names the file, source kind and service it came from."""
    result = _parse(FIRST_START)
    assert set(result.events["file"].to_list()) == {SOURCE.name}
    assert set(result.events["source_kind"].cast(pl.String).to_list()) == {"postgres"}
    assert set(result.events["service"].to_list()) == {"postgres"}
    assert set(result.events["record"].cast(pl.String).to_list()) == {"log"}


SAMPLE_LINES = [
    *FIRST_START.splitlines(),
    "\tFROM audit_events",
    "2026-01-23 16:34:51.169 UTC [63] DETAIL:  Key (id)=(1) already exists.",
    "2026-01-23 16:34:51.169 UTC [64] HINT:  No function matches the given name.",
    "2026-01-23 16:34:51.169 EST [65] LOG:  x",
]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(SAMPLE_LINES),
            st.text(st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)), max_size=40),
        ),
        max_size=25,
    )
)
def test_arbitrary_lines_never_raise_and_are_accounted(lines: list[str]) -> None:
    """Any mix of lines parses without error, passes validation and accounts for every line once."""
    text = "".join(line + "\n" for line in lines)
    result = _parse(text)
    validate_events(result.events)
    _check_accounting(text, result)
