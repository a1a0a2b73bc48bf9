"""The county consumer of the MQTT profile: verify, store once, COMMIT, then acknowledge; a read API.

It subscribes to every hub's events (``$share/<group>/<root>/+/events/#`` where the broker has shared
subscriptions, so several consumers split the load; a plain subscription otherwise) and their retained status.
For each message it takes the hub's id from the topic (``<root>/<hub_id>/events/<group>``), checks the signature
with that hub's own secret (:func:`hub.uplink.signing.check_mqtt_signature`), requires the payload's ``id`` to be
the message's ``event-id`` and its ``hub_id`` to be the topic's, and stores the event once (its id is the unique
key: a replay, however old, is a counted duplicate). The acknowledgement, on ``<root>/<hub_id>/ack`` and signed
with the hub's secret, is published only after the transaction holding those events has committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiomqtt
from aiohttp import web
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hub.uplink.backoff import Backoff
from hub.uplink.mqtt_client import DEFAULT_SESSION_EXPIRY_S, close_mqtt_client, open_mqtt_client, user_properties
from hub.uplink.secret import Secret
from hub.uplink.signing import (
    MQTT_ACK_EVENT_ID,
    MQTT_PROPERTY_EVENT_ID,
    MQTT_PROPERTY_SIGNATURE,
    check_mqtt_signature,
    mqtt_signature,
)
from hub.uplink.tls import client_ssl_context

from ..serving import MAX_LIST_LIMIT, error_response, page_query, read_denied
from .store import CountyStore, Delivery

_LOGGER = logging.getLogger(__name__)
DEFAULT_ROOT = "county/+/community"


@dataclass(frozen=True, kw_only=True)
class ConsumerConfig:
    """The broker, the hubs (each with its own secret), where events are stored (``db_path``: a SQLite file or a
    ``postgresql://`` URL, see :class:`CountyStore`), the read API."""

    broker_url: str
    hubs: Mapping[str, Secret]
    db_path: str | Path
    topic_root: str = DEFAULT_ROOT
    share_group: str | None = "county"
    client_id: str = "county-consumer"
    ca_file: str | Path | None = None
    client_cert: str | Path | None = None
    client_key: str | Path | None = None
    session_expiry_s: int = DEFAULT_SESSION_EXPIRY_S
    read_token: Secret | None = None
    http_host: str = "127.0.0.1"
    http_port: int | None = None
    max_batch: int = 500


@dataclass(frozen=True, kw_only=True)
class _Verdict:
    prefix: str
    hub_id: str
    event_id: str
    delivery: Delivery | None = None
    reason: str | None = None


class CountyConsumer:
    """Run with :meth:`start` / :meth:`stop`; :meth:`wait_ready` returns once subscribed."""

    def __init__(self, config: ConsumerConfig) -> None:
        self.config = config
        self._root_levels = len(config.topic_root.strip("/").split("/"))
        self._store: CountyStore | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.http_port: int | None = None
        self.messages = 0

    def __repr__(self) -> str:
        return f"CountyConsumer(broker={urlsplit(self.config.broker_url).netloc!r}, hubs={len(self.config.hubs)})"

    async def start(self) -> None:
        """Open the store, start consuming (reconnecting on its own) and the read API when a port is given."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="county-db")
        try:
            self._store = await self._db(CountyStore, self.config.db_path)
        except BaseException:
            self._executor.shutdown(wait=True)
            self._executor = None
            raise
        self._task = asyncio.get_running_loop().create_task(self._run(), name="county-consumer")
        if self.config.http_port is not None:
            app = web.Application()
            app.router.add_get("/api/v1/events", self._get_events)
            app.router.add_get("/api/v1/stats", self._get_stats)
            app.router.add_get("/api/v1/health", self._health)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.config.http_host, self.config.http_port)
            await site.start()
            server = site._server
            sockets = getattr(server, "sockets", None) or []
            self.http_port = int(sockets[0].getsockname()[1]) if sockets else self.config.http_port

    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until the consumer is connected and subscribed."""
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def stop(self) -> None:
        """Disconnect (the broker keeps the session and queues for it), stop the read API, close the store."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._store is not None:
            await self._db(self._store.close)
            self._store = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def stats(self) -> dict[str, Any]:
        """Events stored, duplicate deliveries, rejected messages, hubs' status."""
        assert self._store is not None
        stats: dict[str, Any] = await self._db(self._store.stats)
        return stats

    async def events(self, after: int = 0, limit: int = MAX_LIST_LIMIT) -> list[dict[str, Any]]:
        """Stored events in arrival order."""
        assert self._store is not None
        events: list[dict[str, Any]] = await self._db(self._store.list_events, after, limit)
        return events

    async def _db(self, func: Any, *args: Any) -> Any:
        assert self._executor is not None
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    def _client(self) -> aiomqtt.Client:
        config = self.config
        parts = urlsplit(config.broker_url)
        tls = parts.scheme == "mqtts"
        context: ssl.SSLContext | None = None
        if tls:
            context = client_ssl_context(config.ca_file)
            if config.client_cert is not None:
                context.load_cert_chain(str(config.client_cert), str(config.client_key or config.client_cert))
        connect = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        connect.SessionExpiryInterval = config.session_expiry_s
        client = aiomqtt.Client(parts.hostname or "", parts.port or (8883 if tls else 1883),
                                identifier=config.client_id, protocol=aiomqtt.ProtocolVersion.V5,
                                clean_start=False, properties=connect, tls_context=context, keepalive=30,
                                logger=_LOGGER, max_inflight_messages=1000)
        client.pending_calls_threshold = 1 << 30
        return client

    async def _run(self) -> None:
        root = self.config.topic_root.strip("/")
        events = f"{root}/+/events/#"
        if self.config.share_group:
            events = f"$share/{self.config.share_group}/{events}"
        backoff = Backoff(base_s=0.2, cap_s=5.0)
        while True:
            client = self._client()
            try:
                # Not ``async with client``: stopped while the broker has not answered the CONNECT yet, that would
                # leave the half-open connection behind (its socket, its loop reader, its keepalive task).
                await open_mqtt_client(client)
                try:
                    await client.subscribe([(events, 1), (f"{root}/+/status", 1)])
                    backoff.reset()
                    self._ready.set()
                    _LOGGER.info("county consumer subscribed to %s", events)
                    messages = client.messages
                    while True:
                        batch = [await anext(messages)]
                        while len(messages) and len(batch) < self.config.max_batch:
                            batch.append(await anext(messages))
                        await self._handle(client, batch)
                finally:
                    self._ready.clear()
                    try:
                        await client.__aexit__(None, None, None)
                    finally:
                        await close_mqtt_client(client)
            except Exception as err:  # a broken connection or a failed store: reconnect, never stop
                if isinstance(err, aiomqtt.MqttError):
                    _LOGGER.info("county consumer disconnected: %s", err)
                else:
                    # What was not committed was not acknowledged either: the hubs send it again.
                    _LOGGER.exception("county consumer failed; reconnecting")
                await asyncio.sleep(backoff.next_delay())

    async def _handle(self, client: aiomqtt.Client, batch: Sequence[aiomqtt.Message]) -> None:
        assert self._store is not None
        self.messages += len(batch)
        verdicts: list[_Verdict] = []
        unanswerable = 0
        for message in batch:
            topic = message.topic.value
            levels = topic.split("/")
            payload = message.payload if isinstance(message.payload, bytes) else b""
            if len(levels) == self._root_levels + 2 and levels[-1] == "status":
                if levels[-2] in self.config.hubs:
                    await self._db(self._store.hub_status, levels[-2], payload.decode(errors="replace")[:32])
                continue
            verdict = self._verify(topic, levels, payload, message.properties)
            if verdict is None:
                unanswerable += 1
            else:
                verdicts.append(verdict)
        deliveries = [v.delivery for v in verdicts if v.delivery is not None]
        rejected = sum(1 for v in verdicts if v.delivery is None) + unanswerable
        # The COMMIT happens inside store(): only then are acknowledgements published.
        result = await self._db(self._store.store, deliveries, rejected)
        duplicates, held = set(result.duplicates), set(result.out_of_order)
        answers: dict[tuple[str, str], dict[str, list[Any]]] = {}
        for verdict in verdicts:
            answer = answers.setdefault((verdict.prefix, verdict.hub_id),
                                        {"accepted": [], "duplicates": [], "rejected": []})
            if verdict.delivery is None:
                answer["rejected"].append({"id": verdict.event_id, "reason": verdict.reason or "refused"})
            elif verdict.event_id in held:
                answer["rejected"].append({"id": verdict.event_id, "reason": "out_of_order"})
            elif verdict.event_id in duplicates:
                answer["duplicates"].append(verdict.event_id)
            else:
                answer["accepted"].append(verdict.event_id)
        publishes = []
        for (prefix, hub_id), answer in answers.items():
            topic = f"{prefix}/ack"
            payload = json.dumps({k: v for k, v in answer.items() if v}, separators=(",", ":")).encode()
            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            properties.UserProperty = [(MQTT_PROPERTY_SIGNATURE, mqtt_signature(
                self.config.hubs[hub_id], topic, MQTT_ACK_EVENT_ID, payload))]
            publishes.append(client.publish(topic, payload, qos=1, properties=properties))
        await asyncio.gather(*publishes)

    def _verify(self, topic: str, levels: list[str], payload: bytes,
                properties: Properties | None) -> _Verdict | None:
        """The verdict on one event message; None when it cannot be answered (not a hub's, or an unknown hub)."""
        if len(levels) != self._root_levels + 3 or levels[-2] != "events":
            _LOGGER.warning("ignored a message on an unexpected topic")
            return None
        hub_id = levels[-3]
        secret = self.config.hubs.get(hub_id)
        if secret is None:
            _LOGGER.warning("ignored a message of an unknown hub %r", hub_id[:64])
            return None
        prefix = "/".join(levels[:-2])
        props = user_properties(properties)
        event_id = props.get(MQTT_PROPERTY_EVENT_ID, "")
        given = props.get(MQTT_PROPERTY_SIGNATURE, "")
        if not event_id or not given:
            return _Verdict(prefix=prefix, hub_id=hub_id, event_id=event_id, reason="missing_signature")
        if not check_mqtt_signature(secret, topic, event_id, payload, given):
            return _Verdict(prefix=prefix, hub_id=hub_id, event_id=event_id, reason="bad_signature")
        try:
            event = json.loads(payload)
        except ValueError:
            return _Verdict(prefix=prefix, hub_id=hub_id, event_id=event_id, reason="invalid_body")
        if not isinstance(event, dict) or event.get("id") != event_id:
            return _Verdict(prefix=prefix, hub_id=hub_id, event_id=event_id, reason="id_mismatch")
        if event.get("hub_id") != hub_id:
            return _Verdict(prefix=prefix, hub_id=hub_id, event_id=event_id, reason="hub_mismatch")
        if not isinstance(event.get("type"), str):
            return _Verdict(prefix=prefix, hub_id=hub_id, event_id=event_id, reason="missing_type")
        return _Verdict(prefix=prefix, hub_id=hub_id, event_id=event_id,
                        delivery=Delivery(hub_id=hub_id, topic=topic, event=event))

    async def _get_events(self, request: web.Request) -> web.Response:
        if (denied := read_denied(request, self.config.read_token, "county consumer")) is not None:
            return denied
        try:
            after, limit = page_query(request)
        except ValueError:
            return error_response(400, "invalid_query")
        events = await self.events(after, limit)
        return web.json_response({"events": events, "next_after": events[-1]["pos"] if events else after})

    async def _get_stats(self, request: web.Request) -> web.Response:
        if (denied := read_denied(request, self.config.read_token, "county consumer")) is not None:
            return denied
        return web.json_response({**await self.stats(), "messages": self.messages})

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "subscribed": self._ready.is_set()})
