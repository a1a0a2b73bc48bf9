"""A generic Modbus relay/input module as door controller: added by hand, its relays and inputs mapped to doors
in the options flow, driven through the same locks, sensors and modes as a hub-native controller."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_community.const import DOMAIN
from devkit.sim.io_module import IoModuleSim

from .conftest import wait_for_state


@pytest.fixture
async def io_sim(socket_enabled: None) -> AsyncIterator[IoModuleSim]:
    sim = IoModuleSim(relays=4, inputs=8)
    await sim.start()
    yield sim
    await sim.stop()


async def _add(hass: HomeAssistant, io_sim: IoModuleSim) -> MockConfigEntry:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "io_module"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"name": "Bike shed", "host": "127.0.0.1", "port": io_sim.port, "unit_id": 1, "relays": 4, "inputs": 8},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    return result["result"]


async def test_io_module_mapped_to_two_doors(hass: HomeAssistant, io_sim: IoModuleSim) -> None:
    """Mapped doors get locks and sensors; unlock pulses the strike relay; inputs show on the door sensors."""
    entry = await _add(hass, io_sim)
    serial = entry.data["serial"]
    slug = serial.lower().replace("-", "_").replace(".", "_")
    assert hass.states.get(f"lock.{slug}_door_1") is not None  # the default mapping: one door

    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"door_count": 2, "release_seconds": 2, "held_open_seconds": 30, "poll_interval": 100}
    )
    assert result["step_id"] == "door"
    with pytest.raises(InvalidData):  # the module has relays 0-3: the form itself refuses relay 9
        await hass.config_entries.options.async_configure(result["flow_id"], {"strike_relay": 9})
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"strike_relay": 0, "contact_input": 0, "exit_input": 1}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"strike_relay": 1, "contact_input": 2, "inverted_inputs": ["2"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    door2 = f"binary_sensor.{slug}_door_2_door"
    await wait_for_state(hass, door2, "on")  # input 2 is normally closed and the sim starts with it off: open
    io_sim.set_input(2, True)
    await wait_for_state(hass, door2, "off")
    io_sim.set_input(0, True)
    await wait_for_state(hass, f"binary_sensor.{slug}_door_1_door", "on")

    await hass.services.async_call("lock", "unlock", {"entity_id": f"lock.{slug}_door_1"}, blocking=True)
    assert io_sim.relays[0] is True
    assert io_sim.relays[1] is False
    await wait_for_state(hass, f"lock.{slug}_door_1", "locked", timeout=6)  # the driver switched it back
    assert io_sim.relays[0] is False


async def test_io_module_modes_are_kept_by_the_hub(hass: HomeAssistant, io_sim: IoModuleSim) -> None:
    """Lockdown refuses releases; free passage holds the strike relay on; normal lets it go."""
    entry = await _add(hass, io_sim)
    slug = entry.data["serial"].lower().replace("-", "_").replace(".", "_")
    mode = f"select.{slug}_door_1_mode"
    await hass.services.async_call("select", "select_option", {"entity_id": mode, "option": "lockdown"},
                                   blocking=True)
    with pytest.raises(HomeAssistantError, match="locked down"):
        await hass.services.async_call("lock", "unlock", {"entity_id": f"lock.{slug}_door_1"}, blocking=True)
    assert io_sim.relays[0] is False
    await hass.services.async_call("select", "select_option", {"entity_id": mode, "option": "free_passage"},
                                   blocking=True)
    assert io_sim.relays[0] is True
    assert hass.states.get(f"lock.{slug}_door_1").state == "unlocked"
    await hass.services.async_call("select", "select_option", {"entity_id": mode, "option": "normal"},
                                   blocking=True)
    assert io_sim.relays[0] is False


async def test_io_module_not_reachable(hass: HomeAssistant, io_sim: IoModuleSim) -> None:
    """Nothing at that port: a clear error and no entry; the same module cannot be added twice."""
    port = io_sim.port
    await io_sim.stop()
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "io_module"})
    data = {"name": "Shed", "host": "127.0.0.1", "port": port, "unit_id": 1, "relays": 4, "inputs": 8}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], data)
    assert result["errors"] == {"base": "cannot_connect"}
    await io_sim.start()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], data)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    again = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    again = await hass.config_entries.flow.async_configure(again["flow_id"], {"next_step_id": "io_module"})
    again = await hass.config_entries.flow.async_configure(again["flow_id"], data)
    assert again["reason"] == "already_configured"
