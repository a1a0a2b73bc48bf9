"""Doors as locks, driven through Home Assistant's services against the real simulator."""

from __future__ import annotations

import pytest
from homeassistant.components.lock import DOMAIN as LOCK_DOMAIN
from homeassistant.components.lock import LockState
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_LOCK, SERVICE_UNLOCK, STATE_UNAVAILABLE
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, Unauthorized
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from devices.hub_native_map import DoorMode
from devkit.sim.door_controller import DoorControllerSim
from hub.journal import EventKind

from .conftest import SERIAL, wait_for_state

LOCK = "lock.simdc0042_door_1"
MODE = "select.simdc0042_door_1_mode"


async def test_one_lock_per_door_on_its_own_device(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Each simulated door becomes a lock, on a door device that hangs off the controller's device."""
    entities = er.async_get(hass)
    devices = dr.async_get(hass)
    locks = [e for e in er.async_entries_for_config_entry(entities, init_integration.entry_id) if e.domain == "lock"]
    assert sorted(e.unique_id for e in locks) == [f"{SERIAL}-door0-lock", f"{SERIAL}-door1-lock"]
    # Looked up through the entry (async_get_device is deprecated from Home Assistant 2026.x).
    by_identifier = {
        identifier: device
        for device in dr.async_entries_for_config_entry(devices, init_integration.entry_id)
        for identifier in device.identifiers
    }
    controller = by_identifier[("smart_community", SERIAL)]
    assert controller.serial_number == SERIAL
    door = by_identifier[("smart_community", f"{SERIAL}-door0")]
    assert door.via_device_id == controller.id
    assert hass.states.get(LOCK).state == LockState.LOCKED


async def test_unlock_releases_the_door_on_the_controller(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: DoorControllerSim
) -> None:
    """lock.unlock writes a release to the controller; the lock shows unlocked, then relocks by itself."""
    await hass.services.async_call(LOCK_DOMAIN, SERVICE_UNLOCK, {ATTR_ENTITY_ID: LOCK}, blocking=True)
    assert simulator.doors[0].releases == 1
    assert simulator.doors[1].releases == 0
    assert hass.states.get(LOCK).state == LockState.UNLOCKED

    await hass.services.async_call(LOCK_DOMAIN, SERVICE_LOCK, {ATTR_ENTITY_ID: LOCK}, blocking=True)
    assert simulator.snapshot()["doors"][0]["locked"] is True
    assert hass.states.get(LOCK).state == LockState.LOCKED


async def test_unlock_refused_in_lockdown_says_why(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: DoorControllerSim
) -> None:
    """A controller that refuses the release (door locked down) gives a clear error and the door stays locked."""
    await init_integration.runtime_data.service.set_mode(0, DoorMode.LOCKDOWN)
    with pytest.raises(HomeAssistantError, match="refused"):
        await hass.services.async_call(LOCK_DOMAIN, SERVICE_UNLOCK, {ATTR_ENTITY_ID: LOCK}, blocking=True)
    assert simulator.doors[0].releases == 0
    assert hass.states.get(LOCK).state == LockState.LOCKED


async def test_lock_goes_unavailable_and_recovers(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: DoorControllerSim,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Cutting the controller's link makes its entities unavailable; restoring it brings them back by itself."""
    await simulator.set_link(False)
    await wait_for_state(hass, LOCK, STATE_UNAVAILABLE)
    assert hass.states.get("binary_sensor.simdc0042_door_1_door").state == STATE_UNAVAILABLE

    await simulator.set_link(True)
    await wait_for_state(hass, LOCK, LockState.LOCKED, timeout=15)
    assert caplog.text.count("Error fetching") == 1
    assert caplog.text.count("Fetching smart_community") == 1


async def test_unlock_while_unreachable_raises(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: DoorControllerSim
) -> None:
    """Asking to release a door whose controller is down fails with a translated error."""
    await simulator.set_link(False)
    with pytest.raises(HomeAssistantError, match="cannot be reached"):
        await hass.services.async_call(LOCK_DOMAIN, SERVICE_UNLOCK, {ATTR_ENTITY_ID: LOCK}, blocking=True)


async def test_unlock_is_journalled_with_the_user_or_automation_that_asked(
    hass: HomeAssistant, community_entry: MockConfigEntry, simulator: DoorControllerSim, hass_admin_user: MockUser
) -> None:
    """With a community, a lock.unlock goes through the hub: a ``release`` event naming who asked is journalled
    before the door moves (and queued for the uplink like a decision)."""
    await hass.services.async_call(LOCK_DOMAIN, SERVICE_UNLOCK, {ATTR_ENTITY_ID: LOCK}, blocking=True,
                                   context=Context(user_id=hass_admin_user.id))
    assert simulator.doors[0].releases == 1

    # An automation runs its actions with the context its own state was written with.
    run = Context()
    hass.states.async_set("automation.night_patrol", "on", context=run)
    await hass.services.async_call(LOCK_DOMAIN, SERVICE_UNLOCK, {ATTR_ENTITY_ID: LOCK}, blocking=True,
                                   context=run)
    assert simulator.doors[0].releases == 2

    journal = community_entry.runtime_data.uplink.journal
    assert journal is not None
    releases = await hass.async_add_executor_job(lambda: journal.events(kind=EventKind.RELEASE))
    assert [(e.door, e.payload["release_reason"], e.payload["outcome"], e.payload["actor"]) for e in releases] == [
        (f"{SERIAL}-door0", "manager", "requested", {"user_id": hass_admin_user.id, "user_name": hass_admin_user.name}),
        (f"{SERIAL}-door0", "manager", "requested", {"automation": "automation.night_patrol"}),
    ]


async def test_only_door_operators_may_release_doors_or_change_their_mode(
    hass: HomeAssistant, community_entry: MockConfigEntry, simulator: DoorControllerSim, hass_owner_user: MockUser
) -> None:
    """A non-admin Home Assistant user (an ordinary household account) is refused as HA refuses an unauthorised
    call, and nothing moves or is recorded; once the manager names them a door operator, they may, and are
    recorded by name. Automations stay allowed (see the test above)."""
    # Made as Home Assistant makes a non-admin person's account (the owner exists, so neither becomes owner).
    guard = await hass.auth.async_create_user("Guard Wang", group_ids=["system-users"])
    tenant = await hass.auth.async_create_user("Tenant Zhou", group_ids=["system-users"])
    for user in (guard, tenant):
        with pytest.raises(Unauthorized):
            await hass.services.async_call(LOCK_DOMAIN, SERVICE_UNLOCK, {ATTR_ENTITY_ID: LOCK}, blocking=True,
                                           context=Context(user_id=user.id))
        with pytest.raises(Unauthorized):
            await hass.services.async_call("select", "select_option", {ATTR_ENTITY_ID: MODE, "option": "free_passage"},
                                           blocking=True, context=Context(user_id=user.id))
    assert simulator.doors[0].releases == 0 and simulator.doors[0].mode is DoorMode.NORMAL
    journal = community_entry.runtime_data.uplink.journal
    assert journal is not None
    assert await hass.async_add_executor_job(lambda: journal.events(kind=EventKind.RELEASE)) == []

    flow = await hass.config_entries.options.async_init(community_entry.entry_id)
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"next_step_id": "door_operators"})
    names = {o["label"] for o in flow["data_schema"].schema["door_operators"].config["options"]}
    assert {"Guard Wang", "Tenant Zhou"} <= names and hass_owner_user.name not in names  # admins need no naming
    await hass.config_entries.options.async_configure(flow["flow_id"], {"door_operators": [guard.id]})
    await hass.async_block_till_done()  # the entry reloads with its new options

    await hass.services.async_call(LOCK_DOMAIN, SERVICE_UNLOCK, {ATTR_ENTITY_ID: LOCK}, blocking=True,
                                   context=Context(user_id=guard.id))
    assert simulator.doors[0].releases == 1
    with pytest.raises(Unauthorized):
        await hass.services.async_call(LOCK_DOMAIN, SERVICE_UNLOCK, {ATTR_ENTITY_ID: LOCK}, blocking=True,
                                       context=Context(user_id=tenant.id))
    assert simulator.doors[0].releases == 1
    journal = community_entry.runtime_data.uplink.journal
    assert journal is not None
    releases = await hass.async_add_executor_job(lambda: journal.events(kind=EventKind.RELEASE))
    assert [e.payload["actor"] for e in releases] == [{"user_id": guard.id, "user_name": "Guard Wang"}]
