"""The panel's websocket commands through a real Home Assistant: administrators only, every input validated, a
refused command changes nothing; real photos through the face check; decisions at a real simulated door in the
access log and its CSV download; the audit log's hash chain."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import threading
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from custom_components.smart_community.const import DOMAIN
from custom_components.smart_community.websocket_api import COMMANDS
from devkit.sim.door_controller import DoorControllerSim
from hub.journal import EventKind
from hub.residents.qr import read_pass_token

from .conftest import FACES, wait_for_event

SCENES = Path(__file__).resolve().parents[4] / "shared" / "faces" / "scenes"
ACCESS = "event.simdc0042_door_1_access"
DOOR = "SIMDC0042-door0"

Ws = Callable[..., Awaitable[Any]]


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def _photo(name: str, index: int = 0) -> Path:
    return sorted((FACES / name).glob("*.jpg"))[index]


@pytest.fixture
async def ws(hass: HomeAssistant, community_entry: MockConfigEntry,
             hass_ws_client: WebSocketGenerator) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Send one command as the administrator; returns the whole reply."""
    client = await hass_ws_client(hass)

    async def send(name: str, **fields: Any) -> dict[str, Any]:
        await client.send_json_auto_id({"type": f"{DOMAIN}/{name}", **fields})
        return await client.receive_json()

    return send


async def _ok(ws: Ws, name: str, **fields: Any) -> Any:
    reply = await ws(name, **fields)
    assert reply["success"], reply
    return reply["result"]


async def _error(ws: Ws, name: str, code: str, **fields: Any) -> str:
    reply = await ws(name, **fields)
    assert not reply["success"], reply
    assert reply["error"]["code"] == code, reply
    return str(reply["error"]["message"])


async def test_only_administrators(hass: HomeAssistant, community_entry: MockConfigEntry,
                                   hass_ws_client: WebSocketGenerator, hass_read_only_access_token: str) -> None:
    """A non-admin user gets `unauthorized` from every command, and nothing changes."""
    client = await hass_ws_client(hass, hass_read_only_access_token)
    types = sorted(handler._ws_command for handler in COMMANDS)  # type: ignore[attr-defined]
    assert f"{DOMAIN}/residents/add" in types and len(types) >= 25
    valid = {
        "residents/add": {"resident_id": "r-x", "full_name": "Mallory"},
        "residents/erase": {"resident_id": "r-x"},
        "pin/set": {"resident_id": "r-x", "pin": "123456"},
        "access_log/list": {}, "audit/list": {}, "overview": {}, "devices/list": {},
    }
    for name, fields in valid.items():
        await client.send_json_auto_id({"type": f"{DOMAIN}/{name}", **fields})
        reply = await client.receive_json()
        assert reply["error"]["code"] == "unauthorized", (name, reply)
    runtime = community_entry.runtime_data
    assert runtime.community.summary()["residents"] == 0


async def test_residents_add_search_edit_and_bad_input(ws: Ws) -> None:
    """Add, search and edit residents; bad input gets a clear error and changes nothing."""
    added = await _ok(ws, "residents/add", resident_id="r-001", full_name="Li Wei", building="3", unit="301")
    assert added["consent"] is None and added["faces"] == 0 and added["has_pin"] is False
    await _ok(ws, "residents/add", resident_id="r-002", full_name="Zhang Min", building="5", unit="502",
              is_minor=True, guardian="Zhang Wei")

    found = await _ok(ws, "residents/list", query="li 301")
    assert [r["resident_id"] for r in found["residents"]] == ["r-001"]
    everyone = await _ok(ws, "residents/list")
    assert everyone["total"] == 2

    assert "already exists" in await _error(ws, "residents/add", "invalid_input", resident_id="r-001",
                                            full_name="Someone Else")
    assert "resident_id" in await _error(ws, "residents/add", "invalid_input", resident_id="bad id!",
                                         full_name="X")
    await _error(ws, "residents/list", "invalid_format", limit=0)
    await _error(ws, "residents/add", "invalid_format", resident_id="r-9")  # no full_name
    await _error(ws, "residents/update", "invalid_format", resident_id="r-001", status="banished")
    assert "until" in (await _error(ws, "residents/update", "invalid_input", resident_id="r-001",
                                    valid_from="2026-05-01T00:00:00+00:00",
                                    valid_until="2026-01-01T00:00:00+00:00")).lower()
    unchanged = await _ok(ws, "residents/get", resident_id="r-001")
    assert unchanged == added
    assert (await _ok(ws, "residents/list"))["total"] == 2

    edited = await _ok(ws, "residents/update", resident_id="r-001", unit="302", status="suspended")
    assert edited["unit"] == "302" and edited["status"] == "suspended"
    await _error(ws, "residents/get", "not_found", resident_id="r-404")


