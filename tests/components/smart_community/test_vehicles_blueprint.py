"""The blacklisted-vehicle blueprint end to end: a blacklisted plate pushed by the camera simulator to the lane's
push URL runs the notification with the plate; a registered car, or a blacklisted one on a lane not chosen, does
not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from custom_components.smart_community.const import DOMAIN

from .test_blueprints import BLUEPRINTS, NOTIFY, _wait_for
from .test_vehicles_ha import BLACK_PLATE, RESIDENT_PLATE, _entity, _push, _record, lane  # noqa: F401


@pytest.fixture(autouse=True)
def blueprint_config_dir(hass: HomeAssistant, tmp_path: Path) -> None:
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(BLUEPRINTS, Path(hass.config.path("blueprints", "automation", "smart_community")))


async def test_a_blacklisted_plate_notifies_with_the_plate(
    hass: HomeAssistant, community_entry: MockConfigEntry, lane: str, hass_client_no_auth: object,  # noqa: F811
) -> None:
    calls = async_mock_service(hass, "notify", "test")
    lane_event = _entity(hass, "event", "-vehicle")
    assert await async_setup_component(hass, "automation", {"automation": [
        {"id": "black", "alias": "black", "use_blueprint": {
            "path": f"{DOMAIN}/blacklisted_vehicle_notify.yaml",
            "input": {"lane_events": [lane_event], "notify_action": NOTIFY}}},
        {"id": "other_lane", "alias": "other_lane", "use_blueprint": {
            "path": f"{DOMAIN}/blacklisted_vehicle_notify.yaml",
            "input": {"lane_events": ["event.somewhere_else"], "notify_action": NOTIFY}}},
    ]})
    await hass.async_block_till_done()
    client = await hass_client_no_auth()  # type: ignore[operator]
    assert await _push(client, lane, _record(RESIDENT_PLATE, "ok-1")) == 200
    assert await _push(client, lane, _record(BLACK_PLATE, "black-1")) == 200
    await _wait_for(lambda: calls, what="the blacklisted-vehicle notification")
    await hass.async_block_till_done()
    assert len(calls) == 1
    assert calls[0].data["title"] == "Blacklisted vehicle"
    assert calls[0].data["message"].startswith(f"Blacklisted plate {BLACK_PLATE} at north main lane 1 (entry)")
    await hass.services.async_call("automation", "turn_off", {"entity_id": "all"}, blocking=True)
