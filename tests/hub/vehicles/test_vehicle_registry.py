"""The vehicle registry on a real database file: plates stored normalised; bad input is refused with a clear error
and changes nothing; the schema is a versioned migration of its own."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devices.anpr import PlateColor
from hub.community import Community
from hub.events import ManagerActionEvent
from hub.exceptions import InvalidInputError, NotFoundError
from hub.residents.models import ResidentStatus
from hub.vehicles.models import PlateList

NOW = datetime.now(UTC)


def _rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    other = sqlite3.connect(db)
    try:
        return {t: other.execute(f"SELECT * FROM {t}").fetchall() for t in
                ("resident_vehicles", "monthly_vehicles", "visitor_vehicles", "vehicle_lists")}
    finally:
        other.close()


def test_a_resident_registers_vehicles_stored_normalised(community: Community) -> None:
    vehicles = community.vehicles
    added = community.call(vehicles.add_resident_vehicle, "manager", "r-001", " 皖a·7xg66 ")
    green = community.call(vehicles.add_resident_vehicle, "manager", "r-001", "蓝粤BD12345", PlateColor.GREEN)
    assert added.plate == "皖A7XG66" and added.plate_color is PlateColor.BLUE
    assert green.plate == "粤BD12345" and green.plate_color is PlateColor.GREEN
    assert [x.plate for x in community.call(vehicles.resident_vehicles, "r-001")] == ["皖A7XG66", "粤BD12345"]
    community.call(vehicles.remove_resident_vehicle, "manager", added.vehicle_id)
    assert [x.plate for x in community.call(vehicles.resident_vehicles)] == ["粤BD12345"]


def test_monthly_invited_and_listed_vehicles(community: Community) -> None:
    vehicles = community.vehicles
    monthly = community.call(vehicles.add_monthly_vehicle, "manager", "皖A12345", valid_from=NOW,
                             valid_until=NOW + timedelta(days=30), holder="Shop 3")
    assert monthly.holder == "Shop 3" and community.call(vehicles.monthly_vehicles) == [monthly]
    invited = community.call(vehicles.invite_vehicle, "manager", "r-001", "皖A5B321", valid_from=NOW,
                             valid_until=NOW + timedelta(hours=4))
    revoked = community.call(vehicles.revoke_invitation, "manager", invited.invitation_id)
    assert revoked.revoked_at is not None
    with pytest.raises(InvalidInputError, match="already revoked"):
        community.call(vehicles.revoke_invitation, "manager", invited.invitation_id)
    community.call(vehicles.list_plate, "manager", "皖A00001", PlateList.WHITE, "property van")
    community.call(vehicles.list_plate, "manager", "皖A99999", "black", "police notice 12")
    community.call(vehicles.list_plate, "manager", "皖A00001", "black")  # a plate is on one list: moved
    assert [(p.plate, p.list) for p in community.call(vehicles.listed_plates)] == [
        ("皖A00001", PlateList.BLACK), ("皖A99999", PlateList.BLACK)]
    community.call(vehicles.unlist_plate, "manager", "皖A00001")
    assert [p.plate for p in community.call(vehicles.listed_plates, PlateList.BLACK)] == ["皖A99999"]


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda c: c.vehicles.add_resident_vehicle("manager", "r-001", "皖A"), "not a Chinese plate"),
        (lambda c: c.vehicles.add_resident_vehicle("manager", "r-001", "皖AO1234"), "I and O"),
        (lambda c: c.vehicles.add_resident_vehicle("manager", "r-001", ""), "must not be empty"),
        (lambda c: c.vehicles.add_resident_vehicle("manager", "r-001", "AB-12 CD!"), "not a plate"),
        (lambda c: c.vehicles.add_resident_vehicle("manager", "r-001", "皖A7XG66", 7), "not one of"),
        (lambda c: c.vehicles.add_monthly_vehicle("manager", "皖A12345", valid_from=NOW,
                                                  valid_until=NOW - timedelta(days=1)), "must be after"),
        (lambda c: c.vehicles.add_monthly_vehicle("manager", "皖A12345", valid_from=NOW.replace(tzinfo=None),
                                                  valid_until=NOW + timedelta(days=1)), "timezone-aware"),
        (lambda c: c.vehicles.invite_vehicle("manager", "r-001", "皖A12345", valid_from=NOW + timedelta(hours=2),
                                             valid_until=NOW + timedelta(hours=1)), "must be after"),
        (lambda c: c.vehicles.invite_vehicle("manager", "r-001", "皖A12345", valid_from=NOW,
                                             valid_until=NOW + timedelta(days=40)), "at most 31 days"),
        (lambda c: c.vehicles.invite_vehicle("manager", "r-001", "皖A12345", valid_from=NOW - timedelta(hours=3),
                                             valid_until=NOW - timedelta(hours=1)), "in the past"),
        (lambda c: c.vehicles.list_plate("manager", "皖A12345", "grey"), "list must be one of"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(community: Community, db: Path, action: object,
                                                  message: str) -> None:
    before = _rows(db)
    with pytest.raises(InvalidInputError, match=message):
        community.call(action, community)  # type: ignore[arg-type]
    assert _rows(db) == before


def test_unknown_or_suspended_resident_is_refused(community: Community, db: Path) -> None:
    before = _rows(db)
    with pytest.raises(NotFoundError, match="no resident 'r-404'"):
        community.call(community.vehicles.add_resident_vehicle, "manager", "r-404", "皖A7XG66")
    with pytest.raises(NotFoundError, match="no resident"):
        community.call(community.vehicles.invite_vehicle, "manager", "r-404", "皖A7XG66", valid_from=NOW,
                       valid_until=NOW + timedelta(hours=1))
    community.call(community.registry.residents.update_resident, "manager", "r-001",
                   status=ResidentStatus.SUSPENDED)
    with pytest.raises(InvalidInputError, match="suspended"):
        community.call(community.vehicles.invite_vehicle, "manager", "r-001", "皖A7XG66", valid_from=NOW,
                       valid_until=NOW + timedelta(hours=1))
    assert _rows(db) == before


def test_vehicle_actions_are_audited_without_plates(community: Community) -> None:
    seen: list[tuple[str, dict[str, object]]] = []
    community.events.subscribe(ManagerActionEvent, lambda e: seen.append((e.action, dict(e.details))))
    community.call(community.vehicles.add_resident_vehicle, "manager", "r-001", "皖A7XG66")
    community.call(community.vehicles.list_plate, "manager", "皖A99999", "black")
    assert [a for a, _ in seen] == ["vehicle.add", "vehicle.black_list"]
    assert "皖A" not in repr(seen)


def test_the_vehicle_schema_is_a_versioned_migration(community: Community, db: Path) -> None:
    other = sqlite3.connect(db)
    try:
        versions = other.execute("SELECT version FROM schema_migrations WHERE component = 'vehicles'").fetchall()
    finally:
        other.close()
    assert versions == [(1,)]
