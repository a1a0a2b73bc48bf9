"""Tables of the ``access`` component: doors, rules, holidays, the attempt history and anti-passback state.

Resident ids appear here without foreign keys (components migrate independently); erasure deletes them.
"""

from hub.db import register_migrations

COMPONENT = "access"

_V1 = """
CREATE TABLE doors (
    door_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    gate_id TEXT,
    side TEXT CHECK (side IN ('in', 'out')),
    accepts TEXT NOT NULL,
    locked_down INTEGER NOT NULL DEFAULT 0,
    anti_passback INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
CREATE TABLE access_rules (
    rule_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    weekdays TEXT NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    on_holidays INTEGER NOT NULL,
    applies_to_all INTEGER NOT NULL
);
CREATE TABLE rule_doors (
    rule_id TEXT NOT NULL REFERENCES access_rules (rule_id) ON DELETE CASCADE,
    door_id TEXT NOT NULL REFERENCES doors (door_id) ON DELETE CASCADE,
    PRIMARY KEY (rule_id, door_id)
);
CREATE INDEX rule_doors_door ON rule_doors (door_id);
CREATE TABLE rule_residents (
    rule_id TEXT NOT NULL REFERENCES access_rules (rule_id) ON DELETE CASCADE,
    resident_id TEXT NOT NULL,
    PRIMARY KEY (rule_id, resident_id)
);
CREATE INDEX rule_residents_resident ON rule_residents (resident_id);
CREATE TABLE rule_buildings (
    rule_id TEXT NOT NULL REFERENCES access_rules (rule_id) ON DELETE CASCADE,
    building TEXT NOT NULL,
    PRIMARY KEY (rule_id, building)
);
CREATE TABLE holidays (
    day TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE access_attempts (
    attempt_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    door_id TEXT NOT NULL,
    gate_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    resident_id TEXT,
    pass_id TEXT,
    granted INTEGER NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX access_attempts_gate ON access_attempts (gate_key, kind, at);
CREATE INDEX access_attempts_resident ON access_attempts (resident_id, kind, at);
CREATE INDEX access_attempts_at ON access_attempts (at);
CREATE TABLE passback_state (
    subject TEXT NOT NULL,
    gate_id TEXT NOT NULL,
    side TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (subject, gate_id)
)
"""

# Failed PIN checks in a row, per keypad account (key: the resident id) and per keypad (key: the door id); see
# hub/access/pin_throttle.py. Replaces counting PIN failures in access_attempts per gate, which a guesser spreading
# guesses over the community's residents never tripped.
_V2 = """
CREATE TABLE pin_throttle (
    scope TEXT NOT NULL CHECK (scope IN ('account', 'keypad')),
    key TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_failure TEXT,
    locked_until TEXT,
    PRIMARY KEY (scope, key)
)
"""

# Face assurance per door (hub/access/assurance.py): doors stored before levels existed take the secure default,
# a face only with a card or PIN of the same resident. ``face_windows`` is a JSON list of
# {"level", "start": "HH:MM", "end": "HH:MM", "weekdays": "0123456"}.
_V3 = """
ALTER TABLE doors ADD COLUMN face_assurance TEXT NOT NULL DEFAULT 'face_and_second_factor'
    CHECK (face_assurance IN ('face_alone', 'face_and_second_factor', 'face_off'));
ALTER TABLE doors ADD COLUMN face_windows TEXT NOT NULL DEFAULT '[]'
"""

register_migrations(COMPONENT, [_V1, _V2, _V3])
