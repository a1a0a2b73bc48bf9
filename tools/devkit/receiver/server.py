"""The reference receiver (county side of the JSON profile): verify, de-duplicate, store, list.

Start it in-process with :class:`ReferenceReceiver` (port 0 picks a free port) or from the command line with
``community-hub receiver``.

A ``POST /api/v1/events`` is checked in this order, and refused at the first failure: the signature headers are
present and well formed, ``X-Hub-Id`` is a hub this receiver knows, the timestamp is inside the window, the nonce
was not seen; only then is the body read, at most ``max_body_bytes`` of it (``413`` beyond, or at once when
``Content-Length`` says so), and its HMAC checked with that hub's own secret. A refusal before the body answers
and closes the connection without reading the body (also for ``Expect: 100-continue``: no ``100 Continue`` is
sent then). The read API (``GET /api/v1/events``, ``GET /api/v1/stats``) needs ``Authorization: Bearer TOKEN``;
without a configured token it is off (``404 read_api_disabled``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import ssl
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.web_urldispatcher import _default_expect_handler

from hub.uplink.secret import Secret
from hub.uplink.signing import (
    HEADER_HUB,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    MAX_SKEW_S,
    SIGNATURE_PREFIX,
    check_signature,
)

from ..serving import error_response, page_query, read_denied
from .hubs import HubSecrets
from .store import IngestResult, ReceiverStore, ReplayedNonceError

_LOGGER = logging.getLogger(__name__)
# A hub sends at most its batch size per request (200 events by default, 500 in `bench uplink`); an event with
# every default field is well under 1 KiB, so 1 MiB leaves several times the headroom a real batch needs.
MAX_BODY_BYTES = 1024 * 1024
_SIGNATURE_RE = re.compile(re.escape(SIGNATURE_PREFIX) + "[0-9a-f]{64}")


class _RefusedError(Exception):
    """A request refused with ``status`` and the error code ``code``."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code


