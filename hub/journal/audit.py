"""The append-only audit log of manager actions, protected by a keyed hash chain.

Each row's hash is an HMAC-SHA256, under the community's audit-chain key (:class:`AuditKeys`, derived from the
hub's key file), over its own fields and the previous row's hash: without the key nobody can recompute the chain
after editing, inserting or deleting rows. ``audit_head`` records the newest row so that deleting the last rows is
noticed too; ``audit_anchor`` records where the chain starts after retention removed older rows, so purging
keeps the rest verifiable. The head (seq and hash) also goes upstream with the device-health events, so the
county holds a copy the hub cannot take back: :meth:`AuditLog.verify` given that head reports a truncated or
rewritten log even when the local rows, trigger and head were all made consistent again.

Residents are never named in the stored details: every value under a key in :data:`RESIDENT_KEYS` is replaced by
a keyed pseudonym (:func:`resident_ref`), so the log outlives an erasure without holding the person's id.

A journal written by an earlier release (plain SHA-256 chain, resident ids in clear) is converted once, by the
first keyed append or :meth:`AuditLog.upgrade` (the hub calls it when it opens the database): the old chain is
verified as it was, then every row is pseudonymised and re-hashed with the key in one transaction, and an
``audit.keyed`` entry records how many rows were converted and whether the old chain was intact.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sqlite3
import threading
import uuid as uuid_module
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.exceptions import InvalidInputError

from .models import from_text, to_text, utc_now
from .query import check_before, check_limit
from .schema import AUDIT_NO_UPDATE_TRIGGER

_LOGGER = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64

# Detail keys whose values name a resident: stored as their keyed pseudonym, never in clear.
RESIDENT_KEYS: frozenset[str] = frozenset({"resident_id", "issued_by", "resident_ids", "close_to"})
RESIDENT_REF_PREFIX = "a1_"
SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class AuditKeys:
    """The audit log's two keys: ``ref`` makes the resident pseudonyms, ``chain`` keys the hash chain."""

    ref: bytes = field(repr=False)
    chain: bytes = field(repr=False)


def resident_ref(key: bytes, resident_id: str) -> str:
    """A resident's pseudonym in the audit log: short, stable per community, not reversible without the key."""
    mac = hmac.new(key, b"audit-resident:v1:" + resident_id.encode(), hashlib.sha256)
    return RESIDENT_REF_PREFIX + mac.hexdigest()[:20]


def pseudonymise(key: bytes, details: Mapping[str, Any]) -> dict[str, Any]:
    """``details`` with every value that names a resident (see :data:`RESIDENT_KEYS`) replaced by its ref."""
    out: dict[str, Any] = {}
    for name, value in details.items():
        if name in RESIDENT_KEYS and isinstance(value, str) and value:
            out[name] = resident_ref(key, value)
        elif name in RESIDENT_KEYS and isinstance(value, (list, tuple)):
            out[name] = [resident_ref(key, v) if isinstance(v, str) and v else v for v in value]
        else:
            out[name] = value
    return out


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


@dataclass(frozen=True)
class AuditHead:
    """The newest entry of the chain: its seq and hash (what goes upstream, what ``verify`` can be given)."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    def as_dict(self) -> dict[str, Any]:
        """As it goes upstream (the ``audit_head`` field)."""
        return {"seq": self.seq, "hash": self.hash}

    @classmethod
    def parse(cls, text: str) -> AuditHead:
        """``SEQ:HASH`` (decimal seq, 64 lower-case hex digits), as the county's copy shows it."""
        seq_text, sep, digest = str(text).strip().partition(":")
        digest = digest.strip().lower()
        if (not sep or not seq_text.strip().isdigit() or len(digest) != 64
                or any(c not in "0123456789abcdef" for c in digest)):
            raise InvalidInputError("an audit head is SEQ:HASH (a number, then 64 hex digits)")
        return cls(int(seq_text), digest)


