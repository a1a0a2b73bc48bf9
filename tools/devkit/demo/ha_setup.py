"""Drive a freshly started Home Assistant through its own HTTP and websocket APIs, as its frontend does:
onboarding, a long-lived token, and adding config entries through the real config flow."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import aiohttp

_LOGGER = logging.getLogger(__name__)


class HomeAssistantSetupError(RuntimeError):
    """Home Assistant did not come up or refused a set-up step."""


async def wait_until_up(session: aiohttp.ClientSession, base: str, timeout: float, alive: Any) -> None:
    """Wait for Home Assistant's HTTP server to answer (any status), or for ``alive()`` to turn false."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if not alive():
            raise HomeAssistantSetupError("Home Assistant exited during start-up: see .demo/home-assistant.log")
        try:
            async with session.get(f"{base}/api/onboarding", timeout=aiohttp.ClientTimeout(total=2)) as resp:
                if resp.status < 500:
                    return
        except (aiohttp.ClientError, TimeoutError):
            pass
        await asyncio.sleep(0.5)
    raise HomeAssistantSetupError(f"Home Assistant did not answer at {base} within {timeout:.0f} s")


def onboarding_done(config_dir: Path) -> bool:
    """Whether the owner account exists: Home Assistant records finished onboarding steps in its storage.

    Asking the HTTP API is racy at start-up: the onboarding views answer 404 both before they are registered
    and after onboarding has finished.
    """
    try:
        stored = json.loads((config_dir / ".storage" / "onboarding").read_text())
    except (OSError, ValueError):
        return False
    return "user" in stored.get("data", {}).get("done", [])


async def wait_for_onboarding_view(session: aiohttp.ClientSession, base: str, timeout: float) -> None:
    """Wait until the onboarding API is registered (it comes up a little after the HTTP server)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        async with session.get(f"{base}/api/onboarding") as resp:
            if resp.status == 200:
                return
        await asyncio.sleep(0.5)
    raise HomeAssistantSetupError("Home Assistant's onboarding API did not come up")


async def _token_from_code(session: aiohttp.ClientSession, base: str, code: str) -> str:
    async with session.post(
        f"{base}/auth/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": f"{base}/"},
    ) as resp:
        if resp.status != 200:
            raise HomeAssistantSetupError(f"token exchange failed: {resp.status} {await resp.text()}")
        return str((await resp.json())["access_token"])


async def onboard(session: aiohttp.ClientSession, base: str, *, name: str, username: str, password: str) -> str:
    """Create the owner account and finish onboarding; returns a short-lived access token."""
    async with session.post(
        f"{base}/api/onboarding/users",
        json={"client_id": f"{base}/", "name": name, "username": username, "password": password,
              "language": "en"},
    ) as resp:
        if resp.status != 200:
            raise HomeAssistantSetupError(f"creating the owner failed: {resp.status} {await resp.text()}")
        code = (await resp.json())["auth_code"]
    token = await _token_from_code(session, base, code)
    headers = {"Authorization": f"Bearer {token}"}
    for path, body in (
        ("core_config", {}),
        ("analytics", {}),
        ("integration", {"client_id": f"{base}/", "redirect_uri": f"{base}/?auth_callback=1"}),
    ):
        async with session.post(f"{base}/api/onboarding/{path}", json=body, headers=headers) as resp:
            if resp.status not in (200, 403):  # 403: that step was already done
                raise HomeAssistantSetupError(f"onboarding step {path} failed: {resp.status}")
    return token


async def login(session: aiohttp.ClientSession, base: str, username: str, password: str) -> str:
    """Log in with the owner's password through the login flow; returns an access token."""
    async with session.post(
        f"{base}/auth/login_flow",
        json={"client_id": f"{base}/", "handler": ["homeassistant", None], "redirect_uri": f"{base}/"},
    ) as resp:
        flow = await resp.json()
    async with session.post(
        f"{base}/auth/login_flow/{flow['flow_id']}",
        json={"client_id": f"{base}/", "username": username, "password": password},
    ) as resp:
        result = await resp.json()
    if result.get("type") != "create_entry":
        raise HomeAssistantSetupError(f"login as {username} failed: {result.get('errors')}")
    return await _token_from_code(session, base, str(result["result"]))


