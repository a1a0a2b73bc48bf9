"""Visitor passes a visitor can use, through Home Assistant: a pass for tomorrow is listed from the moment it is
issued as not started yet; it downloads as a card image with its QR code; its link shows the pass without a login and
nothing else, and nothing at all once the pass is revoked or has expired. Security checks of the link: an altered,
guessed or foreign link, other paths, the headers. Real ``hass``, real HTTP server and client on loopback; the real
simulated controller provides the doors."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta
from typing import Any

from freezegun import freeze_time
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from custom_components.smart_community.const import DOMAIN
from custom_components.smart_community.pass_link import NO_LONGER, NOT_VALID
from hub.residents.qr import read_pass_token

from .conftest import SERIAL

RESIDENT_NAME = "Zhao Lei"
RESIDENT_ID = "r-zhao"


async def _setup(hass: HomeAssistant, hass_ws_client: WebSocketGenerator) -> Any:
    ws = await hass_ws_client(hass)

    async def command(name: str, **fields: Any) -> dict[str, Any]:
        await ws.send_json_auto_id({"type": f"{DOMAIN}/{name}", **fields})
        reply = await ws.receive_json()
        assert reply["success"], reply
        return dict(reply["result"])

    await command("residents/add", resident_id=RESIDENT_ID, full_name=RESIDENT_NAME, building="3", unit="301")
    return command


async def test_a_pass_for_tomorrow_is_listed_downloaded_as_a_card_and_shown_by_its_link(
    hass: HomeAssistant, community_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    command = await _setup(hass, hass_ws_client)
    start = dt_util.utcnow().replace(microsecond=0) + timedelta(days=1)
    issued = await command("passes/issue", visitor_name="Aunt Mei", issued_by=RESIDENT_ID,
                           doors=[f"{SERIAL}-door0", f"{SERIAL}-door1"], valid_from=start.isoformat(),
                           valid_until=(start + timedelta(hours=4)).isoformat())
    assert issued["valid_from"] == start.isoformat()  # the summary has the start, not only the end

    # Listed at once, as a pass that has not started yet (not hidden as inactive).
    listed = (await command("passes/list"))["passes"]
    assert [(p["pass_id"], p["active"], p["upcoming"]) for p in listed] == [(issued["pass_id"], False, True)]

    # The card: a PNG whose QR code is the pass's own token.
    card = await command("passes/card", pass_id=issued["pass_id"])
    png = base64.b64decode(card["png_base64"])
    assert png.startswith(b"\x89PNG") and read_pass_token(png) == issued["token"]

    # The link: the same path the issue answered with; not the QR code's token.
    link = await command("passes/link", pass_id=issued["pass_id"])
    assert link["path"] == issued["link_path"] and issued["token"] not in link["path"]
    assert link["expires_at"] == (start + timedelta(hours=4)).isoformat()
    anonymous = await hass_client_no_auth()
    response = await anonymous.get(link["path"])
    page = await response.text()
    assert response.status == 200, page
    assert "Aunt Mei" in page and "Test Garden" in page and "Starts" in page
    assert f"{SERIAL} door 1" in page and f"{SERIAL} door 2" in page
    # Nothing else: not who issued it, not their unit, not the pass's uses.
    for secret in (RESIDENT_NAME, RESIDENT_ID, "301", "max_uses", issued["token"]):
        assert secret not in page
    _check_headers(response.headers, issued)
    qr = page.split('src="data:image/png;base64,', 1)[1].split('"', 1)[0]
    assert read_pass_token(base64.b64decode(qr)) == issued["token"]
    card_response = await anonymous.get(link["path"] + "/card.png")
    assert card_response.status == 200 and card_response.content_type == "image/png"
    assert read_pass_token(await card_response.read()) == issued["token"]
    _check_headers(card_response.headers, issued)


async def test_the_link_shows_nothing_once_the_pass_is_revoked_or_expired_and_a_bad_link_gets_the_same_page(
    hass: HomeAssistant, community_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    command = await _setup(hass, hass_ws_client)
    manager = await hass_ws_client(hass)  # connected now: an access token made later would be expired
    now = dt_util.utcnow().replace(microsecond=0)
    passes = []
    for visitor in ("Plumber", "Courier"):
        issued = await command("passes/issue", visitor_name=visitor, issued_by=RESIDENT_ID,
                               doors=[f"{SERIAL}-door0"], valid_until=(now + timedelta(hours=1)).isoformat())
        passes.append((issued, (await command("passes/link", pass_id=issued["pass_id"]))["path"]))
    anonymous = await hass_client_no_auth()
    (revoked, revoked_path), (expiring, expiring_path) = passes
    assert (await anonymous.get(revoked_path)).status == 200

    await command("passes/revoke", pass_id=revoked["pass_id"])
    gone = await anonymous.get(revoked_path)
    gone_page = await gone.text()
    assert gone.status == 404 and NO_LONGER in gone_page and "Plumber" not in gone_page

    base = expiring_path.rsplit("/", 1)[0]
    pass_id, mac = expiring_path.rsplit("/", 1)[1].rsplit(".", 1)
    altered = f"{pass_id}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}"
    bad_links = [
        f"{base}/{altered}",  # one character of the MAC changed
        f"{base}/{pass_id}",  # the pass id alone
        f"{base}/{secrets.token_urlsafe(48)}",  # a guess
        f"{base}/{pass_id}.{secrets.token_urlsafe(32)}",  # the right id, a guessed MAC
        f"{base}/{altered}/card.png",
        f"{base}/{'x' * 5000}",
    ]
    unknown = [(await anonymous.get(path)) for path in bad_links]
    for response in unknown:
        text = await response.text()
        assert response.status == 404 and NOT_VALID in text and "Courier" not in text
    # Expired: the same page (status, headers, layout) apart from the words. The clock is moved for the
    # wall-clock time only (real_asyncio): with the event loop's clock frozen too, as the freezer fixture does, a
    # Modbus reconnect's asyncio.sleep never ended and the config entry's unload waited on it for ever.
    with freeze_time(now + timedelta(hours=1, minutes=1), real_asyncio=True):
        expired = await anonymous.get(expiring_path)
        expired_page = await expired.text()
        assert expired.status == 404 and "Courier" not in expired_page
        assert expired_page.replace(NO_LONGER, "") == (await unknown[0].text()).replace(NOT_VALID, "")
        assert _header_names(expired.headers) == _header_names(unknown[0].headers)
        assert (await anonymous.get(expiring_path + "/card.png")).status == 404
        # The manager cannot make a link for a pass that can no longer be used.
        await manager.send_json_auto_id({"type": f"{DOMAIN}/passes/link", "pass_id": expiring["pass_id"]})
        reply = await manager.receive_json()
        assert not reply["success"] and reply["error"]["code"] == "invalid_input"

    # Other paths stay behind the login; the link opens nothing else.
    for path in ("/api/smart_community/access_log.csv", "/api/states", f"{base}/../states"):
        assert (await anonymous.get(path)).status in (401, 404)
    assert (await anonymous.get(f"{base}/")).status in (404, 405)
    assert (await anonymous.post(expiring_path)).status == 405


def _header_names(headers: Any) -> set[str]:
    return {name.lower() for name in headers if name.lower() not in ("date", "content-length")}


def _check_headers(headers: Any, issued: dict[str, Any]) -> None:
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "Set-Cookie" not in headers
    text = str(dict(headers))
    for leak in ("Aunt Mei", RESIDENT_NAME, RESIDENT_ID, issued["pass_id"], issued["token"]):
        assert leak not in text
