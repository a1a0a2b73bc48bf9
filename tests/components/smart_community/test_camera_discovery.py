"""Cameras (config flow, entity, MJPEG relay) and zeroconf discovery, against real simulators on loopback."""

from __future__ import annotations

import pytest
from homeassistant.components.camera import async_get_image
from homeassistant.components.zeroconf import info_from_service
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, SOURCE_ZEROCONF
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from custom_components.smart_community.const import DOMAIN
from devices.discovery import advertise, unadvertise
from devkit.sim.camera import CameraSim
from devkit.sim.door_controller import DoorControllerSim

from .conftest import SERIAL, wait_for_device_status


async def _discovered(advert: object) -> ZeroconfServiceInfo:
    """Advertise on loopback multicast and resolve it back, as Home Assistant's zeroconf browser would."""
    aiozc = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    try:
        info = await advertise(aiozc, advert)  # type: ignore[arg-type]
        resolved = AsyncServiceInfo(info.type, info.name)
        assert await resolved.async_request(aiozc.zeroconf, 3000)
        await unadvertise(aiozc, info)
    finally:
        await aiozc.async_close()
    discovery = info_from_service(resolved)
    assert discovery is not None
    return discovery


async def test_add_camera_by_hand(hass: HomeAssistant, camera_sim: CameraSim,
                                  hass_client: ClientSessionGenerator) -> None:
    """Wrong password is refused; the right one creates a camera entity whose image is the camera's JPEG."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "camera"})
    user_input = {"name": "North gate camera", "snapshot_url": camera_sim.snapshot_url,
                  "mjpeg_url": camera_sim.mjpeg_url, "username": "admin", "password": "wrong", "auth": "digest"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["errors"] == {"base": "invalid_auth"}
    user_input["password"] = "s3cret-pass"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    image = await async_get_image(hass, "camera.north_gate_camera")
    assert image.content.startswith(b"\xff\xd8")
    client = await hass_client()
    resp = await client.get("/api/camera_proxy_stream/camera.north_gate_camera")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("multipart/x-mixed-replace")
    chunk = await resp.content.read(4096)
    assert b"image/jpeg" in chunk
    resp.close()


async def test_camera_wrong_url(hass: HomeAssistant, camera_sim: CameraSim) -> None:
    """A URL that answers with something else than a JPEG is reported as not a camera."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "camera"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"name": "X", "snapshot_url": camera_sim.snapshot_url.replace("snapshot.jpg", "nothing"),
         "username": "admin", "password": "s3cret-pass", "auth": "digest"},
    )
    assert result["errors"] in ({"base": "not_a_camera"}, {"base": "cannot_connect"})


async def test_discovered_controller_is_offered_and_a_move_is_only_reported(
    hass: HomeAssistant, simulator: DoorControllerSim
) -> None:
    """A controller announcing itself is offered by serial; once added, an announcement at a new port does not
    move it (mDNS is unauthenticated): it raises a repair issue for an administrator (test_device_moved.py)."""
    from devices.discovery import DeviceAdvertisement, DeviceProfile

    advert = DeviceAdvertisement(serial="SIMDC0042", model="SIM-DC", profile=DeviceProfile.HUB_NATIVE,
                                 port=simulator.port)
    discovery = await _discovered(advert)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zeroconf_confirm"
    assert result["description_placeholders"]["serial"] == "SIMDC0042"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id == "SIMDC0042"
    await hass.async_block_till_done()

    old_port = simulator.port
    await simulator.stop()
    simulator.port = 0
    await simulator.start()
    moved = DeviceAdvertisement(serial="SIMDC0042", model="SIM-DC", profile=DeviceProfile.HUB_NATIVE,
                                port=simulator.port)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=await _discovered(moved)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "address_change_pending"
    assert entry.data["port"] == old_port
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"device_moved_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders["new"].endswith(f":{simulator.port}")


async def test_discovered_camera_asks_for_credentials(hass: HomeAssistant, camera_sim: CameraSim) -> None:
    """A discovered camera is added after its password is given; its URLs come from the announcement."""
    discovery = await _discovered(camera_sim.advertisement(serial="CAM42"))
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery)
    assert result["step_id"] == "zeroconf_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": "admin", "password": "nope", "auth": "digest"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": "admin", "password": "s3cret-pass", "auth": "digest"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == "CAM42"
    assert result["data"]["snapshot_url"].endswith("/snapshot.jpg")