async def long_lived_token(session: aiohttp.ClientSession, base: str, token: str, client_name: str) -> str:
    """Ask for a long-lived access token over the websocket API."""
    async with session.ws_connect(f"{base.replace('http', 'ws', 1)}/api/websocket") as ws:
        await ws.receive_json()  # auth_required
        await ws.send_json({"type": "auth", "access_token": token})
        if (await ws.receive_json()).get("type") != "auth_ok":
            raise HomeAssistantSetupError("websocket authentication failed")
        await ws.send_json(
            {"id": 1, "type": "auth/long_lived_access_token", "client_name": client_name, "lifespan": 3650}
        )
        reply = await ws.receive_json()
    if not reply.get("success"):
        raise HomeAssistantSetupError(f"long-lived token refused: {reply.get('error')}")
    return str(reply["result"])


async def _websocket(
    session: aiohttp.ClientSession, base: str, token: str, messages: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Send commands over one authenticated websocket connection; returns their results in order."""
    replies: list[dict[str, Any]] = []
    async with session.ws_connect(f"{base.replace('http', 'ws', 1)}/api/websocket") as ws:
        await ws.receive_json()  # auth_required
        await ws.send_json({"type": "auth", "access_token": token})
        if (await ws.receive_json()).get("type") != "auth_ok":
            raise HomeAssistantSetupError("websocket authentication failed")
        for number, message in enumerate(messages, start=1):
            await ws.send_json({"id": number, **message})
            while True:
                reply: dict[str, Any] = await ws.receive_json()
                if reply.get("id") == number and reply.get("type") == "result":
                    replies.append(reply)
                    break
    return replies


async def name_places(session: aiohttp.ClientSession, base: str, token: str, domain: str,
                      names: dict[str, str]) -> int:
    """Name devices as a manager does on a device's page (the name Home Assistant shows, ``name_by_user``), by
    their ``(domain, identifier)``; a device a manager has already renamed keeps its name. Returns how many."""
    (listed,) = await _websocket(session, base, token, [{"type": "config/device_registry/list"}])
    updates = []
    for device in listed.get("result") or []:
        identifiers = {identifier for dom, identifier in device.get("identifiers", []) if dom == domain}
        wanted = next((names[i] for i in identifiers if i in names), None)
        if wanted is not None and not device.get("name_by_user"):
            updates.append({"type": "config/device_registry/update", "device_id": device["id"], "name_by_user": wanted})
    for reply in await _websocket(session, base, token, updates) if updates else []:
        if not reply.get("success"):
            raise HomeAssistantSetupError(f"naming a device was refused: {reply.get('error')}")
    return len(updates)


async def confirm_http_config(session: aiohttp.ClientSession, base: str, token: str) -> None:
    """Keep the HTTP settings Home Assistant started with, as a user confirms them in its dialog.

    From 2026.x Home Assistant moves the ``http:`` YAML into storage as a *pending* configuration, shows every
    admin a dialog asking to keep it, and reverts to its default (port 8123 on every address) five minutes later
    unless it is kept. Releases without HTTP settings in storage answer ``unknown_command``: nothing to do.
    """
    (current,) = await _websocket(session, base, token, [{"type": "http/config"}])
    if not current.get("success") or not current["result"].get("pending"):
        return
    promoted, _ = await _websocket(session, base, token, [
        {"type": "http/config/promote"},
        # The YAML is the demo's own, written on every start: its deprecation repair is not for the user to act on.
        {"type": "repairs/ignore_issue", "domain": "http", "issue_id": "deprecated_yaml", "ignore": True},
    ])
    if not promoted.get("success"):
        raise HomeAssistantSetupError(f"keeping the HTTP settings failed: {promoted.get('error')}")


async def config_entries(session: aiohttp.ClientSession, base: str, token: str, domain: str) -> list[dict[str, Any]]:
    """The config entries of one integration."""
    async with session.get(
        f"{base}/api/config/config_entries/entry", params={"domain": domain},
        headers={"Authorization": f"Bearer {token}"},
    ) as resp:
        entries: list[dict[str, Any]] = await resp.json()
    return entries


async def add_through_config_flow(
    session: aiohttp.ClientSession, base: str, token: str, domain: str, menu_choice: str, user_input: dict[str, Any]
) -> dict[str, Any]:
    """Start the integration's config flow, pick from its menu and answer the form, as a user in the UI would."""
    headers = {"Authorization": f"Bearer {token}"}
    async with session.post(
        f"{base}/api/config/config_entries/flow", json={"handler": domain, "show_advanced_options": False},
        headers=headers,
    ) as resp:
        if resp.status != 200:
            raise HomeAssistantSetupError(f"starting the {domain} config flow failed: {resp.status}")
        flow = await resp.json()
    for answer in ({"next_step_id": menu_choice}, user_input):
        async with session.post(
            f"{base}/api/config/config_entries/flow/{flow['flow_id']}", json=answer, headers=headers
        ) as resp:
            result: dict[str, Any] = await resp.json()
    if result.get("type") != "create_entry":
        raise HomeAssistantSetupError(f"the {domain} config flow did not create an entry: {result}")
    return result


async def remove_entries(session: aiohttp.ClientSession, base: str, token: str, domains: set[str]) -> None:
    """Delete the config entries onboarding adds by default (weather, radio, TTS): the demo does not use them,
    and their libraries are not installed."""
    headers = {"Authorization": f"Bearer {token}"}
    async with session.get(f"{base}/api/config/config_entries/entry", headers=headers) as resp:
        entries: list[dict[str, Any]] = await resp.json()
    for entry in entries:
        if entry.get("domain") in domains:
            async with session.delete(
                f"{base}/api/config/config_entries/entry/{entry['entry_id']}", headers=headers
            ) as resp:
                _LOGGER.debug("removed %s entry: %s", entry["domain"], resp.status)


async def enable_entity(session: aiohttp.ClientSession, base: str, token: str, entity_id: str) -> None:
    """Enable an entity that is disabled by default (through the entity registry's websocket API)."""
    async with session.ws_connect(f"{base.replace('http', 'ws', 1)}/api/websocket") as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": token})
        await ws.receive_json()
        await ws.send_json({"id": 1, "type": "config/entity_registry/update", "entity_id": entity_id,
                            "disabled_by": None})
        reply = await ws.receive_json()
    if not reply.get("success"):
        _LOGGER.warning("could not enable %s: %s", entity_id, reply.get("error"))


async def _community_options_flow(
    session: aiohttp.ClientSession, base: str, token: str, community_title: str, step: str, answer: dict[str, Any]
) -> None:
    await community_options_answers(session, base, token, community_title, [{"next_step_id": step}, answer])


def community_hub_id(entry_id: str) -> str:
    """The hub id the community entry ``entry_id`` sends upstream (``X-Hub-Id``): the integration makes it from the
    entry id when the entry is first set up (custom_components/smart_community/__init__.py)."""
    return f"hub-{entry_id[-10:]}"


async def set_uplink(
    session: aiohttp.ClientSession, base: str, token: str, community_title: str, url: str, secret: str
) -> None:
    """Point the community's uplink at the county receiver (JSON profile), as a manager would in the UI."""
    await _community_options_flow(session, base, token, community_title, "uplink",
                                  {"uplink_url": url, "uplink_profile": "json", "uplink_secret": secret})


async def set_uplink_mqtt(
    session: aiohttp.ClientSession, base: str, token: str, community_title: str, *, url: str, secret: str,
    topic_prefix: str, ca_file: Path, client_cert: Path, client_key: Path,
) -> None:
    """Point the community's uplink at a county broker (MQTT profile), as a manager would in the UI: the broker's
    mqtts:// URL, the hub's secret, its topic prefix, and the paths of the CA, the hub's certificate and its key
    (which must be in a folder Home Assistant may read, allowlist_external_dirs)."""
    await _community_options_flow(session, base, token, community_title, "uplink", {
        "uplink_url": url, "uplink_profile": "mqtt", "uplink_secret": secret, "mqtt_topic_prefix": topic_prefix,
        "ca_file": str(ca_file), "client_cert": str(client_cert), "client_key": str(client_key),
    })


async def add_gate(
    session: aiohttp.ClientSession, base: str, token: str, community_title: str, lock: str, camera: str,
    presence: str, *, face_assurance: str = "face_and_second_factor",
) -> None:
    """Make a door a gate through the community entry's options flow, as a manager would in the UI, with its face
    assurance level (a new gate's default: a face plus a card or PIN of the same resident)."""
    await _community_options_flow(session, base, token, community_title, "add_gate",
                                  {"lock": lock, "camera": camera, "presence": presence, "frames": 3,
                                   "face_assurance": face_assurance, "window_level": "none"})


async def reload_entry(session: aiohttp.ClientSession, base: str, token: str, domain: str, title: str) -> None:
    """Reload a config entry (known by its title), e.g. so an entity just enabled appears at once."""
    for entry in await config_entries(session, base, token, domain):
        if entry.get("title") == title:
            async with session.post(f"{base}/api/config/config_entries/entry/{entry['entry_id']}/reload",
                                    headers={"Authorization": f"Bearer {token}"}) as resp:
                if resp.status != 200:
                    raise HomeAssistantSetupError(f"reloading {title} failed: {resp.status}")


async def community_options_answers(
    session: aiohttp.ClientSession, base: str, token: str, community_title: str, answers: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Walk the community entry's options flow with ``answers`` (the menu choice first), as a manager would in the
    UI; returns every step's result (e.g. the push URL a camera's step shows) and waits until the entry is back
    from the reload new options cause."""
    headers = {"Authorization": f"Bearer {token}"}
    entries = await config_entries(session, base, token, "smart_community")
    community = next((e for e in entries if e.get("supports_options") and e.get("title") == community_title), None)
    if community is None:
        raise HomeAssistantSetupError(f"no community entry titled {community_title!r}")
    async with session.post(f"{base}/api/config/config_entries/options/flow",
                            json={"handler": community["entry_id"]}, headers=headers) as resp:
        flow = await resp.json()
    results: list[dict[str, Any]] = []
    for answer in answers:
        async with session.post(f"{base}/api/config/config_entries/options/flow/{flow['flow_id']}",
                                json=answer, headers=headers) as resp:
            results.append(await resp.json())
        if results[-1].get("errors"):
            raise HomeAssistantSetupError(f"the community's options refused {answer}: {results[-1]['errors']}")
    if results[-1].get("step_id") == "uplink_unencrypted":
        # The demo's receiver is plain http:// on loopback: confirm the warning, as a manager would.
        async with session.post(f"{base}/api/config/config_entries/options/flow/{flow['flow_id']}",
                                json={}, headers=headers) as resp:
            results.append(await resp.json())
    if results[-1].get("type") != "create_entry":
        raise HomeAssistantSetupError(f"the community's options did not save: {results[-1]}")
    for _ in range(120):
        await asyncio.sleep(0.25)
        entries = await config_entries(session, base, token, "smart_community")
        if any(e["entry_id"] == community["entry_id"] and e.get("state") == "loaded" for e in entries):
            return results
    raise HomeAssistantSetupError("the community hub did not come back after changing its options")
