"""The demo's simulated devices: door controllers, the gate camera, their HTTP control endpoints and their
zeroconf advertisements, started and stopped together."""

from __future__ import annotations

import contextlib
import logging

from aiohttp import web

from devices.discovery import DeviceAdvertisement, DeviceProfile, advertise, unadvertise
from devkit.sim.camera import CameraSim
from devkit.sim.control import make_control_app, start_control_server
from devkit.sim.door_controller import DoorControllerSim

from .faces import demo_faces_dir, stranger_faces_dir

_LOGGER = logging.getLogger(__name__)
CAMERA_SERIAL = "DEMO-CAM-01"


class DemoDevices:
    """Everything simulated in the demo community, on 127.0.0.1."""

    def __init__(self, *, base_port: int, controllers: int, doors: int) -> None:
        self.controllers = [
            DoorControllerSim(doors=doors, serial=f"DEMO-DC-{i + 1:02d}", model="SIM-DC", port=base_port + i)
            for i in range(controllers)
        ]
        faces = demo_faces_dir()
        self.camera: CameraSim | None = None
        if faces is not None:
            self.camera = CameraSim(faces, strangers_dir=stranger_faces_dir(), port=base_port + 40)
        self.control_ports: list[int] = []
        self._base_port = base_port
        self._runners: list[web.AppRunner] = []
        self._aiozc: object | None = None
        self._adverts: list[object] = []

    async def start(self) -> None:
        """Start the simulators, one control endpoint each, and advertise them over mDNS on loopback."""
        for i, sim in enumerate(self.controllers):
            await sim.start()
            runner, port = await start_control_server(make_control_app(sim), port=self._base_port + 20 + i)
            self._runners.append(runner)
            self.control_ports.append(port)
        if self.camera is not None:
            await self.camera.start()
            self.camera.set_scene("nobody")
            runner, port = await start_control_server(make_control_app(camera=self.camera),
                                                      port=self._base_port + 41)
            self._runners.append(runner)
            self.control_ports.append(port)
        await self._advertise()

    async def _advertise(self) -> None:
        try:
            from zeroconf import IPVersion
            from zeroconf.asyncio import AsyncZeroconf

            aiozc = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
            self._aiozc = aiozc
            for sim in self.controllers:
                self._adverts.append(await advertise(aiozc, DeviceAdvertisement(
                    serial=sim.serial, model=sim.model, profile=DeviceProfile.HUB_NATIVE, port=sim.port,
                    firmware="1.0", unit_id=1)))
            if self.camera is not None:
                self._adverts.append(await advertise(aiozc, self.camera.advertisement(serial=CAMERA_SERIAL)))
        except OSError as err:  # multicast may be unavailable; the demo works without it
            _LOGGER.warning("zeroconf advertisements are off: %s", err)

    async def stop(self) -> None:
        """Stop everything, advertisements first."""
        if self._aiozc is not None:
            from zeroconf.asyncio import AsyncZeroconf

            aiozc = self._aiozc
            assert isinstance(aiozc, AsyncZeroconf)
            for info in self._adverts:
                with contextlib.suppress(Exception):
                    await unadvertise(aiozc, info)  # type: ignore[arg-type]
            await aiozc.async_close()
        for runner in self._runners:
            await runner.cleanup()
        for sim in self.controllers:
            with contextlib.suppress(Exception):
                await sim.stop()
        if self.camera is not None:
            await self.camera.stop()
