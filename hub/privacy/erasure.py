"""Erasure of a resident: templates, photos, credentials, passes, consent records, rule memberships, access
history, vehicles, vehicle invitations and vehicle pass records go in one transaction (with the journal's copies,
when the caller passes ``also_erase``); what remains is a tombstone (a keyed hash of the id, the receipt id and hash).

Deleted rows are overwritten (``PRAGMA secure_delete``, on for every connection the hub opens) and the WAL is
checkpointed and truncated to zero bytes, so the person's data does not linger in free pages of the database file
or in old page images of the WAL either. The audit log names the person only by their audit pseudonym.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime

from hub.db import checkpoint_truncate, has_table
from hub.exceptions import NotFoundError
from hub.journal.audit import resident_ref
from hub.privacy.audit import AuditHook, AuditRecord, emit
from hub.privacy.keys import KeyRing
from hub.privacy.tombstone import tombstone_ref
from hub.residents import validation as v
from hub.residents.store import new_id, transaction

_LOGGER = logging.getLogger(__name__)

# More of the person's rows, erased in the same transaction (the journal's): returns counts per kind.
AlsoErase = Callable[[sqlite3.Connection, str], Mapping[str, int]]
# Held around the WAL checkpoint: keeps the caller's own reader connections from starting a read meanwhile.
ReadersPaused = Callable[[], AbstractContextManager[object]]


@dataclass(frozen=True)
class ErasureReceipt:
    """Proof of an erasure, to hand to the person or the regulator.

    ``receipt_hash`` is SHA-256 over the canonical JSON of the other fields; the hub keeps only the id and the
    hash, so the holder of the receipt can prove it is genuine while the hub no longer knows whose it is.
    """

    receipt_id: str
    resident_id: str
    erased_at: datetime
    erased: dict[str, int]
    receipt_hash: str

    def canonical(self) -> str:
        """The exact text the hash covers."""
        return canonical_receipt(self.receipt_id, self.resident_id, self.erased_at, self.erased)


def canonical_receipt(receipt_id: str, resident_id: str, erased_at: datetime, erased: dict[str, int]) -> str:
    """Canonical JSON of a receipt's content (sorted keys, no spaces)."""
    return json.dumps(
        {"receipt_id": receipt_id, "resident_id": resident_id, "erased_at": v.to_db(erased_at), "erased": erased},
        sort_keys=True,
        separators=(",", ":"),
    )



