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
