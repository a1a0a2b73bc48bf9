"""The tests' GA/T 1400 upper platform (tests/hub/uplink/gat1400_platform.py) with the vehicle collections:
``/VIID/MotorVehicles`` and ``/VIID/Tollgates``, each answered per item, checking the ID formats as it stores."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "uplink"))
from gat1400_platform import Platform


class VehiclePlatform(Platform):
    """The test platform, also taking motor vehicles and tollgates."""

    def __init__(self, username: str, password: str) -> None:
        super().__init__(username, password)
        self.vehicles: list[dict[str, Any]] = []
        self.tollgates: list[dict[str, Any]] = []
        self.vehicle_content_types: set[str] = set()

    async def start(self) -> None:
        """The base platform's routes and the vehicle collections, on 127.0.0.1, port 0."""
        app = web.Application()
        app.router.add_post("/VIID/System/Register", self.register)
        app.router.add_post("/VIID/System/UnRegister", self.unregister)
        app.router.add_post("/VIID/System/Keepalive", self.keepalive)
        app.router.add_post("/VIID/Persons", self.persons_upload)
        app.router.add_post("/VIID/APEs", self.apes_upload)
        app.router.add_post("/VIID/MotorVehicles", self.vehicles_upload)
        app.router.add_post("/VIID/Tollgates", self.tollgates_upload)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def vehicles_upload(self, request: web.Request) -> web.Response:
        if self._caller(request) is None:
            return web.Response(status=401)
        self.vehicle_content_types.add(request.content_type.lower())
        items = (await request.json())["MotorVehicleListObject"]["MotorVehicleObject"]
        statuses = []
        for vehicle in items:
            vid = vehicle["MotorVehicleID"]
            assert len(vid) == 48 and vid.isdigit() and vid[:41] == vehicle["SourceID"] and vid[41:43] == "02"
            assert len(vehicle["DeviceID"]) == 20 and vehicle["SourceID"][:20] == vehicle["DeviceID"]
            assert len(vehicle["TollgateID"]) == 20 and len(vehicle["PassTime"]) == 14
            if all(v["MotorVehicleID"] != vid for v in self.vehicles):
                self.vehicles.append(vehicle)
            statuses.append(self._status(request, 0, vid))
        return web.json_response({"ResponseStatusListObject": {"ResponseStatusObject": statuses}})

    async def tollgates_upload(self, request: web.Request) -> web.Response:
        if self._caller(request) is None:
            return web.Response(status=401)
        items = (await request.json())["TollgateListObject"]["TollgateObject"]
        self.tollgates.extend(items)
        return web.json_response({"ResponseStatusListObject": {
            "ResponseStatusObject": [self._status(request, 0, t["TollgateID"]) for t in items]}})
