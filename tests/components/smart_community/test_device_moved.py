"""A known device announcing itself at a new address moves nothing by itself: it raises a repair issue, nothing
is sent to the new address, and only an administrator's confirmation through the repairs flow moves the entry.

Everything is real: Home Assistant's config flow, issue registry and repairs REST/websocket API; the controller
and camera simulators; and, standing in for "the new address", real servers on loopback that record every
connection or request they get. The announcements are built the way Home Assistant's zeroconf browser hands them
to the flow (``info_from_service`` on the service info a device registers), without multicast:
``test_camera_discovery.py`` covers announcing and resolving over real loopback mDNS.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from pathlib import Path

import pytest
from aiohttp import web
from homeassistant.components.camera import async_get_image
from homeassistant.components.zeroconf import info_from_service
from homeassistant.config_entries import SOURCE_ZEROCONF, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from homeassistant.helpers.translation import async_get_translations
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from custom_components.smart_community.const import DOMAIN
from devices.discovery import DeviceAdvertisement, DeviceProfile, build_service_info
from devkit.sim.camera import CameraSim
from devkit.sim.door_controller import DoorControllerSim

from .conftest import FACES, SERIAL, wait_for_state

LOCK = "lock.simdc0042_door_1"
CAMERA_SERIAL = "CAM42"
CAMERA_PASSWORD = "basic-secret-pw"
PACKAGE = Path(__file__).resolve().parents[3] / "custom_components" / DOMAIN


def _read_json(name: str) -> dict:
    return dict(json.loads((PACKAGE / name).read_text()))


class LoopbackTap:
    """A real TCP server on 127.0.0.1 standing in for a new address: it counts every connection made to it and
    forwards each to the device behind it (the moved simulator)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> LoopbackTap:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)  # type: ignore[arg-type]
        self.connections += 1
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers.add(up_writer)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()
        for task in self._handlers:
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()


class RecordingServer:
    """A real HTTP server on 127.0.0.1, a stranger's device at the "new address": it records every request (and
    its Authorization header) and answers each with a Basic challenge, as a fake camera fishing for it would."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str | None]] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> RecordingServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        return self

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.method, request.path, request.headers.get("Authorization")))
        return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="cam"'})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def _announcement(advert: DeviceAdvertisement) -> ZeroconfServiceInfo:
    info = info_from_service(build_service_info(advert))
    assert info is not None
    return info


def _controller_at(port: int) -> ZeroconfServiceInfo:
    return _announcement(DeviceAdvertisement(serial=SERIAL, model="SIM-DC", profile=DeviceProfile.HUB_NATIVE,
                                             port=port, addresses=["127.0.0.1"]))


def _camera_at(port: int) -> ZeroconfServiceInfo:
    return _announcement(DeviceAdvertisement(serial=CAMERA_SERIAL, model="SIM-CAM", profile=DeviceProfile.CAMERA,
                                             port=port, addresses=["127.0.0.1"], snapshot_path="/snapshot.jpg",
                                             mjpeg_path="/mjpeg"))


async def _announce(hass: HomeAssistant, info: ZeroconfServiceInfo) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_ZEROCONF}, data=info)
    await hass.async_block_till_done()  # anything the announcement caused (an entry reload) has happened
    assert result["type"] is FlowResultType.ABORT
    return str(result["reason"])


def _issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"device_moved_{entry.entry_id}")


async def _open_fix_flow(hass: HomeAssistant, client: object, entry: MockConfigEntry) -> dict:
    resp = await client.post(  # type: ignore[attr-defined]
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": f"device_moved_{entry.entry_id}"}
    )
    assert resp.status == 200
    flow = await resp.json()
    assert flow["type"] == "form"
    assert flow["step_id"] == "confirm"
    return dict(flow)


async def _confirm(hass: HomeAssistant, client: object, flow: dict) -> dict:
    resp = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})  # type: ignore[attr-defined]
    assert resp.status == 200
    result = dict(await resp.json())
    await hass.async_block_till_done()
    return result


@pytest.fixture
async def repairs(hass: HomeAssistant) -> None:
    """Home Assistant's repairs integration, as the frontend uses it."""
    assert await async_setup_component(hass, "repairs", {})


