"""The gate path end to end in the library: a card swiped at a real simulated controller releases the door only
when the community's rules grant it, and every decision is reported with its reason."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from devices.door_controller import DoorController
from devkit.sim.door_controller import DoorControllerSim
from hub.access.models import AccessRule, Reason
from hub.community import Community
from hub.doors import ControllerService, CredentialReadEvent, ReleaseReason
from hub.events import DecisionEvent, ReleaseEvent
from hub.gate import AccessPoint, Actor, GateKeeper, GateOutcome

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
def community(tmp_path: Path) -> Community:
    audit: list[tuple[str, str]] = []
    c = Community(tmp_path / "community.db", tmp_path / "keys" / "hub.key", timezone=ZoneInfo("Asia/Shanghai"),
                  on_audit=lambda actor, action, details: audit.append((actor, action)))
    c.audit = audit  # type: ignore[attr-defined]
    yield c
    c.close()


async def test_card_at_the_door_releases_only_when_granted(community: Community) -> None:
    sim = DoorControllerSim(doors=2, serial="GATE01")
    await sim.start()
    service = ControllerService(DoorController("127.0.0.1", sim.port))
    keeper = GateKeeper(community, asyncio.to_thread)
    outcomes: list[DecisionEvent] = []
    community.events.subscribe(DecisionEvent, outcomes.append)
    points = {
        i: AccessPoint(door_id=f"GATE01-door{i}", name=f"Gate door {i + 1}",
                       release=lambda i=i: service.release(i, 3, ReleaseReason.DECISION))
        for i in range(2)
    }
    for point in points.values():
        community.ensure_door(point.door_id, point.name)
    registry = community.registry
    registry.residents.add_resident("manager", "r-001", "Li Wei", building="3", unit="301")
    registry.credentials.add_card("manager", "r-001", "12345678")
    community.access_config.add_rule(
        "manager", AccessRule(rule_id="everyone-door0", door_ids=frozenset({"GATE01-door0"}), applies_to_all=True),
        name="Everyone, door 1, any time",
    )
    pending: list[asyncio.Task[GateOutcome]] = []
    service.events.subscribe(
        CredentialReadEvent,
        lambda e: pending.append(asyncio.create_task(keeper.credential_read(points[e.door], e.read))),
    )
    try:
        await service.poll()
        sim.swipe_card(0, 12345678)  # known card, allowed door
        await service.poll()
        await asyncio.gather(*pending)
        sim.swipe_card(1, 12345678)  # known card, no rule for this door
        sim.swipe_card(0, 99999)  # unknown card
        await service.poll()
        await asyncio.gather(*pending)
    finally:
        await service.close()
        await sim.stop()
    assert [(o.decision.reason, o.released) for o in outcomes] == [
        (Reason.GRANTED, True),
        (Reason.UNKNOWN_CARD, False),
        (Reason.NO_ACCESS_TO_DOOR, False),
    ] or [(o.decision.reason, o.released) for o in outcomes] == [
        (Reason.GRANTED, True),
        (Reason.NO_ACCESS_TO_DOOR, False),
        (Reason.UNKNOWN_CARD, False),
    ]
    assert sim.doors[0].releases == 1
    assert sim.doors[1].releases == 0
    assert outcomes[0].decision.resident_id == "r-001"


async def test_granted_but_controller_down_is_still_reported(community: Community) -> None:
    """If the door cannot be released the decision is still reported, marked not released."""

    async def dead_release() -> None:
        raise ConnectionError("controller down")

    keeper = GateKeeper(community, asyncio.to_thread,
                        clock=lambda: datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    community.ensure_door("D1", "Door 1")
    community.registry.residents.add_resident("manager", "r-002", "Wang Fang")
    code = community.registry.credentials.set_pin("manager", "r-002", "739164")
    community.access_config.add_rule(
        "manager", AccessRule(rule_id="all", door_ids=frozenset({"D1"}), applies_to_all=True), name="All"
    )
    point = AccessPoint(door_id="D1", name="Door 1", release=dead_release)
    from devices.hub_native_map import CredentialKind
    from devices.models import CredentialRead

    # At a keypad the resident types their keypad code, then the PIN: the code alone decides nothing.
    assert await keeper.credential_read(point, CredentialRead(sequence=1, kind=CredentialKind.PIN, value=code)) is None
    outcome = await keeper.credential_read(point, CredentialRead(sequence=2, kind=CredentialKind.PIN, value="739164"))
    assert outcome is not None and outcome.decision.granted
    assert not outcome.released
    assert outcome.at - datetime(2026, 11, 30, 9, 0, tzinfo=UTC) < timedelta(seconds=1)


async def test_a_failing_subscriber_never_breaks_the_gate_path(community: Community) -> None:
    """A subscriber that raises is logged; the door is still released, the others still hear the decision, and a
    manual release is published with who asked."""
    from devices.hub_native_map import CredentialKind
    from devices.models import CredentialRead

    released: list[str] = []

    async def release() -> None:
        released.append("D1")

    def broken(event: DecisionEvent) -> None:
        raise RuntimeError("broken entity")

    keeper = GateKeeper(community, asyncio.to_thread)
    community.ensure_door("D1", "Door 1")
    community.registry.residents.add_resident("manager", "r-003", "Zhao Min")
    code = community.registry.credentials.set_pin("manager", "r-003", "482915")
    community.access_config.add_rule(
        "manager", AccessRule(rule_id="all", door_ids=frozenset({"D1"}), applies_to_all=True), name="All"
    )
    heard: list[DecisionEvent] = []
    releases: list[ReleaseEvent] = []
    community.events.subscribe(DecisionEvent, broken)
    community.events.subscribe(DecisionEvent, heard.append)
    community.events.subscribe(ReleaseEvent, releases.append)
    point = AccessPoint(door_id="D1", name="Door 1", release=release)
    assert await keeper.credential_read(point, CredentialRead(sequence=1, kind=CredentialKind.PIN, value=code)) is None
    outcome = await keeper.credential_read(point, CredentialRead(sequence=2, kind=CredentialKind.PIN, value="482915"))
    assert outcome is not None and outcome.decision.granted and outcome.released and released == ["D1"]
    assert [(e.door, e.decision.granted, e.released) for e in heard] == [("D1", True, True)]

    await keeper.manager_release(point, Actor(user_name="Manager Li"))

    async def stuck() -> None:
        raise ConnectionError("controller down")

    with pytest.raises(ConnectionError):
        await keeper.manager_release(point, Actor(automation="automation.night"), stuck)
    assert [(e.door, e.reason, dict(e.actor), e.released) for e in releases] == [
        ("D1", ReleaseReason.MANAGER, {"user_name": "Manager Li"}, True),
        ("D1", ReleaseReason.MANAGER, {"automation": "automation.night"}, False),
    ]
