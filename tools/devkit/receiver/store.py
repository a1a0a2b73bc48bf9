"""Storage of the reference receiver: each event once (keyed by its UUID), seen nonces, simple counters."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.db import open_database, register_migrations

COMPONENT = "uplink_receiver"
NONCE_TTL_S = 900  # longer than the accepted clock skew on both sides, so a replay inside the window is caught

register_migrations(COMPONENT, ["""
CREATE TABLE received_events (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    hub_id TEXT NOT NULL,
    seq INTEGER,
    type TEXT,
    door TEXT,
    occurred_at TEXT,
    received_at REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX received_events_door ON received_events (hub_id, door, pos);
CREATE TABLE seen_nonces (nonce TEXT PRIMARY KEY, seen_at REAL NOT NULL);
CREATE TABLE receiver_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)
""", """
ALTER TABLE received_events ADD COLUMN door_name TEXT
"""])


class ReplayedNonceError(Exception):
    """The request's nonce was seen before."""


@dataclass(frozen=True, kw_only=True)
class IngestResult:
    """Per-request outcome."""

    accepted: list[str]
    duplicates: list[str]
    rejected: list[dict[str, str]]


class ReceiverStore:
    """Blocking store; the receiver calls it from one executor thread."""

    def __init__(self, path: str | Path) -> None:
        self._conn = open_database(path, components=[COMPONENT])
        self._last_prune = 0.0

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def ingest(self, hub_id: str, nonce: str, events: Sequence[Any]) -> IngestResult:
        """Store a batch and its nonce in one transaction; a replayed nonce stores nothing."""
        now = time.time()
        accepted: list[str] = []
        duplicates: list[str] = []
        rejected: list[dict[str, str]] = []
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            if now - self._last_prune > 60:
                self._conn.execute("DELETE FROM seen_nonces WHERE seen_at < ?", (now - NONCE_TTL_S,))
                self._last_prune = now
            try:
                self._conn.execute("INSERT INTO seen_nonces (nonce, seen_at) VALUES (?, ?)", (nonce, now))
            except sqlite3.IntegrityError as err:
                raise ReplayedNonceError(nonce) from err
            for event in events:
                problem = _problem(event, hub_id)
                if problem is not None:
                    rejected.append({"id": str(event.get("id", "")) if isinstance(event, dict) else "",
                                     "reason": problem})
                    continue
                cur = self._conn.execute(
                    "INSERT OR IGNORE INTO received_events (id, hub_id, seq, type, door, door_name, occurred_at,"
                    " received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (event["id"], hub_id, event.get("seq"), event.get("type"), event.get("door"),
                     _text(event.get("door_name")), event.get("occurred_at"), now,
                     json.dumps(event, separators=(",", ":"), ensure_ascii=False)),
                )
                (accepted if cur.rowcount == 1 else duplicates).append(event["id"])
            if duplicates:
                self._bump("duplicates", len(duplicates))
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
        return IngestResult(accepted=accepted, duplicates=duplicates, rejected=rejected)

    def nonce_seen(self, nonce: str) -> bool:
        """Whether a stored request already used ``nonce`` (checked before the body is read; :meth:`ingest`
        checks again, in its transaction)."""
        return self._conn.execute("SELECT 1 FROM seen_nonces WHERE nonce = ?", (nonce,)).fetchone() is not None

    def count_rejected_request(self) -> None:
        """Count a request refused before storage (unknown hub, bad signature, stale, replay, too large)."""
        self._conn.execute("BEGIN IMMEDIATE")
        self._bump("rejected_requests", 1)
        self._conn.execute("COMMIT")

    def list_events(self, after: int, limit: int) -> list[dict[str, Any]]:
        """Stored events after position ``after``, in arrival order."""
        rows = self._conn.execute(
            "SELECT pos, id, hub_id, received_at, body FROM received_events WHERE pos > ? ORDER BY pos LIMIT ?",
            (after, limit),
        ).fetchall()
        return [{"pos": r["pos"], "id": r["id"], "hub_id": r["hub_id"], "received_at": r["received_at"],
                 "event": json.loads(r["body"])} for r in rows]

    def stats(self) -> dict[str, int]:
        """Counts for the read API."""
        out = {str(r["name"]): int(r["value"]) for r in self._conn.execute("SELECT * FROM receiver_counters")}
        out["events"] = int(self._conn.execute("SELECT COUNT(*) FROM received_events").fetchone()[0])
        out.setdefault("duplicates", 0)
        out.setdefault("rejected_requests", 0)
        return out

    def _bump(self, name: str, by: int) -> None:
        self._conn.execute(
            "INSERT INTO receiver_counters (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value", (name, by))


def _text(value: Any) -> str | None:
    """A text column's value: the event's text, else nothing (the body keeps the event as sent)."""
    return value if isinstance(value, str) else None


def _problem(event: Any, hub_id: str) -> str | None:
    if not isinstance(event, dict):
        return "not_an_object"
    event_id = event.get("id")
    if not isinstance(event_id, str) or not 8 <= len(event_id) <= 64:
        return "missing_id"
    if event.get("hub_id", hub_id) != hub_id:
        return "hub_mismatch"
    if not isinstance(event.get("type"), str):
        return "missing_type"
    return None