async def test_bad_announcements_are_ignored(hass: HomeAssistant) -> None:
    """An announcement without a serial, or an I/O module (which needs a manual mapping), is not offered."""
    bare = ZeroconfServiceInfo(
        ip_address=__import__("ipaddress").ip_address("127.0.0.1"),
        ip_addresses=[__import__("ipaddress").ip_address("127.0.0.1")],
        hostname="x.local.", name="x._smart-community._tcp.local.", port=502,
        type="_smart-community._tcp.local.", properties={"model": "X"},
    )
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_ZEROCONF}, data=bare)
    assert result["reason"] == "invalid_discovery"
    io = ZeroconfServiceInfo(
        ip_address=bare.ip_address, ip_addresses=bare.ip_addresses, hostname="y.local.",
        name="y._smart-community._tcp.local.", port=502, type="_smart-community._tcp.local.",
        properties={"txtvers": "1", "serial": "IO1", "model": "SIM-IO", "profile": "io-module", "kind": "controller"},
    )
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_ZEROCONF}, data=io)
    assert result["reason"] == "io_module_manual"


async def test_camera_reconfigure_and_outage(hass: HomeAssistant, camera_sim: CameraSim) -> None:
    """A camera entry can change its password; a camera that stops answering makes its entity unavailable."""
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id="CAM9", title="Gate cam",
        data={"kind": "camera", "snapshot_url": camera_sim.snapshot_url, "mjpeg_url": camera_sim.mjpeg_url,
              "username": "admin", "password": "s3cret-pass", "auth": "digest"},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.supports_options is False
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"snapshot_url": camera_sim.snapshot_url, "username": "admin", "password": "bad",
                            "auth": "digest"})
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"snapshot_url": camera_sim.snapshot_url, "mjpeg_url": camera_sim.mjpeg_url,
                            "username": "admin", "password": "s3cret-pass", "auth": "digest"})
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()

    await camera_sim.set_link(False)
    with pytest.raises(Exception):  # noqa: B017 - HomeAssistantError from the camera component
        await async_get_image(hass, "camera.gate_cam")
    assert hass.states.get("camera.gate_cam").state == "unavailable"
    await camera_sim.set_link(True)
    assert (await async_get_image(hass, "camera.gate_cam")).content.startswith(b"\xff\xd8")
    assert hass.states.get("camera.gate_cam").state != "unavailable"


async def test_community_ignores_cameras(
    hass: HomeAssistant, camera_sim: CameraSim, init_integration: MockConfigEntry
) -> None:
    """With a camera and a controller loaded (as on every restart), the community hub attaches only the
    controller's doors, and device health watches both from the start."""
    camera = MockConfigEntry(
        domain=DOMAIN, unique_id="CAM7", title="Cam",
        data={"kind": "camera", "snapshot_url": camera_sim.snapshot_url, "username": "admin",
              "password": "s3cret-pass", "auth": "digest"},
    )
    camera.add_to_hass(hass)
    assert await hass.config_entries.async_setup(camera.entry_id)
    community = MockConfigEntry(domain=DOMAIN, unique_id="community", title="G",
                                data={"kind": "community", "name": "G"})
    community.add_to_hass(hass)
    assert await hass.config_entries.async_setup(community.entry_id)
    await hass.async_block_till_done()
    assert sorted(community.runtime_data.points) == ["SIMDC0042-door0", "SIMDC0042-door1"]
    store = community.runtime_data.health.store
    assert (await wait_for_device_status(hass, store, "CAM7")).online is True
    assert (await wait_for_device_status(hass, store, SERIAL)).online is True


async def test_camera_password_changed_asks_for_the_new_one(hass: HomeAssistant, camera_sim: CameraSim) -> None:
    """A camera whose password changed starts a reauthentication; the new password brings it back."""
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id="CAM8", title="Back gate",
        data={"kind": "camera", "snapshot_url": camera_sim.snapshot_url, "username": "admin",
              "password": "old-password", "auth": "digest"},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == ["reauth"]
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"username": "admin", "password": "still-wrong", "auth": "digest"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"username": "admin", "password": "s3cret-pass", "auth": "digest"}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data["password"] == "s3cret-pass"
    assert hass.states.get("camera.back_gate") is not None