def _delete(conn: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> int:
    return conn.execute(sql, params).rowcount


def _erase_rows(conn: sqlite3.Connection, resident_id: str) -> dict[str, int]:
    """Delete everything about one resident; returns counts per kind of data."""
    pass_ids = [r[0] for r in conn.execute("SELECT pass_id FROM visitor_passes WHERE issued_by = ?", (resident_id,))]
    erased = {
        "face_templates": _delete(conn, "DELETE FROM face_templates WHERE resident_id = ?", (resident_id,)),
        "enrolment_photos": _delete(conn, "DELETE FROM enrolment_photos WHERE resident_id = ?", (resident_id,)),
        "cards": _delete(conn, "DELETE FROM cards WHERE resident_id = ?", (resident_id,)),
        "pins": _delete(conn, "DELETE FROM pins WHERE resident_id = ?", (resident_id,)),
        "visitor_passes": len(pass_ids),
        "consents": _delete(conn, "DELETE FROM consents WHERE resident_id = ?", (resident_id,)),
        "access_attempts": 0,
        "rule_memberships": 0,
    }
    if has_table(conn, "access_attempts"):
        subjects = [resident_id, *(f"pass:{p}" for p in pass_ids)]
        marks = ",".join("?" * len(pass_ids)) or "NULL"
        erased["access_attempts"] = _delete(
            conn,
            f"DELETE FROM access_attempts WHERE resident_id = ? OR pass_id IN ({marks})",
            (resident_id, *pass_ids),
        )
        conn.execute(f"DELETE FROM passback_state WHERE subject IN ({','.join('?' * len(subjects))})", tuple(subjects))
        if has_table(conn, "pin_throttle"):
            conn.execute("DELETE FROM pin_throttle WHERE scope = 'account' AND key = ?", (resident_id,))
        erased["rule_memberships"] = _delete(conn, "DELETE FROM rule_residents WHERE resident_id = ?", (resident_id,))
    if has_table(conn, "resident_vehicles"):
        erased.update(_erase_vehicles(conn, resident_id))
    conn.execute("DELETE FROM visitor_passes WHERE issued_by = ?", (resident_id,))  # pass_doors cascade
    conn.execute("DELETE FROM residents WHERE resident_id = ?", (resident_id,))
    return erased


def _erase_vehicles(conn: sqlite3.Connection, resident_id: str) -> dict[str, int]:
    """The resident's vehicles, the vehicles they invited, and the pass records naming them (hub.vehicles)."""
    return {
        "vehicles": _delete(conn, "DELETE FROM resident_vehicles WHERE resident_id = ?", (resident_id,)),
        "vehicle_invitations": _delete(conn, "DELETE FROM visitor_vehicles WHERE resident_id = ?", (resident_id,)),
        "vehicle_passes": _delete(conn, "DELETE FROM vehicle_passes WHERE resident_id = ? OR invited_by = ?",
                                  (resident_id, resident_id)),
    }


def remove_unfinished_import(
    conn: sqlite3.Connection, actor: str, import_id: str, *, limit: int, now: datetime,
    on_audit: AuditHook | None = None,
) -> int:
    """Take out up to ``limit`` residents an unfinished bulk import wrote, in one transaction; returns how many.

    Their rows are deleted as an erasure deletes them (overwritten on disk), without a tombstone: the import
    never finished, so its ids stay free for the corrected file. Once none are left the import's row goes too.
    One audit record per call names the import and the count (never the people).
    """
    previous = conn.execute("PRAGMA secure_delete").fetchone()[0]
    conn.execute("PRAGMA secure_delete = ON")
    try:
        with transaction(conn):
            members = [r[0] for r in conn.execute(
                "SELECT resident_id FROM resident_import_members WHERE import_id = ? ORDER BY resident_id LIMIT ?",
                (import_id, limit),
            )]
            for resident_id in members:
                if conn.execute("SELECT 1 FROM residents WHERE resident_id = ?", (resident_id,)).fetchone():
                    _erase_rows(conn, resident_id)
            conn.executemany(
                "DELETE FROM resident_import_members WHERE import_id = ? AND resident_id = ?",
                [(import_id, r) for r in members],
            )
            if not members:
                conn.execute("DELETE FROM resident_imports WHERE import_id = ?", (import_id,))
    finally:
        conn.execute(f"PRAGMA secure_delete = {int(previous)}")
    if members:
        emit(on_audit, AuditRecord(actor, "resident.remove_import", now,
                                   {"import_id": import_id, "residents": len(members)}))
    return len(members)


def erase_resident(
    conn: sqlite3.Connection,
    keys: KeyRing,
    actor: str,
    resident_id: str,
    *,
    now: datetime,
    on_audit: AuditHook | None = None,
    also_erase: AlsoErase | None = None,
    readers_paused: ReadersPaused = nullcontext,
) -> ErasureReceipt:
    """Erase a resident and everything held about them; returns the receipt.

    ``also_erase(conn, resident_id)`` runs inside the erasure's transaction (the journal's part); its counts join
    the receipt's. After the COMMIT the WAL is checkpointed and truncated while ``readers_paused()`` is held.
    """
    actor = v.actor(actor)
    resident_id = v.identifier(resident_id, "resident_id")
    now = v.aware_datetime(now, "now")
    previous = conn.execute("PRAGMA secure_delete").fetchone()[0]
    conn.execute("PRAGMA secure_delete = ON")
    try:
        with transaction(conn):
            if conn.execute("SELECT 1 FROM residents WHERE resident_id = ?", (resident_id,)).fetchone() is None:
                raise NotFoundError(f"no resident {resident_id!r}")
            erased = _erase_rows(conn, resident_id)
            if also_erase is not None:
                erased.update(also_erase(conn, resident_id))
            receipt_id = new_id("erasure")
            digest = hashlib.sha256(canonical_receipt(receipt_id, resident_id, now, erased).encode()).hexdigest()
            subject_ref = tombstone_ref(keys.tombstone, resident_id)
            conn.execute(
                "INSERT INTO resident_tombstones (receipt_id, subject_ref, erased_at, receipt_hash) VALUES (?,?,?,?)",
                (receipt_id, subject_ref, v.to_db(now), digest),
            )
        # Old page images of the deleted rows sit in the WAL until a checkpoint copies the overwritten pages back
        # into the file and the WAL is cut to zero bytes; a reader still on an older snapshot would keep it.
        with readers_paused():
            if not checkpoint_truncate(conn):
                _LOGGER.warning("erasure %s: a reader kept the WAL busy; old pages stay there until the next"
                                " checkpoint", receipt_id)
    finally:
        conn.execute(f"PRAGMA secure_delete = {int(previous)}")
    receipt = ErasureReceipt(receipt_id, resident_id, now, erased, digest)
    # The audit log is append-only and outlives the erasure, so it gets keyed references, not the id: the
    # tombstone's, and the audit pseudonym the person's earlier entries carry (so the log tells the whole story).
    emit(
        on_audit,
        AuditRecord(
            actor, "resident.erase", now,
            {"resident_ref": resident_ref(keys.audit_ref, resident_id), "subject_ref": subject_ref,
             "receipt_id": receipt_id, "erased": dict(erased)},
        ),
    )
    return receipt


def verify_receipt(conn: sqlite3.Connection, receipt: ErasureReceipt) -> bool:
    """Whether the hub holds a tombstone matching this receipt (and the receipt's hash matches its content)."""
    digest = hashlib.sha256(receipt.canonical().encode()).hexdigest()
    row = conn.execute(
        "SELECT receipt_hash FROM resident_tombstones WHERE receipt_id = ?", (receipt.receipt_id,)
    ).fetchone()
    return row is not None and row[0] == digest == receipt.receipt_hash
