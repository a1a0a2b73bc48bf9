"""Vehicle gates through Home Assistant, end to end on loopback: an ANPR camera added in the community's options
shows its push URL; the project's camera simulator's payloads are posted to that URL on Home Assistant's own HTTP
server (the test client of the real ``hass``); the barrier is door 2 of the simulated Modbus controller."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import Unauthorized
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.smart_community.community import storage_paths
from custom_components.smart_community.const import DOMAIN
from custom_components.smart_community.vehicles import EVENT_VEHICLE_PASS, PUSH_PATH
from devices.anpr import PlateColor
from devkit.sim.anpr import AnprCameraSim, SimRecord, hikvision_push, make_records, vzenith_push
from devkit.sim.door_controller import DoorControllerSim
from hub.journal import EventKind

from .conftest import wait_for_event

RESIDENT_PLATE = "皖A7XG66"
BLACK_PLATE = "皖B99999"


async def _add_lane(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    assert "add_anpr_lane" in flow["menu_options"]
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"next_step_id": "add_anpr_lane"})
    bad = await hass.config_entries.options.async_configure(flow["flow_id"], {
        "format": "hikvision", "car_park": "north", "entrance": "main", "lane_no": 1, "direction": "entry",
        "barrier": "door"})
    assert bad["errors"] == {"lock": "barrier_lock_required"}
    shown = await hass.config_entries.options.async_configure(bad["flow_id"], {
        "format": "hikvision", "car_park": "north", "entrance": "main", "lane_no": 1, "direction": "entry",
        "barrier": "door", "lock": "lock.simdc0042_door_2"})
    assert shown["step_id"] == "anpr_push_url"
    url = shown["description_placeholders"]["url"]
    assert f"{PUSH_PATH}/hikvision/" in url
    done = await hass.config_entries.options.async_configure(shown["flow_id"], {})
    assert done["type"] == "create_entry"
    await hass.async_block_till_done()
    return url[url.index(PUSH_PATH):]


@pytest.fixture
async def lane(hass: HomeAssistant, community_entry: MockConfigEntry) -> str:
    """A resident with a registered car, a blacklisted plate, and the north entry lane: its push path."""
    await hass.services.async_call(DOMAIN, "add_resident", {"resident_id": "r-001", "full_name": "Li Wei"},
                                   blocking=True)
    path = await _add_lane(hass, community_entry)
    community = community_entry.runtime_data.community
    await hass.async_add_executor_job(community.call, community.vehicles.add_resident_vehicle, "manager", "r-001",
                                      RESIDENT_PLATE)
    await hass.async_add_executor_job(community.call, community.vehicles.list_plate, "manager", BLACK_PLATE,
                                      "black", "police notice")
    return path


def _entity(hass: HomeAssistant, domain: str, suffix: str, lane_no: int | None = None) -> str:
    found = [e.entity_id for e in er.async_get(hass).entities.values()
             if e.domain == domain and e.platform == DOMAIN and e.unique_id.endswith(suffix)
             and (lane_no is None or e.entity_id.endswith(f"lane_{lane_no}_{suffix.strip('-')}s"))]
    assert len(found) == 1, found
    return found[0]


def _passes(hass: HomeAssistant, entry: MockConfigEntry) -> int:
    db, _key = storage_paths(hass, entry)
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM vehicle_passes").fetchone()[0])


def _record(plate: str, record_id: str, *, resend: bool = False, ago_s: int = 0) -> SimRecord:
    seen = datetime.now(UTC) - timedelta(seconds=ago_s)
    return SimRecord(record_id, plate, PlateColor.BLUE, seen.replace(microsecond=0), resend=resend)


async def _push(client: object, path: str, record: SimRecord) -> int:
    body, content_type = hikvision_push(record)
    response = await client.post(path, data=body, headers={"Content-Type": content_type})  # type: ignore[attr-defined]
    return int(response.status)


async def test_a_registered_car_opens_the_barrier_and_fires_the_lane_event_without_its_plate(
    hass: HomeAssistant, community_entry: MockConfigEntry, lane: str, simulator: DoorControllerSim,
    hass_client_no_auth: object,
) -> None:
    client = await hass_client_no_auth()  # type: ignore[operator]
    bus = async_capture_events(hass, EVENT_VEHICLE_PASS)
    event_entity = _entity(hass, "event", "-vehicle")
    assert await _push(client, lane, _record("蓝" + RESIDENT_PLATE, "a1b2c3d4-0001")) == 200
    granted = await wait_for_event(hass, event_entity, "granted")
    assert granted["reason"] == "resident_vehicle" and granted["opened"] is True
    assert RESIDENT_PLATE not in str(hass.states.get(event_entity))
    assert simulator.doors[1].releases == 1 and simulator.doors[0].releases == 0
    await hass.async_block_till_done()
    assert [(e.data["plate"], e.data["result"], e.data["resident_id"]) for e in bus] == [
        (RESIDENT_PLATE, "granted", "r-001")]
    # Journalled (and sent upstream) with the lane's name beside its id.
    journal = community_entry.runtime_data.uplink.journal
    (vehicle_pass,) = await hass.async_add_executor_job(lambda: journal.events(kind=EventKind.VEHICLE_PASS))
    assert (vehicle_pass.door, vehicle_pass.payload["door_name"]) == ("north:main:1", "north main lane 1")

    # The same car again (a new record id) is a new pass, a new event and opens again.
    assert await _push(client, lane, _record(RESIDENT_PLATE, "a1b2c3d4-0002")) == 200
    await hass.async_block_till_done()
    assert len(bus) == 2 and simulator.doors[1].releases == 2


async def test_a_blacklisted_plate_is_refused_with_the_bus_event(
    hass: HomeAssistant, community_entry: MockConfigEntry, lane: str, simulator: DoorControllerSim,
    hass_client_no_auth: object,
) -> None:
    client = await hass_client_no_auth()  # type: ignore[operator]
    bus = async_capture_events(hass, EVENT_VEHICLE_PASS)
    assert await _push(client, lane, _record(BLACK_PLATE, "bad-0001")) == 200
    denied = await wait_for_event(hass, _entity(hass, "event", "-vehicle"), "denied")
    assert denied["reason"] == "blacklisted" and denied["alarm"] is True and denied["opened"] is False
    await hass.async_block_till_done()
    assert [(e.data["plate"], e.data["blacklisted"]) for e in bus] == [(BLACK_PLATE, True)]
    assert simulator.doors[1].releases == 0


async def test_a_resent_backlog_adds_nothing_twice_and_opens_nothing(
    hass: HomeAssistant, community_entry: MockConfigEntry, lane: str, simulator: DoorControllerSim,
    hass_client_no_auth: object,
) -> None:
    client = await hass_client_no_auth()  # type: ignore[operator]
    bus = async_capture_events(hass, EVENT_VEHICLE_PASS)
    backlog = make_records("hikvision", plate=None, color=PlateColor.BLUE, backlog=6, rng=random.Random(7))
    backlog[2] = SimRecord(backlog[2].record_id, RESIDENT_PLATE, PlateColor.BLUE, backlog[2].seen_at, resend=True)
    for record in [*backlog, *backlog[::2]]:  # every record, then every other one again
        assert await _push(client, lane, record) == 200
    await hass.async_block_till_done()
    assert _passes(hass, community_entry) == 6
    assert len(bus) == 6 and all(e.data["backfilled"] for e in bus)
    assert simulator.doors[1].releases == 0  # the registered car in the backlog is long gone


async def test_a_wrong_push_secret_is_refused_and_changes_nothing(
    hass: HomeAssistant, community_entry: MockConfigEntry, lane: str, simulator: DoorControllerSim,
    hass_client_no_auth: object,
) -> None:
    client = await hass_client_no_auth()  # type: ignore[operator]
    bus = async_capture_events(hass, EVENT_VEHICLE_PASS)
    wrong = lane.rsplit("/", 1)[0] + "/" + "x" * 32
    assert await _push(client, wrong, _record(RESIDENT_PLATE, "x-0001")) == 404
    assert await _push(client, f"{PUSH_PATH}/vzenith/" + lane.rsplit("/", 1)[1], _record(RESIDENT_PLATE, "x-2")) == 404
    garbage = await client.post(lane, data=b"<not xml", headers={"Content-Type": "application/xml"})
    assert garbage.status == 400
    await hass.async_block_till_done()
    assert bus == [] and _passes(hass, community_entry) == 0 and simulator.doors[1].releases == 0


async def test_only_a_door_operator_opens_the_barrier_by_hand_and_it_is_journalled(
    hass: HomeAssistant, community_entry: MockConfigEntry, lane: str, simulator: DoorControllerSim,
    hass_admin_user: object, hass_read_only_user: object,
) -> None:
    barrier = _entity(hass, "cover", "-barrier")
    assert barrier == "cover.test_garden_north_main_lane_1_barrier"
    assert _entity(hass, "event", "-vehicle") == "event.test_garden_north_main_lane_1_vehicles"
    state = hass.states.get(barrier)
    assert state is not None and state.attributes["device_class"] == "gate"
    with pytest.raises(Unauthorized):
        await hass.services.async_call("cover", "open_cover", {"entity_id": barrier}, blocking=True,
                                       context=Context(user_id=hass_read_only_user.id))  # type: ignore[attr-defined]
    assert simulator.doors[1].releases == 0
    await hass.services.async_call("cover", "open_cover", {"entity_id": barrier}, blocking=True,
                                   context=Context(user_id=hass_admin_user.id))  # type: ignore[attr-defined]
    assert simulator.doors[1].releases == 1
    journal = community_entry.runtime_data.uplink.journal
    assert journal is not None
    releases = await hass.async_add_executor_job(lambda: journal.events(kind=EventKind.RELEASE))
    assert [(e.door, e.payload["release_reason"], e.payload["actor"]["user_id"]) for e in releases] == [
        ("north:main:1", "manager", hass_admin_user.id)]  # type: ignore[attr-defined]


async def test_a_vzenith_camera_opens_by_the_reply_from_its_own_address_only(
    hass: HomeAssistant, community_entry: MockConfigEntry, lane: str, simulator: DoorControllerSim,
    hass_client_no_auth: object,
) -> None:
    flow = await hass.config_entries.options.async_init(community_entry.entry_id)
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"next_step_id": "add_anpr_lane"})
    fields = {"format": "vzenith", "car_park": "north", "entrance": "main", "lane_no": 2, "direction": "entry",
              "barrier": "reply"}
    refused = await hass.config_entries.options.async_configure(flow["flow_id"], fields)
    assert refused["errors"] == {"base": "vzenith_settings"}  # it cannot authenticate: its address is required
    shown = await hass.config_entries.options.async_configure(refused["flow_id"],
                                                              {**fields, "allowed_addresses": "127.0.0.1"})
    url = shown["description_placeholders"]["url"]
    await hass.config_entries.options.async_configure(shown["flow_id"], {})
    await hass.async_block_till_done()
    path = url[url.index(PUSH_PATH):]
    client = await hass_client_no_auth()  # type: ignore[operator]

    async def push(plate: str, record_id: str) -> dict:
        record = SimRecord(record_id, plate, PlateColor.BLUE, datetime.now(UTC).replace(microsecond=0))
        response = await client.post(path, data=vzenith_push(record, serial="vz-0001"),
                                     headers={"Content-Type": "application/json"})
        assert response.status == 200
        return dict(await response.json())

    assert (await push(RESIDENT_PLATE, "11"))["Response_AlarmInfoPlate"]["info"] == "ok"
    assert (await push(BLACK_PLATE, "12"))["Response_AlarmInfoPlate"]["info"] == "no"
    assert (await push(RESIDENT_PLATE, "11"))["Response_AlarmInfoPlate"]["info"] == "no"  # a resend opens nothing
    assert simulator.doors[1].releases == 0  # the Vzenith lane's barrier is the camera's relay, not door 2
    assert _passes(hass, community_entry) == 2
    # Home Assistant cannot command that relay (it follows the reply only): the lane has no barrier cover.
    covers = [e for e in er.async_get(hass).entities.values() if e.domain == "cover" and e.platform == DOMAIN]
    assert [e.entity_id for e in covers] == ["cover.test_garden_north_main_lane_1_barrier"]


async def test_a_dahua_camera_pushes_to_the_hubs_own_port_with_digest(
    hass: HomeAssistant, community_entry: MockConfigEntry, lane: str, simulator: DoorControllerSim,
    unused_tcp_port: int,
) -> None:
    hass.config_entries.async_update_entry(community_entry, options={**community_entry.options,
                                                                     "anpr_port": unused_tcp_port})
    flow = await hass.config_entries.options.async_init(community_entry.entry_id)
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"next_step_id": "add_anpr_lane"})
    fields = {"format": "dahua", "car_park": "north", "entrance": "main", "lane_no": 3, "direction": "entry",
              "barrier": "door", "lock": "lock.simdc0042_door_1"}
    refused = await hass.config_entries.options.async_configure(flow["flow_id"], fields)
    assert refused["errors"] == {"base": "dahua_settings"}  # Digest credentials are required
    shown = await hass.config_entries.options.async_configure(
        refused["flow_id"], {**fields, "username": "dahua-gate-3", "password": "dh-pass-0003"})
    url = shown["description_placeholders"]["url"]
    assert url.endswith(f":{unused_tcp_port}/NotificationInfo/TollgateInfo")
    await hass.config_entries.options.async_configure(shown["flow_id"], {})
    await hass.async_block_till_done()

    base = f"http://127.0.0.1:{unused_tcp_port}"
    record = _record(RESIDENT_PLATE, "dh-0001")
    async with AnprCameraSim("dahua", base, camera_id="DH-0003", username="dahua-gate-3",
                             password="dh-pass-0003") as camera:
        assert await camera.keepalive() == 200
        assert await camera.send(record) == 200
    async with AnprCameraSim("dahua", base, username="dahua-gate-3", password="wrong-password") as intruder:
        assert await intruder.send(_record(RESIDENT_PLATE, "dh-0002")) == 401
    await wait_for_event(hass, _entity(hass, "event", "-vehicle", lane_no=3), "granted")
    assert simulator.doors[0].releases == 1 and _passes(hass, community_entry) == 1
