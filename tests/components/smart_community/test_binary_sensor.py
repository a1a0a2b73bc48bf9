"""Door inputs as binary sensors, driven by the real simulator."""

from __future__ import annotations

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from devkit.sim.door_controller import DoorControllerSim

from .conftest import wait_for_state


async def test_door_contact_follows_the_simulator(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: DoorControllerSim,
) -> None:
    """Opening a door on the simulator turns its door sensor on at the next poll, closing turns it off."""
    entity = "binary_sensor.simdc0042_door_2_door"
    assert hass.states.get(entity).state == STATE_OFF
    assert hass.states.get(entity).attributes["device_class"] == "door"
    simulator.set_door_open(1, True)
    await wait_for_state(hass, entity, STATE_ON)
    assert hass.states.get("binary_sensor.simdc0042_door_1_door").state == STATE_OFF
    simulator.set_door_open(1, False)
    await wait_for_state(hass, entity, STATE_OFF)


async def test_forced_door_raises_and_clears_an_alarm(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: DoorControllerSim,
) -> None:
    """A locked door that opens with no release and no exit button is reported forced open until it closes."""
    forced = "binary_sensor.simdc0042_door_1_forced_open"
    simulator.set_door_open(0, True)
    await wait_for_state(hass, forced, STATE_ON)
    assert hass.states.get("binary_sensor.simdc0042_door_1_door").state == STATE_ON
    simulator.set_door_open(0, False)
    await wait_for_state(hass, forced, STATE_OFF)


async def test_tamper_and_exit_button(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: DoorControllerSim,
) -> None:
    """The reader's tamper switch and the exit button show as their own sensors."""
    simulator.set_tamper(0, True)
    simulator.press_exit(0, seconds=60)
    await wait_for_state(hass, "binary_sensor.simdc0042_door_1_tamper", STATE_ON)
    await wait_for_state(hass, "binary_sensor.simdc0042_door_1_exit_button", STATE_ON)


async def test_door_opened_after_exit_button_is_not_forced(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: DoorControllerSim,
) -> None:
    """Someone leaving with the exit button opens the door without a forced-open alarm."""
    simulator.press_exit(0, seconds=60)
    await wait_for_state(hass, "binary_sensor.simdc0042_door_1_exit_button", STATE_ON)
    simulator.set_door_open(0, True)
    await wait_for_state(hass, "binary_sensor.simdc0042_door_1_door", STATE_ON)
    assert hass.states.get("binary_sensor.simdc0042_door_1_forced_open").state == STATE_OFF
