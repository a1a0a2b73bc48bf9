"""Storage of the county consumer: each event once (keyed by its id), every duplicate delivery counted."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.db import open_database, register_migrations

COMPONENT = "county_consumer"

register_migrations(COMPONENT, ["""
CREATE TABLE county_events (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    hub_id TEXT NOT NULL,
    seq INTEGER,
    type TEXT,
    door TEXT,
    occurred_at TEXT,
    topic TEXT NOT NULL,
    received_at REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX county_events_door ON county_events (hub_id, door, pos);
CREATE TABLE county_hubs (hub_id TEXT PRIMARY KEY, status TEXT NOT NULL, changed_at REAL NOT NULL);
CREATE TABLE county_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)
""", """
CREATE INDEX county_events_hub_seq ON county_events (hub_id, seq)
"""])


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


class CountyStore:
    """Blocking store; the consumer calls it from one executor thread."""

    def __init__(self, path: str | Path) -> None:
        self._conn = open_database(path, components=[COMPONENT])

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def store(self, deliveries: Sequence[Delivery], rejected: int = 0) -> StoreResult:
        """Store deliveries in arrival order in one transaction (committed when this returns)."""
        now = time.time()
        accepted: list[str] = []
        duplicates: list[str] = []
        held: list[str] = []
        with self._transaction():
            for item in deliveries:
                event = item.event
                event_id = str(event["id"])
                if self._conn.execute("SELECT 1 FROM county_events WHERE id = ?", (event_id,)).fetchone():
                    duplicates.append(event_id)
                    continue
                previous = event.get("prev_seq")
                # Each hub's events are stored in its order: one whose predecessor is missing (a broker dropped
                # it) waits; the hub sends it again after the missing one. The predecessor itself must be here,
                # not just something later: a health event the hub sent ahead of its backlog (its priority lane)
                # has a high seq, and must not let a gap behind it through.
                if isinstance(previous, int) and self._conn.execute(
                    "SELECT 1 FROM county_events WHERE hub_id = ? AND seq = ?", (item.hub_id, previous)
                ).fetchone() is None:
                    held.append(event_id)
                    continue
                self._conn.execute(
                    "INSERT INTO county_events (id, hub_id, seq, type, door, occurred_at, topic, "
                    "received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (event_id, item.hub_id, event.get("seq"), event.get("type"), event.get("door"),
                     event.get("occurred_at"), item.topic, now,
                     json.dumps(event, separators=(",", ":"), ensure_ascii=False)),
                )
                accepted.append(event_id)
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
            self._conn.execute("INSERT INTO county_hubs (hub_id, status, changed_at) VALUES (?, ?, ?) "
                               "ON CONFLICT (hub_id) DO UPDATE SET status = excluded.status, "
                               "changed_at = excluded.changed_at", (hub_id, status, time.time()))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _bump(self, name: str, by: int) -> None:
        if by:
            self._conn.execute("INSERT INTO county_counters (name, value) VALUES (?, ?) ON CONFLICT (name) "
                               "DO UPDATE SET value = value + excluded.value", (name, by))

    def list_events(self, after: int, limit: int) -> list[dict[str, Any]]:
        """Stored events in arrival order, after position ``after``."""
        rows = self._conn.execute(
            "SELECT pos, id, hub_id, received_at, topic, body FROM county_events WHERE pos > ? ORDER BY pos "
            "LIMIT ?", (after, limit)).fetchall()
        return [{"pos": row[0], "id": row[1], "hub_id": row[2], "received_at": row[3], "topic": row[4],
                 "event": json.loads(row[5])} for row in rows]

    def stats(self) -> dict[str, Any]:
        """Counts: events stored, duplicate deliveries, rejected messages, hubs by status."""
        counters = {row[0]: row[1] for row in self._conn.execute("SELECT name, value FROM county_counters")}
        (events,) = self._conn.execute("SELECT COUNT(*) FROM county_events").fetchone()
        hubs = {row[0]: row[1] for row in self._conn.execute("SELECT hub_id, status FROM county_hubs")}
        return {"events": int(events), "duplicates": int(counters.get("duplicates", 0)),
                "held_out_of_order": int(counters.get("out_of_order", 0)),
                "rejected": int(counters.get("rejected", 0)), "hubs": hubs}

    def connection(self) -> sqlite3.Connection:
        """The store's connection (tests read it directly)."""
        return self._conn
