"""Storage of the county consumer: each event once (keyed by its id), every duplicate delivery counted.

The store is a SQLite file by default, or a PostgreSQL database when given a ``postgresql://`` URL
(:func:`is_postgres_url`). Both run the same statements: the few differences (column types, placeholders, how a
write transaction begins, how the schema is versioned, reconnecting) are the :class:`_Dialect` of each.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

from hub.db import open_database, register_migrations

_Connection = sqlite3.Connection | psycopg.Connection[tuple[Any, ...]]

COMPONENT = "county_consumer"
POSTGRES_SCHEMES = ("postgresql", "postgres")
_INT64 = range(-(1 << 63), 1 << 63)

# Each migration once for both databases; {pos}, {int} and {real} are the dialect's column types.
_MIGRATIONS = ["""
CREATE TABLE county_events (
    pos {pos},
    id TEXT NOT NULL UNIQUE,
    hub_id TEXT NOT NULL,
    seq {int},
    type TEXT,
    door TEXT,
    occurred_at TEXT,
    topic TEXT NOT NULL,
    received_at {real} NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX county_events_door ON county_events (hub_id, door, pos);
CREATE TABLE county_hubs (hub_id TEXT PRIMARY KEY, status TEXT NOT NULL, changed_at {real} NOT NULL);
CREATE TABLE county_counters (name TEXT PRIMARY KEY, value {int} NOT NULL)
""", """
CREATE INDEX county_events_hub_seq ON county_events (hub_id, seq)
""", """
ALTER TABLE county_events ADD COLUMN door_name TEXT
"""]


class StoreError(Exception):
    """The store could not be opened; the message names it without its password."""


def is_postgres_url(target: str | Path) -> bool:
    """Whether ``target`` is a PostgreSQL URL (``postgresql://`` or ``postgres://``) rather than a file path."""
    return isinstance(target, str) and urlsplit(target).scheme.lower() in POSTGRES_SCHEMES and "://" in target


def describe_target(target: str | Path) -> str:
    """``target`` as it may be printed or logged: a URL's password (in its user part or its query) is ``***``."""
    if not is_postgres_url(target):
        return str(target)
    parts = urlsplit(str(target))
    netloc = parts.netloc
    if "@" in netloc:
        user, _, hosts = netloc.rpartition("@")
        if ":" in user:
            user = user.split(":", 1)[0] + ":***"
        netloc = f"{user}@{hosts}"
    query = urlencode([(k, "***" if k == "password" else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)],
                      safe="*/:")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _scrub(message: str, target: str | Path) -> str:
    """An error message with any password of ``target`` replaced (libpq may quote a malformed URL back)."""
    if not is_postgres_url(target):
        return message
    message = message.replace(str(target), describe_target(target))
    passwords: set[object] = {urlsplit(str(target)).password}
    with contextlib.suppress(Exception):
        passwords.add(conninfo_to_dict(str(target)).get("password"))
    for password in passwords:
        if password:
            message = message.replace(str(password), "***")
    return message


@dataclass(frozen=True, kw_only=True)
class _Dialect:
    """What differs between the two databases; every statement of the store is written once, with ``?``."""

    name: str
    types: dict[str, str]
    placeholder: str
    begin: str
    connect: Callable[[str | Path], _Connection]
    broken: Callable[[_Connection], bool]
    errors: tuple[type[Exception], ...]

    def sql(self, statement: str) -> str:
        """``statement`` with this dialect's placeholders."""
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)


def _connect_sqlite(path: str | Path) -> _Connection:
    return open_database(path, components=[COMPONENT])


def _connect_postgres(url: str | Path) -> _Connection:
    params: dict[str, Any] = dict(conninfo_to_dict(str(url)))
    params.setdefault("connect_timeout", 10)
    params.setdefault("application_name", "community-hub county")
    # Autocommit: the store opens its transactions itself (BEGIN ... COMMIT), as on SQLite.
    conn = psycopg.connect(autocommit=True, **params)
    try:
        _migrate_postgres(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _migrate_postgres(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    """Apply the migrations the database has not seen, recorded in ``schema_migrations`` as on SQLite; consumers
    starting together take turns (a transaction-scoped advisory lock), and a failed step leaves nothing behind."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (COMPONENT,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT NOT NULL, version INTEGER NOT "
                     "NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (component, version))")
        row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = %s",
                           (COMPONENT,)).fetchone()
        current = int(row[0]) if row else 0
        if current > len(_MIGRATIONS):
            raise RuntimeError(f"database has {COMPONENT} schema version {current}, newer than this software "
                               f"({len(_MIGRATIONS)})")
        for version in range(current + 1, len(_MIGRATIONS) + 1):
            for statement in _MIGRATIONS[version - 1].format(**POSTGRES.types).split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations (component, version) VALUES (%s, %s)", (COMPONENT, version))


def _postgres_broken(conn: _Connection) -> bool:
    return not isinstance(conn, sqlite3.Connection) and (conn.closed or conn.broken)


SQLITE = _Dialect(name="sqlite", types={"pos": "INTEGER PRIMARY KEY AUTOINCREMENT", "int": "INTEGER", "real": "REAL"},
                  placeholder="?", begin="BEGIN IMMEDIATE", connect=_connect_sqlite, broken=lambda conn: False,
                  errors=(sqlite3.Error, OSError, RuntimeError))
POSTGRES = _Dialect(name="postgresql", types={"pos": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
                                              "int": "BIGINT", "real": "DOUBLE PRECISION"},
                    placeholder="%s", begin="BEGIN", connect=_connect_postgres, broken=_postgres_broken,
                    errors=(psycopg.Error, RuntimeError))

register_migrations(COMPONENT, [migration.format(**SQLITE.types) for migration in _MIGRATIONS])


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """One verified message: its hub, topic and event."""

    hub_id: str
    topic: str
    event: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class StoreResult:
    """What one transaction did: ids stored now, ids already stored (each counted as a duplicate), ids held back
    because the hub's previous event (``prev_seq``) is not stored yet."""

    accepted: list[str]
    duplicates: list[str]
    out_of_order: list[str] = field(default_factory=list)


def _int_column(value: Any) -> int | None:
    """An integer column's value: the event's integer when the column can hold it (a 64-bit integer)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value in _INT64 else None


def _text_column(value: Any) -> str | None:
    """A text column's value (the body keeps the event as sent; PostgreSQL text cannot hold NUL)."""
    return None if value is None else str(value).replace("\x00", "")


class CountyStore:
    """Blocking store; the consumer calls it from one executor thread.

    ``target`` is a SQLite file or a ``postgresql://user:password@host:port/dbname`` URL. On PostgreSQL a broken
    connection (the server restarted) fails the call in progress, and the next call connects again: the consumer
    acknowledged nothing of the failed transaction, so the hubs send it again.
    """

    def __init__(self, target: str | Path) -> None:
        self._target = target
        self._dialect = POSTGRES if is_postgres_url(target) else SQLITE
        self._conn = self._open()

    def __repr__(self) -> str:
        return f"CountyStore({describe_target(self._target)!r})"

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._dialect.name

    def _open(self) -> _Connection:
        try:
            return self._dialect.connect(self._target)
        except self._dialect.errors as err:
            raise StoreError(f"cannot open the county store {describe_target(self._target)}: "
                             f"{_scrub(str(err).strip(), self._target)}") from None

    def _connection(self) -> _Connection:
        if self._dialect.broken(self._conn):
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = self._open()
        return self._conn

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        return self._connection().execute(self._dialect.sql(statement), tuple(params))

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def store(self, deliveries: Sequence[Delivery], rejected: int = 0) -> StoreResult:
        """Store deliveries in arrival order in one transaction (committed when this returns)."""
        now = time.time()
        accepted: list[str] = []
        duplicates: list[str] = []
        held: list[str] = []
        stored_now: set[tuple[str, int]] = set()  # (hub, seq) inserted in this transaction: no query for those
        with self._transaction():
            for item in deliveries:
                event = item.event
                event_id = str(event["id"])
                if self._execute("SELECT 1 FROM county_events WHERE id = ?", (event_id,)).fetchone():
                    duplicates.append(event_id)
                    continue
                previous = event.get("prev_seq")
                # Each hub's events are stored in its order: one whose predecessor is missing (a broker dropped
                # it) waits; the hub sends it again after the missing one. The predecessor itself must be here,
                # not just something later: a health event the hub sent ahead of its backlog (its priority lane)
                # has a high seq, and must not let a gap behind it through.
                if isinstance(previous, int) and (item.hub_id, previous) not in stored_now and (
                        previous not in _INT64 or self._execute(
                            "SELECT 1 FROM county_events WHERE hub_id = ? AND seq = ?", (item.hub_id, previous)
                        ).fetchone() is None):
                    held.append(event_id)
                    continue
                # The id is the unique key: a copy another consumer committed since the check above (PostgreSQL,
                # consumers sharing the database) inserts nothing and is a duplicate too.
                if self._execute(
                    "INSERT INTO county_events (id, hub_id, seq, type, door, door_name, occurred_at, topic, "
                    "received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (id) DO NOTHING RETURNING pos",
                    (event_id, item.hub_id, _int_column(event.get("seq")), _text_column(event.get("type")),
                     _text_column(event.get("door")), _text_column(event.get("door_name")),
                     _text_column(event.get("occurred_at")), item.topic, now,
                     json.dumps(event, separators=(",", ":"), ensure_ascii=False)),
                ).fetchone() is None:
                    duplicates.append(event_id)
                    continue
                accepted.append(event_id)
                if (seq := _int_column(event.get("seq"))) is not None:
                    stored_now.add((item.hub_id, seq))
            self._bump("duplicates", len(duplicates))
            self._bump("out_of_order", len(held))
            self._bump("rejected", rejected)
        return StoreResult(accepted=accepted, duplicates=duplicates, out_of_order=held)

    def count_rejected(self, count: int = 1) -> None:
        """Count messages refused before storage (bad signature, unknown hub, unreadable)."""
        with self._transaction():
            self._bump("rejected", count)

    def hub_status(self, hub_id: str, status: str) -> None:
        """Record a hub's retained status (``online`` / ``offline``)."""
        with self._transaction():
            self._execute("INSERT INTO county_hubs (hub_id, status, changed_at) VALUES (?, ?, ?) "
                          "ON CONFLICT (hub_id) DO UPDATE SET status = excluded.status, "
                          "changed_at = excluded.changed_at", (hub_id, _text_column(status), time.time()))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        conn = self._connection()
        conn.execute(self._dialect.begin)
        try:
            yield
        except BaseException:
            # On a broken connection the ROLLBACK fails too; the error that matters is the first one.
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _bump(self, name: str, by: int) -> None:
        if by:
            self._execute("INSERT INTO county_counters (name, value) VALUES (?, ?) ON CONFLICT (name) "
                          "DO UPDATE SET value = county_counters.value + excluded.value", (name, by))

    def list_events(self, after: int, limit: int) -> list[dict[str, Any]]:
        """Stored events in arrival order, after position ``after``."""
        rows = self._execute(
            "SELECT pos, id, hub_id, received_at, topic, body FROM county_events WHERE pos > ? ORDER BY pos "
            "LIMIT ?", (after, limit)).fetchall()
        return [{"pos": int(row[0]), "id": row[1], "hub_id": row[2], "received_at": float(row[3]),
                 "topic": row[4], "event": json.loads(row[5])} for row in rows]

    def stats(self) -> dict[str, Any]:
        """Counts: events stored, duplicate deliveries, rejected messages, hubs by status."""
        counters = {row[0]: row[1] for row in self._execute("SELECT name, value FROM county_counters").fetchall()}
        (events,) = self._execute("SELECT COUNT(*) FROM county_events").fetchone()
        hubs = {row[0]: row[1] for row in self._execute("SELECT hub_id, status FROM county_hubs").fetchall()}
        return {"events": int(events), "duplicates": int(counters.get("duplicates", 0)),
                "held_out_of_order": int(counters.get("out_of_order", 0)),
                "rejected": int(counters.get("rejected", 0)), "hubs": hubs}

    def connection(self) -> _Connection:
        """The store's connection (``sqlite3`` or ``psycopg``; tests read it directly)."""
        return self._connection()
