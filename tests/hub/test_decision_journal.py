"""One job per decision: the attempt, the journal row and its outbox row commit together, before the door moves;
manual releases are journalled with who asked before the door moves (real SQLite file; the release callables
look at the file through a second connection, as a power cut would leave it)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from devices.exceptions import DeviceOutcomeUnknownError
from devices.hub_native_map import CredentialKind as ReaderKind
from devices.models import CredentialRead
from hub.access.models import AccessRule
from hub.community import Community
from hub.exceptions import StorageError
from hub.gate import AccessPoint, Actor, GateKeeper

DOOR = "GATE01-door0"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "community.db"


@pytest.fixture
def community(db: Path, tmp_path: Path) -> Iterator[Community]:
    c = Community(db, tmp_path / "keys" / "hub.key", timezone=ZoneInfo("Asia/Shanghai"), hub_id="hub-test")
    c.ensure_door(DOOR, "North gate")
    c.call(c.registry.residents.add_resident, "manager", "r-001", "Li Wei")
    c.call(c.registry.credentials.add_card, "manager", "r-001", "12345678")
    c.call(c.access_config.add_rule, "manager",
           AccessRule(rule_id="all", door_ids=frozenset({DOOR}), applies_to_all=True), name="Everyone")
    yield c
    c.close()


def _committed(db: Path) -> tuple[list[dict[str, object]], int, int]:
    """What another connection sees: journal events (kind, payload), outbox rows, attempt rows."""
    other = sqlite3.connect(db)
    try:
        events = [{"kind": k, **json.loads(p)} for k, p in
                  other.execute("SELECT kind, payload FROM events WHERE kind != 'manager_action' ORDER BY seq")]
        outbox = other.execute("SELECT COUNT(*) FROM outbox o JOIN events e ON e.seq = o.seq"
                               " WHERE e.kind != 'manager_action'").fetchone()[0]
        attempts = other.execute("SELECT COUNT(*) FROM access_attempts").fetchone()[0]
    finally:
        other.close()
    return events, int(outbox), int(attempts)


def _card(number: str) -> CredentialRead:
    return CredentialRead(sequence=1, kind=ReaderKind.CARD, value=number)


async def test_a_granted_decision_is_on_disk_before_the_door_moves(community: Community, db: Path) -> None:
    seen_at_release: list[tuple[list[dict[str, object]], int, int]] = []

    async def release() -> None:
        seen_at_release.append(_committed(db))

    keeper = GateKeeper(community, asyncio.to_thread)
    point = AccessPoint(door_id=DOOR, name="North gate", release=release)
    outcome = await keeper.credential_read(point, _card("12345678"))
    assert outcome.decision.granted and outcome.released
    (events, outbox, attempts), = seen_at_release
    assert attempts == 1 and outbox == 1
    assert events == [{"kind": "decision", "result": "granted", "reason": "granted", "credential_kind": "card",
                       "resident_id": "r-001", "release_requested": True}]

    denied = await keeper.credential_read(point, _card("99999999"))
    assert not denied.decision.granted and len(seen_at_release) == 1
    events, outbox, attempts = _committed(db)
    assert (attempts, outbox) == (2, 2)
    assert [e["result"] for e in events] == ["granted", "denied"]


async def test_a_decision_that_cannot_be_journalled_is_not_made(community: Community, db: Path) -> None:
    """The journal row fails to insert: the attempt rolls back with it and the door stays shut."""
    journal_decision = community.access.on_record
    assert journal_decision is not None

    def broken(*args: object) -> None:
        journal_decision(*args)  # type: ignore[arg-type]
        raise sqlite3.OperationalError("disk I/O error")

    community.access.on_record = broken
    released: list[bool] = []

    async def release() -> None:
        released.append(True)

    keeper = GateKeeper(community, asyncio.to_thread)
    with pytest.raises(StorageError):
        await keeper.credential_read(AccessPoint(door_id=DOOR, name="North gate", release=release),
                                     _card("12345678"))
    assert released == []
    assert _committed(db) == ([], 0, 0)


async def test_a_failed_release_is_journalled(community: Community, db: Path) -> None:
    async def dead_controller() -> None:
        raise ConnectionError("controller gone")

    keeper = GateKeeper(community, asyncio.to_thread)
    outcome = await keeper.credential_read(AccessPoint(door_id=DOOR, name="North gate", release=dead_controller),
                                           _card("12345678"))
    assert outcome.decision.granted and not outcome.released
    events, outbox, _ = _committed(db)
    assert [e["kind"] for e in events] == ["decision", "release"] and outbox == 2
    assert events[1] == {"kind": "release", "release_reason": "decision", "outcome": "failed",
                         "error": "ConnectionError"}


async def test_a_release_whose_answer_never_came_is_journalled_as_unknown(community: Community, db: Path) -> None:
    """The link dropped with the release in flight (what the controller service raises then): the door may have
    opened, so the record says ``unknown``, not ``failed``."""
    async def link_dropped() -> None:
        raise DeviceOutcomeUnknownError("connection lost after the release was sent")

    keeper = GateKeeper(community, asyncio.to_thread)
    point = AccessPoint(door_id=DOOR, name="North gate", release=link_dropped)
    outcome = await keeper.credential_read(point, _card("12345678"))
    assert outcome.decision.granted and not outcome.released
    with pytest.raises(DeviceOutcomeUnknownError):
        await keeper.manager_release(point, Actor(user_name="Guard Zhang"))
    events = _committed(db)[0]
    assert [(e["kind"], e.get("release_reason"), e.get("outcome")) for e in events] == [
        ("decision", None, None),
        ("release", "decision", "unknown"),
        ("release", "manager", "requested"),
        ("release", "manager", "unknown"),
    ]
    assert events[1]["error"] == "DeviceOutcomeUnknownError"


async def test_a_manual_release_is_journalled_with_who_asked_before_the_door_moves(
    community: Community, db: Path
) -> None:
    seen_at_release: list[list[dict[str, object]]] = []

    async def release() -> None:
        seen_at_release.append(_committed(db)[0])

    keeper = GateKeeper(community, asyncio.to_thread)
    point = AccessPoint(door_id=DOOR, name="North gate", release=release)
    await keeper.manager_release(point, Actor(user_id="u-1", user_name="Guard Zhang"))
    assert seen_at_release == [[{"kind": "release", "release_reason": "manager", "outcome": "requested",
                                 "actor": {"user_id": "u-1", "user_name": "Guard Zhang"}}]]

    async def jammed() -> None:
        raise ConnectionError("controller gone")

    with pytest.raises(ConnectionError):
        await keeper.manager_release(point, Actor(automation="automation.night_patrol"), jammed)
    events = _committed(db)[0]
    assert [(e["outcome"], e["actor"]) for e in events[1:]] == [
        ("requested", {"automation": "automation.night_patrol"}),
        ("failed", {"automation": "automation.night_patrol"}),
    ]