async def test_only_administrators_can_listen_for_who_was_let_in(
    hass: HomeAssistant, community_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    """Who a decision was for travels on the ``smart_community_access`` bus event, never in entity state: a
    non-admin user cannot subscribe to it, an administrator can."""
    user = await hass_ws_client(hass, hass_read_only_access_token)
    await user.send_json_auto_id({"type": "subscribe_events", "event_type": "smart_community_access"})
    reply = await user.receive_json()
    assert not reply["success"] and reply["error"]["code"] == "unauthorized"
    admin = await hass_ws_client(hass)
    await admin.send_json_auto_id({"type": "subscribe_events", "event_type": "smart_community_access"})
    assert (await admin.receive_json())["success"]


async def test_browsing_residents_neither_waits_for_nor_holds_up_the_writer(
    hass: HomeAssistant, ws: Ws, community_entry: MockConfigEntry
) -> None:
    """The resident list decrypts every name (about 0.6 s at 100,000 residents): it reads on a connection of its
    own, so it answers while the writer is busy (here held by a long job) and never delays a gate's decision."""
    await _ok(ws, "residents/add", resident_id="r-001", full_name="Li Wei")
    community = community_entry.runtime_data.community
    release = threading.Event()
    busy = community.submit(release.wait, 10)
    try:
        listed = await asyncio.wait_for(_ok(ws, "residents/list"), 5)
        assert [r["resident_id"] for r in listed["residents"]] == ["r-001"]
        assert (await asyncio.wait_for(_ok(ws, "residents/get", resident_id="r-001"), 5))["full_name"] == "Li Wei"
        assert not busy.done()  # all of it while the writer was still held
    finally:
        release.set()
    await asyncio.wrap_future(busy)


async def test_consent_and_face_enrolment_with_reasons(hass: HomeAssistant, ws: Ws,
                                                       community_entry: MockConfigEntry) -> None:
    """Real photos: accepted, no face, two faces; enrolment needs consent and stores only accepted templates."""
    await _ok(ws, "residents/add", resident_id="r-js", full_name="John Salley")
    assert "guardian" in await _error(ws, "residents/add", "invalid_input", resident_id="r-kid", full_name="Kid",
                                      is_minor=True)
    await _ok(ws, "residents/add", resident_id="r-kid", full_name="Kid", is_minor=True, guardian="Mum")
    assert "guardian" in await _error(ws, "consent/record", "invalid_input", resident_id="r-kid", scope="gate")
    assert "guardian" in await _error(ws, "consent/record", "invalid_input", resident_id="r-kid", scope="gate",
                                      guardian="Somebody")
    kid = await _ok(ws, "consent/record", resident_id="r-kid", scope="gate", guardian="Mum")
    assert kid["consent"]["guardian"] == "Mum"

    good = await _ok(ws, "faces/check", filename="a.jpg", photo=_b64(_photo("John_Salley")))
    assert good["accepted"] is True and good["reason"] is None
    blank = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (320, 240), (200, 200, 200)).save(blank, "PNG")
    no_face = await _ok(ws, "faces/check", filename="wall.png",
                        photo=base64.b64encode(blank.getvalue()).decode())
    assert no_face["accepted"] is False and "no face" in no_face["reason"].lower()
    two = await _ok(ws, "faces/check", filename="two.jpg", photo=_b64(SCENES / "two_people.jpg"))
    assert two["accepted"] is False and "more than one" in two["reason"].lower()
    not_image = await _ok(ws, "faces/check", filename="x.jpg", photo=base64.b64encode(b"hello").decode())
    assert not_image["accepted"] is False
    await _error(ws, "faces/check", "invalid_format", filename="x.jpg", photo="***not base64***")

    # No consent yet: refused, nothing stored.
    assert "consent" in await _error(ws, "faces/enrol", "invalid_input", resident_id="r-js",
                                     upload_ids=[good["upload_id"]])
    assert community_entry.runtime_data.community.summary()["enrolled_faces"] == 0
    # Only refused photos: refused.
    await _ok(ws, "consent/record", resident_id="r-js", scope="face verification at the gates")
    await _error(ws, "faces/enrol", "invalid_input", resident_id="r-js", upload_ids=[no_face["upload_id"]])
    await _error(ws, "faces/enrol", "not_found", resident_id="r-js", upload_ids=["made-up"])

    enrolled = await _ok(ws, "faces/enrol", resident_id="r-js",
                         upload_ids=[good["upload_id"], no_face["upload_id"]])
    assert enrolled["enrolled"] == 1
    assert enrolled["resident"]["faces"] == 1 and enrolled["resident"]["consent"]["scope"]
    # An upload is used once.
    await _error(ws, "faces/enrol", "not_found", resident_id="r-js", upload_ids=[good["upload_id"]])

    withdrawn = await _ok(ws, "consent/withdraw", resident_id="r-js")
    assert withdrawn["consent"] is None and withdrawn["faces"] == 0


