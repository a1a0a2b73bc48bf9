"""The config flow against a real simulated controller: happy path, errors, duplicates, reconfigure, options."""

from __future__ import annotations

import asyncio

from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_community.const import (
    CONF_HELD_OPEN_SECONDS,
    CONF_POLL_INTERVAL,
    CONF_RELEASE_SECONDS,
    DOMAIN,
)
from devkit.sim.door_controller import DoorControllerSim

from .conftest import SERIAL


async def _free_port() -> int:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    server.close()
    await server.wait_closed()
    return port


async def _controller_form(hass: HomeAssistant) -> dict:
    """Open the flow as a user does: the menu first, then the door controller form."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["controller", "io_module", "camera", "community"]
    return await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "controller"})


async def test_user_flow_creates_entry(hass: HomeAssistant, simulator: DoorControllerSim) -> None:
    """Host and port of a reachable controller create an entry named after it, unique by serial."""
    result = await _controller_form(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: simulator.port}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"SIM-DC {SERIAL}"
    assert result["data"] == {"kind": "controller", CONF_HOST: "127.0.0.1", CONF_PORT: simulator.port}
    assert result["result"].unique_id == SERIAL
    await hass.async_block_till_done()
    assert hass.states.get("lock.simdc0042_door_1") is not None


async def test_user_flow_cannot_connect_then_recovers(
    hass: HomeAssistant, simulator: DoorControllerSim
) -> None:
    """Nothing listening: the form comes back with a clear error; fixing the port then works."""
    result = await _controller_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: await _free_port()}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    assert not hass.config_entries.async_entries(DOMAIN)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: simulator.port}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_not_a_controller(hass: HomeAssistant, socket_enabled: None) -> None:
    """A TCP service that is not a Modbus door controller is reported as such, not as unreachable."""

    async def not_modbus(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(12)
        writer.write(b"HTTP/1.0 400 Bad Request\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(not_modbus, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    try:
        result = await _controller_form(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: port}
        )
    finally:
        server.close()
        await server.wait_closed()
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] in ({"base": "not_a_controller"}, {"base": "cannot_connect"})


async def test_user_flow_wrong_register_map(hass: HomeAssistant, simulator: DoorControllerSim) -> None:
    """A Modbus device with a different register map is refused with 'not a controller'."""
    original = simulator.refresh_inputs

    def wrong_version(values: list[int]) -> None:
        original(values)
        values[0] = 7

    simulator.refresh_inputs = wrong_version  # type: ignore[method-assign]
    result = await _controller_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: simulator.port}
    )
    assert result["errors"] == {"base": "not_a_controller"}


async def test_duplicate_controller_is_aborted(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: DoorControllerSim
) -> None:
    """Adding the same controller twice (same serial) is refused."""
    result = await _controller_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "localhost", CONF_PORT: simulator.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_reconfigure_moves_the_controller(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: DoorControllerSim
) -> None:
    """The controller moved to another port: reconfigure updates the entry and it reconnects."""
    await simulator.stop()
    simulator.port = 0
    await simulator.start()
    result = await init_integration.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: await _free_port()}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: simulator.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert init_integration.data[CONF_PORT] == simulator.port


async def test_reconfigure_to_another_controller_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Pointing an entry at a different controller would mix up two devices' entities: refused."""
    other = DoorControllerSim(doors=1, serial="OTHER0001")
    await other.start()
    try:
        result = await init_integration.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: other.port}
        )
    finally:
        await other.stop()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_controller"


async def test_options_flow_changes_release_time(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: DoorControllerSim
) -> None:
    """The release time set in the options is what a lock.unlock then asks the controller for."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_RELEASE_SECONDS: 12, CONF_HELD_OPEN_SECONDS: 45, CONF_POLL_INTERVAL: 250}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert init_integration.options == {
        CONF_RELEASE_SECONDS: 12,
        CONF_HELD_OPEN_SECONDS: 45,
        CONF_POLL_INTERVAL: 250,
    }
    await hass.services.async_call(
        "lock", "unlock", {"entity_id": "lock.simdc0042_door_1"}, blocking=True
    )
    assert simulator.doors[0].release_log[-1][1] == 12


async def test_community_flow_once(hass: HomeAssistant) -> None:
    """The community hub is added by name, once; a blank name is refused; it can be renamed."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "community"})
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"name": "   "})
    assert result["errors"] == {"base": "name_required"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"name": "Riverside Garden"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Riverside Garden"
    entry = result["result"]
    await hass.async_block_till_done()
    assert hass.states.get("sensor.riverside_garden_enrolled_faces").state == "0"
    assert entry.supports_options is True  # its gates

    again = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    again = await hass.config_entries.flow.async_configure(again["flow_id"], {"next_step_id": "community"})
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_configured"

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"name": ""})
    assert result["errors"] == {"base": "name_required"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"name": "Riverside Garden II"})
    assert result["reason"] == "reconfigure_successful"
    assert entry.title == "Riverside Garden II"
    await hass.async_block_till_done()  # the reload it started comes back with the new name
    assert entry.state is ConfigEntryState.LOADED
