"""The audit log's keyed chain: residents named by pseudonym, a chain nobody can recompute without the key, a head
that goes upstream with the health events and catches a truncation the local checks cannot, and the one-time
conversion of a log an earlier release wrote."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.exceptions import InvalidInputError
from hub.journal import (
    AuditHead,
    EventKind,
    Journal,
    Outbox,
    RetentionPolicy,
    open_journal_database,
    resident_ref,
)
from hub.journal.audit import GENESIS_HASH, entry_hash, legacy_entry_hash
from hub.privacy.keys import KeyRing
from hub.uplink import FieldPolicy, Secret

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KEYS = KeyRing.from_master_key(bytes(range(32)))
OTHER_KEYS = KeyRing.from_master_key(bytes(range(1, 33)))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "hub.db"


@pytest.fixture
def journal(path: Path) -> Journal:
    return Journal(open_journal_database(path), "hub-a", clock=lambda: NOW, audit_keys=KEYS.audit)


def _actions(journal: Journal, count: int) -> None:
    for i in range(count):
        journal.record_manager_action("manager", "resident.add", {"resident_id": f"res-{i}"})


def _tamper(path: Path, *statements: str) -> None:
    """Someone with the database file (not the key file) edits it behind the hub's back."""
    raw = sqlite3.connect(path)
    for (trigger,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit%'"):
        raw.execute(f"DROP TRIGGER {trigger}")
    for statement in statements:
        raw.execute(statement)
    raw.commit()
    raw.close()


def test_audit_details_name_residents_by_a_keyed_pseudonym(journal: Journal, path: Path) -> None:
    journal.record_manager_action("manager", "pass.issue", {"pass_id": "p-1", "issued_by": "res-ada",
                                                             "doors": ["gate-1"]})
    journal.record_manager_action("manager", "card.add", {"resident_id": "res-ada", "hint": "…7890"})
    entries = journal.audit.entries()
    ref = resident_ref(KEYS.audit_ref, "res-ada")
    assert ref.startswith("a1_") and len(ref) == 23
    assert entries[0].details == {"pass_id": "p-1", "issued_by": ref, "doors": ["gate-1"]}
    assert entries[1].details["resident_id"] == ref  # stable: the same person, the same ref
    assert resident_ref(OTHER_KEYS.audit_ref, "res-ada") != ref  # per community
    # Neither the audit table nor the journal's copies of the actions hold the id.
    raw = sqlite3.connect(path)
    stored = [str(row) for row in raw.execute("SELECT * FROM audit_log")]
    stored += [str(row) for row in raw.execute("SELECT payload FROM events WHERE kind = 'manager_action'")]
    raw.close()
    assert stored and not any("res-ada" in row for row in stored)
    assert journal.audit.verify().ok


def test_truncation_that_passes_the_local_check_is_caught_by_the_upstream_head(journal: Journal,
                                                                               path: Path) -> None:
    _actions(journal, 5)
    # The county got the head with a device-status event; then two more actions are recorded.
    sent = journal.append(EventKind.DEVICE_STATUS, payload={"device": "ctrl-1", "online": False})
    county = AuditHead(**sent.payload["audit_head"])
    assert county.seq == 5
    _actions(journal, 2)
    assert journal.audit.verify(county).upstream_matched is True
    # The attack: drop the trigger, delete the newest rows (including the one the county holds), fix the head.
    row3 = sqlite3.connect(path).execute("SELECT seq, hash FROM audit_log WHERE seq = 3").fetchone()
    _tamper(path, "DELETE FROM audit_log WHERE seq > 3",
            f"UPDATE audit_head SET last_seq = {row3[0]}, last_hash = '{row3[1]}'")
    local = journal.audit.verify()
    assert local.ok and local.checked == 3  # what the hub alone can check still passes
    caught = journal.audit.verify(county)
    assert not caught.ok and caught.upstream_matched is False and caught.first_bad_seq == 5
    assert caught.problem is not None and caught.problem.startswith("truncated")


def test_a_chain_recomputed_without_the_key_fails(journal: Journal, path: Path) -> None:
    _actions(journal, 4)
    raw = sqlite3.connect(path)
    raw.row_factory = sqlite3.Row
    rows = raw.execute("SELECT * FROM audit_log ORDER BY seq").fetchall()
    raw.close()
    for label, rehash in (
        ("plain SHA-256, as the earlier releases chained", lambda prev, **f: legacy_entry_hash(prev, **f)),
        ("another community's key", lambda prev, **f: entry_hash(OTHER_KEYS.audit_chain, prev, **f)),
    ):
        prev, statements = GENESIS_HASH, []
        for row in rows:
            details = '{"resident_id":"a1_00000000000000000000"}' if row["seq"] == 2 else row["details"]
            digest = rehash(prev, seq=row["seq"], uuid=row["uuid"], hub_id=row["hub_id"], at=row["at"],
                            actor=row["actor"], action=row["action"], details_json=details)
            statements.append(f"UPDATE audit_log SET details = '{details}', prev_hash = '{prev}', hash = '{digest}'"
                              f" WHERE seq = {row['seq']}")
            prev = digest
        statements.append(f"UPDATE audit_head SET last_hash = '{prev}'")
        _tamper(path, *statements)
        result = journal.audit.verify()
        assert not result.ok, label
        assert result.first_bad_seq == 1 and result.problem is not None and "altered" in result.problem, label


def test_the_retention_anchor_cannot_be_moved_to_hide_the_oldest_rows(journal: Journal, path: Path) -> None:
    _actions(journal, 4)
    raw = sqlite3.connect(path)
    prev3 = raw.execute("SELECT prev_hash FROM audit_log WHERE seq = 3").fetchone()[0]
    raw.close()
    # What retention would do, done by hand: delete rows 1-2 and anchor the chain at row 3.
    _tamper(path, f"INSERT INTO audit_anchor (id, first_seq, prev_hash) VALUES (1, 3, '{prev3}')",
            "DELETE FROM audit_log WHERE seq < 3")
    result = journal.audit.verify()
    assert not result.ok and result.problem == "the retention anchor was moved (or written without the key)"


def test_retention_anchors_the_keyed_chain_with_the_key(journal: Journal) -> None:
    _actions(journal, 3)
    later = Journal(journal.connection, "hub-a", clock=lambda: NOW + timedelta(days=400), audit_keys=KEYS.audit)
    later.record_manager_action("manager", "door.mode", {"door_id": "d-1"})
    result = later.purge(RetentionPolicy(audit_days=365), now=NOW + timedelta(days=400))
    assert result.audit_entries == 3
    assert later.audit.verify().ok and later.audit.verify().checked == 1


def test_health_events_carry_the_current_audit_head_into_the_outbox(journal: Journal) -> None:
    journal.append(EventKind.DEVICE_STATUS, payload={"device": "ctrl-1", "online": True})  # nothing audited yet
    _actions(journal, 3)
    journal.append(EventKind.DEVICE_STATUS, payload={"device": "ctrl-1", "online": False})
    journal.append(EventKind.HEALTH_REPORT, payload={"report": {"passed": True}})
    head = journal.audit.head()
    assert head is not None and head.seq == 3
    policy = FieldPolicy(Secret("a community key of enough bytes"))
    pending = [p.event for p in Outbox(journal.connection).pending(10)]
    assert [e.kind for e in pending] == [EventKind.DEVICE_STATUS, EventKind.DEVICE_STATUS, EventKind.HEALTH_REPORT]
    assert "audit_head" not in pending[0].payload
    for event in pending[1:]:
        assert event.payload["audit_head"] == {"seq": 3, "hash": head.hash}
        assert policy.fields_for(event)["audit_head"] == {"seq": 3, "hash": head.hash}  # allowed by default
    # Decisions do not carry it.
    decision = journal.append(EventKind.DECISION, door="gate-1", payload={"result": "granted"})
    assert "audit_head" not in decision.payload


def test_upstream_head_text_and_a_head_retention_removed(journal: Journal) -> None:
    assert str(AuditHead(7, "ab" * 32)) == f"7:{'ab' * 32}"
    assert AuditHead.parse(f" 7:{'AB' * 32} ") == AuditHead(7, "ab" * 32)
    for bad in ("7", f"x:{'ab' * 32}", "7:abc", f"7:{'zz' * 32}"):
        with pytest.raises(InvalidInputError):
            AuditHead.parse(bad)
    _actions(journal, 3)
    assert journal.audit.verify(AuditHead(2, "00" * 32)).problem == (
        "rewritten: entry 2 does not have the hash the county holds")


def _legacy_log(path: Path, *, break_at: int | None = None) -> None:
    """A log as an earlier release wrote it: unkeyed SHA-256 chain, resident ids in clear (rows and events)."""
    conn = open_journal_database(path)
    prev = GENESIS_HASH
    for seq in range(1, 5):
        details = json.dumps({"resident_id": f"res-{seq}"}, separators=(",", ":"), sort_keys=True)
        fields = {"seq": seq, "uuid": f"u-{seq}", "hub_id": "hub-a", "at": "2026-05-01T08:00:00.000Z",
                  "actor": "manager", "action": "resident.add", "details_json": details}
        digest = legacy_entry_hash(prev, **fields)  # type: ignore[arg-type]
        if seq == break_at:
            details = details.replace("res-", "res-edited-")
        conn.execute("INSERT INTO audit_log (seq, uuid, hub_id, at, actor, action, details, prev_hash, hash)"
                     " VALUES (?, ?, 'hub-a', ?, 'manager', 'resident.add', ?, ?, ?)",
                     (seq, f"u-{seq}", fields["at"], details, prev, digest))
        conn.execute("INSERT INTO events (uuid, hub_id, kind, occurred_at, recorded_at, payload)"
                     " VALUES (?, 'hub-a', 'manager_action', ?, ?, ?)",
                     (f"u-{seq}", fields["at"], fields["at"], json.dumps({"actor": "manager", **json.loads(details)})))
        prev = digest
    conn.execute("INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 4, ?)", (prev,))
    conn.execute("UPDATE audit_keying SET state = 'legacy'")
    conn.close()


def test_a_log_an_earlier_release_wrote_is_checked_then_converted_once(path: Path) -> None:
    _legacy_log(path)
    reader = Journal(open_journal_database(path), "hub-a", audit_keys=KEYS.audit)
    assert reader.audit.verify().ok  # before the hub converts it, a reader checks it as it was
    journal = Journal(open_journal_database(path), "hub-a", clock=lambda: NOW, audit_keys=KEYS.audit)
    assert journal.audit.upgrade() is True
    assert journal.audit.upgrade() is False
    entries = journal.audit.entries()
    assert [e.details.get("resident_id") for e in entries[:4]] == [resident_ref(KEYS.audit_ref, f"res-{i}")
                                                                    for i in range(1, 5)]
    assert entries[4].action == "audit.keyed" and entries[4].details == {"rows": 4, "legacy_chain_ok": True}
    verification = reader.audit.verify()
    assert verification.ok and verification.checked == 5
    journal.close()
    reader.close()
    conn = sqlite3.connect(path)
    text = str(conn.execute("SELECT * FROM audit_log").fetchall()) + str(conn.execute("SELECT * FROM events")
                                                                         .fetchall())
    conn.close()
    assert "res-" not in text
    # The trigger is back: the log is append-only again.
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        sqlite3.connect(path).execute("UPDATE audit_log SET actor = 'x' WHERE seq = 1")


def test_converting_a_broken_earlier_log_records_where_it_broke(path: Path) -> None:
    _legacy_log(path, break_at=3)
    journal = Journal(open_journal_database(path), "hub-a", clock=lambda: NOW, audit_keys=KEYS.audit)
    assert not journal.audit.verify().ok  # as the earlier release would have said
    journal.record_manager_action("manager", "resident.add", {"resident_id": "res-9"})  # converts first
    entries = journal.audit.entries()
    assert entries[4].action == "audit.keyed"
    assert entries[4].details == {"rows": 4, "legacy_chain_ok": False, "legacy_first_bad_seq": 3,
                                  "legacy_problem": "row was altered (or its hash made without the key)"}
    assert entries[5].details == {"resident_id": resident_ref(KEYS.audit_ref, "res-9")}
    assert journal.audit.verify().ok


def test_marking_a_converted_log_as_old_again_does_not_get_it_re_hashed(path: Path) -> None:
    _legacy_log(path)
    journal = Journal(open_journal_database(path), "hub-a", clock=lambda: NOW, audit_keys=KEYS.audit)
    assert journal.audit.upgrade() is True
    # Someone edits a row, re-chains everything with plain SHA-256 and marks the log as an earlier release's.
    raw = sqlite3.connect(path)
    raw.row_factory = sqlite3.Row
    rows = raw.execute("SELECT * FROM audit_log ORDER BY seq").fetchall()
    raw.close()
    prev, statements = GENESIS_HASH, []
    for row in rows:
        actor = "someone-else" if row["seq"] == 2 else row["actor"]
        digest = legacy_entry_hash(prev, seq=row["seq"], uuid=row["uuid"], hub_id=row["hub_id"], at=row["at"],
                                   actor=actor, action=row["action"], details_json=row["details"])
        statements.append(f"UPDATE audit_log SET actor = '{actor}', prev_hash = '{prev}', hash = '{digest}'"
                          f" WHERE seq = {row['seq']}")
        prev = digest
    _tamper(path, *statements, f"UPDATE audit_head SET last_hash = '{prev}'",
            "UPDATE audit_keying SET state = 'legacy'")
    assert journal.audit.upgrade() is False  # the next start looks, and sees it was converted before
    result = journal.audit.verify()
    assert not result.ok and result.first_bad_seq == 1

