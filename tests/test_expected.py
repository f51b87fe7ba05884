"""The table of expected errors: what it holds, how it is read, and when a provoked error is expected."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from triage.errors import ConfigError
from triage.facts.expected import Expected, SpecWindow, for_kinds, judge, load, shipped

AT = datetime(2026, 1, 23, 16, 34, 51, tzinfo=UTC)


def _window(index: int, name: str, state: str, start_s: int, end_s: int) -> SpecWindow:
    base = AT.replace(second=0)
    return SpecWindow(
        "integration-datastorage.log",
        index,
        name,
        state,
        base.replace(second=start_s),
        base.replace(second=end_s),
    )


def _entry(entry_id: str) -> Expected:
    return next(e for e in shipped() if e.id == entry_id)


def test_shipped_table_holds_noise_and_provoked_errors() -> None:
    """The shipped table has start-up noise and the provoked errors of kubernaut's specs, each explained."""
    ids = {e.id for e in shipped()}
    assert {"postgres-probe-without-database", "postgres-unique-violation"} <= ids
    assert {"postgres-parent-delete-violation", "audit-store-unreachable-on-purpose"} <= ids
    assert all(len(e.why) > 20 and e.kinds for e in shipped())
    assert all(e.provoked_by for e in shipped() if e.provoked)


def test_entries_match_the_messages_they_describe() -> None:
    """Each provoked entry matches its real message and not a neighbouring fault's."""
    unique = _entry("postgres-unique-violation")
    assert unique.says('duplicate key value violates unique constraint "uq_workflow_name_version"')
    assert not unique.says('relation "audit_events" does not exist')
    parent = _entry("postgres-parent-delete-violation")
    assert parent.says(
        'update or delete on table "audit_events" violates foreign key constraint "fk_audit_events_parent" '
        'on table "audit_events"'
    )
    assert not parent.says('insert or update on table "audit_events" violates foreign key constraint "fk_x"')
    store = _entry("audit-store-unreachable-on-purpose")
    line = '{"msg":"Failed to write audit batch","error":"dial tcp [::1]:9999: connect: connection refused"}'
    assert store.says(line, line)
    refused = line.replace("[::1]:9999", "127.0.0.1:18097")
    assert not store.says(refused, refused)


def test_kinds_select_the_entries_of_a_format() -> None:
    """Redis entries apply to Redis logs only, the store's entry to the test log's kinds."""
    assert all("redis" in e.kinds for e in for_kinds("redis"))
    assert "audit-store-unreachable-on-purpose" in {e.id for e in for_kinds("ginkgo")}
    assert "audit-store-unreachable-on-purpose" not in {e.id for e in for_kinds("postgres")}


def test_noise_is_expected_even_in_a_failed_spec() -> None:
    """Start-up noise is expected whatever spec was running."""
    failed = [_window(1, "Audit Events should persist", "failed", 40, 59)]
    assert judge(_entry("postgres-probe-without-database"), AT, failed).expected


def test_provoked_error_during_a_failed_spec_is_not_expected() -> None:
    """A duplicate key logged while a failed spec ran is not expected, and that spec is named."""
    failed = _window(1, "Audit Events should persist a batch", "failed", 40, 59)
    verdict = judge(_entry("postgres-unique-violation"), AT, [failed])
    assert not verdict.expected and verdict.spec == failed


def test_passing_provoking_spec_outweighs_a_concurrent_failure() -> None:
    """With the duplicate-notification spec passing at the same time, the duplicate key is expected."""
    failed = _window(1, "Audit Events should persist a batch", "failed", 40, 59)
    provoking = _window(2, "Notification Audit should reject a duplicate notification_id", "passed", 50, 53)
    verdict = judge(_entry("postgres-unique-violation"), AT, [failed, provoking])
    assert verdict.expected and verdict.spec == provoking


def test_provoked_error_with_no_spec_running_is_expected() -> None:
    """Outside every failed spec's window (or with no test log) a provoked error is expected."""
    passed = [_window(1, "Workflow Catalog should list workflows", "passed", 10, 20)]
    assert judge(_entry("postgres-unique-violation"), AT, passed).expected
    assert judge(_entry("postgres-unique-violation"), AT, []).expected


def test_a_block_s_own_outcome_decides_for_lines_printed_in_it() -> None:
    """A store line printed in a spec block is expected only when that block's spec passed."""
    entry = _entry("audit-store-unreachable-on-purpose")
    passed = _window(3, "Audit Failure Scenarios should not block StoreAudit", "passed", 0, 5)
    failed = _window(3, "Audit Failure Scenarios should not block StoreAudit", "failed", 0, 5)
    block = ("integration-datastorage.log", 3)
    assert judge(entry, AT, [passed], block).expected
    assert not judge(entry, AT, [failed], block).expected


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[[expected]]\nid = "x"\nkinds = ["postgres"]\npattern = "a"\n', "missing ['why']"),
        (
            '[[expected]]\nid = "x"\nkinds = ["postgres"]\npattern = "a"\nwhy = "b"\ncolour = "red"\n',
            "['colour']",
        ),
        (
            '[[expected]]\nid = "x"\nkinds = ["postgres"]\npattern = "(a"\nwhy = "b"\n',
            "pattern is not a regular",
        ),
        ('[[expected]]\nid = "x"\nkinds = "postgres"\npattern = "a"\nwhy = "b"\n', "kinds must be a list"),
        ("[[expected]\n", "expected.toml"),
    ],
)
def test_bad_tables_are_refused_with_the_entry_named(tmp_path: Path, text: str, said: str) -> None:
    """A table with a missing or unknown field, a bad pattern or bad TOML is a one-line ConfigError."""
    path = tmp_path / "expected.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"expected\.toml") as raised:
        load(path)
    assert said in str(raised.value) and "\n" not in str(raised.value)


def test_a_user_table_extends_what_is_expected(tmp_path: Path) -> None:
    """A table file read with load gives its entries in file order."""
    path = tmp_path / "expected.toml"
    path.write_text(
        '[[expected]]\nid = "redis-slow"\nkinds = ["redis"]\npattern = "slow log"\nwhy = "a benchmark spec"\n'
        'spec = "benchmark"\nprovoked_by = "the benchmark spec"\n',
        encoding="utf-8",
    )
    (entry,) = load(path)
    assert (entry.id, entry.kinds, entry.provoked) == ("redis-slow", ("redis",), True)
