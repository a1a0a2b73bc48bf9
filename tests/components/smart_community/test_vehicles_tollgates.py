"""With the GA/T 1400 uplink configured, the community's entrances reach the platform as ``Tollgate`` objects at
start-up (the tests' GA/T 1400 platform, a real aiohttp server on loopback with Digest and registration), with
the entrance's own TollgateID and its number of lanes; diagnostics show none of the lanes' secrets."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .test_vehicles_ha import _add_lane

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hub" / "vehicles"))
from vehicle_platform import VehiclePlatform

DEVICE = "34020000001110000001"
TOLLGATE = "34020000001210000003"


@pytest.fixture
async def platform(socket_enabled: None) -> AsyncIterator[VehiclePlatform]:
    server = VehiclePlatform("hub-user", "s3cret-pass")
    await server.start()
    yield server
    await server.stop()


async def test_entrances_go_upstream_as_tollgates_at_start_up(
    hass: HomeAssistant, community_entry: MockConfigEntry, platform: VehiclePlatform,
    hass_client: ClientSessionGenerator,
) -> None:
    await _add_lane(hass, community_entry)
    lanes = [{**lane, "tollgate_id": TOLLGATE} for lane in community_entry.options["anpr_lanes"]]
    second = {**lanes[0], "key": "lane0002", "lane_no": 2, "direction": "exit", "secret": "y" * 32}
    hass.config_entries.async_update_entry(community_entry, options={
        **community_entry.options, "anpr_lanes": [*lanes, second], "uplink_url": platform.url,
        "uplink_profile": "gat1400", "device_id": DEVICE, "gat_username": "hub-user", "gat_password": "s3cret-pass",
    })
    await hass.config_entries.async_reload(community_entry.entry_id)
    await hass.async_block_till_done()
    for _ in range(200):
        if platform.tollgates:
            break
        await asyncio.sleep(0.05)
    assert [(t["TollgateID"], t["LaneNum"], t["Name"]) for t in platform.tollgates] == [
        (TOLLGATE, 2, "north main")]

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, community_entry)
    text = json.dumps(diagnostics, ensure_ascii=False)
    assert lanes[0]["secret"] not in text and "y" * 32 not in text and "s3cret-pass" not in text
