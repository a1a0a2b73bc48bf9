"""The GA/T 1400 system client: register (digest), keepalive, re-register, unregister, authenticated requests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp

from hub.exceptions import InvalidInputError
from hub.journal.models import utc_now

from .errors import RejectedError, TransientUplinkError
from .gat1400_config import Gat1400Config
from .gat1400_digest import parse_challenge
from .tls import client_ssl_context

_LOGGER = logging.getLogger(__name__)
CONTENT_TYPE = "application/VIID+JSON;charset=UTF-8"
ACCEPT = "application/json,application/VIID+json"
REGISTER = "/VIID/System/Register"
UNREGISTER = "/VIID/System/UnRegister"
KEEPALIVE = "/VIID/System/Keepalive"


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status code, headers we need, parsed JSON (or None)."""

    status: int
    www_authenticate: str | None
    data: Any


def status_code(value: Any) -> int:
    """A ``StatusCode`` given as a number or a string ([XZH] sends strings); unreadable counts as failure."""
    try:
        return int(str(value).strip())
    except ValueError:
        return -1


class Gat1400Client:
    """Keeps the hub registered with one platform; takes an injected session and closes only its own."""

    def __init__(self, config: Gat1400Config, *, session: aiohttp.ClientSession | None = None) -> None:
        self.config = config
        self._session = session
        self._own_session = session is None
        https = config.base_url.startswith("https")
        self._ssl: ssl.SSLContext | bool = client_ssl_context(config.ca_file) if https else False
        self._timeout = aiohttp.ClientTimeout(total=config.timeout_s)
        self._register_lock = asyncio.Lock()
        self._keepalive_task: asyncio.Task[None] | None = None
        self.registered = False
        self.registrations = 0
        self.last_keepalive: datetime | None = None

    def __repr__(self) -> str:
        return f"Gat1400Client(url={self.config.base_url!r}, device_id={self.config.device_id!r})"

    async def register(self) -> None:
        """Register, answering the digest challenge with the same body."""
        async with self._register_lock:
            await self._register_locked()

    async def ensure_registered(self) -> None:
        """Register unless registered (a registration already under way is waited for, not repeated)."""
        async with self._register_lock:
            if not self.registered:
                await self._register_locked()

    async def _register_locked(self) -> None:
        body = {"RegisterObject": {"DeviceID": self.config.device_id}}
        reply = await self._digest_post(REGISTER, body)
        self._check_single(reply, "register")
        self.registered = True
        self.registrations += 1
        _LOGGER.info("registered with the GA/T 1400 platform as %s", self.config.device_id)

    async def unregister(self) -> None:
        """Unregister (best effort at shutdown)."""
        body = {"UnRegisterObject": {"DeviceID": self.config.device_id}}
        reply = await self._digest_post(UNREGISTER, body)
        self.registered = False
        self._check_single(reply, "unregister")

    async def keepalive(self) -> None:
        """One keepalive; re-registers when the platform no longer knows us (expiry, restart)."""
        await self.request("POST", KEEPALIVE, {"KeepaliveObject": {"DeviceID": self.config.device_id}},
                           single=True)
        self.last_keepalive = utc_now()

    async def request(self, method: str, path: str, body: Any, *, single: bool = False) -> Any:
        """An authenticated request; on 401 or a refused single operation, register again and retry once."""
        await self.ensure_registered()
        reply = await self._send(method, path, body, authorization=None)
        if reply.status == 401 or (single and reply.status == 200 and not _single_ok(reply.data)):
            _LOGGER.info("GA/T 1400 platform no longer knows the hub (HTTP %s); registering again", reply.status)
            self.registered = False
            await self.ensure_registered()
            reply = await self._send(method, path, body, authorization=None)
        if reply.status == 401:
            raise RejectedError("platform refused the request after registering again", status=401)
        if reply.status >= 500:
            raise TransientUplinkError(f"platform answered HTTP {reply.status}")
        if reply.status != 200:
            raise RejectedError(f"platform answered HTTP {reply.status}", status=reply.status)
        if single:
            self._check_single(reply, path)
        return reply.data

    def start_keepalive(self) -> None:
        """Send keepalives every ``keepalive_interval_s`` in the background."""
        if self._keepalive_task is None:
            self._keepalive_task = asyncio.get_running_loop().create_task(self._keepalive_loop(),
                                                                          name="gat1400-keepalive")

    async def close(self, *, unregister: bool = True) -> None:
        """Stop keepalives, unregister (best effort) and close an own session."""
        if self._keepalive_task is not None:
            self._keepalive_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive_task
            self._keepalive_task = None
        if unregister and self.registered:
            with contextlib.suppress(Exception):
                await self.unregister()
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def _keepalive_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.keepalive_interval_s)
            try:
                await self.keepalive()
            except (TransientUplinkError, RejectedError, InvalidInputError) as err:
                # The next round (or the next upload) registers again; the registration may have lapsed.
                self.registered = False
                _LOGGER.warning("GA/T 1400 keepalive failed: %s", err)

    async def _digest_post(self, path: str, body: Any) -> Reply:
        reply = await self._send("POST", path, body, authorization=None, identify=False)
        if reply.status == 401:
            if not reply.www_authenticate:
                raise RejectedError("platform answered 401 without a challenge", status=401)
            challenge = parse_challenge(reply.www_authenticate)
            authorization = challenge.authorization(method="POST", uri=path, username=self.config.username,
                                                    password=self.config.password.reveal().decode())
            reply = await self._send("POST", path, body, authorization=authorization, identify=False)
            if reply.status == 401:
                raise RejectedError("platform refused the credentials", status=401)
        if reply.status >= 500:
            raise TransientUplinkError(f"platform answered HTTP {reply.status}")
        return reply

    async def _send(self, method: str, path: str, body: Any, *, authorization: str | None,
                    identify: bool = True) -> Reply:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"Content-Type": CONTENT_TYPE, "Accept": ACCEPT}
        if identify or self.registered:
            headers["User-Identify"] = self.config.device_id
        if authorization is not None:
            headers["Authorization"] = authorization
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode() if body is not None else None
        url = self.config.base_url.rstrip("/") + path
        try:
            async with self._session.request(method, url, data=data, headers=headers, ssl=self._ssl,
                                             timeout=self._timeout) as response:
                text = await response.text()
                challenge = response.headers.get("WWW-Authenticate")
                status = response.status
        except aiohttp.ClientConnectorCertificateError as err:
            raise RejectedError(f"platform certificate not trusted: {err.certificate_error}") from err
        except (aiohttp.ClientError, TimeoutError) as err:
            raise TransientUplinkError(f"platform unreachable: {type(err).__name__}: {err}") from err
        try:
            parsed = json.loads(text) if text.strip() else None
        except ValueError:
            parsed = None
        return Reply(status=status, www_authenticate=challenge, data=parsed)

    @staticmethod
    def _check_single(reply: Reply, what: str) -> None:
        if reply.status != 200:
            raise RejectedError(f"{what}: platform answered HTTP {reply.status}", status=reply.status)
        if not _single_ok(reply.data):
            raise RejectedError(f"{what}: platform answered StatusCode {_single_code(reply.data)}")


def _single_code(data: Any) -> int:
    if isinstance(data, dict) and isinstance(data.get("ResponseStatusObject"), dict):
        return status_code(data["ResponseStatusObject"].get("StatusCode"))
    return -1


def _single_ok(data: Any) -> bool:
    return _single_code(data) == 0
