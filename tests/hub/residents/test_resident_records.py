"""Adding, updating and suspending residents; every bad input is refused with a clear message and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from hub.exceptions import InvalidInputError, NotFoundError
from hub.residents.models import ResidentStatus
from hub.residents.registry_hub import ResidentRegistry


def test_add_get_update_and_audit(registry: ResidentRegistry, audit_log: list[Any]) -> None:
    added = registry.residents.add_resident(
        "mgr-zhang",
        "r1",
        "  Wang Fang ",
        household="h-301",
        building="3",
        unit="301",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert added.full_name == "Wang Fang"
    assert registry.residents.get_resident("r1") == added
    suspended = registry.residents.update_resident("mgr-zhang", "r1", status=ResidentStatus.SUSPENDED)
    assert suspended.status is ResidentStatus.SUSPENDED
    assert suspended.unit == "301"
    assert [entry[1] for entry in audit_log] == ["resident.add", "resident.update"]
    assert audit_log[0][0] == "mgr-zhang"
    assert [r.resident_id for r in registry.residents.list_residents()] == ["r1"]


def test_minor_needs_guardian(registry: ResidentRegistry) -> None:
    with pytest.raises(InvalidInputError, match="guardian"):
        registry.residents.add_resident("mgr", "kid", "Xiao Ming", is_minor=True)
    kid = registry.residents.add_resident("mgr", "kid", "Xiao Ming", is_minor=True, guardian="Wang Fang")
    assert kid.is_minor


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"actor": "", "resident_id": "r2", "full_name": "A"}, "actor"),
        ({"actor": "m", "resident_id": "bad id!", "full_name": "A"}, "resident_id"),
        ({"actor": "m", "resident_id": "r2", "full_name": "   "}, "full_name"),
        ({"actor": "m", "resident_id": "r2", "full_name": "A" * 101}, "full_name"),
        ({"actor": "m", "resident_id": "r2", "full_name": "A", "valid_from": datetime(2026, 1, 1)}, "timezone"),
        (
            {
                "actor": "m",
                "resident_id": "r2",
                "full_name": "A",
                "valid_from": datetime(2026, 2, 1, tzinfo=UTC),
                "valid_until": datetime(2026, 1, 1, tzinfo=UTC),
            },
            "after valid_from",
        ),
        ({"actor": "m", "resident_id": "r1", "full_name": "Dup"}, "already exists"),
        ({"actor": "m", "resident_id": "r2", "full_name": "A", "is_minor": "yes"}, "is_minor"),
        ({"actor": "m", "resident_id": "r2", "full_name": "A\x07"}, "control"),
    ],
)
def test_bad_input_changes_nothing(
    registry: ResidentRegistry, snapshot: Callable[..., Any], kwargs: dict[str, Any], message: str
) -> None:
    registry.residents.add_resident("m", "r1", "First")
    before = snapshot(registry.conn)
    with pytest.raises(InvalidInputError, match=message):
        registry.residents.add_resident(**kwargs)
    assert snapshot(registry.conn) == before


def test_bad_update_changes_nothing(registry: ResidentRegistry, snapshot: Callable[..., Any]) -> None:
    registry.residents.add_resident("m", "r1", "First")
    before = snapshot(registry.conn)
    with pytest.raises(InvalidInputError, match="guardian"):
        registry.residents.update_resident("m", "r1", is_minor=True)
    with pytest.raises(InvalidInputError, match="at least one field"):
        registry.residents.update_resident("m", "r1")
    with pytest.raises(NotFoundError):
        registry.residents.update_resident("m", "nobody", full_name="X")
    assert snapshot(registry.conn) == before


def test_search_pages_by_name_and_matches_every_word(registry: ResidentRegistry) -> None:
    registry.residents.add_resident("m", "r1", "Li Wei", building="3", unit="301")
    registry.residents.add_resident("m", "r2", "Zhang Min", building="5", unit="502", household="h-5")
    registry.residents.add_resident("m", "r3", "li na", building="3", unit="302")
    assert [r.resident_id for r in registry.residents.search_residents("LI 3").residents] == ["r3", "r1"]
    assert [r.resident_id for r in registry.residents.search_residents("li 301").residents] == ["r1"]
    assert registry.residents.search_residents("h-5").residents[0].resident_id == "r2"
    page = registry.residents.search_residents(offset=1, limit=1)
    assert page.total == 3 and [r.resident_id for r in page.residents] == ["r1"]
    assert registry.residents.search_residents("nobody").total == 0


def test_full_names_skips_unknown_ids(registry: ResidentRegistry) -> None:
    registry.residents.add_resident("m", "r1", "Li Wei")
    assert registry.residents.full_names(["r1", "gone", "r1"]) == {"r1": "Li Wei"}
    assert registry.residents.full_names([]) == {}
    many = [f"x{i}" for i in range(1200)]
    assert registry.residents.full_names([*many, "r1"]) == {"r1": "Li Wei"}
