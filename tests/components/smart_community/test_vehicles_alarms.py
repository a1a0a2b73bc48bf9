"""A blacklisted plate raises an alarm, through Home Assistant: a Hikvision push (the project's simulator's wire
format) to the lane's push URL on Home Assistant's own HTTP server; the alarm is listed in the panel's alarm list
(with the plate: the panel is admin-only) until a manager acknowledges and closes it, counted by the open-alarms
sensor (the panel's badge reads the same count), and announced by a persistent notification that names the lane and
not the plate. A resend of the same camera record raises nothing again. Real ``hass``, real simulator, nothing
mocked."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.smart_community.const import DOMAIN
from devkit.sim.door_controller import DoorControllerSim
from hub.journal import EventKind

from .conftest import wait_for_event, wait_for_state
from .test_alarms import OPEN_ALARMS, _notifications, _until
from .test_vehicles_ha import BLACK_PLATE, RESIDENT_PLATE, _entity, _push, _record, lane  # noqa: F401

LANE_NAME = "Car park north, main lane 1"


async def test_a_blacklisted_plate_raises_an_alarm_listed_notified_and_closed_by_a_manager(
    hass: HomeAssistant, community_entry: MockConfigEntry, lane: str, simulator: DoorControllerSim,  # noqa: F811
    hass_client_no_auth: object, hass_ws_client: WebSocketGenerator,
) -> None:
    assert await async_setup_component(hass, "persistent_notification", {})
    ws = await hass_ws_client(hass)
    client = await hass_client_no_auth()  # type: ignore[operator]

    async def command(name: str, **fields: Any) -> dict[str, Any]:
        await ws.send_json_auto_id({"type": f"{DOMAIN}/{name}", **fields})
        return await ws.receive_json()

    async def listed() -> list[dict[str, Any]]:
        return list((await command("alarms/list"))["result"]["alarms"])

    await wait_for_state(hass, OPEN_ALARMS, "0")
    # A registered car raises nothing.
    assert await _push(client, lane, _record(RESIDENT_PLATE, "ok-0001")) == 200
    await wait_for_event(hass, _entity(hass, "event", "-vehicle"), "granted")
    await hass.async_block_till_done()
    assert await listed() == []

    assert await _push(client, lane, _record(BLACK_PLATE, "bad-0001")) == 200
    alarms = await _until("the blacklisted-vehicle alarm is listed", listed)
    assert len(alarms) == 1
    alarm = alarms[0]
    assert alarm["alarm"] == "blacklisted_vehicle" and alarm["alarm_state"] == "open"
    assert alarm["subject"] == BLACK_PLATE and alarm["name"] == LANE_NAME and alarm["device_id"] == "north:main:1"
    await wait_for_state(hass, OPEN_ALARMS, "1")
    notification_id = f"{DOMAIN}_alarm_{alarm['problem_id']}"
    notes = await _until("a notification", lambda: _has(ws, notification_id))
    note = notes[notification_id]
    assert note["title"] == "Blacklisted vehicle"
    assert LANE_NAME in note["message"] and "/smart-community/alarms" in note["message"]
    assert BLACK_PLATE not in note["message"]  # every Home Assistant user sees notifications
    # No plate in any entity's state either.
    states = json.dumps([s.as_dict() for s in hass.states.async_all()], ensure_ascii=False, default=str)
    assert BLACK_PLATE not in states and RESIDENT_PLATE not in states

    # The camera resends the record (it was not sure the hub got it): no second alarm.
    assert await _push(client, lane, _record(BLACK_PLATE, "bad-0001")) == 200
    await hass.async_block_till_done()
    assert [a["problem_id"] for a in await listed()] == [alarm["problem_id"]]
    # The same car again (a new record) is a new pass and a new alarm.
    assert await _push(client, lane, _record(BLACK_PLATE, "bad-0002")) == 200
    await _until("a second alarm", lambda: _count(command, 2))
    await wait_for_state(hass, OPEN_ALARMS, "2")
    assert simulator.doors[1].releases == 1  # only the registered car's

    # The county hears of each as the pass's vehicle_alarm event.
    journal = community_entry.runtime_data.uplink.journal
    events = await hass.async_add_executor_job(lambda: journal.events(kind=EventKind.VEHICLE_ALARM))
    assert [e.payload["plate"] for e in events] == [BLACK_PLATE, BLACK_PLATE]

    acked = await command("problems/acknowledge", problem_id=alarm["problem_id"], note="Police called")
    assert acked["result"]["alarm_state"] == "acknowledged" and acked["result"]["subject"] == BLACK_PLATE
    closed = await command("alarms/close", problem_id=alarm["problem_id"])
    assert closed["result"]["alarm_state"] == "closed"
    await wait_for_state(hass, OPEN_ALARMS, "1")
    assert notification_id not in await _notifications(ws)
    entries = await hass.async_add_executor_job(lambda: journal.audit.entries_desc(limit=20))
    audited = [e for e in entries if e.action in ("acknowledge_device_problem", "close_alarm")]
    assert len(audited) == 2 and all(e.actor != "system" for e in audited)
    assert BLACK_PLATE not in json.dumps([e.details for e in audited], ensure_ascii=False)


async def _has(ws: Any, notification_id: str) -> dict[str, Any] | None:
    notes = await _notifications(ws)
    return notes if notification_id in notes else None


async def _count(command: Any, n: int) -> bool:
    return len((await command("alarms/list"))["result"]["alarms"]) == n
