"""A GA/T 1400 upper platform for the tests, written from the standard's interface description (not our client).

Digest-protected Register/UnRegister, Keepalive, a registration window that can be expired or forgotten (restart),
and list uploads answered with one ResponseStatusObject per item.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from typing import Any

from aiohttp import web

REALM = "viid-test"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class Platform:
    """State and routes of the fake county view library."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password
        self.nonces: set[str] = set()
        self.registered: set[str] = set()
        self.register_count = 0
        self.keepalives = 0
        self.unregistered: list[str] = []
        self.persons: list[dict[str, Any]] = []
        self.apes: list[dict[str, Any]] = []
        self.reject_ids: set[str] = set()
        self.busy_ids: set[str] = set()
        self.string_status = True  # some platforms send StatusCode as a string
        self.registered_event = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/VIID/System/Register", self.register)
        app.router.add_post("/VIID/System/UnRegister", self.unregister)
        app.router.add_post("/VIID/System/Keepalive", self.keepalive)
        app.router.add_post("/VIID/Persons", self.persons_upload)
        app.router.add_post("/VIID/APEs", self.apes_upload)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        assert self.runner is not None
        await self.runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def expire_all(self) -> None:
        """The registration window lapsed (or the platform restarted and forgot everyone)."""
        self.registered.clear()

    def _status(self, request: web.Request, code: int, object_id: str, text: str = "OK") -> dict[str, Any]:
        return {"RequestURL": request.path, "StatusCode": str(code) if self.string_status else code,
                "StatusString": text, "Id": object_id, "LocalTime": "20260102030405"}

    def _digest_ok(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Digest "):
            return False
        params = {m[0]: m[1] or m[2] for m in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', header[7:])}
        if params.get("nonce") not in self.nonces or params.get("username") != self.username:
            return False
        ha1 = _md5(f"{self.username}:{REALM}:{self.password}")
        ha2 = _md5(f"{request.method}:{params.get('uri')}")
        expected = _md5(f"{ha1}:{params['nonce']}:{params.get('nc')}:{params.get('cnonce')}:auth:{ha2}")
        return params.get("response") == expected and params.get("uri") == request.path

    def _challenge(self) -> web.Response:
        nonce = os.urandom(8).hex()
        self.nonces.add(nonce)
        return web.Response(status=401, headers={
            "WWW-Authenticate": f'Digest realm="{REALM}", nonce="{nonce}", qop="auth", opaque="abc"'})

    async def register(self, request: web.Request) -> web.Response:
        if not self._digest_ok(request):
            return self._challenge()
        device = (await request.json())["RegisterObject"]["DeviceID"]
        self.registered.add(device)
        self.register_count += 1
        self.registered_event.set()
        return web.json_response({"ResponseStatusObject": self._status(request, 0, device)})

    async def unregister(self, request: web.Request) -> web.Response:
        if not self._digest_ok(request):
            return self._challenge()
        device = (await request.json())["UnRegisterObject"]["DeviceID"]
        self.registered.discard(device)
        self.unregistered.append(device)
        return web.json_response({"ResponseStatusObject": self._status(request, 0, device)})

    def _caller(self, request: web.Request) -> str | None:
        caller = request.headers.get("User-Identify")
        return caller if caller in self.registered else None

    async def keepalive(self, request: web.Request) -> web.Response:
        caller = self._caller(request)
        if caller is None:
            return web.Response(status=401)
        self.keepalives += 1
        return web.json_response({"ResponseStatusObject": self._status(request, 0, caller)})

    async def persons_upload(self, request: web.Request) -> web.Response:
        if self._caller(request) is None:
            return web.Response(status=401)
        assert request.content_type.lower().startswith("application/viid+json")
        items = (await request.json())["PersonListObject"]["PersonObject"]
        statuses = []
        for person in items:
            pid = person["PersonID"]
            assert len(pid) == 48 and pid.isdigit() and pid[:41] == person["SourceID"] and pid[41:43] == "01"
            assert len(person["DeviceID"]) == 20 and person["SourceID"][:20] == person["DeviceID"]
            assert person["SourceID"][20:22] == "02" and len(person["PersonAppearTime"]) == 14
            if pid in self.reject_ids:
                statuses.append(self._status(request, 8, pid, "Invalid JSON Content"))
            elif pid in self.busy_ids:
                self.busy_ids.discard(pid)
                statuses.append(self._status(request, 2, pid, "Device Busy"))
            else:
                if all(p["PersonID"] != pid for p in self.persons):
                    self.persons.append(person)
                statuses.append(self._status(request, 0, pid))
        return web.json_response({"ResponseStatusListObject": {"ResponseStatusObject": statuses}})

    async def apes_upload(self, request: web.Request) -> web.Response:
        if self._caller(request) is None:
            return web.Response(status=401)
        items = (await request.json())["APEListObject"]["APEObject"]
        self.apes.extend(items)
        return web.json_response({"ResponseStatusList": {
            "ResponseStatusObject": [self._status(request, 0, a["ApeID"]) for a in items]}})
