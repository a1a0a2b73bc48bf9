"""The camera-side barrier of a Hikvision ANPR camera: ``PUT /ISAPI/Parking/channels/<n>/barrierGate``.

The body is ``<BarrierGate><ctrlMode>open</ctrlMode></BarrierGate>`` (also ``close``, ``lock``, ``unlock``), sent
with HTTP Digest (:class:`devices.camera.DigestAuth`). An open is a write that moves something: once the request
has left, a dropped connection or a timeout is :class:`DeviceOutcomeUnknownError` and it is never sent again by
this client (only the unauthenticated first try, which the camera refused with 401, is repeated).
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

import aiohttp

from ..camera import DigestAuth, parse_digest_challenge
from ..exceptions import DeviceConnectionError, DeviceOutcomeUnknownError, DeviceProtocolError, DeviceValueError
from .errors import AnprAuthError

__all__ = ["BarrierMode", "HikvisionBarrier"]

BarrierMode = Literal["open", "close", "lock", "unlock"]
_MODES = ("open", "close", "lock", "unlock")


class HikvisionBarrier:
    """One camera's barrier relay. Takes an injected session and never closes it."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, username: str, password: str, *,
                 channel: int = 1, timeout_s: float = 5.0) -> None:
        if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).hostname:
            raise DeviceValueError("the camera URL must be http(s)://host[:port]")
        if not 1 <= channel <= 64:
            raise DeviceValueError("the barrier channel is 1..64")
        self._session = session
        self._base = base_url.rstrip("/")
        self._digest = DigestAuth(username, password)
        self._channel = channel
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    @property
    def path(self) -> str:
        """The ISAPI path of this barrier."""
        return f"/ISAPI/Parking/channels/{self._channel}/barrierGate"

    async def open(self) -> None:
        """Raise the barrier."""
        await self.control("open")

    async def control(self, mode: BarrierMode) -> None:
        """Send one barrier command; returns when the camera answered ``statusCode`` 1 (OK)."""
        if mode not in _MODES:
            raise DeviceValueError(f"unknown barrier command {mode!r} (one of {', '.join(_MODES)})")
        body = f'<?xml version="1.0" encoding="UTF-8"?><BarrierGate><ctrlMode>{mode}</ctrlMode></BarrierGate>'
        url = self._base + self.path
        for attempt in range(2):
            headers = {"Content-Type": "application/xml"}
            if self._digest.has_challenge:
                headers["Authorization"] = self._digest.authorization("PUT", self.path)
            try:
                async with self._session.put(url, data=body.encode(), headers=headers,
                                             timeout=self._timeout) as resp:
                    text = await resp.text(errors="replace")
                    if resp.status == 401:
                        challenges = resp.headers.getall("WWW-Authenticate", [])
                        stale = any((parse_digest_challenge(c) or {}).get("stale", "").lower() == "true"
                                    for c in challenges)
                        # A 401 means the command was not carried out: it is safe to send it once more with
                        # credentials (first try, or a stale nonce), never a third time.
                        if attempt == 0 and any(self._digest.update_challenge(c) for c in challenges) and (
                                not self._digest_was_used(headers) or stale):
                            continue
                        self._digest.reset()
                        raise AnprAuthError(f"camera {self._base} refused the credentials")
                    if resp.status == 403:
                        raise AnprAuthError(f"camera {self._base} forbids barrier control (HTTP 403)")
                    if resp.status != 200:
                        raise DeviceProtocolError(f"camera {self._base} answered HTTP {resp.status}: "
                                                  f"{_sub_status(text) or 'no status'}")
                    code = re.search(r"<statusCode>\s*(\d+)\s*</statusCode>", text)
                    if code is not None and code.group(1) != "1":
                        raise DeviceProtocolError(f"camera {self._base} refused the command: {_sub_status(text)}")
                    return
            except TimeoutError as err:
                raise DeviceOutcomeUnknownError(f"camera {self._base} did not answer the barrier command") from err
            except aiohttp.ClientConnectorError as err:
                raise DeviceConnectionError(f"camera {self._base}: {err}") from err
            except aiohttp.ClientError as err:
                raise DeviceOutcomeUnknownError(f"camera {self._base}: connection lost after the barrier "
                                                f"command was sent ({err})") from err
        raise AnprAuthError(f"camera {self._base} refused the credentials")

    @staticmethod
    def _digest_was_used(headers: dict[str, str]) -> bool:
        return "Authorization" in headers


def _sub_status(text: str) -> str:
    found = re.search(r"<subStatusCode>\s*([^<]*)</subStatusCode>", text) or re.search(
        r"<statusString>\s*([^<]*)</statusString>", text)
    return found.group(1).strip() if found else ""
