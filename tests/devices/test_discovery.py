"""Zeroconf advertisement and parsing; the round trip runs over real multicast DNS on the loopback interface."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from zeroconf import IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from devices.discovery import (
    SERVICE_TYPE,
    DeviceAdvertisement,
    DeviceKind,
    DeviceProfile,
    InvalidAdvertisementError,
    advertise,
    build_service_info,
    parse_service_info,
    parse_txt,
    unadvertise,
)
from devices.exceptions import DeviceProtocolError, DeviceValueError
from devkit.sim.camera import CameraSim
from devkit.sim.io_module import IoModuleSim
from hub.faces.paths import shared_faces_dir

CONTROLLER = DeviceAdvertisement(
    serial="SIMDC0001", model="SIM-DC", profile=DeviceProfile.HUB_NATIVE, port=5020, firmware="1.0", unit_id=1
)
CAMERA = DeviceAdvertisement(
    serial="CAM-7", model="SIM-CAM", profile=DeviceProfile.CAMERA, port=8081, snapshot_path="/snapshot.jpg",
    mjpeg_path="/mjpeg",
)


@pytest.fixture
async def zeroconfs(socket_enabled: None) -> AsyncIterator[tuple[AsyncZeroconf, AsyncZeroconf]]:
    device_side = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    hub_side = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    yield device_side, hub_side
    await device_side.async_close()
    await hub_side.async_close()


async def test_advertise_and_browse_back_on_loopback(zeroconfs: tuple[AsyncZeroconf, AsyncZeroconf]) -> None:
    device_side, hub_side = zeroconfs
    infos = [await advertise(device_side, CONTROLLER), await advertise(device_side, CAMERA)]

    seen: dict[str, ServiceStateChange] = {}
    both = asyncio.Event()

    def on_change(zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        seen[name] = state_change
        if len(seen) == 2:
            both.set()

    browser = AsyncServiceBrowser(hub_side.zeroconf, SERVICE_TYPE, handlers=[on_change])
    try:
        await asyncio.wait_for(both.wait(), 10)
        found = {}
        for name in seen:
            info = AsyncServiceInfo(SERVICE_TYPE, name)
            assert await info.async_request(hub_side.zeroconf, 3000)
            device = parse_service_info(info)
            found[device.serial] = device
    finally:
        await browser.async_cancel()
        for info in infos:
            await unadvertise(device_side, info)

    controller, camera = found["SIMDC0001"], found["CAM-7"]
    assert controller.profile is DeviceProfile.HUB_NATIVE
    assert controller.kind is DeviceKind.CONTROLLER
    assert (controller.host, controller.port, controller.unit_id, controller.firmware) == ("127.0.0.1", 5020, 1, "1.0")
    assert controller.snapshot_url is None
    assert camera.kind is DeviceKind.CAMERA
    assert camera.snapshot_url == "http://127.0.0.1:8081/snapshot.jpg"
    assert camera.mjpeg_url == "http://127.0.0.1:8081/mjpeg"
    assert camera.name == CAMERA.instance_name


def _props(**overrides: str | None) -> dict[str, str | None]:
    props: dict[str, str | None] = {"serial": "X1", "model": "M", "profile": "io-module", "kind": "controller"}
    props.update(overrides)
    return {k: v for k, v in props.items() if v is not None}


def test_parse_txt_accepts_bytes_and_strings() -> None:
    raw: dict[bytes, bytes | None] = {b"serial": b"X1", b"model": b"M", b"profile": b"io-module", b"unit": b"7"}
    device = parse_txt(raw, host="10.0.0.5", port=502)
    assert (device.serial, device.profile, device.kind, device.unit_id) == ("X1", DeviceProfile.IO_MODULE,
                                                                            DeviceKind.CONTROLLER, 7)
    assert parse_txt(_props(), host="10.0.0.5", port=502).unit_id == 1
    assert parse_txt(_props(SERIAL=None), host="fe80::1", port=80).serial == "X1"
    camera = parse_txt(_props(profile="camera", kind="camera", path="/s.jpg"), host="fe80::1", port=80)
    assert camera.snapshot_url == "http://[fe80::1]:80/s.jpg"


@pytest.mark.parametrize(
    ("props", "kwargs", "message"),
    [
        (_props(serial=None), {}, "no 'serial'"),
        (_props(serial="  "), {}, "no 'serial'"),
        (_props(model=None), {}, "no 'model'"),
        (_props(profile="zigbee"), {}, "unknown profile"),
        (_props(kind="toaster"), {}, "unknown kind"),
        (_props(kind="camera"), {}, "is not a camera"),
        (_props(unit="300"), {}, "bad Modbus unit"),
        (_props(unit="x"), {}, "bad Modbus unit"),
        (_props(profile="camera", kind="camera"), {}, "needs a 'path'"),
        (_props(profile="camera", kind="camera", path="snap.jpg"), {}, "must start with /"),
        (_props(), {"port": 0}, "out of range"),
        (_props(), {"host": ""}, "no address"),
    ],
)
def test_parse_txt_rejects_bad_records(props: dict[str, str | None], kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"host": "10.0.0.5", "port": 502, **kwargs}
    with pytest.raises(InvalidAdvertisementError, match=message) as err:
        parse_txt(props, **args)
    assert isinstance(err.value, DeviceProtocolError)


def test_parse_txt_rejects_non_utf8() -> None:
    with pytest.raises(InvalidAdvertisementError, match="UTF-8"):
        parse_txt({b"serial": b"\xff\xfe"}, host="h", port=1)


def test_parse_service_info_without_port_or_serial() -> None:
    info = build_service_info(CONTROLLER)
    assert parse_service_info(info).serial == "SIMDC0001"
    no_serial = AsyncServiceInfo(SERVICE_TYPE, f"x.{SERVICE_TYPE}", addresses=[bytes([127, 0, 0, 1])], port=1,
                                 properties={"model": "M", "profile": "hub-native"})
    with pytest.raises(InvalidAdvertisementError, match="serial"):
        parse_service_info(no_serial)
    no_port = AsyncServiceInfo(SERVICE_TYPE, f"y.{SERVICE_TYPE}")
    with pytest.raises(InvalidAdvertisementError, match="port"):
        parse_service_info(no_port)


def test_build_service_info_validates() -> None:
    info = build_service_info(CAMERA)
    assert info.server == "cam-7.local."
    assert info.properties[b"kind"] == b"camera"
    with pytest.raises(DeviceValueError, match="snapshot path"):
        build_service_info(DeviceAdvertisement(serial="C", model="M", profile=DeviceProfile.CAMERA, port=80))
    with pytest.raises(DeviceValueError, match="serial"):
        build_service_info(DeviceAdvertisement(serial="", model="M", profile=DeviceProfile.IO_MODULE, port=80))
    with pytest.raises(DeviceValueError, match="port"):
        build_service_info(DeviceAdvertisement(serial="S", model="M", profile=DeviceProfile.IO_MODULE, port=0))
    with pytest.raises(DeviceValueError, match="too long"):
        build_service_info(DeviceAdvertisement(serial="S" * 300, model="M", profile=DeviceProfile.IO_MODULE, port=1))
    with pytest.raises(DeviceValueError, match="bad address"):
        build_service_info(
            DeviceAdvertisement(serial="S", model="M", profile=DeviceProfile.IO_MODULE, port=1, addresses=["nope"])
        )


def test_simulators_describe_themselves() -> None:
    camera = CameraSim(shared_faces_dir() / "community", port=8081)
    io_sim = IoModuleSim(port=1502)
    cam_device = parse_service_info(build_service_info(camera.advertisement()))
    assert cam_device.snapshot_url == "http://127.0.0.1:8081/snapshot.jpg"
    io_device = parse_service_info(build_service_info(io_sim.advertisement(serial="IO-9")))
    assert (io_device.serial, io_device.profile, io_device.port) == ("IO-9", DeviceProfile.IO_MODULE, 1502)
