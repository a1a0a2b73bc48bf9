"""Places' names upstream: an event records its place's display name when it is journalled (``door_name``), and the
uplink sends it beside the id when the field policy lets it (a default field an operator can withhold). Through the
real gate path (card decisions at a door), the real uplink worker, the reference receiver (JSON profile), a
GA/T 1400 platform written from the standard, and the county consumer's store. Nothing is mocked."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from gat1400_platform import Platform

from devices.hub_native_map import CredentialKind as ReaderKind
from devices.models import CredentialRead
from devkit.county.store import CountyStore, Delivery
from devkit.receiver import ReferenceReceiver
from devkit.receiver.client import fetch_received
from hub.access.models import AccessRule
from hub.community import Community
from hub.exceptions import InvalidInputError
from hub.gate import AccessPoint, GateKeeper
from hub.journal import EventKind, Journal, check_place_names
from hub.uplink import Backoff, FieldPolicy, JsonUplinkClient, Secret, UplinkWorker
from hub.uplink.gat1400_client import Gat1400Client
from hub.uplink.gat1400_config import Gat1400Config
from hub.uplink.gat1400_transport import Gat1400Transport

HUB_ID = "hub-test-0001"  # the receiver fixture's hub (conftest.py)
DOOR = "GATE01-door0"
CAMERA = "CAM-0001"
KEY = Secret("community-key-for-tests-0123456789")
DEVICE = "34020000001110000001"
DOOR_APE = "34020000001190000007"
CAMERA_APE = "34020000001190000008"


@pytest.fixture
def community(journal_path: Path, tmp_path: Path) -> Iterator[Community]:
    """A community with one door, a resident with a card who may use it."""
    c = Community(journal_path, tmp_path / "keys" / "hub.key", timezone=ZoneInfo("Asia/Shanghai"), hub_id=HUB_ID)
    c.ensure_door(DOOR, "GATE01 door 1")
    c.call(c.registry.residents.add_resident, "manager", "r-001", "Li Wei")
    c.call(c.registry.credentials.add_card, "manager", "r-001", "12345678")
    c.call(c.access_config.add_rule, "manager",
           AccessRule(rule_id="all", door_ids=frozenset({DOOR}), applies_to_all=True), name="Everyone")
    yield c
    c.close()


async def _swipe(community: Community, number: str = "12345678") -> None:
    async def release() -> None:
        return None

    keeper = GateKeeper(community, asyncio.to_thread)
    await keeper.credential_read(AccessPoint(door_id=DOOR, name="GATE01 door 1", release=release),
                                 CredentialRead(sequence=1, kind=ReaderKind.CARD, value=number))


async def _drain(db: Path, community: Community, transport: object, policy: FieldPolicy) -> UplinkWorker:
    worker = UplinkWorker(db, transport, policy, backoff=Backoff(base_s=0.01, cap_s=0.05),  # type: ignore[arg-type]
                          writes=community.outbox_writes())
    await worker.start()
    await asyncio.wait_for(worker.wait_drained(), 30)
    await worker.stop()
    return worker


async def _received(receiver: ReferenceReceiver, token: Secret) -> list[dict[str, Any]]:
    return [e["event"] for e in await fetch_received(receiver.url, token)]


async def test_events_upstream_carry_the_name_their_place_had_when_they_happened(
    community: Community, journal_path: Path, receiver: ReferenceReceiver, secret: Secret, read_token: Secret,
    tmp_path: Path,
) -> None:
    """A decision and a camera's status change carry their places' names beside the ids; a rename while the
    events wait in the outbox changes only the events journalled after it; the receiver stores the name."""
    community.set_place_names({DOOR: "North gate", CAMERA: "North gate camera"})
    await _swipe(community)
    community.journal_event(EventKind.DEVICE_STATUS, CAMERA, {"result": "offline", "device_kind": "camera"})
    community.set_place_names({DOOR: "Main gate", CAMERA: "North gate camera"})  # renamed before anything is sent
    await _swipe(community, "99999999")
    community.journal_event(EventKind.DOOR_ALARM, "GATE02-door0", {"alarm": "forced_open", "active": True})

    await _drain(journal_path, community, JsonUplinkClient(receiver.url, HUB_ID, secret), FieldPolicy(KEY))
    stored = await _received(receiver, read_token)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for event in stored:
        by_type.setdefault(str(event["type"]), []).append(event)
    first, second = by_type["decision"]
    assert (first["door"], first["door_name"], first["result"]) == (DOOR, "North gate", "granted")
    assert (second["door"], second["door_name"], second["result"]) == (DOOR, "Main gate", "denied")
    (status,) = by_type["device_status"]
    assert (status["door"], status["door_name"]) == (CAMERA, "North gate camera")
    (alarm,) = by_type["door_alarm"]
    assert alarm["door"] == "GATE02-door0" and "door_name" not in alarm  # a place without a name: the id alone
    # The receiver keeps the name in a column of its own (and the body as sent).
    with sqlite3.connect(tmp_path / "county.db") as conn:  # the receiver fixture's database
        rows = conn.execute("SELECT type, door, door_name FROM received_events ORDER BY seq").fetchall()
    assert ("decision", DOOR, "North gate") in rows and ("decision", DOOR, "Main gate") in rows
    assert ("door_alarm", "GATE02-door0", None) in rows


async def test_an_operator_who_withholds_names_sends_ids_only(
    community: Community, journal_path: Path, receiver: ReferenceReceiver, secret: Secret, read_token: Secret
) -> None:
    community.set_place_names({DOOR: "North gate"})
    await _swipe(community)
    policy = FieldPolicy(KEY, withheld=frozenset({"door_name"}))
    assert "door_name" not in policy.allowed_fields and "door_name" in FieldPolicy(KEY).allowed_fields
    await _drain(journal_path, community, JsonUplinkClient(receiver.url, HUB_ID, secret), policy)
    (decision,) = [e for e in await _received(receiver, read_token) if e["type"] == "decision"]
    assert decision["door"] == DOOR and "door_name" not in decision and "North gate" not in repr(decision)


def test_bad_names_are_refused_and_change_nothing(journal: Journal) -> None:
    journal.set_place_names({DOOR: "  North gate  ", "d2": "", "d3": "d3"})
    assert journal.place_names == {DOOR: "North gate"}  # blanks trimmed; empty names and bare ids say nothing
    with pytest.raises(InvalidInputError, match="longer than 200"):
        journal.set_place_names({DOOR: "x" * 201})
    with pytest.raises(InvalidInputError, match="text"):
        journal.set_place_names({DOOR: 7})  # type: ignore[dict-item]
    assert journal.place_names == {DOOR: "North gate"}
    assert check_place_names({}) == {}
    # A name given by the event itself is kept as it is.
    event = journal.append(EventKind.DOOR_ALARM, door=DOOR, payload={"door_name": "As recorded"})
    assert event.payload["door_name"] == "As recorded"


async def test_gat1400_objects_carry_the_names(
    community: Community, journal_path: Path, socket_enabled: None
) -> None:
    """A PersonObject's DoorName is the door's name (its id in DoorID); an APEObject's Name is the camera's."""
    platform = Platform("hub-user", "s3cret-pass")
    await platform.start()
    try:
        community.set_place_names({DOOR: "North gate", CAMERA: "North gate camera"})
        await _swipe(community)
        community.journal_event(EventKind.DEVICE_STATUS, CAMERA, {"result": "offline"})
        community.set_place_names({})
        await _swipe(community)
        config = Gat1400Config(base_url=platform.url, device_id=DEVICE, username="hub-user",
                               password=Secret("s3cret-pass", min_bytes=1),
                               ape_ids={DOOR: DOOR_APE, CAMERA: CAMERA_APE})
        client = Gat1400Client(config)
        await _drain(journal_path, community, Gat1400Transport(client), FieldPolicy(KEY))
        await client.close()
        named, unnamed = platform.persons
        assert (named["DoorName"], named["DoorID"], named["DeviceID"]) == ("North gate", DOOR, DOOR_APE)
        assert (unnamed["DoorName"], unnamed["DoorID"]) == (DOOR, DOOR)  # no name known: the id, as before
        assert platform.apes == [{"ApeID": CAMERA_APE, "Name": "North gate camera", "IsOnline": "2"}]
    finally:
        await platform.stop()


def test_the_county_store_keeps_the_name(county_db: str | Path) -> None:
    """The county consumer's store (SQLite and PostgreSQL) keeps ``door_name`` in a column beside ``door``."""
    store = CountyStore(county_db)
    try:
        topic = f"county/0000/community/{HUB_ID}/events/access"
        store.store([
            Delivery(hub_id=HUB_ID, topic=topic, event={"id": "e-00000001", "seq": 1, "hub_id": HUB_ID,
                                                        "type": "decision", "door": DOOR, "door_name": "North gate"}),
            Delivery(hub_id=HUB_ID, topic=topic, event={"id": "e-00000002", "seq": 2, "prev_seq": 1,
                                                        "hub_id": HUB_ID, "type": "decision", "door": DOOR}),
        ])
        rows = store.connection().execute("SELECT id, door, door_name FROM county_events ORDER BY seq").fetchall()
        assert [tuple(r) for r in rows] == [("e-00000001", DOOR, "North gate"), ("e-00000002", DOOR, None)]
        assert store.list_events(0, 10)[0]["event"]["door_name"] == "North gate"
    finally:
        store.close()
