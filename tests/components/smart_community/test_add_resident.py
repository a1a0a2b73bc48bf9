"""The panel's add-resident flow and a resident's page through a real Home Assistant (websocket, the real hass
fixture, the door controller simulator on loopback): one command adds the resident with a generated id, card, PIN
and consent on a consent text the community keeps; a refused part changes nothing and is said in words; photos go
through the enrolment commands once consent exists; the resident's page lists their doors and hours, holidays,
vehicles and recent access. Administrators only; every action audited with who did it; no personal data in any
entity's state."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.smart_community.const import DOMAIN

from .conftest import FACES

DOOR = "SIMDC0042-door0"
TEXT = "Face recognition at the community gates; templates kept while you live here, deleted on withdrawal."
Ws = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
async def ws(hass: HomeAssistant, community_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator) -> Ws:
    client = await hass_ws_client(hass)

    async def send(name: str, **fields: Any) -> dict[str, Any]:
        await client.send_json_auto_id({"type": f"{DOMAIN}/{name}", **fields})
        return await client.receive_json()

    return send


async def _ok(ws: Ws, name: str, **fields: Any) -> Any:
    reply = await ws(name, **fields)
    assert reply["success"], reply
    return reply["result"]


async def _error(ws: Ws, name: str, **fields: Any) -> str:
    reply = await ws(name, **fields)
    assert not reply["success"], reply
    return str(reply["error"]["message"])


def _photo(name: str) -> str:
    return base64.b64encode(sorted((FACES / name).glob("*.jpg"))[0].read_bytes()).decode("ascii")


async def test_add_a_resident_with_card_pin_consent_and_photos(hass: HomeAssistant, ws: Ws,
                                                               community_entry: MockConfigEntry) -> None:
    community = community_entry.runtime_data.community
    text = await _ok(ws, "consent_texts/save", title="Gate face recognition", body=TEXT)
    assert text["version"] == 1
    assert [t["body"] for t in (await _ok(ws, "consent_texts/list"))["texts"]] == [TEXT]

    # A name typed as the id: refused once, in words, and nothing is added.
    message = await _error(ws, "residents/create", resident_id="John Salley", full_name="John Salley")
    assert "contains a space" in message and "not a name" in message
    assert community.summary()["residents"] == 0
    # A card already someone's: the whole add is refused, no half-made resident.
    await _ok(ws, "residents/create", full_name="Li Wei", card_number="11112222")
    assert "already registered" in await _error(ws, "residents/create", full_name="John Salley",
                                                card_number="11112222", consent_text_id=text["template_id"])
    assert community.summary()["residents"] == 1

    added = await _ok(ws, "residents/create", full_name="John Salley", building="3", unit="301",
                      card_number="12345678", pin="482913", consent_text_id=text["template_id"])
    rid = added["resident_id"]
    assert rid.startswith("R-")
    assert [c["hint"] for c in added["cards"]] == ["5678"] and added["has_pin"] and added["keypad_code"]
    assert added["consent"]["scope"] == TEXT and added["consent"]["template_version"] == 1

    # Photos in the same flow: the enrolment path's own commands, now that consent exists.
    check = await _ok(ws, "faces/check", filename="a.jpg", photo=_photo("John_Salley"))
    assert check["accepted"], check
    enrolled = await _ok(ws, "faces/enrol", resident_id=rid, upload_ids=[check["upload_id"]])
    assert enrolled["enrolled"] == 1

    # An edited consent text is a new version; the resident's consent keeps the text signed.
    await _ok(ws, "consent_texts/save", template_id=text["template_id"], title="Gate face recognition",
              body=TEXT + " Also at the car park.")
    assert (await _ok(ws, "residents/get", resident_id=rid))["consent"]["scope"] == TEXT

    for state in hass.states.async_all():  # no personal data in entity state
        shown = f"{state.state} {state.attributes}"
        assert "John Salley" not in shown and "12345678" not in shown and rid not in shown, state.entity_id

    audit = (await _ok(ws, "audit/list", limit=50))["entries"]
    actions = {e["action"] for e in audit if "(" in str(e.get("actor", ""))}
    assert {"consent_text.save", "resident.add", "card.add", "pin.set", "consent.record"} <= actions


async def test_a_residents_page_shows_their_doors_hours_and_holidays(hass: HomeAssistant, ws: Ws) -> None:
    anna = await _ok(ws, "residents/create", full_name="Anna Berg", building="3")
    bo = await _ok(ws, "residents/create", full_name="Bo Chen", building="5")
    await hass.services.async_call(DOMAIN, "add_access_rule", {
        "rule_id": "b3-days", "name": "Building 3 daytime", "doors": [DOOR], "weekdays": ["mon", "tue", "wed"],
        "start": "07:00", "end": "19:00", "on_holidays": False, "buildings": ["3"],
    }, blocking=True)
    await hass.services.async_call(DOMAIN, "add_access_rule", {
        "rule_id": "bo", "name": "Bo any time", "doors": [DOOR], "residents": [bo["resident_id"]],
    }, blocking=True)
    page = await _ok(ws, "residents/access", resident_id=anna["resident_id"])
    assert [r["name"] for r in page["rules"]] == ["Building 3 daytime"]
    rule = page["rules"][0]
    assert rule["why"] == "building" and rule["hours"] == "07:00–19:00" and rule["on_holidays"] is False
    assert rule["weekdays"] == ["mon", "tue", "wed"]
    assert [d["id"] for d in page["doors"]] == [DOOR] and page["doors"][0]["rules"] == ["Building 3 daytime"]
    assert page["vehicles"] == 0 and page["recent_access"] == []
    other = await _ok(ws, "residents/access", resident_id=bo["resident_id"])
    assert [(r["name"], r["why"], r["all_day"]) for r in other["rules"]] == [("Bo any time", "named", True)]
    assert "no resident" in await _error(ws, "residents/access", resident_id="R-NOBODY")


async def test_only_administrators(hass: HomeAssistant, community_entry: MockConfigEntry,
                                   hass_ws_client: WebSocketGenerator, hass_read_only_access_token: str) -> None:
    client = await hass_ws_client(hass, hass_read_only_access_token)
    for name, fields in {"residents/create": {"full_name": "Mallory"}, "consent_texts/list": {},
                         "consent_texts/save": {"title": "x", "body": "y"},
                         "consent/record_text": {"resident_id": "r", "template_id": "t"},
                         "residents/access": {"resident_id": "r"}}.items():
        await client.send_json_auto_id({"type": f"{DOMAIN}/{name}", **fields})
        reply = await client.receive_json()
        assert reply["error"]["code"] == "unauthorized", (name, reply)
    assert community_entry.runtime_data.community.summary()["residents"] == 0