async def test_enrolment_checks_who(hass: HomeAssistant, ws: Ws) -> None:
    """A set with a photo of another person gets that photo flagged (with the photos it does not match) and is
    refused until it is removed; a photo of an enrolled resident B offered for C is flagged as close to B and
    enrolled only when the manager chooses, which the audit log records with who. No name reaches HA state."""
    for rid, name in (("r-a", "Resident A"), ("r-b", "John Schneider"), ("r-c", "Resident C")):
        await _ok(ws, "residents/add", resident_id=rid, full_name=name)
        await _ok(ws, "consent/record", resident_id=rid, scope="face verification at the gates")

    async def check(person: str, index: int) -> str:
        result = await _ok(ws, "faces/check", filename=f"{person}-{index}.jpg", photo=_b64(_photo(person, index)))
        assert result["accepted"], result
        return str(result["upload_id"])

    b_set = [await check("John_Schneider", i) for i in range(3)]
    assert (await _ok(ws, "faces/enrol", resident_id="r-b", upload_ids=b_set))["enrolled"] == 3

    savage = [await check("John_Savage", 0), await check("John_Savage", 1)]
    simm = await check("John_Simm", 0)
    review = await _ok(ws, "faces/review", resident_id="r-a", upload_ids=[*savage, simm])
    flags = {p["upload_id"]: p for p in review["photos"]}
    assert flags[simm]["odd_one"] and flags[simm]["not_matching"] == savage
    assert not any(flags[u]["odd_one"] or flags[u]["close_to"] for u in savage)
    message = await _error(ws, "faces/enrol", "invalid_input", resident_id="r-a", upload_ids=[*savage, simm])
    assert "John_Simm-0.jpg: not the same person" in message
    assert (await _ok(ws, "residents/get", resident_id="r-a"))["faces"] == 0
    await _error(ws, "faces/review", "not_found", resident_id="nobody", upload_ids=savage)

    await _ok(ws, "faces/remove", resident_id="r-a", upload_id=simm)
    await _error(ws, "faces/remove", "not_found", resident_id="r-a", upload_id=simm)  # gone
    assert (await _ok(ws, "faces/enrol", resident_id="r-a", upload_ids=savage))["enrolled"] == 2

    offered = await check("John_Schneider", 6)
    (photo,) = (await _ok(ws, "faces/review", resident_id="r-c", upload_ids=[offered]))["photos"]
    assert photo["close_to"]["resident_id"] == "r-b" and photo["close_to"]["full_name"] == "John Schneider"
    assert photo["close_to"]["gate_would_accept"] is True and not photo["odd_one"]
    assert "close to another resident" in await _error(ws, "faces/enrol", "invalid_input", resident_id="r-c",
                                                       upload_ids=[offered])
    enrolled = await _ok(ws, "faces/enrol", resident_id="r-c", upload_ids=[offered], enrol_anyway=[offered])
    assert enrolled["resident"]["faces"] == 1

    entries = (await _ok(ws, "audit/list"))["entries"]
    chosen = next(e for e in entries if e["action"] == "enrolment.close_match_accepted")
    assert chosen["actor"].endswith(")") and chosen["actor"] != "system"  # the manager's name and id
    assert set(chosen["residents"].values()) == {"Resident C (r-c)", "John Schneider (r-b)"}
    assert "r-b" not in str(chosen["details"])  # the log itself holds pseudonyms only
    removed = next(e for e in entries if e["action"] == "enrolment.photo_removed")
    assert removed["actor"] == chosen["actor"] and list(removed["residents"].values()) == ["Resident A (r-a)"]
    for state in hass.states.async_all():
        assert "Schneider" not in str(state.as_dict()) and "Resident A" not in str(state.as_dict()), state