async def test_controller_move_waits_for_confirmation(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: DoorControllerSim, repairs: None,
    hass_client: ClientSessionGenerator,
) -> None:
    """The controller really moved: the announcement changes nothing and nothing connects to the new address
    until an administrator confirms in Repairs; then the entry is there and its doors work through it."""
    entry = init_integration
    old_port = entry.data["port"]
    await wait_for_state(hass, LOCK, "locked")
    await simulator.stop()
    simulator.port = 0
    await simulator.start()
    tap = await LoopbackTap(simulator.port).start()
    try:
        reason = await _announce(hass, _controller_at(tap.port))
        assert tap.connections == 0
        assert entry.data["port"] == old_port
        assert reason == "address_change_pending"
        issue = _issue(hass, entry)
        assert issue is not None and issue.is_fixable
        assert issue.translation_key == "device_moved"
        assert issue.translation_placeholders == {
            "title": f"SIM-DC {SERIAL}", "old": f"127.0.0.1:{old_port}", "new": f"127.0.0.1:{tap.port}"
        }

        client = await hass_client()
        flow = await _open_fix_flow(hass, client, entry)
        assert flow["description_placeholders"]["new"] == f"127.0.0.1:{tap.port}"
        assert tap.connections == 0  # showing the question sends nothing there either
        result = await _confirm(hass, client, flow)
        assert result["type"] == "create_entry"

        assert entry.data["port"] == tap.port
        assert entry.state is ConfigEntryState.LOADED
        await wait_for_state(hass, LOCK, "locked")
        assert tap.connections >= 1
        assert _issue(hass, entry) is None
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await tap.stop()


async def test_camera_password_never_goes_to_an_announced_stranger(
    hass: HomeAssistant, socket_enabled: None, repairs: None, hass_ws_client: WebSocketGenerator
) -> None:
    """A stranger announces the camera's serial at its own address: the camera entry keeps its URLs, the stranger
    gets no request (no Basic-auth password in the clear), the issue names the camera without any secret, and the
    administrator can ignore it."""
    camera = CameraSim(FACES, username="admin", password=CAMERA_PASSWORD, auth="basic")
    await camera.start()
    stranger = await RecordingServer().start()
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=CAMERA_SERIAL, title="North gate",
        data={"kind": "camera", "model": "SIM-CAM", "snapshot_url": camera.snapshot_url,
              "mjpeg_url": camera.mjpeg_url, "username": "admin", "password": CAMERA_PASSWORD, "auth": "basic"},
    )
    try:
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        before = dict(entry.data)

        reason = await _announce(hass, _camera_at(stranger.port))
        assert stranger.requests == []
        assert dict(entry.data) == before
        assert reason == "address_change_pending"
        image = await async_get_image(hass, "camera.north_gate")  # still the real camera
        assert image.content.startswith(b"\xff\xd8")
        assert stranger.requests == []

        issue = _issue(hass, entry)
        assert issue is not None
        assert issue.translation_placeholders == {
            "title": "North gate", "old": f"127.0.0.1:{camera.port}", "new": f"127.0.0.1:{stranger.port}"
        }
        assert CAMERA_PASSWORD not in repr(issue) and "admin" not in repr(issue)

        ws = await hass_ws_client(hass)
        await ws.send_json({"id": 1, "type": "repairs/ignore_issue", "domain": DOMAIN,
                            "issue_id": issue.issue_id, "ignore": True})
        assert (await ws.receive_json())["success"]
        assert await _announce(hass, _camera_at(stranger.port)) == "address_change_pending"
        ignored = _issue(hass, entry)
        assert ignored is not None and ignored.dismissed_version is not None
        assert dict(entry.data) == before
        assert stranger.requests == []
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await stranger.stop()
        await camera.stop()


async def test_same_address_changes_nothing_and_coming_back_clears_the_issue(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: DoorControllerSim
) -> None:
    """At its configured address an announcement is just "already configured" (no issue, no reload); after a move
    was announced, the device announcing itself at its old address again withdraws the question."""
    entry = init_integration
    runtime = entry.runtime_data
    before = dict(entry.data)
    assert await _announce(hass, _controller_at(simulator.port)) == "already_configured"
    assert dict(entry.data) == before
    assert _issue(hass, entry) is None
    assert entry.runtime_data is runtime  # not reloaded

    elsewhere = await LoopbackTap(simulator.port).start()
    try:
        assert await _announce(hass, _controller_at(elsewhere.port)) == "address_change_pending"
        assert _issue(hass, entry) is not None
        assert await _announce(hass, _controller_at(simulator.port)) == "already_configured"
        assert _issue(hass, entry) is None
        assert dict(entry.data) == before
        assert entry.runtime_data is runtime
        assert elsewhere.connections == 0
    finally:
        await elsewhere.stop()


