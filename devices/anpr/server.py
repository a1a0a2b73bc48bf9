"""The hub's receiver for ANPR pushes: an aiohttp app on the hub's own port.

Routes:

- ``POST /anpr/<format>/<secret>`` for every format (``hikvision``, ``dahua``, ``vzenith``); for Dahua also
  ``/anpr/dahua/<secret>/NotificationInfo/TollgateInfo`` and ``.../KeepAlive``;
- ``POST /NotificationInfo/TollgateInfo`` and ``/NotificationInfo/KeepAlive``: the fixed paths Dahua's ITSAPI
  firmware posts to, authenticated by HTTP Digest only.

Order of checks, all before the body is read: the URL secret (403), the source address where a list is set
(403), Basic or Digest credentials where set (401), the body's size (413); then the body is parsed (400 on bad
input) and each read handed to ``on_read``. Nothing that failed a check reaches the callback, and neither the
secret nor a plate is ever logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Literal

from aiohttp import web

from . import dahua, hikvision, vzenith
from .auth import AddressAllowList, DigestOutcome, DigestVerifier, check_basic, check_secret
from .errors import AnprFormatError
from .models import PlateRead
from .replies import REFUSE, BarrierReply

__all__ = ["DEFAULT_MAX_BODY_BYTES", "AnprReceiver", "PushSource"]

_LOGGER = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
PushFormat = Literal["hikvision", "dahua", "vzenith"]
FORMATS: tuple[PushFormat, ...] = ("hikvision", "dahua", "vzenith")

OnRead = Callable[[PlateRead], Awaitable[BarrierReply]]
OnAlive = Callable[[str, str | None], Awaitable[None]]  # (format, camera id)


@dataclass(frozen=True, kw_only=True)
class PushSource:
    """A camera (or a group sharing settings) allowed to push.

    ``secret``: the last level of its push URL ``/anpr/<format>/<secret>`` (at least 16 characters).
    ``username``/``password``: HTTP Basic for Hikvision, HTTP Digest for Dahua (required for Dahua).
    ``allowed_addresses``: source addresses or networks; required for Vzenith, which cannot authenticate.
    ``camera_id``: the camera's id when a push does not say (Hikvision without serial/MAC, Dahua without DeviceID).
    """

    format: PushFormat
    secret: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    allowed_addresses: tuple[str, ...] = ()
    camera_id: str | None = None

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"unknown push format {self.format!r} (one of {', '.join(FORMATS)})")
        if len(self.secret) < 16 or not self.secret.isascii() or "/" in self.secret:
            raise ValueError("a push URL secret is at least 16 URL-safe characters")
        if (self.username is None) != (self.password is None):
            raise ValueError("a user name needs its password, and a password its user name")
        if self.format == "dahua" and self.username is None:
            raise ValueError("a Dahua source needs the user name and password its camera sends (HTTP Digest)")
        if self.format == "vzenith" and not self.allowed_addresses:
            raise ValueError("a Vzenith source needs the addresses its cameras push from (they cannot authenticate)")
        AddressAllowList(self.allowed_addresses)  # a bad address is a ValueError now, not at the first push


class AnprReceiver:
    """The receiver's app and, when started by itself, its server."""

    def __init__(self, sources: Sequence[PushSource], on_read: OnRead, *, on_alive: OnAlive | None = None,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, local_tz: tzinfo = UTC,
                 realm: str = "smart-community-anpr", callback_timeout_s: float = 5.0) -> None:
        self._sources = tuple(sources)
        secrets = [(s.format, s.secret) for s in self._sources]
        if len(set(secrets)) != len(secrets):
            raise ValueError("two push sources of one format have the same URL secret")
        dahua_names = [s.username for s in self._sources if s.format == "dahua"]
        if len(set(dahua_names)) != len(dahua_names):
            raise ValueError("two Dahua sources have the same user name (the Digest user name picks the source)")
        self._on_read = on_read
        self._on_alive = on_alive
        self._max_body = max_body_bytes
        self._local_tz = local_tz
        self._callback_timeout = callback_timeout_s
        self._allow = {id(s): AddressAllowList(s.allowed_addresses) for s in self._sources}
        dahua_users = {s.username: s.password for s in self._sources
                       if s.format == "dahua" and s.username is not None and s.password is not None}
        self._digest = DigestVerifier(dahua_users, realm=realm)
        self.stats: Counter[str] = Counter()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self._host = "127.0.0.1"
        self.app = web.Application(client_max_size=max_body_bytes)
        self.app.router.add_post(dahua.TOLLGATE_PATH, self._dahua_fixed)
        self.app.router.add_post(dahua.KEEPALIVE_PATH, self._dahua_fixed)
        self.app.router.add_post("/anpr/{format}/{secret}", self._push)
        self.app.router.add_post("/anpr/{format}/{secret}/NotificationInfo/{kind}", self._push)

    # -- serving by itself ---------------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (port 0: any free port, read back into :attr:`port`)."""
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self._host = host

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        """``http://host:port`` once started."""
        return f"http://{self._host}:{self.port}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer a push routed here by another server (Home Assistant's own HTTP server): the request's
        ``match_info`` must carry ``format`` and ``secret`` as ``/anpr/{format}/{secret}`` does."""
        return await self._push(request)

    # -- checks --------------------------------------------------------------------------------------------------

    def _refuse(self, status: int, reason: str, request: web.Request, message: str,
                headers: dict[str, str] | None = None) -> web.Response:
        self.stats[reason] += 1
        _LOGGER.debug("ANPR push from %s refused: %s", request.remote, reason)
        return web.Response(status=status, text=message + "\n", headers=headers)

    def _source_for(self, fmt: str, secret: str) -> PushSource | None:
        found = None
        for source in self._sources:  # every secret compared, so the time does not tell how many there are
            if check_secret(secret, source.secret) and source.format == fmt:
                found = source
        return found

    def _digest_check(self, request: web.Request) -> web.Response | str:
        result = self._digest.verify(request.method, request.path_qs, request.headers.get("Authorization"))
        if result.outcome is DigestOutcome.OK and result.username is not None:
            return result.username
        stale = result.outcome is DigestOutcome.STALE
        reason = {DigestOutcome.MISSING: "digest_missing", DigestOutcome.STALE: "digest_stale",
                  DigestOutcome.REPLAYED: "digest_replayed"}.get(result.outcome, "digest_bad")
        message = {"digest_missing": "authentication required (HTTP Digest)",
                   "digest_stale": "the nonce has expired: authenticate again",
                   "digest_replayed": "this nonce count was already used (replayed request)"}.get(
            reason, "wrong user name or password")
        response = self._refuse(401, reason, request, message)
        for value in self._digest.challenges(stale=stale):
            response.headers.add("WWW-Authenticate", value)
        return response

    async def _read_body(self, request: web.Request) -> bytes | web.Response:
        if request.content_length is not None and request.content_length > self._max_body:
            return self._refuse(413, "too_large", request, f"body larger than {self._max_body} bytes")
        body = bytearray()
        while chunk := await request.content.read(64 * 1024):
            body += chunk
            if len(body) > self._max_body:
                return self._refuse(413, "too_large", request, f"body larger than {self._max_body} bytes")
        return bytes(body)

    # -- handlers ------------------------------------------------------------------------------------------------

    async def _push(self, request: web.Request) -> web.StreamResponse:
        fmt = request.match_info["format"]
        if fmt not in FORMATS:
            return self._refuse(404, "unknown_format", request, f"unknown format (one of {', '.join(FORMATS)})")
        source = self._source_for(fmt, request.match_info["secret"])
        if source is None:
            return self._refuse(403, "bad_secret", request, "unknown push URL")
        kind = request.match_info.get("kind")
        if kind is not None and (fmt != "dahua" or kind not in ("TollgateInfo", "KeepAlive")):
            return self._refuse(404, "unknown_path", request, "unknown path")
        allow = self._allow[id(source)]
        if allow and not allow.allows(request.remote):
            return self._refuse(403, "address_not_allowed", request, "this address may not push here")
        if (fmt == "hikvision" and source.username is not None and source.password is not None
                and not check_basic(request.headers.get("Authorization"), source.username, source.password)):
            return self._refuse(401, "basic_bad", request, "authentication required (HTTP Basic)",
                                {"WWW-Authenticate": 'Basic realm="anpr", charset="UTF-8"'})
        if fmt == "dahua":
            checked = self._digest_check(request)
            if isinstance(checked, web.Response):
                return checked
            if checked != source.username:
                return self._refuse(401, "digest_bad", request, "wrong user name or password")
        body = await self._read_body(request)
        if isinstance(body, web.Response):
            return body
        if fmt == "dahua":
            return await self._dahua(request, source, body, keepalive=kind == "KeepAlive")
        return await self._deliver(request, source, body)

    async def _dahua_fixed(self, request: web.Request) -> web.StreamResponse:
        checked = self._digest_check(request)
        if isinstance(checked, web.Response):
            return checked
        source = next(s for s in self._sources if s.format == "dahua" and s.username == checked)
        allow = self._allow[id(source)]
        if allow and not allow.allows(request.remote):
            return self._refuse(403, "address_not_allowed", request, "this address may not push here")
        body = await self._read_body(request)
        if isinstance(body, web.Response):
            return body
        return await self._dahua(request, source, body, keepalive=request.path == dahua.KEEPALIVE_PATH)

    async def _dahua(self, request: web.Request, source: PushSource, body: bytes, *,
                     keepalive: bool) -> web.StreamResponse:
        if not keepalive:
            return await self._deliver(request, source, body)
        try:
            alive = dahua.parse_dahua_keepalive(body, camera_id=source.camera_id)
        except AnprFormatError as err:
            return self._refuse(400, "bad_format", request, str(err))
        self.stats["keepalive"] += 1
        if self._on_alive is not None:
            try:
                await self._on_alive("dahua", alive.camera_id)
            except Exception:
                _LOGGER.exception("the camera-alive callback failed")
        return web.json_response(dahua.dahua_reply(True))

    def _parse(self, request: web.Request, source: PushSource, body: bytes) -> list[PlateRead]:
        received_at = datetime.now(UTC)
        if source.format == "hikvision":
            return hikvision.parse_hikvision(body, request.headers.get("Content-Type", ""),
                                             camera_id=source.camera_id, local_tz=self._local_tz,
                                             received_at=received_at)
        if source.format == "dahua":
            return dahua.parse_dahua_tollgate(body, camera_id=source.camera_id, local_tz=self._local_tz,
                                              received_at=received_at)
        return vzenith.parse_vzenith(body, local_tz=self._local_tz, received_at=received_at)

    async def _deliver(self, request: web.Request, source: PushSource, body: bytes) -> web.StreamResponse:
        try:
            reads = self._parse(request, source, body)
        except AnprFormatError as err:
            return self._refuse(400, "bad_format", request, str(err))
        replies: list[BarrierReply] = []
        for read in reads:
            try:
                async with asyncio.timeout(self._callback_timeout):
                    replies.append(await self._on_read(read))
            except Exception:
                # The camera sends it again (it resends what it was not told "ok" for); the barrier stays shut.
                _LOGGER.exception("the plate-read callback failed for camera %s", read.camera_id)
                self.stats["callback_failed"] += 1
                if source.format == "vzenith":
                    return web.json_response(vzenith.vzenith_reply(REFUSE), status=500)
                return web.Response(status=500, text="the hub could not take the read\n")
        self.stats["reads"] += len(reads)
        self.stats["pushes"] += 1
        if source.format == "vzenith":
            return web.json_response(vzenith.vzenith_reply(replies[0] if replies else REFUSE))
        if source.format == "dahua":
            return web.json_response(dahua.dahua_reply(True))
        return web.Response(text="OK\n")

