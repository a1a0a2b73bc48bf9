"""Tables of the ``vehicles`` component. Released migrations are never edited: append new ones.

Plates are stored normalised (upper case, no separators). Resident ids appear without foreign keys (components
migrate independently); erasure deletes them (:mod:`hub.privacy.erasure`). Whether a car is inside is not kept
apart: it is the direction of its latest granted pass in that car park (so a camera's backlog, decided in the
order the cars passed, finds the entry it needs), and retention ages it out with the passes.
"""

from hub.db import register_migrations

COMPONENT = "vehicles"

_V1 = """
CREATE TABLE resident_vehicles (
    vehicle_id TEXT PRIMARY KEY,
    resident_id TEXT NOT NULL,
    plate TEXT NOT NULL,
    plate_color INTEGER NOT NULL,
    added_at TEXT NOT NULL,
    UNIQUE (resident_id, plate)
);
CREATE INDEX resident_vehicles_plate ON resident_vehicles (plate);
CREATE TABLE monthly_vehicles (
    vehicle_id TEXT PRIMARY KEY,
    plate TEXT NOT NULL,
    plate_color INTEGER NOT NULL,
    holder TEXT,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE INDEX monthly_vehicles_plate ON monthly_vehicles (plate, valid_until);
CREATE TABLE visitor_vehicles (
    invitation_id TEXT PRIMARY KEY,
    resident_id TEXT NOT NULL,
    plate TEXT NOT NULL,
    plate_color INTEGER NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    revoked_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX visitor_vehicles_plate ON visitor_vehicles (plate, valid_until);
CREATE INDEX visitor_vehicles_resident ON visitor_vehicles (resident_id);
CREATE TABLE vehicle_lists (
    plate TEXT PRIMARY KEY,
    list TEXT NOT NULL CHECK (list IN ('white', 'black')),
    note TEXT,
    added_at TEXT NOT NULL
);
CREATE TABLE vehicle_passes (
    pass_id INTEGER PRIMARY KEY AUTOINCREMENT,
    camera_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    plate TEXT NOT NULL,
    plate_color INTEGER NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('entry', 'exit')),
    lane_id TEXT NOT NULL,
    car_park TEXT NOT NULL,
    granted INTEGER NOT NULL,
    reason TEXT NOT NULL,
    resident_id TEXT,
    invited_by TEXT,
    near_match_of TEXT,
    backfilled INTEGER NOT NULL,
    dwell_s INTEGER,
    event_uuid TEXT,
    duplicates INTEGER NOT NULL DEFAULT 0,
    UNIQUE (camera_id, record_id)
);
CREATE INDEX vehicle_passes_at ON vehicle_passes (at);
CREATE INDEX vehicle_passes_resident ON vehicle_passes (resident_id);
CREATE INDEX vehicle_passes_invited_by ON vehicle_passes (invited_by);
CREATE INDEX vehicle_passes_presence ON vehicle_passes (car_park, plate, granted, at)
"""

register_migrations(COMPONENT, [_V1])
