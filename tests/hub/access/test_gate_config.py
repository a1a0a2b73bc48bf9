"""Door configuration: face needs a fallback credential; bad configuration changes nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest

import hub.access.schema  # noqa: F401  (registers the access migrations)
from hub.access.config import AccessConfigStore
from hub.access.gates import validate_credential_mix, validate_door
from hub.access.models import AccessRule, CredentialKind, Door, Side
from hub.db import open_database
from hub.exceptions import InvalidInputError, NotFoundError

FACE_ONLY = frozenset({CredentialKind.FACE})


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = open_database(tmp_path / "hub.db", components=["access"])
    yield connection
    connection.close()


def _dump(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for table in ("doors", "access_rules", "rule_doors", "rule_residents", "rule_buildings", "holidays"):
        rows += [(table, *tuple(r)) for r in conn.execute(f"SELECT * FROM {table} ORDER BY 1")]
    return rows


def test_face_gate_needs_another_credential() -> None:
    with pytest.raises(InvalidInputError, match="must also accept a card, PIN or visitor pass"):
        validate_credential_mix(FACE_ONLY)
    with pytest.raises(InvalidInputError, match="at least one"):
        validate_credential_mix(frozenset())
    for other in (CredentialKind.CARD, CredentialKind.PIN, CredentialKind.PASS):
        validate_credential_mix(FACE_ONLY | {other})
    validate_credential_mix(frozenset({CredentialKind.CARD}))


@pytest.mark.parametrize(
    ("door", "message"),
    [
        (Door("g", "Gate", accepts=FACE_ONLY), "must also accept"),
        (Door("g", "Gate", side=Side.IN), "must belong to a gate"),
        (Door("g", "Gate", gate_id="north", anti_passback=True), "anti-passback needs"),
        (Door("g g", "Gate"), "door_id"),
        (Door("g", ""), "name"),
    ],
)
def test_bad_doors_change_nothing(conn: sqlite3.Connection, door: Door, message: str) -> None:
    store = AccessConfigStore(conn)
    store.put_door("installer", Door("ok", "Fine door"))
    before = _dump(conn)
    with pytest.raises(InvalidInputError, match=message):
        store.put_door("installer", door)
    with pytest.raises(InvalidInputError, match=message):
        validate_door(door)
    assert _dump(conn) == before


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (AccessRule("r", frozenset({"missing"}), applies_to_all=True), "unknown doors"),
        (AccessRule("r", frozenset(), applies_to_all=True), "at least one door"),
        (AccessRule("r", frozenset({"ok"})), "must apply to everyone"),
        (AccessRule("r", frozenset({"ok"}), weekdays=frozenset({7}), applies_to_all=True), "weekdays"),
        (
            AccessRule("r", frozenset({"ok"}), weekdays=frozenset(), on_holidays=False, applies_to_all=True),
            "never applies",
        ),
        (AccessRule("r", frozenset({"ok"}), start=time(8, 0, 30), applies_to_all=True), "whole minutes"),
        (AccessRule("dup", frozenset({"ok"}), applies_to_all=True), "already exists"),
    ],
)
def test_bad_rules_change_nothing(conn: sqlite3.Connection, rule: AccessRule, message: str) -> None:
    store = AccessConfigStore(conn)
    store.put_door("installer", Door("ok", "Fine door"))
    store.add_rule("mgr", AccessRule("dup", frozenset({"ok"}), applies_to_all=True), name="Existing")
    before = _dump(conn)
    with pytest.raises(InvalidInputError, match=message):
        store.add_rule("mgr", rule, name="New")
    assert _dump(conn) == before


def test_config_round_trip(conn: sqlite3.Connection) -> None:
    audit: list[tuple[str, str]] = []
    store = AccessConfigStore(conn, on_audit=lambda actor, action, details: audit.append((actor, action)))
    door = Door(
        "n-in", "North in", gate_id="north", side=Side.IN, accepts=FACE_ONLY | {CredentialKind.PIN}, anti_passback=True
    )
    assert store.put_door("installer", door) == door
    assert store.get_door("n-in") == door
    assert store.set_lockdown("guard", "n-in", True).locked_down
    rule = AccessRule(
        "r",
        frozenset({"n-in"}),
        weekdays=frozenset({0, 1}),
        start=time(6),
        end=time(22),
        on_holidays=False,
        resident_ids=frozenset({"r1"}),
        buildings=frozenset({"3"}),
    )
    store.add_rule("mgr", rule, name="Rule")
    assert store.list_rules() == [rule]
    store.add_holiday("mgr", date(2026, 10, 1), "National Day")
    assert store.list_holidays() == {date(2026, 10, 1): "National Day"}
    with pytest.raises(InvalidInputError, match="not a datetime"):
        store.add_holiday("mgr", datetime(2026, 10, 1), "x")
    store.remove_holiday("mgr", date(2026, 10, 1))
    store.remove_rule("mgr", "r")
    with pytest.raises(NotFoundError):
        store.remove_rule("mgr", "r")
    with pytest.raises(NotFoundError):
        store.set_lockdown("guard", "missing", True)
    assert [d.door_id for d in store.list_doors()] == ["n-in"]
    assert audit[0] == ("installer", "door.put")
    assert ("guard", "door.lockdown") in audit
