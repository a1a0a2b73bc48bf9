"""The community's actions through Home Assistant: residents, credentials, rules, passes, erasure; admin only;
bad input refused with a clear error and no change. Decisions at a real simulated door show as access events."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.smart_community.const import DOMAIN
from devkit.sim.door_controller import DoorControllerSim

from .conftest import resident_ref, wait_for_event, wait_for_state

FACES = "sensor.test_garden_enrolled_faces"
RESIDENTS = "sensor.test_garden_residents"
ACCESS = "event.simdc0042_door_1_access"


async def _call(hass: HomeAssistant, service: str, data: dict, **kwargs: object) -> dict | None:
    return await hass.services.async_call(DOMAIN, service, data, blocking=True, **kwargs)


async def test_card_granted_at_the_door_end_to_end(
    hass: HomeAssistant, community_entry: MockConfigEntry, simulator: DoorControllerSim
) -> None:
    """A manager adds a resident, a card and a rule; the card swiped at the door releases it; a stranger's not."""
    await _call(hass, "add_resident", {"resident_id": "r-001", "full_name": "Li Wei", "building": "3"})
    card = await _call(hass, "add_card", {"resident_id": "r-001", "card_number": "12345678"}, return_response=True)
    assert card["card_id"]
    await _call(hass, "add_access_rule", {"rule_id": "all", "name": "Everyone", "doors": ["lock.simdc0042_door_1"],
                                          "everyone": True})
    await wait_for_state(hass, RESIDENTS, "1")

    simulator.swipe_card(0, 12345678)
    granted = await wait_for_event(hass, ACCESS, "granted")
    assert granted["reason"] == "granted"
    assert granted["credential"] == "card"
    assert granted["resident_ref"] == resident_ref(hass, "r-001") and "resident_id" not in granted
    assert granted["released"] is True
    assert simulator.doors[0].releases == 1

    simulator.swipe_card(0, 5555)
    denied = await wait_for_event(hass, ACCESS, "denied")
    assert denied["reason"] == "unknown_card"
    assert denied["released"] is False
    assert simulator.doors[0].releases == 1


async def test_bad_input_is_refused_and_changes_nothing(
    hass: HomeAssistant, community_entry: MockConfigEntry
) -> None:
    """An invalid resident id, an unknown resident or a weak PIN: a clear error, and the registry is unchanged."""
    with pytest.raises(ServiceValidationError, match="contains a space: an id is one word"):
        await _call(hass, "add_resident", {"resident_id": "bad id!", "full_name": "X"})
    await _call(hass, "add_resident", {"resident_id": "r-002", "full_name": "Wang Fang"})
    with pytest.raises(ServiceValidationError):
        await _call(hass, "add_card", {"resident_id": "nobody", "card_number": "1"})
    with pytest.raises(ServiceValidationError, match="PIN"):
        await _call(hass, "set_pin", {"resident_id": "r-002", "pin": "1111"})
    with pytest.raises(ServiceValidationError, match="not a door"):
        await _call(hass, "add_access_rule", {"rule_id": "x", "name": "X", "doors": ["lock.nothing"], "everyone": True})
    community = community_entry.runtime_data.community
    summary = await hass.async_add_executor_job(community.summary)
    assert summary["residents"] == 1
    cards = await hass.async_add_executor_job(community.registry.credentials.list_cards, "r-002")
    assert cards == []


async def test_only_admins_may_act(hass: HomeAssistant, community_entry: MockConfigEntry,
                                   hass_read_only_user: MockUser) -> None:
    """A non-admin user is refused before anything happens."""
    with pytest.raises(Unauthorized):
        await _call(hass, "add_resident", {"resident_id": "r-003", "full_name": "Zhao"},
                    context=Context(user_id=hass_read_only_user.id))
    community = community_entry.runtime_data.community
    assert (await hass.async_add_executor_job(community.summary))["residents"] == 0


async def test_visitor_pass_and_erasure(hass: HomeAssistant, community_entry: MockConfigEntry) -> None:
    """A pass comes back with a PNG QR code; removing a resident returns a receipt of what was erased."""
    await _call(hass, "add_resident", {"resident_id": "r-004", "full_name": "Chen Jie"})
    issued = await _call(
        hass, "issue_visitor_pass",
        {"issued_by": "r-004", "visitor_name": "Plumber", "doors": ["lock.simdc0042_door_2"],
         "valid_until": (dt_util.now() + timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S"), "max_uses": 2},
        return_response=True,
    )
    assert base64.b64decode(issued["qr_png_base64"]).startswith(b"\x89PNG")
    assert issued["token"]
    await _call(hass, "revoke_visitor_pass", {"pass_id": issued["pass_id"]})
    await _call(hass, "add_card", {"resident_id": "r-004", "card_number": "77770001"})
    receipt = await _call(hass, "remove_resident", {"resident_id": "r-004"}, return_response=True)
    assert receipt["resident_id"] == "r-004"
    assert receipt["erased"]["cards"] == 1
    assert receipt["receipt_hash"]
    with pytest.raises(ServiceValidationError):
        await _call(hass, "remove_resident", {"resident_id": "r-004"})


async def test_actions_need_the_community(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Without the community hub set up, an action says how to fix that."""
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "add_resident", {"resident_id": "r-005", "full_name": "Sun"})
    assert err.value.translation_key == "no_community"
