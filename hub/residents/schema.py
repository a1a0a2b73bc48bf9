"""Tables of the ``residents`` component. Released migrations are never edited: append new ones."""

import sqlite3

from hub.db import register_migrations

COMPONENT = "residents"

_V1 = """
CREATE TABLE residents (
    resident_id TEXT PRIMARY KEY,
    full_name TEXT NOT NULL,
    household TEXT,
    building TEXT,
    unit TEXT,
    valid_from TEXT,
    valid_until TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    is_minor INTEGER NOT NULL CHECK (is_minor IN (0, 1)),
    guardian TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE consents (
    consent_id TEXT PRIMARY KEY,
    resident_id TEXT NOT NULL REFERENCES residents (resident_id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    given_by TEXT NOT NULL,
    guardian TEXT,
    given_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    withdrawn_at TEXT
);
CREATE INDEX consents_resident ON consents (resident_id);
CREATE TABLE face_templates (
    template_id TEXT PRIMARY KEY,
    resident_id TEXT NOT NULL REFERENCES residents (resident_id) ON DELETE CASCADE,
    consent_id TEXT NOT NULL REFERENCES consents (consent_id) ON DELETE CASCADE,
    key_id TEXT NOT NULL,
    ciphertext BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX face_templates_resident ON face_templates (resident_id);
CREATE TABLE enrolment_photos (
    photo_id TEXT PRIMARY KEY,
    resident_id TEXT NOT NULL REFERENCES residents (resident_id) ON DELETE CASCADE,
    consent_id TEXT NOT NULL REFERENCES consents (consent_id) ON DELETE CASCADE,
    media_type TEXT NOT NULL,
    key_id TEXT NOT NULL,
    ciphertext BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE cards (
    card_id TEXT PRIMARY KEY,
    resident_id TEXT NOT NULL REFERENCES residents (resident_id) ON DELETE CASCADE,
    number_index BLOB NOT NULL,
    hint TEXT NOT NULL,
    added_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE UNIQUE INDEX cards_active_number ON cards (number_index) WHERE revoked_at IS NULL;
CREATE INDEX cards_number ON cards (number_index);
CREATE TABLE pins (
    resident_id TEXT PRIMARY KEY REFERENCES residents (resident_id) ON DELETE CASCADE,
    pin_index BLOB NOT NULL UNIQUE,
    salt BLOB NOT NULL,
    pin_hash BLOB NOT NULL,
    set_at TEXT NOT NULL
);
CREATE TABLE visitor_passes (
    pass_id TEXT PRIMARY KEY,
    issued_by TEXT NOT NULL REFERENCES residents (resident_id) ON DELETE CASCADE,
    visitor_name TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    max_uses INTEGER NOT NULL CHECK (max_uses >= 1),
    uses INTEGER NOT NULL DEFAULT 0,
    revoked_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX visitor_passes_issuer ON visitor_passes (issued_by);
CREATE TABLE pass_doors (
    pass_id TEXT NOT NULL REFERENCES visitor_passes (pass_id) ON DELETE CASCADE,
    door_id TEXT NOT NULL,
    PRIMARY KEY (pass_id, door_id)
);
CREATE TABLE resident_tombstones (
    receipt_id TEXT PRIMARY KEY,
    subject_ref TEXT NOT NULL,
    erased_at TEXT NOT NULL,
    receipt_hash TEXT NOT NULL
)
"""

# A bulk import writes its residents in small transactions (the gates decide in between); these rows say which
# residents an unfinished import wrote, so a failure or a restart can take them out again (all or nothing).
_V2 = """
CREATE TABLE resident_imports (
    import_id TEXT PRIMARY KEY,
    actor TEXT NOT NULL,
    started_at TEXT NOT NULL
);
CREATE TABLE resident_import_members (
    import_id TEXT NOT NULL REFERENCES resident_imports (import_id) ON DELETE CASCADE,
    resident_id TEXT NOT NULL,
    PRIMARY KEY (import_id, resident_id)
)
"""

