"""Keypad PINs in Home Assistant: set_pin answers with the resident's keypad code; at the simulated controller's
keypad the code, then the PIN, opens the door; wrong PINs lock that account without touching cards; the PIN
length is an option."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_community.const import DOMAIN
from devkit.sim.door_controller import DoorControllerSim
from hub.events import CredentialReadEvent, DecisionEvent

from .conftest import wait_for_event

DOOR1 = "event.simdc0042_door_1_access"


async def _call(hass: HomeAssistant, service: str, data: dict, **kwargs: object) -> dict | None:
    return await hass.services.async_call(DOMAIN, service, data, blocking=True, **kwargs)


async def _type(hass: HomeAssistant, simulator: DoorControllerSim, *entries: str) -> None:
    """Type entries at door 1's keypad as a person does: each ended with '#', the next one only once the hub has
    read this one (a person takes seconds between the code and the PIN; the hub polls every 100 ms)."""
    entry = next(e for e in hass.config_entries.async_entries(DOMAIN) if e.unique_id == "SIMDC0042")
    seen: list[str] = []
    read = asyncio.Event()

    def on_read(event: CredentialReadEvent) -> None:
        seen.append(event.read.value)
        read.set()

    unsubscribe = entry.runtime_data.service.events.subscribe(CredentialReadEvent, on_read)
    try:
        for typed in entries:
            read.clear()
            simulator.enter_pin(0, typed)
            await asyncio.wait_for(read.wait(), 5)
            assert seen[-1] == typed, seen
    finally:
        unsubscribe()


async def _resident_with_pin(hass: HomeAssistant, resident_id: str, pin: str) -> str:
    await _call(hass, "add_resident", {"resident_id": resident_id, "full_name": "Han Mei"})
    answer = await _call(hass, "set_pin", {"resident_id": resident_id, "pin": pin}, return_response=True)
    assert answer is not None
    return str(answer["keypad_code"])


@pytest.fixture
def decisions(hass: HomeAssistant, community_entry: MockConfigEntry) -> Iterator[asyncio.Queue[DecisionEvent]]:
    """Every decision the community's gate path makes, in order, as it is published."""
    queue: asyncio.Queue[DecisionEvent] = asyncio.Queue()
    unsubscribe = community_entry.runtime_data.community.events.subscribe(
        DecisionEvent, lambda e: hass.loop.call_soon_threadsafe(queue.put_nowait, e)
    )
    yield queue
    unsubscribe()


async def _next(decisions: asyncio.Queue[DecisionEvent]) -> DecisionEvent:
    return await asyncio.wait_for(decisions.get(), 5)


async def test_code_then_pin_opens_the_door(
    hass: HomeAssistant, simulator: DoorControllerSim, decisions: asyncio.Queue[DecisionEvent]
) -> None:
    await _call(hass, "add_access_rule", {"rule_id": "all", "name": "Always", "everyone": True,
                                          "doors": ["lock.simdc0042_door_1"]})
    code = await _resident_with_pin(hass, "r-1", "739164")
    assert len(code) == 6 and code.isdigit()

    await _type(hass, simulator, code, "739164")
    event = await _next(decisions)
    assert event.decision.granted and event.released
    attributes = await wait_for_event(hass, DOOR1, "granted")
    assert attributes["credential"] == "pin"
    assert simulator.doors[0].releases == 1

    # The PIN typed alone is taken as a code (nobody's), and the next entry as its PIN: refused, nothing opens.
    await _type(hass, simulator, "739164", "739164")
    event = await _next(decisions)
    assert event.decision.reason.value == "wrong_pin" and not event.released
    assert simulator.doors[0].releases == 1
    assert decisions.empty()


async def test_wrong_pins_lock_the_account_but_not_the_card(
    hass: HomeAssistant, simulator: DoorControllerSim, decisions: asyncio.Queue[DecisionEvent]
) -> None:
    await _call(hass, "add_access_rule", {"rule_id": "all", "name": "Always", "everyone": True,
                                          "doors": ["lock.simdc0042_door_1"]})
    code = await _resident_with_pin(hass, "r-1", "739164")
    await _call(hass, "add_card", {"resident_id": "r-1", "card_number": "55550001"})
    for wrong in ("480213", "582047", "604215", "815926", "926037"):
        await _type(hass, simulator, code, wrong)
        assert (await _next(decisions)).decision.reason.value == "wrong_pin"
    await _type(hass, simulator, code, "739164")  # right, but the account is locked now
    assert (await _next(decisions)).decision.reason.value == "locked_out"
    assert simulator.doors[0].releases == 0
    simulator.swipe_card(0, 55550001)
    event = await _next(decisions)
    assert event.decision.granted and event.decision.kind.value == "card"
    assert simulator.doors[0].releases == 1
    # A manager setting a new PIN lifts the lock.
    await _call(hass, "set_pin", {"resident_id": "r-1", "pin": "739164"})
    await _type(hass, simulator, code, "739164")
    event = await _next(decisions)
    assert event.decision.granted and event.decision.kind.value == "pin"


async def test_pin_length_option(hass: HomeAssistant, community_entry: MockConfigEntry) -> None:
    await _call(hass, "add_resident", {"resident_id": "r-1", "full_name": "Han Mei"})
    with pytest.raises(ServiceValidationError, match="6 digits"):
        await _call(hass, "set_pin", {"resident_id": "r-1", "pin": "4802"})
    flow = await hass.config_entries.options.async_init(community_entry.entry_id)
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"next_step_id": "keypad"})
    assert flow["step_id"] == "keypad"
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"pin_digits": 4})
    assert flow["type"] == "create_entry"
    await hass.async_block_till_done()
    assert community_entry.options["pin_digits"] == 4
    answer = await _call(hass, "set_pin", {"resident_id": "r-1", "pin": "4802", "keypad_code": "1203"},
                         return_response=True)
    assert answer == {"keypad_code": "1203"}
    with pytest.raises(ServiceValidationError, match="4 digits"):
        await _call(hass, "set_pin", {"resident_id": "r-1", "pin": "480213"})
