"""Erasure's vehicle part in the journal: a resident's vehicle passes stay (the car park's record of what
happened at each lane) but no longer say whose car it was, nor which plate.

The registry's own rows (the resident's vehicles, invitations and pass records) go in :mod:`hub.privacy.erasure`.
"""

from __future__ import annotations

import sqlite3

from hub.db import has_table


def forget_vehicle_events(conn: sqlite3.Connection, resident_id: str) -> int:
    """Inside the erasure's transaction: take the resident (as owner or as the one who invited the car), the plate
    and any pictures out of the journal's vehicle events. Returns the events changed."""
    if not has_table(conn, "events"):
        return 0
    return int(conn.execute(
        "UPDATE events SET payload = json_remove(json_set(payload, '$.resident_id', NULL, '$.issued_by', NULL,"
        " '$.plate', NULL, '$.near_match_of', NULL), '$.vehicle_images')"
        " WHERE kind = 'vehicle_pass' AND json_valid(payload)"
        " AND (resident_id = ? OR json_extract(payload, '$.issued_by') = ?)",
        (resident_id, resident_id),
    ).rowcount)
