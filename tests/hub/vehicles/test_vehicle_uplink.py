"""Vehicle passes upstream, end to end from the gate's journal: the JSON profile's vehicle event at the county's
reference receiver, and GA/T 1400 MotorVehicleObjects and Tollgates at a loopback platform written from the
standard. The field policy decides: plate yes by default (withholdable), pictures only with a stated basis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from vehicle_helpers import ENTRY, EXIT, Clock, RecordingBarrier, make_service, read
from vehicle_platform import VehiclePlatform

from devices.anpr import PlateColor, PlateImage, PlateRead
from devkit.receiver import ReferenceReceiver
from devkit.receiver.client import fetch_received
from hub.community import Community
from hub.uplink import Backoff, FieldOption, FieldPolicy, JsonUplinkClient, LegalBasis, Secret, UplinkWorker
from hub.uplink.gat1400_client import Gat1400Client
from hub.uplink.gat1400_config import Gat1400Config
from hub.uplink.gat1400_transport import Gat1400Transport
from hub.uplink.gat1400_vehicles import post_tollgates
from hub.vehicles.models import Entrance

HUB = "hub-test"
SECRET = Secret("test-shared-secret-0123456789abcdef")
TOKEN = Secret("test-read-token-0123456789abcdef")
KEY = Secret("community-key-for-tests-0123456789")
DEVICE = "34020000001110000001"
CAMERA_APE = "34020000001190000007"
TOLLGATE = "34020000001210000003"
PLATE = "皖A7XG66"
JPEG = b"\xff\xd8jpeg\xff\xd9"


def _option(name: str) -> FieldOption:
    return FieldOption(field=name, legal_basis=LegalBasis.LEGAL_OBLIGATION, reference="County order 2026-14 §3",
                       enabled_by="manager-1", enabled_at=datetime.now(UTC))


@pytest.fixture
async def receiver(tmp_path: Path, socket_enabled: None) -> AsyncIterator[ReferenceReceiver]:
    running = ReferenceReceiver(tmp_path / "county.db", {HUB: SECRET}, read_token=TOKEN)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def platform(socket_enabled: None) -> AsyncIterator[VehiclePlatform]:
    running = VehiclePlatform("hub-user", "s3cret-pass")
    await running.start()
    yield running
    await running.stop()


async def _passes(community: Community, barrier: RecordingBarrier, clock: Clock, **rules: object) -> None:
    """A resident's car in and out, a refused stranger, with the camera's pictures."""
    community.call(community.vehicles.add_resident_vehicle, "manager", "r-001", PLATE)
    service = make_service(community, barrier, clock, **rules)
    pictures = (PlateImage("plate", "image/jpeg", JPEG), PlateImage("scene", "image/jpeg", JPEG))
    first = read(PLATE, clock.now)
    await service.handle(PlateRead(**{**_fields(first), "images": pictures, "vehicle_color": "white"}), ENTRY)
    clock.advance(timedelta(minutes=90))
    await service.handle(read(PLATE, clock.now, camera="cam-north-2"), EXIT)
    await service.handle(read("皖B12345", clock.now, color=PlateColor.YELLOW), ENTRY)


def _fields(r: PlateRead) -> dict[str, object]:
    return {name: getattr(r, name) for name in PlateRead.__dataclass_fields__}


async def _drain(db: Path, community: Community, transport: object, policy: FieldPolicy) -> UplinkWorker:
    worker = UplinkWorker(db, transport, policy, backoff=Backoff(base_s=0.01, cap_s=0.05),  # type: ignore[arg-type]
                          writes=community.outbox_writes())
    await worker.start()
    await asyncio.wait_for(worker.wait_drained(), 30)
    await worker.stop()
    return worker


async def test_json_profile_sends_the_vehicle_event(
    community: Community, barrier: RecordingBarrier, clock: Clock, db: Path, receiver: ReferenceReceiver
) -> None:
    await _passes(community, barrier, clock, keep_images=True)
    worker = await _drain(db, community, JsonUplinkClient(receiver.url, HUB, SECRET), FieldPolicy(KEY))
    assert worker.status.backlog == 0
    stored = await _received(receiver)
    vehicles = [e for e in stored if e["type"] == "vehicle_pass"]
    assert len(vehicles) == 3
    entry = vehicles[0]
    assert entry["plate"] == PLATE and entry["plate_color"] == 5 and entry["direction"] == "entry"
    assert (entry["car_park"], entry["entrance"], entry["lane_no"], entry["door"]) == ("p1", "north", 1,
                                                                                       "p1:north:1")
    assert entry["result"] == "granted" and entry["reason"] == "resident_vehicle"
    assert entry["resident_ref"].startswith("r1_") and entry["backfilled"] is False
    assert vehicles[1]["dwell_s"] == 90 * 60 and vehicles[2]["reason"] == "temporary_refused"
    # Never the resident's id, the camera's own identifiers, or the pictures (no option enabled).
    text = repr(stored)
    assert "r-001" not in text and "cam-north" not in text and "vehicle_images" not in text


async def test_json_profile_withholds_the_plate_and_sends_pictures_only_with_a_basis(
    community: Community, barrier: RecordingBarrier, clock: Clock, db: Path, receiver: ReferenceReceiver
) -> None:
    await _passes(community, barrier, clock, keep_images=True)
    policy = FieldPolicy(KEY, (_option("vehicle_images"),), frozenset({"plate"}))
    await _drain(db, community, JsonUplinkClient(receiver.url, HUB, SECRET), policy)
    vehicles = [e for e in await _received(receiver) if e["type"] == "vehicle_pass"]
    assert all("plate" not in e for e in vehicles) and PLATE not in repr(vehicles)
    assert vehicles[0]["vehicle_images"][0] == {"kind": "plate", "content_type": "image/jpeg",
                                                "data": "/9hqcGVn/9k="}


async def _received(receiver: ReferenceReceiver) -> list[dict[str, object]]:
    return [e["event"] for e in await fetch_received(receiver.url, TOKEN)]


def _gat_config(platform: VehiclePlatform) -> Gat1400Config:
    return Gat1400Config(base_url=platform.url, device_id=DEVICE, username="hub-user",
                         password=Secret("s3cret-pass", min_bytes=1), ape_ids={ENTRY.lane_id: CAMERA_APE},
                         tollgate_ids={"p1:north": TOLLGATE})


async def test_gat1400_motor_vehicles_and_tollgates(
    community: Community, barrier: RecordingBarrier, clock: Clock, db: Path, platform: VehiclePlatform
) -> None:
    await _passes(community, barrier, clock, keep_images=True)
    config = _gat_config(platform)
    client = Gat1400Client(config)
    accepted = await post_tollgates(client, [Entrance("p1", "north", "North entrance", 2, 117.283, 31.861,
                                                      "340104")])
    assert accepted == {TOLLGATE: True}
    gate = platform.tollgates[0]
    assert gate["TollgateID"] == TOLLGATE and gate["LaneNum"] == 2 and gate["Name"] == "North entrance"
    assert len(gate["ActiveTime"]) == 14 and gate["PlaceCode"] == "340104"
    policy = FieldPolicy(KEY, (_option("vehicle_images"),))
    worker = await _drain(db, community, Gat1400Transport(client), policy)
    assert worker.status.backlog == 0 and worker.status.failed == 0
    assert len(platform.vehicles) == 3 and platform.vehicle_content_types == {"application/viid+json"}
    entry, leave, stranger = platform.vehicles
    assert entry["DeviceID"] == CAMERA_APE and leave["DeviceID"] == DEVICE  # the exit camera has no own ID
    assert entry["TollgateID"] == TOLLGATE and (entry["LaneNo"], leave["LaneNo"]) == (1, 2)
    assert entry["PlateNo"] == PLATE and entry["PlateColor"] == "5" and entry["PlateClass"] == "02"
    assert entry["HasPlate"] == "1" and entry["VehicleColor"] == "A" and entry["VehicleClass"] == "X99"
    assert (entry["Direction"], leave["Direction"]) == ("1", "2")
    shanghai = (clock.now - timedelta(minutes=90)).astimezone(config.zone)
    assert entry["PassTime"] == shanghai.strftime("%Y%m%d%H%M%S")
    assert entry["AccessResult"] == "granted" and entry["ResidentRef"].startswith("r1_")
    assert leave["DwellTime"] == 5400 and stranger["PlateClass"] == "01" and stranger["AccessResult"] == "denied"
    images = entry["SubImageList"]["SubImageInfoObject"]
    assert [(i["Type"], len(i["ImageID"]), i["Data"]) for i in images] == [("02", 41, "/9hqcGVn/9k="),
                                                                            ("01", 41, "/9hqcGVn/9k=")]
    assert "SubImageList" not in leave  # no pictures came with it
    await client.close()


async def test_gat1400_without_the_image_option_sends_no_pictures(
    community: Community, barrier: RecordingBarrier, clock: Clock, db: Path, platform: VehiclePlatform
) -> None:
    await _passes(community, barrier, clock, keep_images=True)
    client = Gat1400Client(_gat_config(platform))
    await _drain(db, community, Gat1400Transport(client), FieldPolicy(KEY, withheld=frozenset({"plate"})))
    assert len(platform.vehicles) == 3
    assert all("SubImageList" not in v and "PlateNo" not in v for v in platform.vehicles)
    assert platform.vehicles[0]["HasPlate"] == "1"
    await client.close()



async def test_a_lane_is_sent_with_its_name(
    community: Community, barrier: RecordingBarrier, clock: Clock, db: Path, receiver: ReferenceReceiver
) -> None:
    """A vehicle pass carries its lane's name as it was then (``door_name``), beside the lane's id."""
    community.set_place_names({ENTRY.lane_id: "North entrance, lane 1"})
    await _passes(community, barrier, clock)
    await _drain(db, community, JsonUplinkClient(receiver.url, HUB, SECRET), FieldPolicy(KEY))
    entry, leave, _stranger = [e for e in await _received(receiver) if e["type"] == "vehicle_pass"]
    assert (entry["door"], entry["door_name"]) == (ENTRY.lane_id, "North entrance, lane 1")
    assert "door_name" not in leave  # the exit lane has no name: its id alone


async def test_gat1400_motor_vehicles_carry_the_lane_name(
    community: Community, barrier: RecordingBarrier, clock: Clock, db: Path, platform: VehiclePlatform
) -> None:
    community.set_place_names({ENTRY.lane_id: "North entrance, lane 1"})
    await _passes(community, barrier, clock)
    client = Gat1400Client(_gat_config(platform))
    await _drain(db, community, Gat1400Transport(client), FieldPolicy(KEY))
    await client.close()
    assert platform.vehicles[0]["LaneName"] == "North entrance, lane 1" and "LaneName" not in platform.vehicles[1]
