"""Face assurance per gate through Home Assistant (the real ``hass`` fixture, the real simulated controller): a
new gate takes a face only with a card or PIN (the default), a gate stored before levels existed gets the same
default, a manager changes the level (and a night window) in the options flow or with the admin-only action, and
the panel's overview states each gate's level with the risk of face alone."""

from __future__ import annotations

from datetime import time

import pytest
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.smart_community.const import DOMAIN
from hub.access.models import FaceAssurance, FaceAssuranceWindow

LOCK = "lock.simdc0042_door_1"
GATE = {"lock": LOCK, "camera": "camera.gate_camera", "frames": 5}


def _face_door(entry: MockConfigEntry):  # type: ignore[no-untyped-def]
    community = entry.runtime_data.community
    doors = {d.door_id: d for d in community.access_config.list_doors()}
    (door_id,) = entry.runtime_data.face_doors
    return doors[door_id]


async def _options(hass: HomeAssistant, entry: MockConfigEntry, step: str, *answers: dict) -> dict:
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"next_step_id": step})
    for answer in answers:
        flow = await hass.config_entries.options.async_configure(flow["flow_id"], answer)
    await hass.async_block_till_done()
    return flow


async def test_a_new_gate_defaults_to_face_and_second_factor(
    hass: HomeAssistant, community_entry: MockConfigEntry
) -> None:
    flow = await _options(hass, community_entry, "add_gate", dict(GATE))
    assert flow["type"] == "create_entry"
    assert community_entry.options["gates"][0]["face_assurance"] == "face_and_second_factor"
    assert _face_door(community_entry).face_assurance is FaceAssurance.FACE_AND_SECOND_FACTOR


async def test_a_gate_stored_before_levels_gets_the_secure_default(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    entry = MockConfigEntry(domain=DOMAIN, title="Test Garden", unique_id="community",
                            data={"kind": "community", "name": "Test Garden"}, options={"gates": [dict(GATE)]})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert _face_door(entry).face_assurance is FaceAssurance.FACE_AND_SECOND_FACTOR


async def test_the_edit_step_sets_face_alone_with_a_night_window(
    hass: HomeAssistant, community_entry: MockConfigEntry
) -> None:
    await _options(hass, community_entry, "add_gate", dict(GATE))
    flow = await hass.config_entries.options.async_init(community_entry.entry_id)
    assert "edit_gate" in flow["menu_options"]
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"next_step_id": "edit_gate"})
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"lock": LOCK})
    assert flow["step_id"] == "edit_gate_level"
    bad = await hass.config_entries.options.async_configure(
        flow["flow_id"], {"face_assurance": "face_alone", "window_level": "face_and_second_factor"})
    assert bad["errors"] == {"window_start": "window_times_required"}
    assert community_entry.options["gates"][0]["face_assurance"] == "face_and_second_factor"  # nothing changed
    done = await hass.config_entries.options.async_configure(
        bad["flow_id"], {"face_assurance": "face_alone", "window_level": "face_and_second_factor",
                         "window_start": "20:00:00", "window_end": "07:00:00"})
    assert done["type"] == "create_entry"
    await hass.async_block_till_done()
    door = _face_door(community_entry)
    assert door.face_assurance is FaceAssurance.FACE_ALONE
    assert door.face_windows == (FaceAssuranceWindow(FaceAssurance.FACE_AND_SECOND_FACTOR, time(20), time(7)),)


async def test_the_action_is_admin_only_and_the_panel_states_the_risk(
    hass: HomeAssistant, community_entry: MockConfigEntry, hass_read_only_user: MockUser,
    hass_ws_client: WebSocketGenerator,
) -> None:
    await _options(hass, community_entry, "add_gate", dict(GATE))
    with pytest.raises(Unauthorized):
        await hass.services.async_call(DOMAIN, "set_face_assurance", {"gate": LOCK, "level": "face_alone"},
                                       blocking=True, context=Context(user_id=hass_read_only_user.id))
    assert _face_door(community_entry).face_assurance is FaceAssurance.FACE_AND_SECOND_FACTOR
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(DOMAIN, "set_face_assurance",
                                       {"gate": "lock.simdc0042_door_2", "level": "face_alone"}, blocking=True)
    await hass.services.async_call(DOMAIN, "set_face_assurance", {"gate": LOCK, "level": "face_alone"},
                                   blocking=True)
    assert _face_door(community_entry).face_assurance is FaceAssurance.FACE_ALONE
    assert community_entry.options["gates"][0]["face_assurance"] == "face_alone"
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": f"{DOMAIN}/overview"})
    overview = (await client.receive_json())["result"]
    (level,) = overview["gate_levels"]
    assert level["face_assurance"] == "face_alone"
    assert "APCER 0.842" in level["warning"] and "convenience" in level["warning"].lower()
