"""A Frigate lane through Home Assistant: the hub subscribes to Frigate's ``tracked_object_update`` on a real
Mosquitto (the project's test broker, TLS with client certificates) and the simulated Frigate's ``lpr`` update for
a registered car opens door 2 of the simulated controller and fires the lane's event without the plate."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_community.const import DOMAIN
from custom_components.smart_community.vehicles import vehicle_runtime
from devices.anpr import PlateColor
from devkit.county.broker import Mosquitto, Pki, mosquitto_binary
from devkit.sim.anpr import AnprCameraSim, SimRecord
from devkit.sim.door_controller import DoorControllerSim

from .conftest import wait_for_event
from .test_vehicles_ha import RESIDENT_PLATE, _entity


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path / "pki")


@pytest.fixture
def broker(tmp_path: Path, pki: Pki, socket_enabled: None) -> Iterator[Mosquitto]:
    binary = mosquitto_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but mosquitto is not installed (scripts/system-packages.sh installs it)")
        pytest.skip("mosquitto is not installed: apt-get install mosquitto (make system-packages)")
    running = Mosquitto(binary, tmp_path / "broker", pki)
    running.acl.write_text(running.acl.read_text() + "pattern readwrite frigate/#\n")
    running.start()
    yield running
    running.kill()


async def test_a_frigate_plate_read_opens_the_barrier(
    hass: HomeAssistant, community_entry: MockConfigEntry, simulator: DoorControllerSim, broker: Mosquitto,
    pki: Pki,
) -> None:
    await hass.services.async_call(DOMAIN, "add_resident", {"resident_id": "r-001", "full_name": "Li Wei"},
                                   blocking=True)
    await hass.services.async_call(DOMAIN, "add_vehicle", {"resident_id": "r-001", "plate": RESIDENT_PLATE},
                                   blocking=True)
    hub = pki.client("hub-anpr")
    flow = await hass.config_entries.options.async_init(community_entry.entry_id)
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"next_step_id": "add_anpr_lane"})
    fields = {
        "format": "frigate", "car_park": "home", "entrance": "drive", "lane_no": 1, "direction": "entry",
        "barrier": "door", "lock": "lock.simdc0042_door_2", "broker_url": broker.url, "ca_file": str(pki.ca_file),
        "client_cert": str(hub.cert), "client_key": str(hub.key)}
    # The certificate files must be in a folder Home Assistant may read (allowlist_external_dirs), and be files.
    refused = await hass.config_entries.options.async_configure(flow["flow_id"], fields)
    assert refused["errors"] == {"ca_file": "path_not_allowed"}
    hass.config.allowlist_external_dirs.add(str(Path(pki.ca_file).parent))
    missing = await hass.config_entries.options.async_configure(
        flow["flow_id"], {**fields, "client_key": str(Path(pki.ca_file).parent / "no-such.key")})
    assert missing["errors"] == {"client_key": "file_not_found"}
    shown = await hass.config_entries.options.async_configure(flow["flow_id"], fields)
    assert shown["description_placeholders"]["url"] == f"{broker.url} topic frigate/tracked_object_update"
    await hass.config_entries.options.async_configure(shown["flow_id"], {})
    await hass.async_block_till_done()
    vehicles = vehicle_runtime(hass, community_entry.entry_id)
    assert vehicles is not None and len(vehicles.frigate) == 1
    await vehicles.frigate[0].wait_connected()

    frigate = pki.client("frigate")
    record = SimRecord("1767000000.123456-abc123", RESIDENT_PLATE, PlateColor.BLUE, datetime.now(UTC))
    async with AnprCameraSim("frigate", broker.url, camera_id="driveway", ca_file=str(pki.ca_file),
                             client_cert=str(frigate.cert), client_key=str(frigate.key)) as camera:
        await camera.publish_frigate([record])
    granted = await wait_for_event(hass, _entity(hass, "event", "-vehicle"), "granted", timeout=15)
    assert granted["reason"] == "resident_vehicle" and RESIDENT_PLATE not in str(granted)
    assert simulator.doors[1].releases == 1
