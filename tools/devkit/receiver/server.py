"""The reference receiver (county side of the JSON profile): verify, de-duplicate, store, list.

Start it in-process with :class:`ReferenceReceiver` (port 0 picks a free port) or from the command line with
``community-hub receiver``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aiohttp import web

from hub.uplink.secret import Secret
from hub.uplink.signing import HEADER_HUB, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, MAX_SKEW_S, check_signature

from .store import IngestResult, ReceiverStore, ReplayedNonceError

_LOGGER = logging.getLogger(__name__)
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_LIST_LIMIT = 1000


class ReferenceReceiver:
    """An aiohttp server on ``host`` (loopback by default) storing into the SQLite file ``db_path``."""

    def __init__(self, db_path: str | Path, secret: Secret, *, host: str = "127.0.0.1", port: int = 0,
                 ssl_context: ssl.SSLContext | None = None, max_skew_s: int = MAX_SKEW_S) -> None:
        self._db_path = db_path
        self._secret = secret
        self._host = host
        self._port = port
        self._ssl = ssl_context
        self._max_skew = max_skew_s
        self._runner: web.AppRunner | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._store: ReceiverStore | None = None
        self.port = 0

    def __repr__(self) -> str:
        return f"ReferenceReceiver(db={str(self._db_path)!r}, host={self._host!r}, port={self.port})"

    @property
    def url(self) -> str:
        """Base URL of the running receiver."""
        return f"{'https' if self._ssl else 'http'}://{self._host}:{self.port}"

    async def start(self) -> int:
        """Open the store, bind and return the port."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="receiver-db")
        self._store = await self._db(ReceiverStore, self._db_path)
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post("/api/v1/events", self._post_events)
        app.router.add_get("/api/v1/events", self._get_events)
        app.router.add_get("/api/v1/stats", self._get_stats)
        app.router.add_get("/api/v1/health", self._health)
        self._runner = web.AppRunner(app, access_log=None)
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

    async def _post_events(self, request: web.Request) -> web.Response:
        body = await request.read()
        problem = self._authenticate(request, body)
        if problem is not None:
            await self._db(self._store_or_fail().count_rejected_request)
            return _error(401, problem)
        try:
            data = json.loads(body)
            events = data["events"]
            hub_id = str(data["hub_id"])
            if not isinstance(events, list) or hub_id != request.headers[HEADER_HUB]:
                raise ValueError("bad shape")
        except (ValueError, KeyError, TypeError):
            return _error(400, "invalid_body")
        try:
            result: IngestResult = await self._db(self._store_or_fail().ingest, hub_id,
                                                  request.headers[HEADER_NONCE], events)
        except ReplayedNonceError:
            await self._db(self._store_or_fail().count_rejected_request)
            return _error(409, "replayed_nonce")
        return web.json_response({"accepted": result.accepted, "duplicates": result.duplicates,
                                  "rejected": result.rejected})

    def _authenticate(self, request: web.Request, body: bytes) -> str | None:
        headers = request.headers
        if not all(headers.get(h) for h in (HEADER_HUB, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)):
            return "missing_signature"
        try:
            timestamp = int(headers[HEADER_TIMESTAMP])
        except ValueError:
            return "stale_timestamp"
        if abs(time.time() - timestamp) > self._max_skew:
            return "stale_timestamp"
        if not 16 <= len(headers[HEADER_NONCE]) <= 128:
            return "bad_nonce"
        if not check_signature(self._secret, request.method, request.raw_path, headers, body):
            return "bad_signature"
        return None

    async def _get_events(self, request: web.Request) -> web.Response:
        try:
            after = int(request.query.get("after", "0"))
            limit = max(1, min(MAX_LIST_LIMIT, int(request.query.get("limit", "100"))))
        except ValueError:
            return _error(400, "invalid_query")
        events = await self._db(self._store_or_fail().list_events, after, limit)
        next_after = events[-1]["pos"] if events else after
        return web.json_response({"events": events, "next_after": next_after})

    async def _get_stats(self, request: web.Request) -> web.Response:
        return web.json_response(await self._db(self._store_or_fail().stats))

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    def _store_or_fail(self) -> ReceiverStore:
        if self._store is None:
            raise web.HTTPServiceUnavailable()
        return self._store


def _error(status: int, code: str) -> web.Response:
    return web.json_response({"error": code}, status=status)
