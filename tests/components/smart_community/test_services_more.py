"""The rest of the community's actions and their error paths: updates, revocations, rules, enrolment input,
gates whose camera or door is missing, and entries that cannot start."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError, UnknownUser
from PIL import Image
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smart_community.const import DOMAIN
from custom_components.smart_community.gates import Gate, async_run_gate
from devkit.sim.camera import CameraSim
from devkit.sim.door_controller import DoorControllerSim

from .conftest import FACES


async def _call(hass: HomeAssistant, service: str, data: dict, **kwargs: object) -> dict | None:
    return await hass.services.async_call(DOMAIN, service, data, blocking=True, **kwargs)


async def test_updates_revocations_and_rules(hass: HomeAssistant, community_entry: MockConfigEntry) -> None:
    """Every manager action changes what it says, and the registry shows it."""
    registry = community_entry.runtime_data.community.registry
    await _call(hass, "add_resident", {"resident_id": "r-1", "full_name": "Han Mei", "valid_from": "2026-01-01 08:00",
                                       "is_minor": True, "guardian": "Han Lei"})
    await _call(hass, "update_resident", {"resident_id": "r-1", "full_name": "Han Meimei", "status": "suspended",
                                          "unit": "1203", "valid_until": "2030-01-01 00:00"})
    resident = await hass.async_add_executor_job(registry.residents.get_resident, "r-1")
    assert (resident.full_name, resident.status.value, resident.unit) == ("Han Meimei", "suspended", "1203")
    assert resident.valid_from is not None and resident.valid_from.tzinfo is not None

    card = await _call(hass, "add_card", {"resident_id": "r-1", "card_number": "55550001"}, return_response=True)
    await _call(hass, "revoke_card", {"card_id": card["card_id"]})
    cards = await hass.async_add_executor_job(registry.credentials.list_cards, "r-1")
    assert cards[0].revoked_at is not None

    await _call(hass, "set_pin", {"resident_id": "r-1", "pin": "739164"})
    await _call(hass, "revoke_pin", {"resident_id": "r-1"})
    with pytest.raises(ServiceValidationError):
        await _call(hass, "revoke_pin", {"resident_id": "r-1"})

    await _call(hass, "record_consent", {"resident_id": "r-1", "scope": "North gate", "guardian": "Han Lei"})
    await _call(hass, "withdraw_consent", {"resident_id": "r-1"})
    assert await hass.async_add_executor_job(registry.consents.active_consent, "r-1") is None

    await _call(hass, "add_access_rule", {"rule_id": "weekdays", "name": "Weekdays", "everyone": False,
                                          "doors": ["lock.simdc0042_door_2"], "weekdays": ["mon", "fri"],
                                          "start": "07:00", "end": "19:00", "buildings": ["3"]})
    rules = community_entry.runtime_data.community.access_config
    assert [r.rule_id for r in await hass.async_add_executor_job(rules.list_rules)] == ["weekdays"]
    await _call(hass, "remove_access_rule", {"rule_id": "weekdays"})
    assert await hass.async_add_executor_job(rules.list_rules) == []
    with pytest.raises(ServiceValidationError):
        await _call(hass, "remove_access_rule", {"rule_id": "weekdays"})


async def test_enrolment_input_is_checked(
    hass: HomeAssistant, community_entry: MockConfigEntry, tmp_path: Path
) -> None:
    """Unreadable, non-image or face-less photos are refused with the reason, and nothing is enrolled."""
    Image.new("RGB", (320, 240), (128, 128, 128)).save(tmp_path / "wall.jpg")
    hass.config.allowlist_external_dirs = {str(FACES), str(tmp_path)}
    await _call(hass, "add_resident", {"resident_id": "r-2", "full_name": "Sun Li"})
    await _call(hass, "record_consent", {"resident_id": "r-2", "scope": "North gate"})
    with pytest.raises(ServiceValidationError, match="cannot read"):
        await _call(hass, "enrol_face", {"resident_id": "r-2", "photos": [str(FACES / "nobody.jpg")]})
    with pytest.raises(ServiceValidationError, match="photo 1 is not a JPEG or PNG image"):
        await _call(hass, "enrol_face", {"resident_id": "r-2", "photos": [str(FACES / "README.md")]})
    with pytest.raises(ServiceValidationError, match=r"no photo was good enough.*photo 1: "):
        await _call(hass, "enrol_face", {"resident_id": "r-2", "photos": [str(tmp_path / "wall.jpg")]})
    # A file past the photo size cap is refused before it is read whole; so is a device that never ends.
    (tmp_path / "huge.jpg").write_bytes(next((FACES / "John_Salley").glob("*.jpg")).read_bytes()
                                        + bytes(3 * 1024 * 1024))
    with pytest.raises(ServiceValidationError, match=r"huge\.jpg is larger than 3 MB"):
        await _call(hass, "enrol_face", {"resident_id": "r-2", "photos": [str(tmp_path / "huge.jpg")]})
    hass.config.allowlist_external_dirs = {str(FACES), str(tmp_path), "/dev"}
    with pytest.raises(ServiceValidationError, match="/dev/zero is larger than 3 MB"):
        await _call(hass, "enrol_face", {"resident_id": "r-2", "photos": ["/dev/zero"]})
    assert await hass.async_add_executor_job(
        community_entry.runtime_data.community.registry.enrolled_face_count
    ) == 0


async def test_actions_refuse_unknown_users_and_missing_community(
    hass: HomeAssistant, community_entry: MockConfigEntry
) -> None:
    with pytest.raises(UnknownUser):
        await _call(hass, "add_resident", {"resident_id": "r-3", "full_name": "X"},
                    context=Context(user_id="no-such-user"))
    await hass.config_entries.async_unload(community_entry.entry_id)
    for service, data in (("enrol_face", {"resident_id": "r-3", "photos": ["/tmp/x.jpg"]}),
                          ("verify_at_gate", {"gate": "lock.simdc0042_door_1"})):
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, service, data)
        assert err.value.translation_key == "no_community"


async def test_gate_without_frames_or_door(
    hass: HomeAssistant, community_entry: MockConfigEntry, camera_sim: CameraSim, simulator: DoorControllerSim
) -> None:
    """A gate whose camera gives no frame makes no decision; a gate whose door is not loaded says so."""
    runtime = community_entry.runtime_data
    assert await async_run_gate(hass, runtime, Gate("lock.simdc0042_door_1", "camera.nothing", None, 3)) is None
    from homeassistant.exceptions import HomeAssistantError

    with pytest.raises(HomeAssistantError, match="not a door"):
        await async_run_gate(hass, runtime, Gate("lock.elsewhere", "camera.nothing", None, 3))
    assert simulator.doors[0].releases == 0


async def test_io_module_mapping_that_no_longer_fits(hass: HomeAssistant, socket_enabled: None) -> None:
    """A stored mapping that names a relay the module does not have stops the entry with a clear error."""
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id="IO-x", title="Shed",
        data={"kind": "controller", "profile": "io-module", "host": "127.0.0.1", "port": 1, "unit_id": 1,
              "relays": 2, "inputs": 2, "serial": "IO-x"},
        options={"doors": [{"strike_relay": 7}]},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR


async def test_camera_down_at_start_retries(hass: HomeAssistant, camera_sim: CameraSim) -> None:
    """A camera that does not answer at start-up is retried later, not failed for good."""
    url = camera_sim.snapshot_url
    await camera_sim.stop()
    entry = MockConfigEntry(domain=DOMAIN, unique_id="CAM5", title="Cam",
                            data={"kind": "camera", "snapshot_url": url, "auth": "basic"})
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_alarms_are_journalled_and_a_controller_can_leave(
    hass: HomeAssistant, community_entry: MockConfigEntry, init_integration: MockConfigEntry,
    simulator: DoorControllerSim,
) -> None:
    """A forced door is journalled for the uplink; unloading the controller detaches its doors from the hub."""
    from .conftest import wait_for_state

    simulator.set_door_open(0, True)
    await wait_for_state(hass, "binary_sensor.simdc0042_door_1_forced_open", "on")
    journal = community_entry.runtime_data.uplink.journal
    for _ in range(100):
        events = await hass.async_add_executor_job(lambda: journal.events(after_seq=0, limit=100))
        if any(e.kind == "door_alarm" for e in events):
            break
        await asyncio.sleep(0.05)
    alarm = next(e for e in events if e.kind == "door_alarm")
    assert (alarm.door, alarm.payload["alarm"]) == ("SIMDC0042-door0", "forced_open")

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert community_entry.runtime_data.points == {}


async def test_camera_without_a_stream_serves_snapshots_as_mjpeg(
    hass: HomeAssistant, camera_sim: CameraSim, hass_client: ClientSessionGenerator
) -> None:
    """A camera with only a snapshot URL still gives a live view (Home Assistant's snapshot stream)."""
    entry = MockConfigEntry(domain=DOMAIN, unique_id="CAM6", title="Side gate",
                            data={"kind": "camera", "snapshot_url": camera_sim.snapshot_url, "username": "admin",
                                  "password": "s3cret-pass", "auth": "digest"})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    client = await hass_client()
    resp = await client.get("/api/camera_proxy_stream/camera.side_gate")
    assert resp.status == 200
    assert b"image/jpeg" in await resp.content.read(2048)
    resp.close()


async def test_community_setup_failing_half_way_leaves_nothing_running(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the hub cannot finish starting (here the health store fails to open: a failure injected with
    monkeypatch, since a real one needs a broken disk), the uplink's jobs are stopped and the entry retries."""
    from custom_components.smart_community import health
    from hub.exceptions import StorageError

    async def broken(self: object) -> None:
        raise StorageError("disk I/O error")

    monkeypatch.setattr(health.HealthRuntime, "async_start", broken)
    entry = MockConfigEntry(domain=DOMAIN, unique_id="community", title="G", data={"kind": "community", "name": "G"})
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state in (ConfigEntryState.SETUP_ERROR, ConfigEntryState.SETUP_RETRY)
    await asyncio.sleep(0)
    assert not [t for t in asyncio.all_tasks() if "retention" in t.get_name() and not t.done()]
