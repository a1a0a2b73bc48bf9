"""The door-events push coordinator: every decision of the community's bus fires the door's access event entity
(two equal decisions fire twice), at that door only; a broken subscriber elsewhere changes nothing; unloading the
controller unsubscribes it from the community's bus."""

from __future__ import annotations

import pytest
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event
from pytest_homeassistant_custom_component.common import MockConfigEntry

from devices.hub_native_map import CredentialKind
from devices.models import CredentialRead
from hub.events import DecisionEvent

DOOR1 = "event.simdc0042_door_1_access"
DOOR2 = "event.simdc0042_door_2_access"


async def test_each_decision_fires_the_door_access_event(
    hass: HomeAssistant, init_integration: MockConfigEntry, community_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    runtime = community_entry.runtime_data
    fired: dict[str, list[str]] = {DOOR1: [], DOOR2: []}

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is not None and new.attributes.get("event_type"):
            fired[event.data["entity_id"]].append(new.attributes["reason"])

    unsub = async_track_state_change_event(hass, [DOOR1, DOOR2], changed)

    def broken(event: DecisionEvent) -> None:
        raise RuntimeError("broken subscriber")

    runtime.community.events.subscribe(DecisionEvent, broken)
    point = runtime.points["SIMDC0042-door0"]
    for sequence in (1, 2):  # the same unknown card twice: two decisions, two events
        outcome = await runtime.gatekeeper.credential_read(
            point, CredentialRead(sequence=sequence, kind=CredentialKind.CARD, value="5555")
        )
        assert not outcome.decision.granted
    await hass.async_block_till_done()
    unsub()
    assert fired == {DOOR1: ["unknown_card", "unknown_card"], DOOR2: []}
    assert hass.states.get(DOOR1).attributes["released"] is False
    assert "a subscriber to DecisionEvent failed" in caplog.text

    # The controller unloads: its doors stop hearing the community's decisions.
    heard = runtime.community.events.subscriber_count(DecisionEvent)
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert runtime.community.events.subscriber_count(DecisionEvent) == heard - 1
