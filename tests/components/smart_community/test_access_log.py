"""The access log a manager can use, through a real Home Assistant and a real simulated door: reasons in words
from the translations (in the language asked, English where none), the CSV in the community's time zone with
the UTC offset and names beside the ids, and a card looked up by its number (administrators only, the number
neither answered back nor put in any entity's state)."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from custom_components.smart_community.const import DOMAIN
from devkit.sim.door_controller import DoorControllerSim
from hub.access.models import Reason

from .test_websocket_api import DOOR, _decisions, _log, _ok

Ws = Callable[..., Awaitable[Any]]
ZONE = "Asia/Shanghai"  # +08:00, no daylight saving: the offset in the file is known


@pytest.fixture
async def ws(hass: HomeAssistant, community_entry: MockConfigEntry,
             hass_ws_client: WebSocketGenerator) -> Callable[..., Awaitable[dict[str, Any]]]:
    client = await hass_ws_client(hass)

    async def send(name: str, **fields: Any) -> dict[str, Any]:
        await client.send_json_auto_id({"type": f"{DOMAIN}/{name}", **fields})
        return await client.receive_json()

    return send


def test_every_reason_has_words() -> None:
    """One table in the translations names every reason the hub can give."""
    import json
    from pathlib import Path

    strings = json.loads((Path(__file__).parents[3] / "custom_components" / DOMAIN / "strings.json").read_text())
    table = strings["selector"]["access_reason"]["options"]
    assert set(table) == {r.value for r in Reason}
    assert table["not_live"] == "Face not live" and table["unknown_face"] == "Face not recognised"


async def test_reasons_in_words_and_the_csv_in_the_community_time_zone(
    hass: HomeAssistant, ws: Ws, simulator: DoorControllerSim, hass_client_no_auth: ClientSessionGenerator
) -> None:
    await hass.config.async_update(time_zone=ZONE)
    await _decisions(hass, simulator, ws)
    events = await _log(ws, expect=3)
    assert [(e["reason"], e["reason_text"]) for e in events] == [
        ("unknown_card", "Card not known"), ("unknown_card", "Card not known"), ("granted", "Granted")]
    # A language without a translation of its own falls back to English rather than showing codes.
    assert {e["reason_text"] for e in (await _ok(ws, "access_log/list", language="xx"))["events"]} == {
        "Card not known", "Granted"}

    export = await _ok(ws, "access_log/export")
    response = await (await hass_client_no_auth()).get(export["url"])
    assert response.status == 200
    text = await response.text()
    header = text.splitlines()[0].split(",")
    assert header == ["seq", "occurred_at", "door", "door_name", "result", "reason", "reason_text", "credential",
                      "resident_id", "resident_name"]
    rows = list(csv.DictReader(io.StringIO(text)))
    by_seq = {int(row["seq"]): row for row in rows}
    for event in events:
        row = by_seq[event["seq"]]
        local = datetime.fromisoformat(row["occurred_at"])
        assert row["occurred_at"].endswith("+08:00")  # the community's zone, with its offset
        assert local == datetime.fromisoformat(event["occurred_at"])  # the same moment as on the screen
        assert local.utcoffset() == datetime.now(ZoneInfo(ZONE)).utcoffset()
        assert row["door"] == DOOR and row["door_name"] == "SIMDC0042 door 1"
        assert row["reason_text"] == event["reason_text"]
    granted = by_seq[events[2]["seq"]]
    assert granted["resident_id"] == "r-001" and granted["resident_name"] == "Li Wei"
    assert by_seq[events[0]["seq"]]["resident_name"] == ""


async def test_a_card_looked_up_by_its_number(
    hass: HomeAssistant, ws: Ws, community_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    await _ok(ws, "residents/add", resident_id="r-007", full_name="Anna Berg")
    added = await _ok(ws, "cards/add", resident_id="r-007", card_number="0412 3456 78")
    found = await _ok(ws, "cards/lookup", card_number="0412345678")
    assert found == {"found": True, "card_id": added["card_id"], "hint": "5678", "revoked": False,
                     "added_at": found["added_at"], "resident_id": "r-007", "resident_name": "Anna Berg"}
    assert "0412345678" not in str(found)
    assert await _ok(ws, "cards/lookup", card_number="99999999") == {"found": False}
    bad = await ws("cards/lookup", card_number="not a card!")
    assert not bad["success"] and bad["error"]["code"] == "invalid_input"
    assert "card" in bad["error"]["message"].lower()
    await _ok(ws, "cards/revoke", card_id=added["card_id"])
    assert (await _ok(ws, "cards/lookup", card_number="0412345678"))["revoked"] is True

    # Only administrators may look a card up.
    client = await hass_ws_client(hass, hass_read_only_access_token)
    await client.send_json_auto_id({"type": f"{DOMAIN}/cards/lookup", "card_number": "0412345678"})
    reply = await client.receive_json()
    assert not reply["success"] and reply["error"]["code"] == "unauthorized"
    # No entity's state or attributes carry the number.
    for state in hass.states.async_all():
        assert "0412345678" not in str(state.state) + str(state.attributes)


async def test_a_persons_entries_found_by_name(hass: HomeAssistant, ws: Ws, simulator: DoorControllerSim) -> None:
    """What the panel's person filter does: the residents matching a name (any case, part of it), then the log of
    the one found; a name nobody has matches no resident (the panel says so rather than showing an empty log)."""
    await _decisions(hass, simulator, ws)
    await _log(ws, expect=3)
    found = await _ok(ws, "residents/list", query="li WEI")
    assert [r["resident_id"] for r in found["residents"]] == ["r-001"]
    entries = await _log(ws, resident_id=found["residents"][0]["resident_id"])
    assert [(e["resident_name"], e["result"]) for e in entries] == [("Li Wei", "granted")]
    assert (await _ok(ws, "residents/list", query="Nobody Called This"))["total"] == 0
