"""The JSON profile's client: POST signed, ordered batches to ``/api/v1/events`` (see docs/uplink-protocol.md)."""

from __future__ import annotations

import json
import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from hub.exceptions import InvalidInputError

from .errors import RejectedError, TransientUplinkError
from .secret import Secret
from .signing import sign_headers
from .tls import client_ssl_context
from .transport import BatchResult, OutgoingEvent

EVENTS_PATH = "/api/v1/events"
PROTOCOL_VERSION = 1


def batch_body(hub_id: str, batch: Sequence[OutgoingEvent]) -> bytes:
    """The request body of one batch."""
    events = [
        {"id": item.event.uuid, "seq": item.event.seq, "hub_id": item.event.hub_id, **item.fields} for item in batch
    ]
    return json.dumps({"version": PROTOCOL_VERSION, "hub_id": hub_id, "events": events},
                      separators=(",", ":"), ensure_ascii=False, default=str).encode()


class JsonUplinkClient:
    """Sends batches to one receiver. Takes an injected session (Home Assistant's) and closes only its own."""

    def __init__(
        self,
        base_url: str,
        hub_id: str,
        secret: Secret,
        *,
        session: aiohttp.ClientSession | None = None,
        ca_file: str | Path | None = None,
        timeout_s: float = 15.0,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInputError("the receiver URL must be http:// or https:// with a host")
        self._url = base_url.rstrip("/") + EVENTS_PATH
        self._path = urlsplit(self._url).path
        self._hub_id = hub_id
        self._secret = secret
        self._session = session
        self._own_session = session is None
        self._ssl: ssl.SSLContext | bool = client_ssl_context(ca_file) if parts.scheme == "https" else False
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    def __repr__(self) -> str:
        return f"JsonUplinkClient(url={self._url!r}, hub_id={self._hub_id!r})"

    async def start(self) -> None:
        """Create a session when none was injected."""
        if self._session is None:
            self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        """Close the session only when this client made it."""
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, batch: Sequence[OutgoingEvent]) -> BatchResult:
        """POST one batch; map the acknowledgement to event UUIDs."""
        await self.start()
        assert self._session is not None
        body = batch_body(self._hub_id, batch)
        headers = {"Content-Type": "application/json", **sign_headers(self._secret, self._hub_id, "POST",
                                                                      self._path, body)}
        try:
            async with self._session.post(self._url, data=body, headers=headers, ssl=self._ssl,
                                          timeout=self._timeout) as response:
                text = await response.text()
                status = response.status
        except aiohttp.ClientConnectorCertificateError as err:
            raise RejectedError(f"receiver certificate not trusted: {err.certificate_error}") from err
        except aiohttp.ClientSSLError as err:
            raise RejectedError(f"TLS failure: {err}") from err
        except (aiohttp.ClientError, TimeoutError) as err:
            raise TransientUplinkError(f"receiver unreachable: {type(err).__name__}: {err}") from err
        if status >= 500 or status == 429:
            raise TransientUplinkError(f"receiver answered HTTP {status}")
        if status != 200:
            raise RejectedError(f"receiver refused the batch: HTTP {status} {_error_code(text)}", status=status)
        return _parse_ack(text, {item.event.uuid for item in batch})


def _error_code(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return text[:100]
    return str(data.get("error", "")) if isinstance(data, dict) else ""


def _parse_ack(text: str, sent: set[str]) -> BatchResult:
    try:
        data: Any = json.loads(text)
        accepted = [str(x) for x in data.get("accepted", [])]
        duplicates = [str(x) for x in data.get("duplicates", [])]
        refused = {str(r["id"]): str(r.get("reason", "refused")) for r in data.get("rejected", [])}
    except (ValueError, AttributeError, KeyError, TypeError) as err:
        raise TransientUplinkError("receiver sent an unreadable acknowledgement") from err
    # Only ids we actually sent count: a confused receiver must not mark unrelated rows as sent.
    return BatchResult(acknowledged=frozenset((set(accepted) | set(duplicates)) & sent),
                       refused={k: v for k, v in refused.items() if k in sent})
