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


# V2: the property managers' access log (hub/journal/query.py) stays an index range scan at a million events.
# ``result`` and ``resident_id`` are VIRTUAL generated columns over the decision payload (nothing is rewritten;
# json_valid keeps a malformed payload from failing the migration or an insert); every filter combination has an
# index led by ``kind`` and ending in ``seq``, so "newest first, before this cursor" reads the index backwards.
# ``decision_hours`` keeps, per UTC hour of ``occurred_at``, the lowest and highest seq of the decisions in it
# (maintained by triggers), which turns a time window into a seq range that is never too narrow, even for events
# recorded late with an earlier ``occurred_at``. Retention leaves old hours behind: they still bound correctly.
_V2 = """
ALTER TABLE events ADD COLUMN result TEXT
    GENERATED ALWAYS AS (CASE WHEN json_valid(payload) THEN json_extract(payload, '$.result') END) VIRTUAL;

ALTER TABLE events ADD COLUMN resident_id TEXT
    GENERATED ALWAYS AS (CASE WHEN json_valid(payload) THEN json_extract(payload, '$.resident_id') END) VIRTUAL;

CREATE INDEX events_kind_seq ON events (kind, seq);

CREATE INDEX events_kind_door_seq ON events (kind, door, seq);

CREATE INDEX events_kind_door_result_seq ON events (kind, door, result, seq);

CREATE INDEX events_kind_resident_seq ON events (kind, resident_id, seq);

CREATE INDEX events_kind_result_seq ON events (kind, result, seq);

CREATE TABLE decision_hours (
    hour TEXT PRIMARY KEY,
    min_seq INTEGER NOT NULL,
    max_seq INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO decision_hours (hour, min_seq, max_seq)
SELECT substr(occurred_at, 1, 13), MIN(seq), MAX(seq) FROM events WHERE kind = 'decision'
GROUP BY substr(occurred_at, 1, 13);

CREATE TRIGGER events_decision_hours_insert AFTER INSERT ON events
WHEN NEW.kind = 'decision'
BEGIN
    INSERT INTO decision_hours (hour, min_seq, max_seq) VALUES (substr(NEW.occurred_at, 1, 13), NEW.seq, NEW.seq)
    ON CONFLICT (hour) DO UPDATE SET min_seq = min(min_seq, excluded.min_seq),
                                     max_seq = max(max_seq, excluded.max_seq);
END;

CREATE TRIGGER events_decision_hours_update AFTER UPDATE OF kind, occurred_at ON events
WHEN NEW.kind = 'decision'
BEGIN
    INSERT INTO decision_hours (hour, min_seq, max_seq) VALUES (substr(NEW.occurred_at, 1, 13), NEW.seq, NEW.seq)
    ON CONFLICT (hour) DO UPDATE SET min_seq = min(min_seq, excluded.min_seq),
                                     max_seq = max(max_seq, excluded.max_seq);
END
"""


def _apply_v2(conn: sqlite3.Connection) -> None:
    """Run V2 statement by statement (its trigger bodies contain ';' too)."""
    for statement in _V2.split(";\n\n"):
        if statement.strip():
            conn.execute(statement)


# The trigger V1 made, as the one-time conversion to the keyed chain (hub/journal/audit.py) re-creates it.
AUDIT_NO_UPDATE_TRIGGER = """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END"""

# V3: the keyed audit chain. ``audit_keying.state`` is ``legacy`` for a log an earlier release wrote (unkeyed
# SHA-256 chain, resident ids in clear) until the hub, which holds the key, converts it once
# (:meth:`hub.journal.audit.AuditLog.upgrade_in_transaction`); an empty log starts ``keyed``. ``audit_anchor.mac``
# authenticates where retention cut the chain, so the anchor cannot be moved to hide the oldest rows.
_V3 = (
    "ALTER TABLE audit_anchor ADD COLUMN mac TEXT",
    "CREATE TABLE audit_keying (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " state TEXT NOT NULL CHECK (state IN ('legacy', 'keyed')), changed_at TEXT NOT NULL)",
    "INSERT INTO audit_keying (id, state, changed_at) SELECT 1,"
    " CASE WHEN EXISTS (SELECT 1 FROM audit_log) THEN 'legacy' ELSE 'keyed' END,"
    " strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
)


def _apply_v3(conn: sqlite3.Connection) -> None:
    for statement in _V3:
        conn.execute(statement)


# V4: the priority lane. Health events (a device going down or back, a problem opened, acknowledged or resolved, the
# weekly report) are sent before the backlog of access events queued ahead of them, so the county hears of an outage
# within seconds even behind hours of queued decisions. ``priority`` is 1 for those rows, 0 for the rest; within a
# priority the order stays ``seq``, so events of one door keep their order. A trigger sets the priority from the
# event's kind (``hub.journal.models.PRIORITY_KINDS``) whoever writes the row, so appending costs nothing more for
# access events and software that does not know the column still queues health events in the lane; rows queued
# before the upgrade get theirs from their event's kind.
_V4 = (
    "ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX outbox_pending_priority ON outbox (priority DESC, seq) WHERE sent_at IS NULL AND failed_at IS NULL",
    "UPDATE outbox SET priority = 1 WHERE seq IN"
    " (SELECT seq FROM events WHERE kind IN ('device_status', 'device_problem', 'health_report'))",
    "CREATE TRIGGER outbox_priority AFTER INSERT ON outbox"
    " WHEN EXISTS (SELECT 1 FROM events WHERE seq = NEW.seq"
    " AND kind IN ('device_status', 'device_problem', 'health_report'))"
    " BEGIN UPDATE outbox SET priority = 1 WHERE seq = NEW.seq; END",
)


def _apply_v4(conn: sqlite3.Connection) -> None:
    for statement in _V4:
        conn.execute(statement)


# V5: the rows set aside as refused, counted by the uplink worker's status each time it finds the outbox empty (after
# every event at a quiet gate). Without this index that count read the whole outbox, every row sent in the retention
# period: 19 ms at 200,000 rows on the development machine, per event.
_V5 = ("CREATE INDEX outbox_failed ON outbox (seq) WHERE failed_at IS NOT NULL",)


def _apply_v5(conn: sqlite3.Connection) -> None:
    for statement in _V5:
        conn.execute(statement)


register_migrations(COMPONENT, [_apply_v1, _apply_v2, _apply_v3, _apply_v4, _apply_v5])
