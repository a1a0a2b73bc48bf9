"""What the devkit's long-running commands share: for the county-side servers (the JSON profile's reference receiver,
the MQTT profile's consumer) their configuration's hubs file and read token and the read API's bearer-token check
and paging; for every server and simulator, running until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import signal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the commands import this module to parse their arguments: nothing heavy at import
    from aiohttp import web

    from hub.uplink.secret import Secret

    from .receiver.hubs import HubSecrets

MAX_LIST_LIMIT = 1000


def error_response(status: int, code: str) -> web.Response:
    """The read API's error body: ``{"error": code}``."""
    from aiohttp import web

    return web.json_response({"error": code}, status=status)


def read_denied(request: web.Request, token: Secret | None, realm: str) -> web.Response | None:
    """None when the request carries the read token; else the answer (404 with the read API off, or 401)."""
    from aiohttp import hdrs

    if token is None:
        return error_response(404, "read_api_disabled")
    scheme, _, given = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    # Digests of equal length, compared in constant time: neither the token nor its length leaks.
    expected = hashlib.sha256(token.reveal()).digest()
    offered = hashlib.sha256(given.strip().encode()).digest()
    if scheme.lower() != "bearer" or not hmac.compare_digest(offered, expected):
        response = error_response(401, "unauthorized")
        response.headers[hdrs.WWW_AUTHENTICATE] = f'Bearer realm="{realm}"'
        return response
    return None


def page_query(request: web.Request) -> tuple[int, int]:
    """``after`` and ``limit`` (1..MAX_LIST_LIMIT, default 100) of a listing; ValueError when not numbers."""
    after = int(request.query.get("after", "0"))
    limit = max(1, min(MAX_LIST_LIMIT, int(request.query.get("limit", "100"))))
    return after, limit


async def until_signalled() -> None:
    """Return on SIGINT or SIGTERM (a service manager's stop, or Ctrl-C)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


class UsageError(Exception):
    """Bad or missing configuration of a county-side command: printed, exit code 2, nothing started or created."""


def load_hubs(path: str) -> HubSecrets:
    """The hubs file (``community-hub receiver --hubs-file`` format), or a UsageError saying what is wrong."""
    from hub.exceptions import InvalidInputError

    from .receiver.hubs import load_hubs_file

    try:
        return load_hubs_file(path)
    except OSError as err:
        raise UsageError(f"cannot read the hubs file {path}: {err.strerror or err}") from None
    except InvalidInputError as err:
        raise UsageError(f"bad hubs file: {err}") from None


def load_read_token(path: str | None, env: str) -> Secret | None:
    """The read API's token from ``path`` or the environment variable ``env`` (None: the read API is off)."""
    from hub.exceptions import InvalidInputError
    from hub.uplink.secret import Secret

    try:
        return Secret.from_file(path) if path else Secret.from_env(env)
    except OSError as err:
        raise UsageError(f"cannot read the read-token file {path}: {err.strerror or err}") from None
    except InvalidInputError as err:
        raise UsageError(f"cannot use the read token: {err}") from None