class ReferenceReceiver:
    """An aiohttp server on ``host`` (loopback by default) storing into the SQLite file ``db_path``.

    ``hubs`` maps each hub id to that hub's own secret (more can be added with :meth:`add_hub`); ``read_token``
    opens the read API to callers presenting it (none: the read API is off).
    """

    def __init__(self, db_path: str | Path, hubs: Mapping[str, Secret], *, read_token: Secret | None = None,
                 host: str = "127.0.0.1", port: int = 0, ssl_context: ssl.SSLContext | None = None,
                 max_skew_s: int = MAX_SKEW_S, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        if isinstance(hubs, Secret):
            raise TypeError("hubs maps each hub id to its own secret; there is no secret shared by all hubs")
        if max_body_bytes < 1:
            raise ValueError("max_body_bytes must be positive")
        self._hubs = HubSecrets(hubs)
        self._read_token = read_token
        self._db_path = db_path
        self._host = host
        self._port = port
        self._ssl = ssl_context
        self._max_skew = max_skew_s
        self._max_body = max_body_bytes
        self._runner: web.AppRunner | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._store: ReceiverStore | None = None
        self.port = 0

    def __repr__(self) -> str:
        return (f"ReferenceReceiver(db={str(self._db_path)!r}, host={self._host!r}, port={self.port}, "
                f"hubs={len(self._hubs)})")

    @property
    def url(self) -> str:
        """Base URL of the running receiver."""
        return f"{'https' if self._ssl else 'http'}://{self._host}:{self.port}"

    @property
    def hub_ids(self) -> frozenset[str]:
        """The hubs this receiver accepts requests from."""
        return frozenset(self._hubs)

    def add_hub(self, hub_id: str, secret: Secret) -> None:
        """Accept ``hub_id``, signing with ``secret`` (its own: a secret another hub has is refused)."""
        self._hubs.add(hub_id, secret)

    def remove_hub(self, hub_id: str) -> None:
        """Stop accepting ``hub_id``; its requests get ``401 unknown_hub`` from now on."""
        self._hubs.remove(hub_id)

    async def start(self) -> int:
        """Open the store, bind and return the port."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="receiver-db")
        self._store = await self._db(ReceiverStore, self._db_path)
        app = web.Application(client_max_size=self._max_body)
        app.router.add_post("/api/v1/events", self._post_events, expect_handler=self._expect_events)
        app.router.add_get("/api/v1/events", self._get_events)
        app.router.add_get("/api/v1/stats", self._get_stats)
        app.router.add_get("/api/v1/health", self._health)
        # lingering_time=0: a request refused before its body is answered and its connection closed, instead of
        # aiohttp reading (and dropping) up to 10 s of the unread body.
        self._runner = web.AppRunner(app, access_log=None, lingering_time=0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port, ssl_context=self._ssl)
        await site.start()
        server = site._server  # aiohttp exposes the bound port only through the asyncio server
        assert isinstance(server, asyncio.Server)
        self.port = int(server.sockets[0].getsockname()[1])
        _LOGGER.info("reference receiver listening on %s", self.url)
        return self.port

    async def stop(self) -> None:
        """Stop serving and close the store."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._executor is not None:
            if self._store is not None:
                await self._db(self._store.close)
                self._store = None
            self._executor.shutdown(wait=True)
            self._executor = None

    async def _db(self, func: Any, *args: Any) -> Any:
        assert self._executor is not None
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    async def _expect_events(self, request: web.Request) -> web.StreamResponse | None:
        """``Expect: 100-continue``: the headers are checked before the client is asked for the body."""
        try:
            await self._check_headers(request)
        except _RefusedError as refused:
            return await self._refuse(refused)
        await _default_expect_handler(request)
        return None

    async def _post_events(self, request: web.Request) -> web.StreamResponse:
        try:
            secret = await self._check_headers(request)
            body = await self._read_body(request)
            if not check_signature(secret, request.method, request.raw_path, request.headers, body):
                raise _RefusedError(401, "bad_signature")
        except _RefusedError as refused:
            return await self._refuse(refused)
        hub_id = request.headers[HEADER_HUB]
        try:
            data = json.loads(body)
            events = data["events"]
            claimed = data["hub_id"]
            if not isinstance(events, list) or not isinstance(claimed, str):
                raise ValueError("bad shape")
        except (ValueError, KeyError, TypeError):
            return error_response(400, "invalid_body")
        if claimed != hub_id:
            # Signed by the hub of X-Hub-Id, claiming to be another hub: nothing is stored.
            return await self._refuse(_RefusedError(401, "hub_mismatch"))
        try:
            result: IngestResult = await self._db(self._store_or_fail().ingest, hub_id,
                                                  request.headers[HEADER_NONCE], events)
        except ReplayedNonceError:
            return await self._refuse(_RefusedError(409, "replayed_nonce"))
        return web.json_response({"accepted": result.accepted, "duplicates": result.duplicates,
                                  "rejected": result.rejected})

    async def _check_headers(self, request: web.Request) -> Secret:
        """Everything that can be checked without the body; returns the secret of the request's hub."""
        headers = request.headers
        if not all(headers.get(h) for h in (HEADER_HUB, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)):
            raise _RefusedError(401, "missing_signature")
        secret = self._hubs.get(headers[HEADER_HUB])
        if secret is None:
            raise _RefusedError(401, "unknown_hub")
        try:
            timestamp = int(headers[HEADER_TIMESTAMP])
        except ValueError:
            raise _RefusedError(401, "stale_timestamp") from None
        if abs(time.time() - timestamp) > self._max_skew:
            raise _RefusedError(401, "stale_timestamp")
        nonce = headers[HEADER_NONCE]
        if not 16 <= len(nonce) <= 128:
            raise _RefusedError(401, "bad_nonce")
        if not _SIGNATURE_RE.fullmatch(headers[HEADER_SIGNATURE]):
            raise _RefusedError(401, "bad_signature")
        if await self._db(self._store_or_fail().nonce_seen, nonce):
            raise _RefusedError(409, "replayed_nonce")
        declared = request.content_length
        if declared is not None and declared > self._max_body:
            raise _RefusedError(413, "body_too_large")
        return secret

    async def _read_body(self, request: web.Request) -> bytes:
        """The body, refused with 413 as soon as more than ``max_body_bytes`` arrived (chunked bodies too)."""
        body = bytearray()
        try:
            while chunk := await request.content.readany():
                body += chunk
                if len(body) > self._max_body:
                    raise _RefusedError(413, "body_too_large")
        except ConnectionResetError:  # the client went away mid-body: no one reads the answer
            raise _RefusedError(400, "incomplete_body") from None
        return bytes(body)

    async def _refuse(self, refused: _RefusedError) -> web.Response:
        await self._db(self._store_or_fail().count_rejected_request)
        response = error_response(refused.status, refused.code)
        response.force_close()  # the connection ends with the answer: the rest of a body is never read
        return response

    async def _get_events(self, request: web.Request) -> web.Response:
        if (denied := read_denied(request, self._read_token, "reference receiver")) is not None:
            return denied
        try:
            after, limit = page_query(request)
        except ValueError:
            return error_response(400, "invalid_query")
        events = await self._db(self._store_or_fail().list_events, after, limit)
        next_after = events[-1]["pos"] if events else after
        return web.json_response({"events": events, "next_after": next_after})

    async def _get_stats(self, request: web.Request) -> web.Response:
        if (denied := read_denied(request, self._read_token, "reference receiver")) is not None:
            return denied
        return web.json_response(await self._db(self._store_or_fail().stats))

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    def _store_or_fail(self) -> ReceiverStore:
        if self._store is None:
            raise web.HTTPServiceUnavailable()
        return self._store


