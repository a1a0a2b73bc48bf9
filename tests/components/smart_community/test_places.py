"""Places by name through a real Home Assistant: a door's device renamed and given an area in Home Assistant's
registries is what the panel's overview, the access log, the CSV download and the audit log view call it; without
a rename the hub's own name is used, and the id stays beside the name."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from custom_components.smart_community.const import DOMAIN
from custom_components.smart_community.places import HaPlace, place_name
from devkit.sim.door_controller import DoorControllerSim

from .test_websocket_api import DOOR, _decisions, _log, _ok

Ws = Callable[..., Awaitable[Any]]


@pytest.fixture
async def ws(hass: HomeAssistant, community_entry: MockConfigEntry,
             hass_ws_client: WebSocketGenerator) -> Callable[..., Awaitable[dict[str, Any]]]:
    client = await hass_ws_client(hass)

    async def send(name: str, **fields: Any) -> dict[str, Any]:
        await client.send_json_auto_id({"type": f"{DOMAIN}/{name}", **fields})
        return await client.receive_json()

    return send


def _rename(hass: HomeAssistant, identifier: str, name: str, area: str | None = None) -> None:
    """As a manager does on the device's page: a new name, and an area."""
    registry = dr.async_get(hass)
    # Through the integration's entries: async_get_device is deprecated on the newest Home Assistant.
    device = next((d for entry in hass.config_entries.async_entries(DOMAIN)
                   for d in dr.async_entries_for_config_entry(registry, entry.entry_id)
                   if (DOMAIN, identifier) in d.identifiers), None)
    assert device is not None
    area_id = ar.async_get(hass).async_get_or_create(area).id if area else None
    registry.async_update_device(device.id, name_by_user=name, area_id=area_id)


def test_the_one_rule() -> None:
    """HA's name a manager gave wins, then the hub's, then HA's device name, then the id."""
    assert place_name("d1", HaPlace("North gate", "SIM door 1", None), "Hub name") == "North gate"
    assert place_name("d1", HaPlace(None, "SIM door 1", None), "Hub name") == "Hub name"
    assert place_name("d1", HaPlace(None, "SIM door 1", None), None) == "SIM door 1"
    assert place_name("d1", HaPlace("  ", None, None), "") == "d1"
    assert place_name("d1", None, None) == "d1"


async def test_a_door_renamed_in_home_assistant_is_named_so_everywhere(
    hass: HomeAssistant, ws: Ws, simulator: DoorControllerSim, hass_client_no_auth: ClientSessionGenerator
) -> None:
    await _decisions(hass, simulator, ws)
    events = await _log(ws, expect=3)
    assert events[0]["door"] == DOOR and events[0]["door_name"] == "SIMDC0042 door 1"  # the hub's name

    _rename(hass, DOOR, "North gate", "Entrance")
    overview = await _ok(ws, "overview")
    doors = {d["door_id"]: d for d in overview["doors"]}
    assert doors[DOOR]["name"] == "North gate" and doors[DOOR]["area"] == "Entrance"
    assert doors["SIMDC0042-door1"]["name"] == "SIMDC0042 door 2" and doors["SIMDC0042-door1"]["area"] is None

    events = await _log(ws, expect=3)
    assert {(e["door"], e["door_name"], e["door_area"]) for e in events} == {(DOOR, "North gate", "Entrance")}

    export = await _ok(ws, "access_log/export")
    response = await (await hass_client_no_auth()).get(export["url"])
    assert response.status == 200
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert len(rows) == 3
    assert {(row["door"], row["door_name"]) for row in rows} == {(DOOR, "North gate")}

    # The audit log view names the door the access rule was given for (the entry itself keeps the id).
    entries = (await _ok(ws, "audit/list"))["entries"]
    rule = next(e for e in entries if e["action"] == "rule.add")
    assert rule["details"]["doors"] == [DOOR] and rule["places"] == {DOOR: "North gate"}

    # A later rename is picked up at once: nothing is cached.
    _rename(hass, DOOR, "Main gate")
    assert {e["door_name"] for e in await _log(ws, expect=3)} == {"Main gate"}


async def test_the_access_rules_view_names_doors_and_people(
    hass: HomeAssistant, ws: Ws, community_entry: MockConfigEntry
) -> None:
    """rules/list: who may use which doors (by name), when, and on holidays; rules/remove takes one away."""
    await _ok(ws, "residents/add", resident_id="r-001", full_name="Li Wei", building="2")
    await hass.services.async_call(DOMAIN, "add_access_rule", {
        "rule_id": "day", "name": "Weekday daytime", "doors": ["lock.simdc0042_door_1"], "residents": ["r-001"],
        "weekdays": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00", "end": "19:00", "on_holidays": False,
    }, blocking=True)
    _rename(hass, DOOR, "North gate", "Entrance")
    listed = await _ok(ws, "rules/list")
    assert listed["holidays"] == []
    (rule,) = listed["rules"]
    assert rule == {
        "rule_id": "day", "name": "Weekday daytime",
        "doors": [{"id": DOOR, "name": "North gate", "area": "Entrance"}],
        "weekdays": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00", "end": "19:00", "all_day": False,
        "on_holidays": False, "everyone": False, "residents": [{"resident_id": "r-001", "full_name": "Li Wei"}],
        "buildings": [],
    }
    await _ok(ws, "rules/remove", rule_id="day")
    assert (await _ok(ws, "rules/list"))["rules"] == []
    missing = await ws("rules/remove", rule_id="day")
    assert not missing["success"] and missing["error"]["code"] == "not_found"


async def test_an_alarm_names_the_door_as_home_assistant_does(
    hass: HomeAssistant, ws: Ws, community_entry: MockConfigEntry, simulator: DoorControllerSim,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """A door renamed in HA: its tamper alarm, in the alarm list and its notification, carries the new name."""
    from homeassistant.setup import async_setup_component

    from .test_alarms import _alarms, _has, _until

    assert await async_setup_component(hass, "persistent_notification", {})
    _rename(hass, DOOR, "North gate")
    simulator.set_tamper(0, True)
    listed = await _until("the tamper alarm is listed", lambda: _alarms(ws))
    assert listed[0]["device_id"] == DOOR and listed[0]["name"] == "North gate"
    client = await hass_ws_client(hass)
    notification_id = f"{DOMAIN}_alarm_{listed[0]['problem_id']}"
    notes = await _until("a notification", lambda: _has(client, notification_id))
    assert "North gate" in notes[notification_id]["message"]