async def test_confirm_applies_the_address_shown(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: DoorControllerSim, repairs: None,
    hass_client: ClientSessionGenerator,
) -> None:
    """A newer announcement updates the pending issue; a confirmation moves the entry to the address its form
    showed, not to one announced after it was shown, and the newer one is then asked about afresh."""
    entry = init_integration
    first = await LoopbackTap(simulator.port).start()
    second = await LoopbackTap(simulator.port).start()
    try:
        assert await _announce(hass, _controller_at(first.port)) == "address_change_pending"
        client = await hass_client()
        shown = await _open_fix_flow(hass, client, entry)
        assert shown["description_placeholders"]["new"] == f"127.0.0.1:{first.port}"

        assert await _announce(hass, _controller_at(second.port)) == "address_change_pending"
        issue = _issue(hass, entry)
        assert issue is not None and issue.translation_placeholders["new"] == f"127.0.0.1:{second.port}"

        result = await _confirm(hass, client, shown)
        assert result["type"] == "abort" and result["reason"] == "moved_again"
        assert entry.data["port"] == first.port
        assert second.connections == 0
        issue = _issue(hass, entry)
        assert issue is not None
        assert issue.translation_placeholders["old"] == f"127.0.0.1:{first.port}"
        assert issue.translation_placeholders["new"] == f"127.0.0.1:{second.port}"

        result = await _confirm(hass, client, await _open_fix_flow(hass, client, entry))
        assert result["type"] == "create_entry"
        assert entry.data["port"] == second.port
        await wait_for_state(hass, LOCK, "locked")
        assert second.connections >= 1
        assert _issue(hass, entry) is None
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await first.stop()
        await second.stop()


async def test_a_withdrawn_move_is_not_applied(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: DoorControllerSim, repairs: None,
    hass_client: ClientSessionGenerator,
) -> None:
    """The device announces its configured address again while the question is open: confirming changes nothing."""
    entry = init_integration
    before = dict(entry.data)
    elsewhere = await LoopbackTap(simulator.port).start()
    try:
        assert await _announce(hass, _controller_at(elsewhere.port)) == "address_change_pending"
        client = await hass_client()
        shown = await _open_fix_flow(hass, client, entry)
        assert await _announce(hass, _controller_at(simulator.port)) == "already_configured"
        result = await _confirm(hass, client, shown)
        assert result["type"] == "abort" and result["reason"] == "withdrawn"
        assert dict(entry.data) == before
        assert elsewhere.connections == 0
        assert _issue(hass, entry) is None
    finally:
        await elsewhere.stop()


async def test_removing_the_entry_removes_its_pending_move(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: DoorControllerSim
) -> None:
    """A removed device leaves no move to confirm behind."""
    entry = init_integration
    assert await _announce(hass, _controller_at(simulator.port + 1)) == "address_change_pending"
    assert _issue(hass, entry) is not None
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert _issue(hass, entry) is None


async def test_an_announcement_of_another_kind_moves_nothing(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: DoorControllerSim
) -> None:
    """A "camera" announcing a controller's serial is not offered as a move of the controller."""
    entry = init_integration
    before = dict(entry.data)
    camera = _announcement(DeviceAdvertisement(serial=SERIAL, model="X", profile=DeviceProfile.CAMERA, port=8080,
                                               addresses=["127.0.0.1"], snapshot_path="/snapshot.jpg"))
    assert await _announce(hass, camera) == "already_configured"
    assert dict(entry.data) == before
    assert _issue(hass, entry) is None


async def test_every_message_of_a_move_is_translated(hass: HomeAssistant) -> None:
    """What the administrator reads (the issue, its fix flow, the discovery's abort) exists, with only the
    placeholders the code fills in, and strings.json and en.json say the same."""
    issues = await async_get_translations(hass, "en", "issues", {DOMAIN})
    prefix = f"component.{DOMAIN}.issues.device_moved"
    texts = {key: issues[f"{prefix}.{key}"] for key in (
        "title", "fix_flow.step.confirm.title", "fix_flow.step.confirm.description",
        "fix_flow.abort.entry_removed", "fix_flow.abort.moved_again", "fix_flow.abort.withdrawn",
    )}
    for key, text in texts.items():
        assert set(re.findall(r"{(\w+)}", text)) <= {"title", "old", "new"}, key
    assert "{new}" in texts["fix_flow.step.confirm.description"]
    assert "{old}" in texts["fix_flow.step.confirm.description"]
    config = await async_get_translations(hass, "en", "config", {DOMAIN})
    assert config[f"component.{DOMAIN}.config.abort.address_change_pending"]
    strings = _read_json("strings.json")
    assert strings == _read_json("translations/en.json")
    assert strings["issues"]["device_moved"]["fix_flow"]["step"]["confirm"]["description"] == (
        texts["fix_flow.step.confirm.description"]
    )
