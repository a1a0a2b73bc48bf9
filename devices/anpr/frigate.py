"""Frigate 0.16+ licence-plate recognition over MQTT: the ``lpr`` updates on ``frigate/tracked_object_update``.

:func:`parse_frigate` turns one message into reads (none for the other update types: ``description``, ``face``);
:class:`FrigateLprSubscriber` subscribes with aiomqtt, hands every read to a callback and reconnects by itself.
Frigate's tracked-object ``id`` is the record id: a second update for the same object is a resend, the same car
tracked again is a new id (so the hub sees every pass, repeats included).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiomqtt

from . import _common as c
from .errors import AnprFormatError
from .models import PlateColor, PlateRead

__all__ = ["FrigateConfig", "FrigateLprSubscriber", "parse_frigate"]

_LOGGER = logging.getLogger(__name__)

FORMAT = "frigate"
TOPIC = "tracked_object_update"


def parse_frigate(payload: bytes | str | dict[str, Any], *, received_at: datetime | None = None) -> list[PlateRead]:
    """The read in one ``tracked_object_update`` message; none unless ``type`` is ``lpr``."""
    if isinstance(payload, dict):
        obj: Any = payload
    else:
        try:
            obj = json.loads(payload)
        except (UnicodeDecodeError, ValueError) as err:
            raise AnprFormatError(f"frigate: the message is not JSON ({err})") from None
    if not isinstance(obj, dict):
        raise AnprFormatError("frigate: the message is not a JSON object")
    if (c.text(obj.get("type")) or "").lower() != "lpr":
        return []
    if c.text(obj.get("id")) is None:
        raise AnprFormatError("frigate: an lpr update without the tracked object's id")
    seen_at = c.epoch_time(obj.get("timestamp")) or received_at or datetime.now(UTC)
    return [c.make_read(
        fmt=FORMAT,
        camera_id=c.text(obj.get("camera")) or "",
        record_id=c.text(obj.get("id")),
        raw_plate=obj.get("plate"),
        color=PlateColor.OTHER,  # Frigate does not read the colour
        seen_at=seen_at,
        confidence=c.confidence(obj.get("score"), scale=1.0),
    )]


@dataclass(frozen=True, kw_only=True)
class FrigateConfig:
    """Which broker Frigate publishes to. ``broker_url`` is ``mqtt://host[:1883]`` or ``mqtts://host[:8883]``."""

    broker_url: str
    topic_prefix: str = "frigate"
    username: str | None = None
    password: str | None = None
    ca_file: str | Path | None = None
    client_cert: str | Path | None = None
    client_key: str | Path | None = None
    client_id: str | None = None
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 30.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.broker_url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise AnprFormatError("the Frigate broker URL must be mqtt://host[:port] or mqtts://host[:port]")
        if (self.client_cert is None) != (self.client_key is None):
            raise AnprFormatError("a client certificate needs its key, and a key its certificate")
        prefix = self.topic_prefix.strip("/")
        if not prefix or "+" in prefix or "#" in prefix:
            raise AnprFormatError("the Frigate topic prefix must be a plain topic (no wildcard)")

    @property
    def topic(self) -> str:
        """The topic subscribed to."""
        return f"{self.topic_prefix.strip('/')}/{TOPIC}"

    def ssl_context(self) -> ssl.SSLContext | None:
        """A verifying TLS context for ``mqtts://`` (the CA file or the system store), else ``None``."""
        if urlsplit(self.broker_url).scheme != "mqtts":
            return None
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file is not None else None)
        if self.client_cert is not None and self.client_key is not None:
            context.load_cert_chain(str(self.client_cert), str(self.client_key))
        return context


class FrigateLprSubscriber:
    """Subscribes to Frigate's tracked-object updates and calls ``on_read`` for every plate read, in order.

    Runs as one task: connection lost, it logs once, waits (1 s doubling to 30 s) and connects again; the
    recovery is logged once too. A message that does not parse is logged (without its content: it holds a plate)
    and skipped. A failing callback is logged and does not stop the subscription.
    """

    def __init__(self, config: FrigateConfig, on_read: Callable[[PlateRead], Awaitable[object]]) -> None:
        self._config = config
        self._on_read = on_read
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self.reads = 0
        self.bad_messages = 0
        self.connections = 0

    @property
    def connected(self) -> bool:
        """Whether the subscription is up."""
        return self._connected.is_set()

    async def wait_connected(self, timeout_s: float = 10.0) -> None:
        """Until subscribed (``TimeoutError`` after ``timeout_s``)."""
        async with asyncio.timeout(timeout_s):
            await self._connected.wait()

    def start(self) -> None:
        """Start the subscription task (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="frigate-lpr")

    async def stop(self) -> None:
        """Unsubscribe and disconnect."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._connected.clear()

    async def _run(self) -> None:
        cfg = self._config
        parts = urlsplit(cfg.broker_url)
        tls = cfg.ssl_context()
        port = parts.port or (8883 if tls is not None else 1883)
        delay = cfg.reconnect_min_s
        lost_logged = False
        while True:
            try:
                async with aiomqtt.Client(parts.hostname or "", port, username=cfg.username, password=cfg.password,
                                          tls_context=tls, identifier=cfg.client_id, timeout=10) as client:
                    await client.subscribe(cfg.topic, qos=1)
                    self.connections += 1
                    self._connected.set()
                    if lost_logged:
                        _LOGGER.info("Frigate broker %s:%s reachable again", parts.hostname, port)
                        lost_logged = False
                    delay = cfg.reconnect_min_s
                    async for message in client.messages:
                        await self._handle(message.payload)
            except aiomqtt.MqttError as err:
                self._connected.clear()
                if not lost_logged:
                    _LOGGER.warning("Frigate broker %s:%s unreachable (%s); retrying", parts.hostname, port, err)
                    lost_logged = True
            await asyncio.sleep(delay)
            delay = min(cfg.reconnect_max_s, delay * 2)

    async def _handle(self, payload: Any) -> None:
        try:
            raw = bytes(payload) if isinstance(payload, bytes | bytearray) else str(payload)
            reads = parse_frigate(raw)
        except AnprFormatError as err:
            self.bad_messages += 1
            _LOGGER.warning("skipped a Frigate message that does not parse: %s", str(err).split("(", 1)[0])
            return
        for read in reads:
            self.reads += 1
            try:
                await self._on_read(read)
            except Exception:
                _LOGGER.exception("the plate-read callback failed for camera %s", read.camera_id)
