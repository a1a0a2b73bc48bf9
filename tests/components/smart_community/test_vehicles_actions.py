"""The vehicle actions on the real ``hass``: an administrator registers a car and a visitor's car through the
actions, and the cars pushed by the camera simulator open the barrier; a non-administrator is refused by every
vehicle action and websocket command and changes nothing; the vehicle log filters and exports CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.smart_community.const import DOMAIN
from devices.anpr import PlateColor
from devkit.sim.anpr import SimRecord, hikvision_push
from devkit.sim.door_controller import DoorControllerSim

from .test_commands import VALID
from .test_vehicles_ha import _add_lane

VEHICLE_ACTIONS = ("add_vehicle", "remove_vehicle", "add_monthly_vehicle", "remove_monthly_vehicle",
                   "invite_vehicle", "revoke_vehicle_invitation", "list_plate", "unlist_plate", "vehicle_log")


async def _call(hass: HomeAssistant, service: str, data: dict, **kwargs: object) -> dict:
    result = await hass.services.async_call(DOMAIN, service, data, blocking=True, return_response=True, **kwargs)
    assert result is not None
    return dict(result)


async def _push(client: object, path: str, plate: str, record_id: str) -> int:
    record = SimRecord(record_id, plate, PlateColor.BLUE, datetime.now(UTC).replace(microsecond=0))
    body, content_type = hikvision_push(record)
    response = await client.post(path, data=body, headers={"Content-Type": content_type})  # type: ignore[attr-defined]
    return int(response.status)


async def test_cars_registered_by_action_open_and_the_log_exports_csv(
    hass: HomeAssistant, community_entry: MockConfigEntry, simulator: DoorControllerSim,
    hass_client_no_auth: object,
) -> None:
    await hass.services.async_call(DOMAIN, "add_resident", {"resident_id": "r-001", "full_name": "Li Wei"},
                                   blocking=True)
    path = await _add_lane(hass, community_entry)
    car = await _call(hass, "add_vehicle", {"resident_id": "r-001", "plate": "皖a·7xg66"})
    assert car["plate"] == "皖A7XG66" and car["plate_color"] == 5
    now = datetime.now(UTC)
    invited = await _call(hass, "invite_vehicle", {"resident_id": "r-001", "plate": "皖A5B321",
                                                    "valid_until": (now + timedelta(hours=2)).isoformat()})
    await _call(hass, "list_plate", {"plate": "皖B99999", "list": "black", "note": "notice 12"})
    with pytest.raises(ServiceValidationError):
        await _call(hass, "add_vehicle", {"resident_id": "r-001", "plate": "皖AO1234"})

    client = await hass_client_no_auth()  # type: ignore[operator]
    assert await _push(client, path, "皖A7XG66", "rec-1") == 200
    assert await _push(client, path, "皖A5B321", "rec-2") == 200
    await hass.services.async_call(DOMAIN, "revoke_vehicle_invitation",
                                   {"invitation_id": invited["invitation_id"]}, blocking=True)
    assert await _push(client, path, "皖A5B321", "rec-3") == 200  # revoked: refused now
    assert await _push(client, path, "皖B99999", "rec-4") == 200
    await hass.async_block_till_done()
    assert simulator.doors[1].releases == 2

    log = await _call(hass, "vehicle_log", {})
    assert [(e["plate"], e["result"], e["reason"]) for e in log["entries"]] == [
        ("皖B99999", "denied", "blacklisted"), ("皖A5B321", "denied", "visitor_revoked"),
        ("皖A5B321", "granted", "visitor_in_window"), ("皖A7XG66", "granted", "resident_vehicle")]
    denied = await _call(hass, "vehicle_log", {"result": "denied", "lane_id": "north:main:1", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(denied["csv"])))
    assert denied["rows"] == 2 and [r["plate"] for r in rows] == ["皖B99999", "皖A5B321"]
    assert (await _call(hass, "vehicle_log", {"plate": "皖 a7xg66"}))["entries"][0]["resident_id"] == "r-001"
    later = await _call(hass, "vehicle_log", {"since": (now + timedelta(hours=1)).isoformat()})
    assert later["entries"] == []


async def test_a_non_administrator_is_refused_by_every_vehicle_action(
    hass: HomeAssistant, community_entry: MockConfigEntry, hass_read_only_user: object,
    hass_ws_client: WebSocketGenerator, hass_read_only_access_token: str,
) -> None:
    user_id = hass_read_only_user.id  # type: ignore[attr-defined]
    for action in VEHICLE_ACTIONS:
        with pytest.raises(Unauthorized):
            await hass.services.async_call(DOMAIN, action, VALID[action], blocking=True,
                                           context=Context(user_id=user_id))
    client = await hass_ws_client(hass, hass_read_only_access_token)
    for command in ("vehicles/list", "vehicles/log", "vehicles/add"):
        fields = {"resident_id": "r-1", "plate": "皖A12345"} if command == "vehicles/add" else {}
        await client.send_json_auto_id({"type": f"{DOMAIN}/{command}", **fields})
        assert (await client.receive_json())["error"]["code"] == "unauthorized"
    vehicles = community_entry.runtime_data.community.vehicles
    assert await hass.async_add_executor_job(community_entry.runtime_data.community.call,
                                             vehicles.resident_vehicles) == []