@dataclass(frozen=True, kw_only=True)
class AuditVerification:
    """The result of checking the chain: ``ok``, how many rows were checked and where it first broke.

    ``upstream_matched`` is ``None`` when no upstream head was given (or retention already removed that row),
    else whether the local log holds that row with that hash."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    upstream_matched: bool | None = None


def _body(*, seq: int, uuid: str, hub_id: str, at: str, actor: str, action: str, details_json: str) -> bytes:
    return json.dumps([seq, uuid, hub_id, at, actor, action, details_json], separators=(",", ":"),
                      ensure_ascii=False).encode()


def entry_hash(key: bytes, prev_hash: str, *, seq: int, uuid: str, hub_id: str, at: str, actor: str, action: str,
               details_json: str) -> str:
    """The chain hash of one row: HMAC-SHA256 under the audit-chain key over the previous hash and the row's
    fields (canonical JSON)."""
    body = _body(seq=seq, uuid=uuid, hub_id=hub_id, at=at, actor=actor, action=action, details_json=details_json)
    return hmac.new(key, prev_hash.encode() + b"\n" + body, hashlib.sha256).hexdigest()


def legacy_entry_hash(prev_hash: str, *, seq: int, uuid: str, hub_id: str, at: str, actor: str, action: str,
                      details_json: str) -> str:
    """The unkeyed SHA-256 chain hash earlier releases wrote (only to check such a log before converting it)."""
    body = _body(seq=seq, uuid=uuid, hub_id=hub_id, at=at, actor=actor, action=action, details_json=details_json)
    return hashlib.sha256(prev_hash.encode() + b"\n" + body).hexdigest()


def anchor_mac(key: bytes, first_seq: int, prev_hash: str) -> str:
    """Authenticates the retention anchor (where the chain starts after a purge) under the audit-chain key."""
    return hmac.new(key, f"audit-anchor:v1:{first_seq}:{prev_hash}".encode(), hashlib.sha256).hexdigest()


def _details_text(details: Mapping[str, Any]) -> str:
    return json.dumps(dict(details), separators=(",", ":"), sort_keys=True, default=str)


def _row_to_entry(r: sqlite3.Row) -> AuditEntry:
    return AuditEntry(seq=int(r["seq"]), uuid=r["uuid"], hub_id=r["hub_id"], at=from_text(r["at"]), actor=r["actor"],
                      action=r["action"], details=json.loads(r["details"]), prev_hash=r["prev_hash"], hash=r["hash"])


class AuditLog:
    """Append and verify the audit log. Appends normally go through :meth:`Journal.record_manager_action`.

    ``keys`` (the community's :class:`AuditKeys`) is needed to append and to verify, and by retention's purge to
    authenticate the anchor it writes (without them the anchor has no mac and a keyed log then fails verify).
    """

    def __init__(self, conn: sqlite3.Connection, hub_id: str, *, keys: AuditKeys | None = None,
                 clock: Callable[[], datetime] = utc_now, lock: threading.RLock | None = None) -> None:
        self._conn = conn
        self._hub_id = hub_id
        self._keys = keys
        self._clock = clock
        self._lock = lock or threading.RLock()  # shared with the Journal on the same connection

    def _require_keys(self) -> AuditKeys:
        if self._keys is None:
            raise RuntimeError("the audit log needs the community's audit keys (KeyRing.audit)")
        return self._keys

    def pseudonymise(self, details: Mapping[str, Any]) -> dict[str, Any]:
        """``details`` as the log stores them: residents named by their ref (see :func:`pseudonymise`)."""
        return pseudonymise(self._require_keys().ref, details)

    def ref(self, resident_id: str) -> str:
        """The pseudonym this community's audit log gives ``resident_id``."""
        return resident_ref(self._require_keys().ref, resident_id)

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
        """Append inside the caller's open transaction (``BEGIN IMMEDIATE`` serialises concurrent appends).

        The details are pseudonymised here (residents named by their ref); a log an earlier release wrote is
        converted first (see :meth:`upgrade_in_transaction`)."""
        keys = self._require_keys()
        if self._state() == "legacy":
            self.upgrade_in_transaction()
        details_json = _details_text(pseudonymise(keys.ref, details))
        return self._insert(keys, actor=actor, action=action, details_json=details_json, uuid=uuid, at=at)

    def _insert(self, keys: AuditKeys, *, actor: str, action: str, details_json: str, uuid: str | None,
                at: datetime | None) -> AuditEntry:
        head = self.head_in_transaction()
        prev_hash = head.hash if head is not None else GENESIS_HASH
        at_text = to_text(at or self._clock())
        entry_uuid = uuid or str(uuid_module.uuid4())
        # The next AUTOINCREMENT value: the hash must include seq, so it is reserved before the insert.
        row = self._conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
        seq = (int(row[0]) if row is not None else 0) + 1
        digest = entry_hash(keys.chain, prev_hash, seq=seq, uuid=entry_uuid, hub_id=self._hub_id, at=at_text,
                            actor=actor, action=action, details_json=details_json)
        self._conn.execute(
            "INSERT INTO audit_log (seq, uuid, hub_id, at, actor, action, details, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, entry_uuid, self._hub_id, at_text, actor, action, details_json, prev_hash, digest),
        )
        self._set_head(seq, digest)
        return AuditEntry(seq=seq, uuid=entry_uuid, hub_id=self._hub_id, at=from_text(at_text), actor=actor,
                          action=action, details=json.loads(details_json), prev_hash=prev_hash, hash=digest)

    def _set_head(self, seq: int, digest: str) -> None:
        self._conn.execute(
            "INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq, last_hash = excluded.last_hash",
            (seq, digest),
        )

    def head_in_transaction(self) -> AuditHead | None:
        """The newest entry's seq and hash as ``audit_head`` records it (``None``: nothing appended yet)."""
        head = self._conn.execute("SELECT last_seq, last_hash FROM audit_head WHERE id = 1").fetchone()
        return AuditHead(int(head["last_seq"]), str(head["last_hash"])) if head is not None else None

    def head(self) -> AuditHead | None:
        """:meth:`head_in_transaction` under the journal's lock."""
        with self._lock:
            return self.head_in_transaction()

    def _state(self) -> str:
        row = self._conn.execute("SELECT state FROM audit_keying WHERE id = 1").fetchone()
        # No row: the table was made by this release's migration on an empty log, or someone deleted it; either
        # way only a keyed chain verifies.
        return str(row[0]) if row is not None else "keyed"

    def upgrade(self) -> bool:
        """Convert a log an earlier release wrote (in its own transaction); ``False`` when it already was."""
        self._require_keys()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                converted = self._state() == "legacy" and self.upgrade_in_transaction() >= 0
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return converted

    def upgrade_in_transaction(self) -> int:
        """Inside the caller's transaction: check the unkeyed chain an earlier release wrote, then pseudonymise
        every row's details (and the journal copies of manager actions) and re-hash the chain with the key.

        The result of the old check goes into the log itself, as an ``audit.keyed`` entry (rows converted,
        whether the old chain was intact, where it first broke), so converting never hides an earlier break.
        A log that holds an ``audit.keyed`` entry was converted before and is never re-hashed (-1). Returns how
        many rows were converted."""
        keys = self._require_keys()
        if self._conn.execute("SELECT 1 FROM audit_log WHERE action = 'audit.keyed' LIMIT 1").fetchone():
            # Converted before: someone marked the log as an earlier release's again (to have it re-hashed). Keep
            # the rows as they are, so verify shows whatever was done to them.
            self._conn.execute("UPDATE audit_keying SET state = 'keyed', changed_at = ? WHERE id = 1",
                               (to_text(self._clock()),))
            _LOGGER.warning("the audit log, converted to a keyed chain before, was marked as unconverted again:"
                            " left as it is (verify it)")
            return -1
        legacy = self._walk(None)
        anchor = self._conn.execute("SELECT first_seq, prev_hash FROM audit_anchor WHERE id = 1").fetchone()
        prev = str(anchor["prev_hash"]) if anchor is not None else GENESIS_HASH
        rows = self._conn.execute("SELECT * FROM audit_log ORDER BY seq").fetchall()
        self._conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        for row in rows:
            details_json = _details_text(pseudonymise(keys.ref, json.loads(row["details"])))
            digest = entry_hash(keys.chain, prev, seq=int(row["seq"]), uuid=row["uuid"], hub_id=row["hub_id"],
                                at=row["at"], actor=row["actor"], action=row["action"], details_json=details_json)
            self._conn.execute("UPDATE audit_log SET details = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                               (details_json, prev, digest, int(row["seq"])))
            prev = digest
        self._conn.execute(AUDIT_NO_UPDATE_TRIGGER)
        if rows:
            self._set_head(int(rows[-1]["seq"]), prev)
        if anchor is not None:
            self._conn.execute("UPDATE audit_anchor SET mac = ? WHERE id = 1",
                               (anchor_mac(keys.chain, int(anchor["first_seq"]), str(anchor["prev_hash"])),))
        events = self._conn.execute("SELECT seq, payload FROM events WHERE kind = 'manager_action'").fetchall()
        for event in events:
            payload = json.loads(event["payload"])
            safe = pseudonymise(keys.ref, payload)
            if safe != payload:
                self._conn.execute("UPDATE events SET payload = ? WHERE seq = ?", (_details_text(safe), event["seq"]))
        self._conn.execute("UPDATE audit_keying SET state = 'keyed', changed_at = ? WHERE id = 1",
                           (to_text(self._clock()),))
        report: dict[str, Any] = {"rows": len(rows), "legacy_chain_ok": legacy.ok}
        if not legacy.ok:
            report.update(legacy_first_bad_seq=legacy.first_bad_seq, legacy_problem=legacy.problem)
        self._insert(keys, actor=SYSTEM_ACTOR, action="audit.keyed", details_json=_details_text(report), uuid=None,
                     at=None)
        return len(rows)

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

    def verify(self, upstream_head: AuditHead | None = None) -> AuditVerification:
        """Walk the whole chain with the key; any edited, inserted or deleted row breaks it.

        Given ``upstream_head`` (the head the county received), the log must also hold that row with that hash:
        deleting the newest rows and making the head, the trigger and the chain agree again cannot pass."""
        keys = self._require_keys()
        with self._lock:
            # One read transaction, so a concurrent append cannot make a sound chain look broken.
            self._conn.execute("BEGIN")
            try:
                # Not converted yet (a reader may open the file before the hub does): check it as it was.
                result = self._walk(None) if self._state() == "legacy" else self._walk(keys.chain)
                if result.ok and upstream_head is not None:
                    return self._check_upstream(result, upstream_head)
                return result
            finally:
                self._conn.execute("COMMIT")

    def _check_upstream(self, result: AuditVerification, upstream: AuditHead) -> AuditVerification:
        row = self._conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (upstream.seq,)).fetchone()
        if row is not None and str(row[0]) == upstream.hash:
            return AuditVerification(ok=True, checked=result.checked, upstream_matched=True)
        anchor = self._conn.execute("SELECT first_seq, prev_hash FROM audit_anchor WHERE id = 1").fetchone()
        if row is None and anchor is not None and upstream.seq < int(anchor["first_seq"]):
            if upstream.seq == int(anchor["first_seq"]) - 1 and str(anchor["prev_hash"]) == upstream.hash:
                return AuditVerification(ok=True, checked=result.checked, upstream_matched=True)
            # Retention removed that row: nothing left here to compare with.
            return AuditVerification(ok=True, checked=result.checked, upstream_matched=None)
        problem = (f"truncated: the county holds entry {upstream.seq}, which this log no longer has" if row is None
                   else f"rewritten: entry {upstream.seq} does not have the hash the county holds")
        return AuditVerification(ok=False, checked=result.checked, first_bad_seq=upstream.seq, problem=problem,
                                 upstream_matched=False)

    def _walk(self, key: bytes | None) -> AuditVerification:
        """Check every row's link and hash: keyed with ``key``, or (``None``) the unkeyed hash of old releases."""
        anchor = self._conn.execute("SELECT first_seq, prev_hash, mac FROM audit_anchor WHERE id = 1").fetchone()
        head = self.head_in_transaction()
        expected_seq = int(anchor["first_seq"]) if anchor is not None else 1
        expected_prev = str(anchor["prev_hash"]) if anchor is not None else GENESIS_HASH
        if key is not None and anchor is not None and not (expected_seq == 1 and expected_prev == GENESIS_HASH):
            mac = anchor["mac"]
            if mac is None or not hmac.compare_digest(str(mac), anchor_mac(key, expected_seq, expected_prev)):
                return AuditVerification(ok=False, checked=0, first_bad_seq=expected_seq,
                                         problem="the retention anchor was moved (or written without the key)")
        checked = 0
        for row in self._conn.execute("SELECT * FROM audit_log ORDER BY seq"):
            seq = int(row["seq"])
            if seq != expected_seq:
                return AuditVerification(ok=False, checked=checked, first_bad_seq=expected_seq,
                                         problem=f"row {expected_seq} is missing")
            if row["prev_hash"] != expected_prev:
                return AuditVerification(ok=False, checked=checked, first_bad_seq=seq,
                                         problem="previous-hash link broken")
            uuid, hub_id, at, actor, action = row["uuid"], row["hub_id"], row["at"], row["actor"], row["action"]
            if key is not None:
                digest = entry_hash(key, expected_prev, seq=seq, uuid=uuid, hub_id=hub_id, at=at, actor=actor,
                                    action=action, details_json=row["details"])
            else:
                digest = legacy_entry_hash(expected_prev, seq=seq, uuid=uuid, hub_id=hub_id, at=at, actor=actor,
                                           action=action, details_json=row["details"])
            if not hmac.compare_digest(digest, str(row["hash"])):
                return AuditVerification(ok=False, checked=checked, first_bad_seq=seq,
                                         problem="row was altered (or its hash made without the key)")
            checked += 1
            expected_seq = seq + 1
            expected_prev = digest
        last_seq = head.seq if head is not None else 0
        last_hash = head.hash if head is not None else GENESIS_HASH
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
        # Authenticated with the chain key (when the log has it), so nobody can move the anchor to hide old rows.
        mac = anchor_mac(self._keys.chain, first_seq, prev_hash) if self._keys is not None else None
        self._conn.execute(
            "INSERT INTO audit_anchor (id, first_seq, prev_hash, mac) VALUES (1, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET first_seq = excluded.first_seq, prev_hash = excluded.prev_hash,"
            " mac = excluded.mac",
            (first_seq, prev_hash, mac),
        )
        cur = self._conn.execute("DELETE FROM audit_log WHERE seq < ?", (first_seq,))
        return cur.rowcount
