"""At start-up Home Assistant sets every entry up at once, in no fixed order. Whichever of the controller and the
community finishes first, the controller's doors become the community's access points and a card is decided.

Found on a restarted demo: a controller that finished while the community was still setting up (after it had
looked for controllers, before it counted as loaded) was attached by neither, and its doors decided nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.smart_community as integration
from custom_components.smart_community.const import CONF_POLL_INTERVAL, DOMAIN
from devkit.sim.door_controller import DoorControllerSim
from hub.events import DecisionEvent

from .conftest import SERIAL

DOORS = {f"{SERIAL}-door0", f"{SERIAL}-door1"}


def _entries(hass: HomeAssistant, simulator: DoorControllerSim) -> tuple[MockConfigEntry, MockConfigEntry]:
    controller = MockConfigEntry(domain=DOMAIN, title=f"SIM-DC {SERIAL}", unique_id=SERIAL,
                                 data={CONF_HOST: "127.0.0.1", CONF_PORT: simulator.port},
                                 options={CONF_POLL_INTERVAL: 100})
    community = MockConfigEntry(domain=DOMAIN, title="Test Garden", unique_id="community",
                                data={"kind": "community", "name": "Test Garden"})
    controller.add_to_hass(hass)
    community.add_to_hass(hass)
    return controller, community


async def _a_card_is_decided(hass: HomeAssistant, simulator: DoorControllerSim, community: MockConfigEntry) -> None:
    decided = asyncio.Event()
    unsubscribe = community.runtime_data.community.events.subscribe(
        DecisionEvent, lambda _e: hass.loop.call_soon_threadsafe(decided.set)
    )
    try:
        simulator.swipe_card(0, 12345678)
        await asyncio.wait_for(decided.wait(), 5)
    finally:
        unsubscribe()


async def test_entries_set_up_together_attach_the_doors(hass: HomeAssistant, simulator: DoorControllerSim) -> None:
    controller, community = _entries(hass, simulator)
    assert await async_setup_component(hass, DOMAIN, {})  # as at start-up: every entry set up concurrently
    await hass.async_block_till_done()
    assert controller.state is ConfigEntryState.LOADED and community.state is ConfigEntryState.LOADED
    assert set(community.runtime_data.points) == DOORS
    await _a_card_is_decided(hass, simulator, community)


async def test_a_controller_finishing_while_the_community_sets_up_is_attached(
    hass: HomeAssistant, simulator: DoorControllerSim, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The community's set-up is held at its last step (registering the panel) until the controller has finished:
    # the order a quick controller and a slow community take at start-up, made certain here.
    reached, go_on = asyncio.Event(), asyncio.Event()
    register: Callable[[HomeAssistant], Awaitable[Any]] = integration.async_register_panel

    async def held(hass: HomeAssistant) -> Any:
        reached.set()
        await go_on.wait()
        return await register(hass)

    monkeypatch.setattr(integration, "async_register_panel", held)
    controller, community = _entries(hass, simulator)
    setup = hass.async_create_task(async_setup_component(hass, DOMAIN, {}))  # sets up both entries at once
    await asyncio.wait_for(reached.wait(), 10)
    for _ in range(500):  # the controller finishes while the community is still setting up
        if controller.state is ConfigEntryState.LOADED:
            break
        await asyncio.sleep(0.01)
    assert controller.state is ConfigEntryState.LOADED
    assert community.state is ConfigEntryState.SETUP_IN_PROGRESS
    go_on.set()
    assert await setup
    await hass.async_block_till_done()
    assert set(community.runtime_data.points) == DOORS
    assert controller.entry_id in community.runtime_data.detach
    await _a_card_is_decided(hass, simulator, community)
