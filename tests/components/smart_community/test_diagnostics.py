"""Diagnostics carry the state a maintainer needs and no credentials."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from devkit.sim.door_controller import DoorControllerSim

from .conftest import wait_for_state


async def test_diagnostics_redact_card_numbers(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    simulator: DoorControllerSim,
) -> None:
    """A card swiped at a door shows in the state but never in diagnostics; the host is redacted too."""
    simulator.swipe_card(0, 987654321)
    simulator.set_door_open(1, True)
    await wait_for_state(hass, "binary_sensor.simdc0042_door_2_door", "on")
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    text = json.dumps(diagnostics)
    assert "987654321" not in text
    assert "SIMDC0042" not in text
    assert diagnostics["entry"]["data"]["host"] == "**REDACTED**"
    assert diagnostics["doors"][0]["last_credential"] == "**REDACTED**"
    assert diagnostics["doors"][1]["door_open"] is True
    assert diagnostics["doors"][1]["alarms"] == ["forced_open"]
    assert diagnostics["last_update_success"] is True


async def test_community_diagnostics_carry_no_secret_no_key_and_no_resident(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, community_entry: MockConfigEntry
) -> None:
    """The community hub's diagnostics: the uplink's HMAC secret, the GA/T 1400 password, the community key, the
    uplink URL and the residents are all left out."""
    secret = "county-hmac-secret-0123456789abcdef"
    flow = await hass.config_entries.options.async_init(community_entry.entry_id)
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"next_step_id": "uplink"})
    result = await hass.config_entries.options.async_configure(
        flow["flow_id"], {"uplink_url": "https://county.example/api", "uplink_profile": "json",
                          "uplink_secret": secret})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    await hass.services.async_call("smart_community", "add_resident",
                                   {"resident_id": "r-777", "full_name": "Wang Fang"}, blocking=True)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, community_entry)
    text = json.dumps(diagnostics)
    community_key = community_entry.data["community_key"]
    for needle in (secret, community_key, "county.example", "r-777", "Wang Fang"):
        assert needle not in text, needle
