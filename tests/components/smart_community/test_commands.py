"""The command table is the one source of the admin operations: every command is reachable on each transport it
names (and only there), services.yaml, strings.json and docs/panel.md describe exactly the table, a refused input
gives the same error through an action and a websocket command, the same operation answers in the same shape both
ways, and a non-administrator is refused everywhere (websocket, action, REST)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
import yaml
from homeassistant.core import Context, HomeAssistant, SupportsResponse
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from custom_components.smart_community.commands import COMMANDS, Command, aware
from custom_components.smart_community.const import DOMAIN

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "custom_components" / DOMAIN
SHARED = [c for c in COMMANDS if c.service and c.websocket]

# Fields every command's schema accepts (what the library then says of them does not matter here).
VALID: dict[str, dict[str, Any]] = {
    "overview": {}, "residents/list": {}, "residents/get": {"resident_id": "r-x"},
    "add_resident": {"resident_id": "r-x", "full_name": "Mallory"},
    "update_resident": {"resident_id": "r-x", "full_name": "Mallory"},
    "remove_resident": {"resident_id": "r-x"},
    "record_consent": {"resident_id": "r-x", "scope": "gate"},
    "withdraw_consent": {"resident_id": "r-x"},
    "faces/check": {"filename": "a.jpg", "photo": base64.b64encode(b"jpeg").decode()},
    "faces/enrol": {"resident_id": "r-x", "upload_ids": ["u-1"]},
    "faces/review": {"resident_id": "r-x", "upload_ids": ["u-1"]},
    "faces/remove": {"resident_id": "r-x", "upload_id": "u-1"},
    "enrol_face": {"resident_id": "r-x", "photos": ["/tmp/a.jpg"]},
    "verify_at_gate": {"gate": "lock.simdc0042_door_1"},
    "set_face_assurance": {"gate": "lock.simdc0042_door_1", "level": "face_alone"},
    "add_card": {"resident_id": "r-x", "card_number": "12345678"},
    "revoke_card": {"card_id": "card-x"},
    "set_pin": {"resident_id": "r-x", "pin": "739164"},
    "revoke_pin": {"resident_id": "r-x"},
    "passes/list": {},
    "issue_visitor_pass": {"visitor_name": "Aunt", "issued_by": "r-x", "doors": ["SIMDC0042-door0"],
                           "valid_until": "2030-01-01T00:00:00"},
    "passes/qr": {"pass_id": "pass-x"}, "passes/card": {"pass_id": "pass-x"}, "passes/link": {"pass_id": "pass-x"},
    "revoke_visitor_pass": {"pass_id": "pass-x"},
    "add_access_rule": {"rule_id": "all", "name": "Everyone", "doors": ["SIMDC0042-door0"]},
    "remove_access_rule": {"rule_id": "all"},
    "access_log/list": {}, "access_log/export": {}, "devices/list": {}, "reports/list": {}, "uplink/status": {},
    "audit/list": {}, "audit/verify": {}, "import/photo": {"filename": "a.jpg", "photo": "anBlZw=="},
    "import/commit": {"csv": "resident_id,full_name\n"},
    "devices/history": {}, "problems/list": {},
    "acknowledge_device_problem": {"problem_id": 404, "note": "seen"},
    "alarms/list": {}, "close_alarm": {"problem_id": 404},
    # Vehicles (test_vehicles_actions.py covers them in depth).
    "vehicles/list": {}, "add_vehicle": {"resident_id": "r-x", "plate": "皖A12345"},
    "remove_vehicle": {"vehicle_id": "veh-x"},
    "add_monthly_vehicle": {"plate": "皖A12345", "valid_from": "2030-01-01T00:00:00",
                            "valid_until": "2030-02-01T00:00:00"},
    "remove_monthly_vehicle": {"vehicle_id": "veh-x"},
    "invite_vehicle": {"resident_id": "r-x", "plate": "皖A12345", "valid_until": "2030-01-01T00:00:00"},
    "revoke_vehicle_invitation": {"invitation_id": "inv-x"},
    "list_plate": {"plate": "皖A12345", "list": "black"}, "unlist_plate": {"plate": "皖A12345"},
    "vehicle_log": {},
    "rules/list": {}, "cards/lookup": {"card_number": "12345678"},
    # The add-resident flow and a resident's page (test_add_resident.py covers them in depth).
    "residents/create": {"full_name": "Mallory"}, "consent_texts/list": {},
    "consent_texts/save": {"title": "Gates", "body": "Face recognition at the gates."},
    "consent/record_text": {"resident_id": "r-x", "template_id": "consent_text_x"},
    "residents/access": {"resident_id": "r-x"},
}

# Input of every command both transports offer that the hub (or the door look-up) refuses: (fields, error key).
REFUSED: dict[str, tuple[dict[str, Any], str]] = {
    "set_face_assurance": ({"gate": "lock.simdc0042_door_2", "level": "face_alone"}, "not_a_gate"),
    "add_resident": ({"resident_id": "bad id!", "full_name": "X"}, "invalid_input"),
    "update_resident": ({"resident_id": "nobody", "full_name": "X"}, "not_found"),
    "remove_resident": ({"resident_id": "nobody"}, "not_found"),
    "record_consent": ({"resident_id": "nobody", "scope": "gate"}, "not_found"),
    "withdraw_consent": ({"resident_id": "nobody"}, "not_found"),
    "add_card": ({"resident_id": "nobody", "card_number": "12345678"}, "not_found"),
    "revoke_card": ({"card_id": "card-404"}, "not_found"),
    "remove_access_rule": ({"rule_id": "nobody"}, "not_found"),
    "set_pin": ({"resident_id": "r-1", "pin": "1111"}, "invalid_input"),
    "revoke_pin": ({"resident_id": "nobody"}, "not_found"),
    "issue_visitor_pass": ({**VALID["issue_visitor_pass"], "issued_by": "r-1", "doors": ["lock.nothing"]},
                           "unknown_door"),
    "revoke_visitor_pass": ({"pass_id": "pass-404"}, "not_found"),
    "acknowledge_device_problem": ({"problem_id": 404, "note": "seen"}, "not_found"),
    "close_alarm": ({"problem_id": 404}, "not_found"),
    "add_vehicle": ({"resident_id": "nobody", "plate": "皖A12345"}, "not_found"),
    "remove_vehicle": ({"vehicle_id": "veh-404"}, "not_found"),
    "add_monthly_vehicle": ({**VALID["add_monthly_vehicle"], "plate": "皖A"}, "invalid_input"),
    "remove_monthly_vehicle": ({"vehicle_id": "veh-404"}, "not_found"),
    "invite_vehicle": ({**VALID["invite_vehicle"], "plate": "AB-12 CD!"}, "invalid_input"),
    "revoke_vehicle_invitation": ({"invitation_id": "inv-404"}, "not_found"),
    "list_plate": ({"plate": "皖AO1234", "list": "black"}, "invalid_input"),
    "unlist_plate": ({"plate": "皖A12345"}, "not_found"),
    "vehicle_log": ({"since": "2030-01-02T00:00:00", "until": "2030-01-01T00:00:00"}, "invalid_input"),
}
WS_CODE = {"invalid_input": "invalid_input", "not_found": "not_found", "unknown_door": "invalid_input",
           "not_a_gate": "invalid_input"}

Ws = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
async def ws(hass: HomeAssistant, community_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator) -> Ws:
    """Send one command as the administrator; returns the whole reply."""
    client = await hass_ws_client(hass)

    async def send(name: str, fields: dict[str, Any]) -> dict[str, Any]:
        await client.send_json_auto_id({"type": f"{DOMAIN}/{name}", **fields})
        return await client.receive_json()

    return send


def test_the_samples_cover_the_table() -> None:
    """The samples below name every command, so a command added to the table is tested by every test here."""
    assert set(VALID) == {c.name for c in COMMANDS}
    assert set(REFUSED) == {c.name for c in SHARED}
    names = [c.service for c in COMMANDS if c.service] + [c.websocket for c in COMMANDS if c.websocket]
    assert len(names) == len(set(names))


def test_a_command_needs_a_name_and_one_way_to_run() -> None:
    with pytest.raises(ValueError, match="action name"):
        Command(fields={}, run=lambda ctx, data: None)
    with pytest.raises(ValueError, match="exactly one"):
        Command(service="x", fields={})


def test_times_without_an_offset_mean_home_assistants_zone(hass: HomeAssistant) -> None:
    from datetime import datetime

    assert aware(datetime(2026, 1, 1, 8, 0)).utcoffset() is not None


def test_services_yaml_and_strings_describe_the_table() -> None:
    """Every action of the table, and only those, in services.yaml and strings.json, with the schema's fields."""
    services = yaml.safe_load((PACKAGE / "services.yaml").read_text())
    strings = json.loads((PACKAGE / "strings.json").read_text())["services"]
    translations = json.loads((PACKAGE / "translations" / "en.json").read_text())["services"]
    table = {c.service: c for c in COMMANDS if c.service}
    assert set(services) == set(table) == set(strings) == set(translations)
    for name, command in table.items():
        fields = {str(marker) for marker in command.fields}
        assert set(services[name]["fields"]) == fields, name
        assert set(strings[name]["fields"]) == fields, name
        required = {str(m) for m in command.fields if isinstance(m, vol.Required)}
        assert {f for f, spec in services[name]["fields"].items() if spec.get("required")} == required, name