async def test_uploads_are_per_user(hass: HomeAssistant, ws: Ws, hass_ws_client: WebSocketGenerator) -> None:
    """Another administrator cannot enrol someone else's checked photo."""
    await _ok(ws, "residents/add", resident_id="r-js", full_name="John Salley")
    await _ok(ws, "consent/record", resident_id="r-js", scope="gate")
    from homeassistant.auth.models import TOKEN_TYPE_NORMAL

    other = await hass.auth.async_create_user("Other admin", group_ids=["system-admin"])
    refresh = await hass.auth.async_create_refresh_token(other, "https://example.com/", token_type=TOKEN_TYPE_NORMAL)
    client = await hass_ws_client(hass, hass.auth.async_create_access_token(refresh))
    await client.send_json_auto_id({"type": f"{DOMAIN}/faces/check", "filename": "a.jpg",
                                    "photo": _b64(_photo("John_Salley"))})
    upload_id = (await client.receive_json())["result"]["upload_id"]
    await _error(ws, "faces/enrol", "not_found", resident_id="r-js", upload_ids=[upload_id])


async def test_cards_pins_and_visitor_pass_qr(ws: Ws) -> None:
    """Cards show only a hint; a PIN is never shown back; a pass's QR code carries its token; revocation."""
    await _ok(ws, "residents/add", resident_id="r-001", full_name="Li Wei")
    card = await _ok(ws, "cards/add", resident_id="r-001", card_number="12345678")
    assert card["hint"].endswith("5678") and "1234" not in card["hint"]
    await _error(ws, "cards/add", "invalid_input", resident_id="r-001", card_number="12345678")
    await _error(ws, "pin/set", "invalid_input", resident_id="r-001", pin="12")
    await _ok(ws, "pin/set", resident_id="r-001", pin="739164")
    resident = await _ok(ws, "residents/get", resident_id="r-001")
    assert resident["has_pin"] is True and "739164" not in str(resident)
    assert [c["card_id"] for c in resident["cards"]] == [card["card_id"]]
    await _ok(ws, "cards/revoke", card_id=card["card_id"])
    assert (await _ok(ws, "residents/get", resident_id="r-001"))["cards"] == []

    until = (dt_util.now() + timedelta(days=1)).replace(tzinfo=None).isoformat(timespec="minutes")
    await _error(ws, "passes/issue", "invalid_input", visitor_name="Aunt", issued_by="r-001",
                 doors=["no-such-door"], valid_until=until)
    issued = await _ok(ws, "passes/issue", visitor_name="Aunt", issued_by="r-001", doors=[DOOR],
                       valid_until=until, max_uses=2)
    png = base64.b64decode(issued["qr_png_base64"])
    assert png.startswith(b"\x89PNG")
    token = read_pass_token(png)
    assert token is not None
    again = await _ok(ws, "passes/qr", pass_id=issued["pass_id"])
    assert read_pass_token(base64.b64decode(again["qr_png_base64"])) == token
    listed = await _ok(ws, "passes/list")
    assert [p["pass_id"] for p in listed["passes"]] == [issued["pass_id"]]
    assert listed["passes"][0]["active"] and listed["passes"][0]["doors"] == [DOOR]
    await _ok(ws, "passes/revoke", pass_id=issued["pass_id"])
    assert (await _ok(ws, "passes/list"))["passes"] == []
    assert (await _ok(ws, "passes/list", include_inactive=True))["passes"][0]["revoked"] is True


async def _decisions(hass: HomeAssistant, simulator: DoorControllerSim, ws: Ws) -> None:
    """Li Wei's card granted once, an unknown card denied twice, at the real simulated door."""
    await _ok(ws, "residents/add", resident_id="r-001", full_name="Li Wei")
    await _ok(ws, "cards/add", resident_id="r-001", card_number="12345678")
    await hass.services.async_call(DOMAIN, "add_access_rule", {
        "rule_id": "all", "name": "Everyone", "doors": ["lock.simdc0042_door_1"], "everyone": True}, blocking=True)
    simulator.swipe_card(0, 12345678)
    await wait_for_event(hass, ACCESS, "granted")
    for _ in range(2):
        simulator.swipe_card(0, 5555)
        await wait_for_event(hass, ACCESS, "denied")
        await asyncio.sleep(0.3)  # two separate reads, two decisions


