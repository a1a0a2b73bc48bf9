"""Fixtures for the integration's tests: a real simulated door controller on 127.0.0.1 and a config entry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_community.const import CONF_POLL_INTERVAL, DOMAIN
from devkit.sim.camera import CameraSim
from devkit.sim.door_controller import DoorControllerSim
from hub.health import DeviceStatus, HealthStore

SERIAL = "SIMDC0042"
FACES = Path(__file__).resolve().parents[3] / "demo" / "faces"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load this repository's integration."""


@pytest.fixture(autouse=True)
def no_deprecated_usage(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test in which Home Assistant reported a deprecated pattern of this integration.

    Home Assistant reports them through its frame helper ("Detected that custom integration 'smart_community'
    ..."), as warnings on the releases that still accept them and as errors near removal: on the newest end of the
    supported range this is how a deprecation in our code shows up first. Home Assistant reports each once per
    process, so the first test that meets one fails.
    """
    yield
    reports = [
        record.getMessage() for phase in ("setup", "call") for record in caplog.get_records(phase)
        if record.name == "homeassistant.helpers.frame" and "smart_community" in record.getMessage()
    ]
    assert not reports, reports


@pytest.fixture
async def simulator(socket_enabled: None) -> AsyncIterator[DoorControllerSim]:
    """A simulated hub-native controller with two doors, on a free loopback port."""
    sim = DoorControllerSim(doors=2, serial=SERIAL, model="SIM-DC")
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
def mock_config_entry(simulator: DoorControllerSim) -> MockConfigEntry:
    """A config entry pointing at the simulator."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"SIM-DC {SERIAL}",
        unique_id=SERIAL,
        data={CONF_HOST: "127.0.0.1", CONF_PORT: simulator.port},
        options={CONF_POLL_INTERVAL: 100},
    )


@pytest.fixture
async def init_integration(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> MockConfigEntry:
    """The integration set up against the simulator."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    return mock_config_entry


async def wait_for_state(hass: HomeAssistant, entity_id: str, state: str, timeout: float = 5.0) -> None:
    """Let the integration's real poll timer run until ``entity_id`` reaches ``state`` (or fail after timeout).

    The simulator is a real server on a real socket, so the tests run on real time rather than a frozen clock.
    """
    loop_time = hass.loop.time
    deadline = loop_time() + timeout
    while loop_time() < deadline:
        current = hass.states.get(entity_id)
        if current is not None and current.state == state:
            return
        await asyncio.sleep(0.02)
    current = hass.states.get(entity_id)
    raise AssertionError(f"{entity_id} is {current.state if current else None!r}, expected {state!r}")


@pytest.fixture
async def community_entry(hass: HomeAssistant, init_integration: MockConfigEntry) -> MockConfigEntry:
    """The community hub, set up after the controller (so it attaches to an already loaded controller)."""
    entry = MockConfigEntry(
        domain=DOMAIN, title="Test Garden", unique_id="community", data={"kind": "community", "name": "Test Garden"}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def wait_for_event(hass: HomeAssistant, entity_id: str, event_type: str, timeout: float = 5.0) -> dict:
    """Wait until an event entity's last event is ``event_type``; returns its attributes."""
    deadline = hass.loop.time() + timeout
    while hass.loop.time() < deadline:
        state = hass.states.get(entity_id)
        if state is not None and state.attributes.get("event_type") == event_type:
            return dict(state.attributes)
        await asyncio.sleep(0.02)
    state = hass.states.get(entity_id)
    raise AssertionError(f"{entity_id} last fired {state.attributes if state else None}, expected {event_type}")


async def wait_for_device_status(hass: HomeAssistant, store: HealthStore, device_id: str,
                                 timeout: float = 5.0) -> DeviceStatus:
    """Wait until device health has recorded ``device_id`` (status changes are written in the executor)."""
    deadline = hass.loop.time() + timeout
    while hass.loop.time() < deadline:
        statuses = {s.device_id: s for s in await hass.async_add_executor_job(store.statuses)}
        if device_id in statuses:
            return statuses[device_id]
        await asyncio.sleep(0.05)
    raise AssertionError(f"device health never recorded {device_id}")


@pytest.fixture
async def camera_sim(socket_enabled: None) -> AsyncIterator[CameraSim]:
    """A simulated gate camera with digest authentication, serving the demo residents' real photos."""
    sim = CameraSim(FACES, username="admin", password="s3cret-pass", auth="digest")
    await sim.start()
    sim.set_scene("person", "John_Salley")
    yield sim
    await sim.stop()


def resident_ref(hass: HomeAssistant, resident_id: str) -> str:
    """The pseudonymous reference HA state carries for a resident (keyed with the community's own key)."""
    from custom_components.smart_community.uplink import CONF_COMMUNITY_KEY
    from hub.uplink import Secret, pseudonymous_ref

    entry = next(e for e in hass.config_entries.async_entries(DOMAIN) if e.data.get("kind") == "community")
    return pseudonymous_ref(Secret(entry.data[CONF_COMMUNITY_KEY]), resident_id)
