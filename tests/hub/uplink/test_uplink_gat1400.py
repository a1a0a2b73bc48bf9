"""The GA/T 1400 profile against a platform written from the standard: digest, keepalive, expiry, list upload."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from gat1400_platform import Platform

from hub.exceptions import InvalidInputError
from hub.journal import Journal
from hub.journal.models import EventKind
from hub.uplink import Backoff, FieldPolicy, RejectedError, Secret, UplinkWorker
from hub.uplink.gat1400_client import Gat1400Client
from hub.uplink.gat1400_config import Gat1400Config
from hub.uplink.gat1400_digest import parse_challenge
from hub.uplink.gat1400_ids import image_id, object_id, viid_time
from hub.uplink.gat1400_transport import Gat1400Transport

DEVICE = "34020000001110000001"
GATE_APE = "34020000001190000007"


@pytest.fixture
async def platform(socket_enabled: None) -> AsyncIterator[Platform]:
    """The fake county platform on 127.0.0.1."""
    running = Platform("hub-user", "s3cret-pass")
    await running.start()
    yield running
    await running.stop()


def _config(platform: Platform, password: str = "s3cret-pass", interval: float = 30.0) -> Gat1400Config:
    return Gat1400Config(base_url=platform.url, device_id=DEVICE, username="hub-user",
                         password=Secret(password, min_bytes=1), keepalive_interval_s=interval,
                         ape_ids={"gate-1": GATE_APE})


def test_ids_follow_the_standard_formats() -> None:
    when = viid_time(datetime(2020, 5, 10, 12, 4, 8, tzinfo=UTC), _zone())
    assert when == "20200510200408"
    source = image_id(DEVICE, when, 1)
    assert source == "34020000001110000001022020051020040800001"
    assert object_id(source, "06", 1) == "340200000011100000010220200510200408000010600001"
    with pytest.raises(InvalidInputError):
        image_id("1234", when, 1)


def _zone():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


def test_digest_challenge_parsing() -> None:
    challenge = parse_challenge('Digest realm="r", nonce="n1", qop="auth,auth-int", opaque="o"')
    header = challenge.authorization(method="POST", uri="/VIID/System/Register", username="u", password="p",
                                     cnonce="c")
    assert 'qop=auth' in header and 'nc=00000001' in header and 'opaque="o"' in header
    with pytest.raises(InvalidInputError):
        parse_challenge('Basic realm="r"')


async def test_register_with_digest_keepalive_and_unregister(platform: Platform) -> None:
    client = Gat1400Client(_config(platform))
    await client.register()
    assert platform.registered == {DEVICE} and platform.register_count == 1
    await client.keepalive()
    assert platform.keepalives == 1 and client.last_keepalive is not None
    await client.close()
    assert platform.unregistered == [DEVICE] and platform.registered == set()


async def test_wrong_password_is_refused(platform: Platform) -> None:
    client = Gat1400Client(_config(platform, password="wrong"))
    with pytest.raises(RejectedError, match="credentials"):
        await client.register()
    await client.close()
    assert platform.registered == set()


async def test_reregisters_after_expiry_from_the_keepalive_loop(platform: Platform) -> None:
    client = Gat1400Client(_config(platform, interval=0.02))
    await client.register()
    client.start_keepalive()
    platform.registered_event.clear()
    platform.expire_all()  # the window lapsed, or the platform restarted
    await asyncio.wait_for(platform.registered_event.wait(), 10)
    await client.keepalive()
    await client.close()
    assert platform.register_count == 2 and client.registrations == 2


async def test_access_records_and_status_upload_with_per_item_status(
    platform: Platform, journal: Journal, journal_path: Path, policy: FieldPolicy
) -> None:
    events = [
        journal.append(EventKind.DECISION, door="gate-1",
                       payload={"result": "granted", "reason": "face_match", "credential_kind": "face",
                                "resident_id": "res-7", "face_template": [0.1, 0.2]}),
        journal.append(EventKind.DOOR_ALARM, door="gate-1", payload={"result": "forced_open"}),
        journal.append(EventKind.DECISION, door="gate-1", payload={"result": "denied", "reason": "unknown"}),
        journal.append(EventKind.DEVICE_STATUS, door="gate-1", payload={"result": "offline"}),
        journal.append(EventKind.DECISION, door="door-9", payload={"result": "granted", "reason": "card"}),
    ]
    config = _config(platform)
    client = Gat1400Client(config)
    await client.register()
    platform.expire_all()  # the platform restarts: the first upload meets a 401 and must register again
    transport = Gat1400Transport(client)
    rejected_id = transport._object_id(config.access_collection, _outgoing(events[2]))
    platform.reject_ids.add(rejected_id)
    platform.busy_ids.add(transport._object_id(config.access_collection, _outgoing(events[4])))
    worker = UplinkWorker(journal_path, transport, policy, backoff=Backoff(base_s=0.01, cap_s=0.05))
    await worker.start()
    await asyncio.wait_for(worker.wait_drained(), 30)
    await worker.stop()
    person_ids = [p["PersonID"] for p in platform.persons]
    assert len(person_ids) == 2 and rejected_id not in person_ids
    first = platform.persons[0]
    assert first["DeviceID"] == GATE_APE and first["AccessResult"] == "granted"
    assert first["ResidentRef"].startswith("r1_") and "face_template" not in str(first)
    assert platform.persons[1]["DeviceID"] == DEVICE  # door-9 has no own APE ID: the hub's
    assert platform.apes == [{"ApeID": GATE_APE, "Name": "gate-1", "IsOnline": "2"}]
    assert worker.status.failed == 1 and worker.status.backlog == 0
    assert platform.register_count == 2 and platform.unregistered == [DEVICE]


def _outgoing(event):  # type: ignore[no-untyped-def]
    from hub.uplink.transport import OutgoingEvent

    return OutgoingEvent(event=event, fields={})