async def _log(ws: Ws, expect: int = 0, **filters: Any) -> list[dict[str, Any]]:
    for _ in range(100):  # journalling runs in the executor after the event fires
        events: list[dict[str, Any]] = (await _ok(ws, "access_log/list", **filters))["events"]
        if len(events) >= expect:
            break
        await asyncio.sleep(0.05)
    return events


async def test_access_log_filters_paging_and_csv(hass: HomeAssistant, ws: Ws, simulator: DoorControllerSim,
                                                 hass_client: ClientSessionGenerator,
                                                 hass_client_no_auth: ClientSessionGenerator) -> None:
    """Decisions at the door appear newest first, filter by result and person, page by cursor, export as CSV."""
    await _decisions(hass, simulator, ws)
    events = await _log(ws, expect=3)
    assert [e["result"] for e in events] == ["denied", "denied", "granted"]
    assert events[2]["resident_id"] == "r-001" and events[2]["resident_name"] == "Li Wei"
    assert events[2]["credential"] == "card" and events[2]["door_name"] == "SIMDC0042 door 1"
    assert [e["seq"] for e in await _log(ws, result="granted")] == [events[2]["seq"]]
    assert [e["seq"] for e in await _log(ws, resident_id="r-001")] == [events[2]["seq"]]
    assert await _log(ws, door="another-door") == []
    first = await _ok(ws, "access_log/list", limit=2)
    assert [e["seq"] for e in first["events"]] == [events[0]["seq"], events[1]["seq"]]
    second = await _ok(ws, "access_log/list", limit=2, before=first["next_before"])
    assert [e["seq"] for e in second["events"]] == [events[2]["seq"]]
    future = (dt_util.utcnow() + timedelta(hours=1)).isoformat()
    assert (await _ok(ws, "access_log/list", since=future))["events"] == []
    await _error(ws, "access_log/list", "invalid_format", result="maybe")
    await _error(ws, "access_log/list", "invalid_format", limit=501)

    export = await _ok(ws, "access_log/export", result="denied")
    assert export["filename"].endswith(".csv")
    anonymous = await hass_client_no_auth()
    response = await anonymous.get(export["url"])
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [row["result"] for row in rows] == ["denied", "denied"]
    assert {row["seq"] for row in rows} == {str(events[0]["seq"]), str(events[1]["seq"])}
    # Without the signature the download is refused.
    unsigned = await anonymous.get(export["url"].split("?")[0] + "?result=denied")
    assert unsigned.status == 401

    # Erasure takes the resident out of the access log; the decisions stay, anonymous.
    receipt = await _ok(ws, "residents/erase", resident_id="r-001")
    assert receipt["journal_events_anonymised"] >= 1
    assert await _log(ws, resident_id="r-001") == []
    kept = await _log(ws, expect=3)
    assert len(kept) == 3 and all(e["resident_id"] is None for e in kept)


async def test_devices_uplink_and_audit(hass: HomeAssistant, ws: Ws, community_entry: MockConfigEntry) -> None:
    """The controller is online in the device list; the uplink is not configured; manager actions are in the
    audit log with who did them, and the hash chain checks out, also against the head the county holds."""
    devices = await _ok(ws, "devices/list")
    assert devices["target_percent"] == 98.0
    for _ in range(100):
        if any(d["device_id"] == "SIMDC0042" for d in devices["devices"]):
            break
        await asyncio.sleep(0.05)
        devices = await _ok(ws, "devices/list")
    controller = next(d for d in devices["devices"] if d["device_id"] == "SIMDC0042")
    assert controller["online"] is True and controller["kind"] == "door_controller"
    assert (await _ok(ws, "reports/list"))["reports"] == []

    uplink = await _ok(ws, "uplink/status")
    assert uplink["configured"] is False and uplink["backlog"] is None
    assert "resident_ref" in uplink["field_policy"]["fields"]
    assert "resident_id" not in uplink["field_policy"]["fields"]

    await _ok(ws, "residents/add", resident_id="r-001", full_name="Li Wei")
    await _ok(ws, "residents/erase", resident_id="r-001")
    for _ in range(100):
        audit = await _ok(ws, "audit/list")
        if len(audit["entries"]) >= 2:
            break
        await asyncio.sleep(0.05)
    actions = [e["action"] for e in audit["entries"]]
    assert actions.index("resident.erase") < actions.index("resident.add")  # newest first
    assert all("(" in e["actor"] for e in audit["entries"][:2])  # the administrator's name and id
    verified = await _ok(ws, "audit/verify")
    assert verified["ok"] is True and verified["checked"] >= 2 and verified["upstream_matched"] is None

    # The head the county holds (the audit_head of a health event) checks out; one the log lacks is reported.
    head = await hass.async_add_executor_job(_latest_head, community_entry)
    matched = await _ok(ws, "audit/verify", upstream_head=head)
    assert matched["ok"] is True and matched["upstream_matched"] is True
    seq = int(head.split(":")[0])
    missing = await _ok(ws, "audit/verify", upstream_head=f"{seq + 50}:{'ab' * 32}")
    assert missing["ok"] is False and missing["upstream_matched"] is False
    assert "truncated" in missing["message"]
    await _error(ws, "audit/verify", "invalid_format", upstream_head="12")


