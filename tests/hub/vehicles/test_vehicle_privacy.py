"""Erasing a resident removes their vehicles, the vehicles they invited and the pass records naming them, and takes
them and the plate out of the journal's vehicle events, with no byte left in the database files; retention purges
vehicle pass records past the events' period (real database file)."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

from vehicle_helpers import ENTRY, Clock, read

from hub.community import Community
from hub.journal import RetentionPolicy
from hub.vehicles.service import VehicleService

OWN, GUEST, STRANGER = "皖A7XG66", "皖A5B321", "皖B12345"


def _files_hold(db: Path, text: str) -> bool:
    needle = text.encode()
    return any(p.exists() and needle in p.read_bytes() for p in (db, Path(f"{db}-wal")))


async def test_erasure_removes_a_residents_vehicles_invitations_and_passes(
    community: Community, service: VehicleService, clock: Clock, db: Path
) -> None:
    vehicles = community.vehicles
    community.call(community.registry.residents.add_resident, "manager", "r-002", "Wang Fang")
    community.call(vehicles.add_resident_vehicle, "manager", "r-001", OWN)
    community.call(vehicles.add_resident_vehicle, "manager", "r-002", "皖C00001")
    community.call(vehicles.invite_vehicle, "manager", "r-001", GUEST, valid_from=clock.now - timedelta(hours=1),
                   valid_until=clock.now + timedelta(hours=3))
    for plate in (OWN, GUEST, STRANGER, "皖C00001"):
        await service.handle(read(plate, clock.now), ENTRY)

    receipt = community.erase_resident("manager", "r-001")

    assert receipt.erased["vehicles"] == 1 and receipt.erased["vehicle_invitations"] == 1
    assert receipt.erased["vehicle_passes"] == 2 and receipt.erased["vehicle_events"] == 2
    assert [x.plate for x in community.call(vehicles.resident_vehicles)] == ["皖C00001"]
    assert community.call(vehicles.invitations) == []
    other = sqlite3.connect(db)
    try:
        passes = [r[0] for r in other.execute("SELECT plate FROM vehicle_passes ORDER BY pass_id")]
        events = [json.loads(p) for (p,) in other.execute(
            "SELECT payload FROM events WHERE kind = 'vehicle_pass' ORDER BY seq")]
    finally:
        other.close()
    assert passes == [STRANGER, "皖C00001"]
    # The car park keeps its record of what happened at the lane, but not whose car it was or its plate.
    assert [e["reason"] for e in events] == ["resident_vehicle", "visitor_in_window", "temporary_refused",
                                             "resident_vehicle"]
    assert events[0]["plate"] is None and events[0]["resident_id"] is None
    assert events[1]["plate"] is None and events[1]["issued_by"] is None
    assert events[3]["resident_id"] == "r-002" and events[3]["plate"] == "皖C00001"
    assert not _files_hold(db, OWN) and not _files_hold(db, GUEST)
    assert _files_hold(db, STRANGER)


async def test_retention_purges_old_vehicle_passes(
    community: Community, service: VehicleService, clock: Clock, db: Path
) -> None:
    community.call(community.vehicles.add_resident_vehicle, "manager", "r-001", OWN)
    old = clock.now - timedelta(days=100)
    await service.handle(read(OWN, old), ENTRY)  # a camera's very old stored record
    await service.handle(read(STRANGER, clock.now), ENTRY)
    journal = community.journal
    assert journal is not None
    # Retention runs as a writer job (the integration's retention task does the same).
    result = community.call(journal.purge, RetentionPolicy(events_days=90, purge_unsent=True))
    assert result.vehicle_records == 1 and result.events >= 1
    other = sqlite3.connect(db)
    try:
        passes = [r[0] for r in other.execute("SELECT plate FROM vehicle_passes")]
    finally:
        other.close()
    assert passes == [STRANGER]
