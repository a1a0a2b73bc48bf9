"""The journal appends events with their outbox rows atomically; the audit chain detects edits and deletions."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.exceptions import InvalidInputError, NotFoundError
from hub.journal import (
    EventKind,
    Journal,
    NewEvent,
    Outbox,
    RetentionPolicy,
    open_journal_database,
    purge_expired,
)
from hub.privacy.keys import KeyRing

# The community's audit keys, as the hub derives them from its key file.
AUDIT_KEYS = KeyRing.from_master_key(bytes(range(32))).audit

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the tests move."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """The journal's clock."""
    return Clock()


@pytest.fixture
def journal(tmp_path: Path, clock: Clock) -> Journal:
    """A journal on a real database file."""
    return Journal(open_journal_database(tmp_path / "hub.db"), "hub-a", clock=clock, audit_keys=AUDIT_KEYS)


def test_append_records_uuid_sequence_time_hub_and_outbox(journal: Journal, tmp_path: Path) -> None:
    woken: list[int] = []
    journal.on_append = lambda: woken.append(1)
    first = journal.append(EventKind.DECISION, door="gate-1", payload={"result": "granted"})
    second = journal.append(EventKind.DEVICE_STATUS, door="cam-2", payload={"result": "offline"})
    assert second.seq > first.seq and uuid.UUID(first.uuid).version == 4
    assert first.hub_id == "hub-a" and first.occurred_at == NOW and first.occurred_at.tzinfo is not None
    assert journal.get(first.uuid) == first
    assert woken == [1, 1]
    other = open_journal_database(tmp_path / "hub.db")  # what another connection (the worker) sees
    pending = Outbox(other).pending(10)
    # the device-status event is in the priority lane: it leaves before the decision queued ahead of it
    assert [p.event.uuid for p in pending] == [second.uuid, first.uuid]
    with pytest.raises(NotFoundError):
        journal.get("missing")


def test_manager_actions_stay_local_by_default_and_are_audited(journal: Journal) -> None:
    entry = journal.record_manager_action("alice", "delete_resident", {"resident": "r-1"})
    assert Outbox(journal.connection).backlog() == 0
    assert journal.get(entry.uuid).kind == EventKind.MANAGER_ACTION
    assert journal.audit.entries()[0].actor == "alice"


def test_a_failed_batch_leaves_neither_events_nor_outbox_rows(journal: Journal) -> None:
    journal.append(EventKind.DECISION, door="gate-1")
    with pytest.raises(ValueError, match="must be timezone-aware"):
        journal.append_many([
            NewEvent(kind=EventKind.DECISION, door="gate-1"),
            NewEvent(kind=EventKind.DECISION, door="gate-1", occurred_at=datetime(2026, 1, 1)),  # naive
        ])
    assert journal.count() == 1 and Outbox(journal.connection).backlog() == 1


def test_listener_failure_does_not_fail_the_append(journal: Journal) -> None:
    def broken() -> None:
        raise RuntimeError("listener broke")

    journal.on_append = broken
    assert journal.append(EventKind.DOOR_ALARM, door="gate-1").seq == 1


def _tamper(conn: sqlite3.Connection, sql: str, params: tuple[object, ...] = ()) -> None:
    """What someone with the database file could do: drop the guard triggers first."""
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    conn.execute(sql, params)


def test_audit_log_refuses_updates_and_deletes(journal: Journal) -> None:
    journal.record_manager_action("alice", "add_card", {"card": "…1234"})
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        journal.connection.execute("UPDATE audit_log SET actor = 'mallory'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        journal.connection.execute("DELETE FROM audit_log")


@pytest.mark.parametrize(
    ("sql", "bad_seq"),
    [
        ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", 2),
        ("UPDATE audit_log SET details = '{\"resident\":\"r-9\"}' WHERE seq = 3", 3),
        ("DELETE FROM audit_log WHERE seq = 2", 2),
        ("DELETE FROM audit_log WHERE seq = 1", 1),
        ("DELETE FROM audit_log WHERE seq = 4", 4),
    ],
)
def test_audit_chain_detects_edited_and_deleted_rows(journal: Journal, sql: str, bad_seq: int) -> None:
    for i in range(4):
        journal.record_manager_action("alice", "enrol", {"resident": f"r-{i}"})
    assert journal.audit.verify().ok and journal.audit.verify().checked == 4
    _tamper(journal.connection, sql)
    result = journal.audit.verify()
    assert not result.ok and result.first_bad_seq == bad_seq and result.problem


def test_retention_purges_old_events_and_snapshots_and_keeps_chain(journal: Journal, clock: Clock,
                                                                   tmp_path: Path) -> None:
    image = tmp_path / "snap.jpg"
    image.write_bytes(b"jpeg")
    old = journal.append(EventKind.DECISION, door="gate-1")
    unsent_old = journal.append(EventKind.DECISION, door="gate-1")
    journal.add_snapshot(event_uuid=old.uuid, path=str(image))
    journal.record_manager_action("alice", "enrol", {})
    Outbox(journal.connection).mark_sent([old.seq])
    clock.now = NOW + timedelta(days=100)
    journal.record_manager_action("bob", "enrol", {})
    recent = journal.append(EventKind.DECISION, door="gate-1")
    policy = RetentionPolicy(events_days=90, snapshots_days=30, audit_days=365)
    result = purge_expired(journal.connection, policy, now=clock.now,  # the sent decision, alice's action event
                           audit_keys=AUDIT_KEYS)
    assert (result.events, result.snapshots, result.audit_entries, result.unsent_kept) == (2, 1, 0, 1)
    assert not image.exists()
    assert [e.uuid for e in journal.events(kind=EventKind.DECISION)] == [unsent_old.uuid, recent.uuid]
    # The audit log keeps its longer period; past it, purging re-anchors the chain so it still verifies.
    result = journal.purge(policy, now=NOW + timedelta(days=400))
    assert result.audit_entries == 1 and journal.audit.verify().ok
    assert [e.actor for e in journal.audit.entries()] == ["bob"]
    journal.record_manager_action("carol", "enrol", {})
    assert journal.audit.verify().ok and journal.audit.verify().checked == 2
    purge_expired(journal.connection, policy, now=NOW + timedelta(days=2000), audit_keys=AUDIT_KEYS)
    assert journal.audit.entries() == [] and journal.audit.verify().ok
    journal.record_manager_action("dave", "enrol", {})
    assert journal.audit.verify().ok
    _tamper(journal.connection, "DELETE FROM audit_log")
    assert not journal.audit.verify().ok


def test_retention_policy_validation() -> None:
    with pytest.raises(InvalidInputError):
        RetentionPolicy(events_days=0)
    with pytest.raises(InvalidInputError):
        RetentionPolicy(events_days=400, audit_days=300)