# The counts the sensors show are kept, not recounted: triggers keep them as rows come and go (a count that grows
# with the community must not be recomputed after every change).
_V3_STATEMENTS = (
    "CREATE TABLE resident_counts (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    "INSERT INTO resident_counts (name, value) SELECT 'residents', COUNT(*) FROM residents",
    "INSERT INTO resident_counts (name, value)"
    " SELECT 'enrolled_faces', COUNT(DISTINCT resident_id) FROM face_templates",
    "CREATE TRIGGER resident_counts_add AFTER INSERT ON residents BEGIN"
    " UPDATE resident_counts SET value = value + 1 WHERE name = 'residents'; END",
    "CREATE TRIGGER resident_counts_remove AFTER DELETE ON residents BEGIN"
    " UPDATE resident_counts SET value = value - 1 WHERE name = 'residents'; END",
    "CREATE TRIGGER resident_counts_first_template AFTER INSERT ON face_templates"
    " WHEN (SELECT COUNT(*) FROM face_templates WHERE resident_id = NEW.resident_id) = 1 BEGIN"
    " UPDATE resident_counts SET value = value + 1 WHERE name = 'enrolled_faces'; END",
    "CREATE TRIGGER resident_counts_last_template AFTER DELETE ON face_templates"
    " WHEN NOT EXISTS (SELECT 1 FROM face_templates WHERE resident_id = OLD.resident_id) BEGIN"
    " UPDATE resident_counts SET value = value - 1 WHERE name = 'enrolled_faces'; END",
)


def _v3(conn: sqlite3.Connection) -> None:
    for statement in _V3_STATEMENTS:  # one by one: a trigger's body holds semicolons
        conn.execute(statement)


# PINs belong to keypad accounts: a resident types their keypad code, then the PIN, which is checked against that
# one account. The community-wide PIN index (which made every guess a guess against every resident, and PINs
# unique so that setting one told whether someone else had it) goes.
_V4_STATEMENTS = (
    "CREATE TABLE pins_v4 ("
    " resident_id TEXT PRIMARY KEY REFERENCES residents (resident_id) ON DELETE CASCADE,"
    " salt BLOB NOT NULL, pin_hash BLOB NOT NULL, set_at TEXT NOT NULL)",
    "INSERT INTO pins_v4 (resident_id, salt, pin_hash, set_at) SELECT resident_id, salt, pin_hash, set_at FROM pins",
    "DROP TABLE pins",
    "ALTER TABLE pins_v4 RENAME TO pins",
    "CREATE TABLE keypad_codes ("
    " resident_id TEXT PRIMARY KEY REFERENCES residents (resident_id) ON DELETE CASCADE,"
    " code TEXT NOT NULL UNIQUE, assigned_at TEXT NOT NULL)",
)


def _v4(conn: sqlite3.Connection) -> None:
    from hub.residents.credentials import new_keypad_code  # imported here: credentials imports this module's package

    for statement in _V4_STATEMENTS:
        conn.execute(statement)
    # Residents who already have a PIN get a keypad code now, so their PIN keeps working (with the code first).
    for (resident_id, set_at) in conn.execute("SELECT resident_id, set_at FROM pins ORDER BY set_at").fetchall():
        conn.execute(
            "INSERT INTO keypad_codes (resident_id, code, assigned_at) VALUES (?,?,?)",
            (resident_id, new_keypad_code(conn), set_at),
        )


# Consent texts the community keeps (a manager edits them; each edit is a new version, old versions stay), and
# on each consent the text version it was given on (the consent's scope keeps the exact text signed).
_V5 = """
CREATE TABLE consent_templates (
    template_id TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (template_id, version)
);
ALTER TABLE consents ADD COLUMN template_id TEXT;
ALTER TABLE consents ADD COLUMN template_version INTEGER
"""

register_migrations(COMPONENT, [_V1, _V2, _v3, _v4, _V5])