def _latest_head(entry: MockConfigEntry) -> str:
    """Journal a device-status event as the integration does (a writer job) and read the audit head it carries."""
    community = entry.runtime_data.community
    event = community.call(community.journal.append, EventKind.DEVICE_STATUS,
                           payload={"device": "SIMDC0042", "online": True})
    head = event.payload["audit_head"]
    return f"{head['seq']}:{head['hash']}"


async def test_erase_returns_a_receipt(ws: Ws) -> None:
    await _ok(ws, "residents/add", resident_id="r-001", full_name="Li Wei")
    await _ok(ws, "cards/add", resident_id="r-001", card_number="12345678")
    receipt = await _ok(ws, "residents/erase", resident_id="r-001")
    assert receipt["resident_id"] == "r-001" and len(receipt["receipt_hash"]) == 64
    assert receipt["erased"]["cards"] == 1
    await _error(ws, "residents/get", "not_found", resident_id="r-001")
    await _error(ws, "residents/erase", "not_found", resident_id="r-001")


async def test_bulk_import_is_all_or_nothing(ws: Ws, community_entry: MockConfigEntry) -> None:
    """A CSV with one bad row imports nothing and says why per row; fixed, it imports everyone with photos."""
    photo = await _ok(ws, "import/photo", filename="salley.jpg", photo=_b64(_photo("John_Salley")))
    two = await _ok(ws, "import/photo", filename="two.jpg", photo=_b64(SCENES / "two_people.jpg"))
    bad = ("resident_id,full_name,building,consent_scope,card_number,photos\n"
           "r-1,John Salley,3,gate,11112222,salley.jpg\n"
           "r-2,Two Faces,3,gate,,two.jpg\n")
    report = await _ok(ws, "import/commit", csv=bad, upload_ids=[photo["upload_id"], two["upload_id"]])
    assert report["imported"] is False
    rows = {row["resident_id"]: row for row in report["rows"]}
    assert rows["r-1"]["ok"] is True
    assert rows["r-2"]["ok"] is False and any("more than one" in e for e in rows["r-2"]["errors"])
    assert community_entry.runtime_data.community.summary()["residents"] == 0

    good = bad.replace(",two.jpg", ",")
    report = await _ok(ws, "import/commit", csv=good, upload_ids=[photo["upload_id"], two["upload_id"]])
    assert report["imported"] is True, report
    imported = await _ok(ws, "residents/get", resident_id="r-1")
    assert imported["faces"] == 1 and imported["consent"] is not None and imported["cards"]
    assert (await _ok(ws, "residents/get", resident_id="r-2"))["faces"] == 0


async def test_panel_in_the_sidebar_for_admins(hass: HomeAssistant, community_entry: MockConfigEntry,
                                               hass_client: ClientSessionGenerator) -> None:
    """With the frontend loaded, the panel is registered (admin only), its module is served, and it goes away
    when the community unloads."""
    assert await async_setup_component(hass, "frontend", {})
    assert await hass.config_entries.async_reload(community_entry.entry_id)
    await hass.async_block_till_done()
    panels = hass.data["frontend_panels"]
    panel = panels["smart-community"]
    assert panel.require_admin is True and panel.sidebar_title == "Community"
    module_url = panel.config["_panel_custom"]["module_url"]
    client = await hass_client()
    response = await client.get(module_url)
    assert response.status == 200
    assert "customElements.define" in await response.text()
    assert await hass.config_entries.async_unload(community_entry.entry_id)
    assert "smart-community" not in hass.data["frontend_panels"]
