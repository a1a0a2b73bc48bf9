"""A small client of the reference receiver's read API (for the demo, the benchmark and tests).

Every call presents the receiver's read token (``Authorization: Bearer ...``); a wrong one raises
:class:`aiohttp.ClientResponseError` (401), and so does a receiver whose read API is off (404).
"""

from __future__ import annotations

from typing import Any

import aiohttp

from hub.uplink.secret import Secret


def _auth(read_token: Secret) -> dict[str, str]:
    return {"Authorization": f"Bearer {read_token.reveal().decode()}"}


async def fetch_received(base_url: str, read_token: Secret, *, session: aiohttp.ClientSession | None = None,
                         page: int = 1000) -> list[dict[str, Any]]:
    """Every event the receiver stored, in arrival order (pages through ``GET /api/v1/events``)."""
    own = session is None
    http = session or aiohttp.ClientSession()
    out: list[dict[str, Any]] = []
    after = 0
    try:
        while True:
            async with http.get(f"{base_url}/api/v1/events", params={"after": after, "limit": page},
                                headers=_auth(read_token)) as response:
                response.raise_for_status()
                data = await response.json()
            if not data["events"]:
                return out
            out.extend(data["events"])
            after = int(data["next_after"])
    finally:
        if own:
            await http.close()


async def fetch_stats(base_url: str, read_token: Secret, *,
                      session: aiohttp.ClientSession | None = None) -> dict[str, int]:
    """The receiver's counters (events, duplicates, rejected_requests)."""
    own = session is None
    http = session or aiohttp.ClientSession()
    try:
        async with http.get(f"{base_url}/api/v1/stats", headers=_auth(read_token)) as response:
            response.raise_for_status()
            result: dict[str, int] = await response.json()
            return result
    finally:
        if own:
            await http.close()
