"""Tables of the ``health`` component: each device's current state, its online/offline spans, the weekly reports,
the device problems.

Times are stored as fixed-width UTC text (microseconds, ``Z``), so text order is time order in SQL.
"""

from hub.db import register_migrations

COMPONENT = "health"

_V1 = """
CREATE TABLE health_devices (
    device_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    online INTEGER NOT NULL,
    since TEXT NOT NULL
);
CREATE TABLE health_spans (
    span_id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL REFERENCES health_devices (device_id) ON DELETE CASCADE,
    online INTEGER NOT NULL,
    start_at TEXT NOT NULL,
    end_at TEXT
);
CREATE INDEX health_spans_device ON health_spans (device_id, start_at);
CREATE INDEX health_spans_start ON health_spans (start_at);
CREATE INDEX health_spans_end ON health_spans (end_at);
CREATE TABLE health_reports (
    week_start TEXT PRIMARY KEY,
    tz TEXT NOT NULL,
    start_at TEXT NOT NULL,
    end_at TEXT NOT NULL,
    target REAL NOT NULL,
    passed INTEGER NOT NULL,
    generated_at TEXT NOT NULL,
    report TEXT NOT NULL
);
CREATE INDEX health_reports_end ON health_reports (end_at)
"""

# V2: device problems (hub/health/problems.py): opened when a device goes offline, acknowledged by a manager with a
# note, resolved when it is back. At most one unresolved problem per device. Who acknowledged stays in the audit log.
_V2 = """
CREATE TABLE health_problems (
    problem_id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    acknowledged_at TEXT,
    note TEXT,
    resolved_at TEXT
);
CREATE UNIQUE INDEX health_problems_unresolved ON health_problems (device_id) WHERE resolved_at IS NULL;
CREATE INDEX health_problems_opened ON health_problems (opened_at);
CREATE INDEX health_problems_resolved ON health_problems (resolved_at)
"""

# V3: alarms that stay until a manager deals with them. A problem is now one alarm: a device offline (as before) or a
# door's forced-open, held-open or tamper alarm (``device_id`` is then the door's id). ``resolved_at`` stays the time
# the condition ended (the device back, the alarm cleared); ``closed_at`` is when a manager closed the alarm, after
# acknowledging it. Who acknowledged and who closed are the managers' ``Name (id)``, as the audit log names them
# (kept for the panel; never sent upstream). Problems already resolved are closed by the migration.
_V3 = """
ALTER TABLE health_problems ADD COLUMN alarm TEXT NOT NULL DEFAULT 'device_offline';
ALTER TABLE health_problems ADD COLUMN acknowledged_by TEXT;
ALTER TABLE health_problems ADD COLUMN closed_at TEXT;
ALTER TABLE health_problems ADD COLUMN closed_by TEXT;
UPDATE health_problems SET closed_at = resolved_at, closed_by = 'system' WHERE resolved_at IS NOT NULL;
DROP INDEX health_problems_unresolved;
CREATE UNIQUE INDEX health_problems_unresolved ON health_problems (device_id, alarm) WHERE resolved_at IS NULL;
CREATE INDEX health_problems_unclosed ON health_problems (opened_at) WHERE closed_at IS NULL
"""

# V4: blacklisted-vehicle alarms (kind ``vehicle``, ``device_id`` the lane's id): ``subject`` is the plate the alarm
# was raised for, shown to the managers in the panel (never upstream, never in a notification).
_V4 = """
ALTER TABLE health_problems ADD COLUMN subject TEXT
"""

register_migrations(COMPONENT, [_V1, _V2, _V3, _V4])
