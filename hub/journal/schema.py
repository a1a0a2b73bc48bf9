"""Tables of the ``journal`` component: events, their outbox rows, kept snapshots and the audit log.

``events.seq`` is AUTOINCREMENT so a sequence number is never reused, even after retention deletes the newest
rows. The audit log refuses UPDATE and DELETE through triggers; the only deletions allowed are those at or below
the anchor that :func:`hub.journal.retention.purge_expired` writes first, so the hash chain stays verifiable.
"""

import sqlite3

from hub.db import register_migrations

COMPONENT = "journal"

_V1 = """
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    hub_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    door TEXT,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    payload TEXT NOT NULL
);

CREATE INDEX events_occurred_at ON events (occurred_at);

CREATE INDEX events_door ON events (door, seq);

CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY REFERENCES events (seq) ON DELETE CASCADE,
    queued_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at TEXT,
    failed_at TEXT,
    failure TEXT
);

CREATE INDEX outbox_pending ON outbox (seq) WHERE sent_at IS NULL AND failed_at IS NULL;

CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_uuid TEXT,
    taken_at TEXT NOT NULL,
    path TEXT,
    data BLOB
);

CREATE INDEX snapshots_taken_at ON snapshots (taken_at);

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    hub_id TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE audit_anchor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    first_seq INTEGER NOT NULL,
    prev_hash TEXT NOT NULL
);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN NOT EXISTS (SELECT 1 FROM audit_anchor WHERE OLD.seq < first_seq)
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END
"""


def _apply_v1(conn: sqlite3.Connection) -> None:
    """Run V1 statement by statement: trigger bodies contain ';', so the plain string form would split them."""
    for statement in _V1.split(";\n\n"):
        if statement.strip():
            conn.execute(statement)


register_migrations(COMPONENT, [_apply_v1])
