"""Setting up and unloading config entries."""

from __future__ import annotations

import asyncio

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_community.const import DOMAIN


async def test_unload_closes_the_connection(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Unloading an entry removes its entities' state and closes the Modbus connection."""
    service = init_integration.runtime_data.service
    assert service.controller.connected
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert not service.controller.connected


async def test_unreachable_controller_retries_setup(hass: HomeAssistant, socket_enabled: None) -> None:
    """A controller that is down at start-up leaves the entry in setup-retry, not failed for good."""
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    server.close()
    await server.wait_closed()
    entry = MockConfigEntry(domain=DOMAIN, unique_id="GONE", data={CONF_HOST: "127.0.0.1", CONF_PORT: port})
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
