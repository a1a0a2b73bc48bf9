"""IP cameras (JPEG snapshot, MJPEG stream, basic or digest authentication) as camera entities."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from aiohttp import web
from homeassistant.components.camera import Camera, CameraEntityFeature
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from devices.camera import CameraClient
from devices.exceptions import DeviceError
from hub.health import DeviceKind

from .const import DOMAIN
from .health import SIGNAL_CAMERA_STATUS, async_camera_status, async_report_device_status

_LOGGER = logging.getLogger(__name__)
PARALLEL_UPDATES = 0


@dataclass
class CameraRuntimeData:
    """A loaded camera entry: its client (on Home Assistant's shared HTTP session) and identity."""

    client: CameraClient
    serial: str
    model: str
    online: bool = True  # the last status reported to device health (by a frame or the background probe)


type CameraConfigEntry = ConfigEntry[CameraRuntimeData]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CameraConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One camera entity per camera entry."""
    async_add_entities([GateCamera(entry)])


class GateCamera(Camera):
    """A gate camera: snapshots for Home Assistant and the gate path, MJPEG for live view."""

    _attr_has_entity_name = True
    _attr_name = None
    _attr_supported_features = CameraEntityFeature(0)

    def __init__(self, entry: CameraConfigEntry) -> None:
        super().__init__()
        runtime = entry.runtime_data
        self._client = runtime.client
        self._attr_unique_id = f"{runtime.serial}-camera"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, runtime.serial)},
            manufacturer="Smart Community",
            model=runtime.model,
            serial_number=runtime.serial,
            name=entry.title,
        )
        self._lost = False
        self._serial = runtime.serial
        self._runtime = runtime

    def _report(self, online: bool) -> None:
        async_camera_status(self.hass, self._runtime, online)

    async def async_added_to_hass(self) -> None:
        """The camera answered at set-up: online. From then on the background probe (device health) may find it
        down or back without anyone asking for a frame; the entity's availability follows."""
        self._runtime.online = True
        async_report_device_status(self.hass, self._serial, DeviceKind.CAMERA, True)
        self.async_on_remove(async_dispatcher_connect(
            self.hass, SIGNAL_CAMERA_STATUS.format(self._serial), self._on_status))

    @callback
    def _on_status(self, online: bool) -> None:
        if online == (not self._lost):
            return
        if online:
            _LOGGER.info("camera %s is back", self.entity_id)
        else:
            _LOGGER.warning("camera %s is unavailable (it did not answer its probe)", self.entity_id)
        self._lost = not online
        self._attr_available = online
        self.async_write_ha_state()

    async def async_camera_image(self, width: int | None = None, height: int | None = None) -> bytes | None:
        """One JPEG snapshot; unavailable (logged once) while the camera does not answer."""
        try:
            image = await self._client.snapshot()
        except DeviceError as err:
            if not self._lost:
                _LOGGER.warning("camera %s is unavailable: %s", self.entity_id, err)
                self._lost = True
                self._attr_available = False
                self.async_write_ha_state()
            self._report(False)
            return None
        if self._lost:
            _LOGGER.info("camera %s is back", self.entity_id)
            self._lost = False
            self._attr_available = True
            self.async_write_ha_state()
        self._report(True)
        return image

    async def handle_async_mjpeg_stream(self, request: web.Request) -> web.StreamResponse | None:
        """Relay the camera's MJPEG stream as a multipart response (snapshots when it has no stream)."""
        if self._client.mjpeg_url is None:
            return await super().handle_async_mjpeg_stream(request)
        response = web.StreamResponse(headers={"Content-Type": "multipart/x-mixed-replace;boundary=frame"})
        await response.prepare(request)
        try:
            async with contextlib.aclosing(self._client.frames()) as frames:
                async for frame in frames:
                    await response.write(
                        b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                        + str(len(frame)).encode()
                        + b"\r\n\r\n"
                        + frame
                        + b"\r\n"
                    )
        except (DeviceError, ConnectionResetError) as err:
            _LOGGER.debug("MJPEG relay for %s ended: %s", self.entity_id, err)
        return response
