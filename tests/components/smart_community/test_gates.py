"""Face verification at a gate through Home Assistant: consent, enrolment from real photos, a gate made of a
door, a camera entity and the door's presence sensor; the door opens for the enrolled resident only."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_community.const import DOMAIN
from devkit.sim.camera import CameraSim
from devkit.sim.door_controller import DoorControllerSim

from .conftest import FACES, resident_ref, wait_for_event, wait_for_state

PRESENCE = "binary_sensor.simdc0042_door_1_presence"
ACCESS = "event.simdc0042_door_1_access"


async def _call(hass: HomeAssistant, service: str, data: dict, **kwargs: object) -> dict | None:
    return await hass.services.async_call(DOMAIN, service, data, blocking=True, **kwargs)


@pytest.fixture
async def gate(
    hass: HomeAssistant, community_entry: MockConfigEntry, init_integration: MockConfigEntry, camera_sim: CameraSim
) -> MockConfigEntry:
    """John Salley enrolled with consent; door 1 a gate watched by the simulated camera and its presence sensor."""
    camera = MockConfigEntry(
        domain=DOMAIN, unique_id="CAM1", title="Gate camera",
        data={"kind": "camera", "snapshot_url": camera_sim.snapshot_url, "mjpeg_url": camera_sim.mjpeg_url,
              "username": "admin", "password": "s3cret-pass", "auth": "digest"},
    )
    camera.add_to_hass(hass)
    assert await hass.config_entries.async_setup(camera.entry_id)
    er.async_get(hass).async_update_entity(PRESENCE, disabled_by=None)
    await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    hass.config.allowlist_external_dirs = {str(FACES)}

    await _call(hass, "add_resident", {"resident_id": "r-salley", "full_name": "John Salley"})
    photos = [str(p) for p in sorted((FACES / "John_Salley").glob("*.jpg"))[:3]]
    with pytest.raises(ServiceValidationError, match="consent"):
        await _call(hass, "enrol_face", {"resident_id": "r-salley", "photos": photos})
    await _call(hass, "record_consent", {"resident_id": "r-salley", "scope": "North gate; templates only"})
    with pytest.raises(ServiceValidationError, match="allowlist"):
        await _call(hass, "enrol_face", {"resident_id": "r-salley", "photos": ["/etc/passwd"]})
    result = await _call(hass, "enrol_face", {"resident_id": "r-salley", "photos": photos}, return_response=True)
    assert result["enrolled"] == 3
    assert all(p["accepted"] for p in result["photos"])
    await wait_for_state(hass, "sensor.test_garden_enrolled_faces", "1")
    await _call(hass, "add_access_rule", {"rule_id": "all", "name": "All", "doors": ["lock.simdc0042_door_1"],
                                          "everyone": True})

    flow = await hass.config_entries.options.async_init(community_entry.entry_id)
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"next_step_id": "add_gate"})
    flow = await hass.config_entries.options.async_configure(
        flow["flow_id"], {"lock": "lock.simdc0042_door_1", "camera": "camera.gate_camera", "presence": PRESENCE,
                          "frames": 5, "face_assurance": "face_alone"},  # these tests are about a face alone
    )
    assert flow["type"] == "create_entry"
    await hass.async_block_till_done()
    return community_entry


async def test_presence_at_the_gate_opens_for_the_enrolled_resident_only(
    hass: HomeAssistant, gate: MockConfigEntry, simulator: DoorControllerSim, camera_sim: CameraSim
) -> None:
    camera_sim.set_scene("person", "John_Salley")
    simulator.set_presence(0, True)
    granted = await wait_for_event(hass, ACCESS, "granted", timeout=30)
    assert (granted["credential"], granted["resident_ref"], granted["released"]) == (
        "face", resident_ref(hass, "r-salley"), True)
    assert simulator.doors[0].releases == 1
    simulator.set_presence(0, False)
    await wait_for_state(hass, PRESENCE, "off")

    camera_sim.set_scene("phone", "John_Salley")  # a slideshow of his photos on a phone held up to the camera
    simulator.set_presence(0, True)
    denied = await wait_for_event(hass, ACCESS, "denied", timeout=30)
    assert denied["reason"] == "not_live"
    assert simulator.doors[0].releases == 1


async def test_the_gate_starts_on_the_frames_its_camera_sent_before_presence(
    hass: HomeAssistant, gate: MockConfigEntry, simulator: DoorControllerSim, camera_sim: CameraSim
) -> None:
    """The gate keeps this integration's camera's MJPEG frames (a ring buffer) while nobody is there, so when
    presence fires the burst is already taken: here the camera stops answering at that moment, and the resident is
    let in on the frames from before. When presence ends the ring forgets them (the next person's burst never
    starts on this one's frames)."""
    import asyncio

    ring = gate.runtime_data.gate_rings["lock.simdc0042_door_1"]
    camera_sim.fps = 25  # a gate camera's cadence (the fixture's 4 fps would keep fewer than 5 in the ring's second)
    camera_sim.set_scene("person", "John_Salley")
    deadline = hass.loop.time() + 30
    while not (ring.streaming and len(ring) >= 8):  # the stream is up and the person has stood there a moment
        assert hass.loop.time() < deadline, "the gate's ring never filled from the camera's stream"
        await asyncio.sleep(0.05)
    camera_sim.set_hanging(True)  # from now on the camera sends nothing: no snapshot, no stream frame
    snapshots, frames = camera_sim.snapshots_served, camera_sim.frames_served
    try:
        simulator.set_presence(0, True)
        granted = await wait_for_event(hass, ACCESS, "granted", timeout=30)
        assert (granted["credential"], granted["released"]) == ("face", True)
        assert (camera_sim.snapshots_served, camera_sim.frames_served) == (snapshots, frames)
        assert len(ring) == 0  # forgotten once decided
        simulator.set_presence(0, False)
        await wait_for_state(hass, PRESENCE, "off")
        assert len(ring) == 0
    finally:
        camera_sim.set_hanging(False)


async def test_verify_at_gate_action(hass: HomeAssistant, gate: MockConfigEntry, simulator: DoorControllerSim,
                                     camera_sim: CameraSim) -> None:
    """A manager runs the check by hand: a stranger is refused with the reason; nobody there is no decision."""
    camera_sim.set_scene("person", "John_Simm")
    result = await _call(hass, "verify_at_gate", {"gate": "lock.simdc0042_door_1"}, return_response=True)
    assert (result["decision"], result["reason"]) == ("denied", "unknown_face")
    camera_sim.set_scene("nobody")
    result = await _call(hass, "verify_at_gate", {"gate": "lock.simdc0042_door_1"}, return_response=True)
    assert result["decision"] is None
    with pytest.raises(ServiceValidationError, match="not a configured gate"):
        await _call(hass, "verify_at_gate", {"gate": "lock.simdc0042_door_2"})
    assert simulator.doors[0].releases == 0

    flow = await hass.config_entries.options.async_init(gate.entry_id)
    assert flow["menu_options"] == ["add_gate", "edit_gate", "remove_gate", "door_operators", "keypad", "uplink",
                                    "field_policy", "retention", "health", "add_anpr_lane", "vehicle_rules"]
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"next_step_id": "remove_gate"})
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"lock": "lock.simdc0042_door_1"})
    assert flow["type"] == "create_entry"
    await hass.async_block_till_done()  # the entry reloads without the gate
    assert gate.options["gates"] == []
