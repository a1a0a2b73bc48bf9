"""Kill a simulator process with SIGKILL and start it again: the entities go unavailable and come back by
themselves, and the loss and the recovery are each logged once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import pytest
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_community.const import CONF_POLL_INTERVAL, DOMAIN

from .conftest import wait_for_state

REPO = Path(__file__).resolve().parents[3]


async def _start_sim(port: int) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devkit.cli", "sim", "controller", "--port", str(port), "--serial", "KILLME01",
        "--doors", "2", "--no-zeroconf", cwd=REPO, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    assert json.loads(line)["serial"] == "KILLME01"
    return process


async def test_killed_simulator_comes_back(
    hass: HomeAssistant, socket_enabled: None, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = await _start_sim(port)
    try:
        entry = MockConfigEntry(domain=DOMAIN, unique_id="KILLME01", title="SIM-DC KILLME01",
                                data={"kind": "controller", "host": "127.0.0.1", "port": port},
                                options={CONF_POLL_INTERVAL: 100})
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        lock = "lock.killme01_door_1"
        assert hass.states.get(lock).state == "locked"

        process.send_signal(signal.SIGKILL)
        await process.wait()
        await wait_for_state(hass, lock, STATE_UNAVAILABLE)
        await wait_for_state(hass, "binary_sensor.door_controller_killme01_connection", "off")

        process = await _start_sim(port)
        await wait_for_state(hass, lock, "locked", timeout=20)
        await wait_for_state(hass, "binary_sensor.door_controller_killme01_connection", "on")
        assert caplog.text.count("Error fetching smart_community") == 1
        assert caplog.text.count("Fetching smart_community SIM-DC KILLME01 data recovered") == 1
        await hass.config_entries.async_unload(entry.entry_id)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
            await process.wait()
