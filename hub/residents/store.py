"""Shared plumbing of the registry's stores: one connection, explicit transactions, the clock and audit hook."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime

from hub.exceptions import NotFoundError, StorageError
from hub.privacy.audit import AuditHook, AuditRecord, emit
from hub.privacy.keys import KeyRing

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The default clock; tests pass their own."""
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    """A random id; random rather than sequential so ids say nothing about enrolment order or counts."""
    return f"{prefix}_{uuid.uuid4().hex}"


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` .. ``COMMIT``, rolling back on any error; SQLite errors become StorageError."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as err:
        raise StorageError(f"could not start a transaction: {err}") from err
    try:
        yield conn
    except sqlite3.Error as err:
        conn.execute("ROLLBACK")
        raise StorageError(f"database error: {err}") from err
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class Store:
    """Base of the registry's stores."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        keys: KeyRing,
        *,
        on_audit: AuditHook | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._conn = conn
        self._keys = keys
        self._on_audit = on_audit
        self._clock = clock

    def _audit(self, actor: str, action: str, at: datetime, details: Mapping[str, object]) -> AuditRecord:
        return emit(self._on_audit, AuditRecord(actor=actor, action=action, at=at, details=dict(details)))

    def _require_resident(self, conn: sqlite3.Connection, resident_id: str) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM residents WHERE resident_id = ?", (resident_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no resident {resident_id!r}")
        assert isinstance(row, sqlite3.Row)
        return row
