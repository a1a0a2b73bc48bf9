"""The append-only audit log of manager actions, protected by a SHA-256 hash chain.

Each row's hash covers its own fields and the previous row's hash. ``audit_head`` records the newest row so that
deleting the last row is noticed too; ``audit_anchor`` records where the chain starts after retention removed
older rows, so purging keeps the rest verifiable.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import uuid as uuid_module
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .models import from_text, to_text, utc_now
from .query import check_before, check_limit

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    """One manager action as stored."""

    seq: int
    uuid: str
    hub_id: str
    at: datetime
    actor: str
    action: str
    details: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, kw_only=True)
class AuditVerification:
    """The result of checking the chain: ``ok``, how many rows were checked and where it first broke."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None


def entry_hash(prev_hash: str, *, seq: int, uuid: str, hub_id: str, at: str, actor: str, action: str,
               details_json: str) -> str:
    """The chain hash of one row (canonical JSON of its fields after the previous hash)."""
    body = json.dumps([seq, uuid, hub_id, at, actor, action, details_json], separators=(",", ":"),
                      ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def _row_to_entry(r: sqlite3.Row) -> AuditEntry:
    return AuditEntry(seq=int(r["seq"]), uuid=r["uuid"], hub_id=r["hub_id"], at=from_text(r["at"]), actor=r["actor"],
                      action=r["action"], details=json.loads(r["details"]), prev_hash=r["prev_hash"], hash=r["hash"])


class AuditLog:
    """Append and verify the audit log. Appends normally go through :meth:`Journal.record_manager_action`."""

    def __init__(self, conn: sqlite3.Connection, hub_id: str, *, clock: Callable[[], datetime] = utc_now,
                 lock: threading.RLock | None = None) -> None:
        self._conn = conn
        self._hub_id = hub_id
        self._clock = clock
        self._lock = lock or threading.RLock()  # shared with the Journal on the same connection

    def append(self, actor: str, action: str, details: Mapping[str, Any] | None = None) -> AuditEntry:
        """Append one entry in its own transaction (without a journal event)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                entry = self.append_in_transaction(actor=actor, action=action, details=dict(details or {}))
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return entry

    def append_in_transaction(self, *, actor: str, action: str, details: Mapping[str, Any],
                              uuid: str | None = None, at: datetime | None = None) -> AuditEntry:
        """Append inside the caller's open transaction (``BEGIN IMMEDIATE`` serialises concurrent appends)."""
        head = self._conn.execute("SELECT last_seq, last_hash FROM audit_head WHERE id = 1").fetchone()
        prev_hash = str(head["last_hash"]) if head is not None else GENESIS_HASH
        at_text = to_text(at or self._clock())
        entry_uuid = uuid or str(uuid_module.uuid4())
        details_json = json.dumps(dict(details), separators=(",", ":"), sort_keys=True, default=str)
        # The next AUTOINCREMENT value: the hash must include seq, so it is reserved before the insert.
        row = self._conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
        seq = (int(row[0]) if row is not None else 0) + 1
        digest = entry_hash(prev_hash, seq=seq, uuid=entry_uuid, hub_id=self._hub_id, at=at_text, actor=actor,
                            action=action, details_json=details_json)
        self._conn.execute(
            "INSERT INTO audit_log (seq, uuid, hub_id, at, actor, action, details, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, entry_uuid, self._hub_id, at_text, actor, action, details_json, prev_hash, digest),
        )
        self._conn.execute(
            "INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq, last_hash = excluded.last_hash",
            (seq, digest),
        )
        return AuditEntry(seq=seq, uuid=entry_uuid, hub_id=self._hub_id, at=from_text(at_text), actor=actor,
                          action=action, details=json.loads(details_json), prev_hash=prev_hash, hash=digest)

    def entries(self, *, after_seq: int = 0, limit: int = 100) -> list[AuditEntry]:
        """Entries after ``after_seq``, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit)
            ).fetchall()
        return [_row_to_entry(r) for r in rows]

    def entries_desc(self, *, before: int | None = None, limit: int = 50) -> list[AuditEntry]:
        """Up to ``limit`` (1 to 500) entries with ``seq < before`` (all when ``None``), newest first.

        For the panel's pages: pass the last entry's ``seq`` as ``before`` to read the next, older page.
        """
        check_limit(limit)
        check_before(before)
        sql = "SELECT * FROM audit_log"
        params: tuple[int, ...] = (limit,)
        if before is not None:
            sql += " WHERE seq < ?"
            params = (before, limit)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY seq DESC LIMIT ?", params).fetchall()
        return [_row_to_entry(r) for r in rows]

    def verify(self) -> AuditVerification:
        """Walk the whole chain; any edited, inserted or deleted row breaks it."""
        with self._lock:
            # One read transaction, so a concurrent append cannot make a sound chain look broken.
            self._conn.execute("BEGIN")
            try:
                return self._verify()
            finally:
                self._conn.execute("COMMIT")

    def _verify(self) -> AuditVerification:
        anchor = self._conn.execute("SELECT first_seq, prev_hash FROM audit_anchor WHERE id = 1").fetchone()
        head = self._conn.execute("SELECT last_seq, last_hash FROM audit_head WHERE id = 1").fetchone()
        expected_seq = int(anchor["first_seq"]) if anchor is not None else 1
        expected_prev = str(anchor["prev_hash"]) if anchor is not None else GENESIS_HASH
        checked = 0
        for row in self._conn.execute("SELECT * FROM audit_log ORDER BY seq"):
            seq = int(row["seq"])
            if seq != expected_seq:
                return AuditVerification(ok=False, checked=checked, first_bad_seq=expected_seq,
                                         problem=f"row {expected_seq} is missing")
            if row["prev_hash"] != expected_prev:
                return AuditVerification(ok=False, checked=checked, first_bad_seq=seq,
                                         problem="previous-hash link broken")
            digest = entry_hash(expected_prev, seq=seq, uuid=row["uuid"], hub_id=row["hub_id"], at=row["at"],
                                actor=row["actor"], action=row["action"], details_json=row["details"])
            if digest != row["hash"]:
                return AuditVerification(ok=False, checked=checked, first_bad_seq=seq, problem="row was altered")
            checked += 1
            expected_seq = seq + 1
            expected_prev = digest
        last_seq = int(head["last_seq"]) if head is not None else 0
        last_hash = str(head["last_hash"]) if head is not None else GENESIS_HASH
        if expected_seq - 1 != last_seq or expected_prev != last_hash:
            return AuditVerification(ok=False, checked=checked, first_bad_seq=expected_seq,
                                     problem="newest rows are missing")
        return AuditVerification(ok=True, checked=checked)

    def purge_before_in_transaction(self, cutoff: datetime) -> int:
        """Delete entries older than ``cutoff`` inside the caller's transaction, re-anchoring the chain first."""
        keep = self._conn.execute(
            "SELECT seq, prev_hash FROM audit_log WHERE at >= ? ORDER BY seq LIMIT 1", (to_text(cutoff),)
        ).fetchone()
        if keep is not None:
            first_seq, prev_hash = int(keep["seq"]), str(keep["prev_hash"])
        else:
            head = self._conn.execute("SELECT last_seq, last_hash FROM audit_head WHERE id = 1").fetchone()
            if head is None:
                return 0
            first_seq, prev_hash = int(head["last_seq"]) + 1, str(head["last_hash"])
        self._conn.execute(
            "INSERT INTO audit_anchor (id, first_seq, prev_hash) VALUES (1, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET first_seq = excluded.first_seq, prev_hash = excluded.prev_hash",
            (first_seq, prev_hash),
        )
        cur = self._conn.execute("DELETE FROM audit_log WHERE seq < ?", (first_seq,))
        return cur.rowcount