def test_panel_docs_list_every_websocket_command() -> None:
    documented = set(re.findall(r"^\| `([a-z_/]+)` \|", (ROOT / "docs" / "panel.md").read_text(), re.MULTILINE))
    commands = {c.websocket for c in COMMANDS if c.websocket}
    assert commands <= documented
    assert not {d for d in documented if "/" in d or d == "overview"} - commands


async def test_every_command_is_reachable_where_the_table_says(
    hass: HomeAssistant, community_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    """Actions are registered with the table's response support; a websocket type exists exactly for the commands
    that declare one (an admin-only one answers a non-administrator `unauthorized`, an absent one `unknown_command`)."""
    assert set(hass.services.async_services_for_domain(DOMAIN)) == {c.service for c in COMMANDS if c.service}
    client = await hass_ws_client(hass, hass_read_only_access_token)
    for command in COMMANDS:
        if command.service:
            expected = SupportsResponse.OPTIONAL if command.returns else SupportsResponse.NONE
            assert hass.services.supports_response(DOMAIN, command.service) is expected, command.name
        name = command.websocket or command.service
        await client.send_json_auto_id({"type": f"{DOMAIN}/{name}", **VALID[command.name]})
        reply = await client.receive_json()
        code = "unauthorized" if command.websocket and command.admin_only else "unknown_command"
        assert reply["error"]["code"] == code, (command.name, reply)
    assert community_entry.runtime_data.community.summary()["residents"] == 0


async def test_a_non_administrator_is_refused_by_every_action_and_the_rest_api(
    hass: HomeAssistant, community_entry: MockConfigEntry, hass_read_only_user: MockUser,
    hass_client: ClientSessionGenerator, hass_read_only_access_token: str,
) -> None:
    assert await async_setup_component(hass, "api", {})
    client = await hass_client(hass_read_only_access_token)
    for command in COMMANDS:
        if not (command.service and command.admin_only):
            continue
        with pytest.raises(Unauthorized):
            await hass.services.async_call(DOMAIN, command.service, VALID[command.name], blocking=True,
                                           context=Context(user_id=hass_read_only_user.id))
        response = await client.post(f"/api/services/{DOMAIN}/{command.service}", json=VALID[command.name])
        assert response.status == 401, (command.name, await response.text())
    assert community_entry.runtime_data.community.summary()["residents"] == 0


async def _refusal_by_action(hass: HomeAssistant, command: Command, fields: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, command.service or "", fields, blocking=True)
    return err.value.translation_key or "", str(err.value)


@pytest.mark.parametrize("name", sorted(REFUSED))
async def test_a_refused_input_gives_the_same_error_both_ways(
    hass: HomeAssistant, ws: Ws, community_entry: MockConfigEntry, name: str
) -> None:
    command = next(c for c in SHARED if c.name == name)
    await hass.services.async_call(DOMAIN, "add_resident", {"resident_id": "r-1", "full_name": "Li Wei"},
                                   blocking=True)
    fields, key = REFUSED[name]
    action_key, action_message = await _refusal_by_action(hass, command, fields)
    reply = await ws(command.websocket, fields)
    assert action_key == key
    assert not reply["success"]
    assert reply["error"] == {"code": WS_CODE[key], "message": action_message}
    assert action_message and action_message != key  # the translated text, not the bare key

    # A field the schema does not know is refused before anything runs, both ways.
    extra = {**VALID[name], "unexpected": 1}
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(DOMAIN, command.service or "", extra, blocking=True)
    assert (await ws(command.websocket, extra))["error"]["code"] == "invalid_format"
    assert community_entry.runtime_data.community.summary()["residents"] == 1


def _shape(value: Any) -> Any:
    """A response's keys, recursively (ids, times and tokens differ between two runs)."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value[:1]]
    return type(value).__name__ if value is not None else None


async def test_the_same_operation_answers_in_the_same_shape_both_ways(hass: HomeAssistant, ws: Ws) -> None:
    """The same steps through actions (resident r-a) and websocket commands (r-w) answer alike."""

    async def by_action(command: Command, fields: dict[str, Any]) -> Any:
        return await hass.services.async_call(DOMAIN, command.service or "", fields, blocking=True,
                                              return_response=command.returns)

    async def by_websocket(command: Command, fields: dict[str, Any]) -> Any:
        reply = await ws(command.websocket, fields)
        assert reply["success"], reply
        return reply["result"] or None

    answers: dict[str, list[Any]] = {}
    for resident_id, run in (("r-a", by_action), ("r-w", by_websocket)):
        steps: list[tuple[str, dict[str, Any]]] = [
            ("add_resident", {"resident_id": resident_id, "full_name": "Li Wei", "building": "3"}),
            ("update_resident", {"resident_id": resident_id, "unit": "301", "building": None}),
            ("record_consent", {"resident_id": resident_id, "scope": "gate"}),
            ("withdraw_consent", {"resident_id": resident_id}),
            ("add_card", {"resident_id": resident_id, "card_number": f"1234567{len(answers)}"}),
            ("set_pin", {"resident_id": resident_id, "pin": f"73916{len(answers)}"}),
            ("revoke_pin", {"resident_id": resident_id}),
            ("issue_visitor_pass", {**VALID["issue_visitor_pass"], "issued_by": resident_id,
                                    "doors": ["lock.simdc0042_door_1"], "valid_until": _tomorrow()}),
        ]
        results = []
        for name, fields in steps:
            command = next(c for c in SHARED if c.name == name)
            results.append(await run(command, fields))
        card, issued = results[4], results[7]
        for name, fields in (("revoke_card", {"card_id": card["card_id"]}),
                             ("revoke_visitor_pass", {"pass_id": issued["pass_id"]}),
                             ("remove_resident", {"resident_id": resident_id})):
            results.append(await run(next(c for c in SHARED if c.name == name), fields))
        answers[resident_id] = results
    assert [_shape(a) for a in answers["r-a"]] == [_shape(a) for a in answers["r-w"]]
    added, updated = answers["r-a"][0], answers["r-a"][1]
    assert (added["building"], updated["building"], updated["unit"]) == ("3", None, "301")  # null clears
    assert answers["r-w"][7]["token"]


def _tomorrow() -> str:
    from datetime import timedelta

    from homeassistant.util import dt as dt_util

    return (dt_util.now() + timedelta(days=1)).isoformat()


async def test_websocket_commands_need_the_community(
    hass: HomeAssistant, ws: Ws, community_entry: MockConfigEntry
) -> None:
    await hass.config_entries.async_unload(community_entry.entry_id)
    reply = await ws("residents/add", VALID["add_resident"])
    assert reply["error"]["code"] == "no_community"
    assert "Smart Community" in reply["error"]["message"]
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "add_resident", VALID["add_resident"], blocking=True)
    assert str(err.value) == reply["error"]["message"]


async def test_audit_names_the_home_assistant_user_or_the_system(
    hass: HomeAssistant, ws: Ws, community_entry: MockConfigEntry, hass_admin_user: MockUser
) -> None:
    """Who did it comes from the call's context: the administrator's name and id, or `system` for automations."""
    await hass.services.async_call(DOMAIN, "add_resident", {"resident_id": "r-s", "full_name": "By Automation"},
                                   blocking=True)
    await hass.services.async_call(DOMAIN, "add_resident", {"resident_id": "r-u", "full_name": "By Admin"},
                                   blocking=True, context=Context(user_id=hass_admin_user.id))
    assert (await ws("residents/add", {"resident_id": "r-w", "full_name": "By Panel"}))["success"]
    for _ in range(100):
        entries = (await ws("audit/list", {}))["result"]["entries"]
        if len(entries) >= 3:
            break
        await asyncio.sleep(0.05)
    # The log names each resident by pseudonym; the panel's page maps the refs of residents who exist to names.
    added = [e for e in entries if e["action"] == "resident.add"]
    assert all(e["details"]["resident_id"].startswith("a1_") for e in added)
    actors = {e["residents"][e["details"]["resident_id"]]: e["actor"] for e in added}
    assert actors["By Automation (r-s)"] == "system"
    assert actors["By Admin (r-u)"] == f"{hass_admin_user.name} ({hass_admin_user.id})"
    assert actors["By Panel (r-w)"].endswith(")") and "(" in actors["By Panel (r-w)"]
    # Once a resident is erased, their entries keep the ref and the page no longer names them.
    assert (await ws("residents/erase", {"resident_id": "r-s"}))["success"]
    entries = (await ws("audit/list", {}))["result"]["entries"]
    erased = next(e for e in entries if e["action"] == "resident.add" and e["actor"] == "system")
    assert erased["residents"] == {} and erased["details"]["resident_id"].startswith("a1_")
    assert "r-s" not in str(entries)


async def test_overview_photo_fields_and_export_times(ws: Ws, community_entry: MockConfigEntry) -> None:
    """The overview counts and lists the doors; photos are checked as base64 up to 3 MB; export keeps times."""
    overview = (await ws("overview", {}))["result"]
    assert overview["title"] == "Test Garden" and overview["residents"] == 0
    assert {d["door_id"] for d in overview["doors"]} >= {"SIMDC0042-door0", "SIMDC0042-door1"}
    as_data_url = await ws("faces/check", {"filename": "x.jpg", "photo": "data:image/jpeg;base64,anBlZw=="})
    assert as_data_url["success"] and as_data_url["result"]["accepted"] is False
    assert (await ws("faces/check", {"filename": "x.jpg", "photo": ""}))["error"]["code"] == "invalid_format"
    check = vol.Schema(next(c for c in COMMANDS if c.websocket == "faces/check").fields)
    with pytest.raises(vol.Invalid, match="larger than 3 MB"):  # more than a test client's websocket frame holds
        check({"filename": "x.jpg", "photo": base64.b64encode(b"x" * (3 * 1024 * 1024 + 1)).decode()})
    export = (await ws("access_log/export", {"since": "2026-01-01T08:00:00", "door": "SIMDC0042-door0"}))["result"]
    assert "since=2026-01-01T08:00:00" in export["url"] and "door=SIMDC0042-door0" in export["url"]
