"""Setting up and unloading config entries."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from pathlib import Path

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_community.const import DOMAIN
from hub.exceptions import StorageError


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


async def test_stopping_home_assistant_closes_the_community_database(
    hass: HomeAssistant, community_entry: MockConfigEntry
) -> None:
    """Home Assistant stops without unloading entries: the hub still finishes its writes and closes the database.

    A clean close is what a user notices on the next start: no write-ahead log left to replay, no writer thread
    keeping the process alive.
    """
    runtime = community_entry.runtime_data
    await hass.services.async_call(
        DOMAIN, "add_resident", {"resident_id": "r-001", "full_name": "Mei Chen", "unit": "3-1201"}, blocking=True
    )
    writers = [t for t in threading.enumerate() if t.name == f"community-writer-{community_entry.entry_id}"]
    assert writers and writers[0].is_alive()
    db_path = Path(hass.config.path(".storage", DOMAIN, f"{community_entry.entry_id}.db"))
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()

    def closed_cleanly() -> int:
        writers[0].join(timeout=5)
        assert not writers[0].is_alive()
        assert not Path(f"{db_path}-wal").exists()  # the last connection closed and checkpointed
        with pytest.raises(StorageError):
            runtime.community.call(lambda: None)
        with contextlib.closing(sqlite3.connect(db_path)) as conn:
            return int(conn.execute("SELECT count(*) FROM residents").fetchone()[0])

    assert await hass.async_add_executor_job(closed_cleanly) == 1
