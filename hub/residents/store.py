"""Shared plumbing of the registry's stores: one connection, explicit transactions, the clock and audit hook."""

from __future__ import annotations

import itertools
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
    """``BEGIN IMMEDIATE`` .. ``COMMIT``, rolling back on any error; SQLite errors become StorageError.

    Transactions nest: inside a transaction that is already open (``conn.in_transaction``) this opens a
    ``SAVEPOINT`` instead, which is released on success and rolled back to on error, so a failing inner step
    undoes only its own writes when the caller catches the error, and nothing is durable until the outermost
    ``COMMIT``. That is how a bulk action wraps many single-record actions in one transaction.
    """
    if conn.in_transaction:
        with _savepoint(conn):
            yield conn
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as err:
        raise StorageError(f"could not start a transaction: {err}") from err
    try:
        yield conn
    except sqlite3.Error as err:
        _undo(conn, "ROLLBACK")
        raise StorageError(f"database error: {err}") from err
    except BaseException:
        _undo(conn, "ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as err:
        _undo(conn, "ROLLBACK")
        raise StorageError(f"could not commit: {err}") from err


_savepoints = itertools.count(1)


@contextmanager
def _savepoint(conn: sqlite3.Connection) -> Iterator[None]:
    """A nested step of an open transaction (see :func:`transaction`)."""
    name = f"sp_{next(_savepoints)}"
    try:
        conn.execute(f"SAVEPOINT {name}")
    except sqlite3.Error as err:
        raise StorageError(f"could not start a nested transaction: {err}") from err
    try:
        yield
    except sqlite3.Error as err:
        _undo(conn, f"ROLLBACK TO SAVEPOINT {name}", f"RELEASE SAVEPOINT {name}")
        raise StorageError(f"database error: {err}") from err
    except BaseException:
        _undo(conn, f"ROLLBACK TO SAVEPOINT {name}", f"RELEASE SAVEPOINT {name}")
        raise
    try:
        conn.execute(f"RELEASE SAVEPOINT {name}")
    except sqlite3.Error as err:
        _undo(conn, f"ROLLBACK TO SAVEPOINT {name}", f"RELEASE SAVEPOINT {name}")
        raise StorageError(f"database error: {err}") from err


def _undo(conn: sqlite3.Connection, *statements: str) -> None:
    """Roll back after an error. SQLite may already have rolled the whole transaction back on its own (a full
    disk, an I/O error): then there is nothing left to undo. A rollback that fails is raised (the original
    error is its ``__context__``) rather than leaving the connection silently inside a transaction."""
    for statement in statements:
        if not conn.in_transaction:
            return
        try:
            conn.execute(statement)
        except sqlite3.Error as err:
            raise StorageError(f"could not roll back: {err}") from err


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
