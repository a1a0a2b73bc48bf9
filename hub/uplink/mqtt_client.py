"""The MQTT profile (MQTT 5): one signed message per event, "sent" only when the county consumer acknowledges it.

A broker's PUBACK is only the broker's word (a broker killed with -9 may lose what it acknowledged), so a batch
counts as delivered event by event when the county consumer, after its COMMIT, publishes the event ids on the
hub's acknowledgement topic. Messages are published in the outbox's order, the whole batch in flight at once;
what is not acknowledged within the timeout stays queued and is sent again (the county de-duplicates on the
event id). See docs/uplink-protocol.md, section "MQTT profile".

Topics, under the configured prefix (e.g. ``county/0317/community/hub-7f3a``):

- ``<prefix>/events/<group>`` the events (``access``, ``alarm``, ``door``, ``health``), QoS 1;
- ``<prefix>/status`` retained, ``online`` while connected, ``offline`` (the last will, or a clean close);
- ``<prefix>/ack`` the county's acknowledgements, which the hub subscribes to (QoS 1, in its persistent session).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import aiomqtt
from aiomqtt.exceptions import MqttConnectError
from paho.mqtt.client import MQTT_ERR_SUCCESS
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hub.exceptions import InvalidInputError
from hub.journal import EventKind

from .errors import RejectedError, TransientUplinkError
from .secret import Secret
from .signing import (
    MQTT_ACK_EVENT_ID,
    MQTT_PROPERTY_EVENT_ID,
    MQTT_PROPERTY_SIGNATURE,
    check_mqtt_signature,
    mqtt_signature_with_key,
)
from .tls import client_ssl_context
from .transport import BatchResult, OutgoingEvent

_LOGGER = logging.getLogger(__name__)
_PAHO_LOGGER = _LOGGER.getChild("paho")

DEFAULT_SESSION_EXPIRY_S = 7 * 24 * 3600
STATUS_ONLINE = b"online"
STATUS_OFFLINE = b"offline"
# An acknowledgement's reasons that say the message could not be authenticated: the configuration is wrong (the
# secret), not the event, so the event stays queued and the hub counts a rejection, as for the JSON profile's 401.
AUTH_REASONS = frozenset({"bad_signature", "missing_signature", "unknown_hub"})
# The county holds back an event whose predecessor it has not stored (a broker dropped the earlier one): sent again.
RETRY_REASONS = AUTH_REASONS | {"out_of_order"}
_REMEMBERED_ACKS = 100_000

# Which topic an event kind goes to: readers subscribe to what they need (access control, alarms, device health).
_GROUPS = {
    EventKind.DECISION: "access",
    EventKind.DOOR_ALARM: "alarm",
    EventKind.RELEASE: "door",
    EventKind.DOOR_CHANGE: "door",
    EventKind.DEVICE_STATUS: "health",
    EventKind.HEALTH_REPORT: "health",
}


def topic_group(kind: str) -> str:
    """The last level of an event's topic."""
    try:
        return _GROUPS.get(EventKind(kind), "other")
    except ValueError:
        return "other"


def check_topic_prefix(prefix: str, hub_id: str) -> str:
    """The prefix with ``{hub_id}`` filled in; it must end with the hub's id and hold no wildcard."""
    value = prefix.replace("{hub_id}", hub_id).strip().strip("/")
    levels = value.split("/")
    if not value or any(not level or level in ("+", "#") or "+" in level or "#" in level for level in levels):
        raise InvalidInputError("the topic prefix must be levels separated by '/', with no empty level or wildcard")
    if levels[-1] != hub_id or value.startswith("$"):
        raise InvalidInputError(f"the topic prefix must end with the hub's id ({hub_id}), e.g. "
                                f"county/0317/community/{hub_id}")
    return value


def event_payload(item: OutgoingEvent) -> bytes:
    """An event's message body: the same object as one event of the JSON profile, and ``prev_seq`` (the event
    before it in the hub's order, which the county stores first)."""
    event: dict[str, Any] = {"id": item.event.uuid, "seq": item.event.seq, "hub_id": item.event.hub_id,
                             **item.fields}
    if item.previous_seq is not None:
        event["prev_seq"] = item.previous_seq
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def user_properties(message_properties: Properties | None) -> dict[str, str]:
    """An incoming message's MQTT 5 user properties (the first value of each name)."""
    found: dict[str, str] = {}
    for name, value in getattr(message_properties, "UserProperty", None) or []:
        found.setdefault(str(name), str(value))
    return found


@dataclass(frozen=True, kw_only=True)
class MqttConfig:
    """Where and how a hub publishes. ``broker_url`` is ``mqtts://host[:8883]`` or (warned) ``mqtt://host[:1883]``."""

    broker_url: str
    hub_id: str
    secret: Secret
    topic_prefix: str
    ca_file: str | Path | None = None
    client_cert: str | Path | None = None
    client_key: str | Path | None = None
    session_expiry_s: int = DEFAULT_SESSION_EXPIRY_S
    ack_timeout_s: float = 30.0
    connect_timeout_s: float = 10.0
    keepalive_s: int = 30

    def __post_init__(self) -> None:
        parts = urlsplit(self.broker_url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise InvalidInputError("the broker URL must be mqtts://host[:port] (or mqtt:// on a trusted network)")
        if (self.client_cert is None) != (self.client_key is None):
            raise InvalidInputError("a client certificate needs its key, and a key its certificate")
        check_topic_prefix(self.topic_prefix, self.hub_id)

    @property
    def tls(self) -> bool:
        """Whether the connection is TLS (``mqtts://``)."""
        return urlsplit(self.broker_url).scheme == "mqtts"

    @property
    def host(self) -> str:
        """The broker's host name."""
        return urlsplit(self.broker_url).hostname or ""

    @property
    def port(self) -> int:
        """The broker's port (8883 for mqtts, 1883 for mqtt by default)."""
        return urlsplit(self.broker_url).port or (8883 if self.tls else 1883)

    @property
    def prefix(self) -> str:
        """The topic prefix, ``{hub_id}`` filled in."""
        return check_topic_prefix(self.topic_prefix, self.hub_id)


def mqtt_ssl_context(config: MqttConfig) -> ssl.SSLContext:
    """Server verification always on (the CA file, or the system store); the hub's own certificate and key."""
    context = client_ssl_context(config.ca_file)
    if config.client_cert is not None and config.client_key is not None:
        for path in (config.client_cert, config.client_key):
            if not Path(path).is_file():
                raise InvalidInputError(f"file {path} does not exist")
        context.load_cert_chain(str(config.client_cert), str(config.client_key))
    return context


class MqttTransport:
    """Publishes ordered batches to one broker and waits for the county consumer's acknowledgements."""

    def __init__(self, config: MqttConfig) -> None:
        self._config = config
        self._prefix = config.prefix
        self._ack_topic = f"{self._prefix}/ack"
        self._status_topic = f"{self._prefix}/status"
        self._client: aiomqtt.Client | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ack_changed = asyncio.Event()
        # Ids the county has answered for (acknowledged: True; refused: the reason), kept for acknowledgements
        # that arrive after their batch's timeout.
        self._answered: OrderedDict[str, str | None] = OrderedDict()
        # Ids the county held back: not authenticated (bad signature, unknown hub: the configuration, not the
        # event), or out of order (an earlier event is missing there). Sent again.
        self._held_back: dict[str, str] = {}
        self._refused_publishes = 0
        self._bad_acks = 0

    def __repr__(self) -> str:
        return f"MqttTransport(broker={self._config.host}:{self._config.port}, prefix={self._prefix!r})"

    @property
    def connected(self) -> bool:
        """Whether a connection is up (its reader running)."""
        return self._client is not None and self._reader is not None and not self._reader.done()

    async def start(self) -> None:
        """Connect (persistent session), announce ``online`` and subscribe to the acknowledgements."""
        if self.connected:
            return
        await self._drop()
        config = self._config
        try:
            # Reading the CA and the hub's key pair is file I/O: not on the event loop.
            context = await asyncio.get_running_loop().run_in_executor(None, mqtt_ssl_context, config) \
                if config.tls else None
        except (OSError, ssl.SSLError, InvalidInputError) as err:
            raise RejectedError(f"cannot use the TLS files: {err}") from err
        connect = _properties(PacketTypes.CONNECT)
        connect.SessionExpiryInterval = config.session_expiry_s
        client = aiomqtt.Client(
            config.host, config.port, identifier=config.hub_id, protocol=aiomqtt.ProtocolVersion.V5,
            clean_start=False, properties=connect, keepalive=config.keepalive_s, tls_context=context,
            will=aiomqtt.Will(self._status_topic, STATUS_OFFLINE, qos=1, retain=True),
            timeout=config.connect_timeout_s, max_inflight_messages=1000, logger=_PAHO_LOGGER,
        )
        client.pending_calls_threshold = 1 << 30  # a whole batch in flight is the point, not a warning
        client._client.connect_timeout = config.connect_timeout_s
        # PUBACK reason codes (a broker's ACL refusing a topic answers 0x87 "Not authorized"): aiomqtt drops them.
        on_publish = cast("Callable[..., None] | None", client._client.on_publish)

        def publish_answered(paho: Any, userdata: Any, mid: int, reason_code: Any, properties: Any) -> None:
            if getattr(reason_code, "is_failure", False):
                self._refused_publishes += 1
            if on_publish is not None:
                on_publish(paho, userdata, mid, reason_code, properties)

        client._client.on_publish = publish_answered
        # A broker that refuses the hub's certificate (revoked, expired, unknown CA) says so with a TLS alert after
        # the handshake (TLS 1.3): paho logs it and drops the socket before any CONNACK. End the wait then, and
        # report what the alert said.
        on_disconnect = cast("Callable[..., None] | None", client._client.on_disconnect)
        errors = _ErrorCapture()

        def dropped(paho: Any, userdata: Any, *args: Any) -> None:
            if not client._connected.done():
                client._connected.set_exception(aiomqtt.MqttError(errors.last or "connection closed by the broker"))
            if on_disconnect is not None:
                on_disconnect(paho, userdata, *args)

        client._client.on_disconnect = dropped
        _PAHO_LOGGER.addHandler(errors)
        try:
            await open_mqtt_client(client)
        except MqttConnectError as err:
            raise RejectedError(f"broker refused the connection: {err}") from err
        except (aiomqtt.MqttError, TimeoutError, OSError) as err:
            text = str(err) or type(err).__name__
            if "CERTIFICATE" in text.upper() or "ALERT" in text.upper():
                raise RejectedError(f"TLS failure: {text}") from err
            raise TransientUplinkError(f"broker unreachable: {text}") from err
        finally:
            _PAHO_LOGGER.removeHandler(errors)
        self._client = client
        self._reader = asyncio.get_running_loop().create_task(self._read(client), name="mqtt-uplink-acks")
        refused_before = self._refused_publishes
        try:
            granted = await client.subscribe(self._ack_topic, qos=1)
            await client.publish(self._status_topic, STATUS_ONLINE, qos=1, retain=True)
        except aiomqtt.MqttError as err:
            await self._drop()
            raise TransientUplinkError(f"broker connection failed: {err}") from err
        if self._refused_publishes > refused_before or any(getattr(code, "is_failure", False) for code in granted):
            # The broker's ACL does not give this hub its prefix: nothing it publishes would reach the county.
            await self._drop()
            raise RejectedError(f"the broker refused {self._prefix}: not authorized (check the topic prefix and "
                                "the broker's ACL for this hub's certificate)")
        _LOGGER.info("connected to the MQTT broker %s:%s", config.host, config.port)

    async def close(self) -> None:
        """Say ``offline`` (retained) and disconnect; the broker keeps the session for its expiry."""
        client = self._client
        if client is not None and self.connected:
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                await asyncio.wait_for(client.publish(self._status_topic, STATUS_OFFLINE, qos=1, retain=True), 2)
        await self._drop(graceful=True)

    async def send(self, batch: Sequence[OutgoingEvent]) -> BatchResult:
        """Publish the batch in order, all in flight; return what the county acknowledged within the timeout."""
        if not self.connected:
            await self.start()
        client = self._client
        assert client is not None
        ids = [item.event.uuid for item in batch]
        refused_before, bad_acks_before = self._refused_publishes, self._bad_acks
        for event_id in ids:
            self._held_back.pop(event_id, None)
        # Handed to paho one after the other, in the outbox's order, all in flight at once. Straight to paho's
        # publish rather than through aiomqtt's coroutine: that one waits for the broker's PUBACK (a task, an event
        # and a timeout per message, and a scan of every pending call per publish), which is only the broker's
        # word; what counts is the county's acknowledgement, waited for below. A PUBACK refusing a message still
        # reaches publish_answered (the ACL's "not authorized").
        paho = client._client
        key = self._config.secret.reveal()
        for item in batch:
            if item.event.uuid in self._answered:
                continue  # answered after an earlier timeout: not sent again
            topic = f"{self._prefix}/events/{topic_group(item.event.kind)}"
            payload = event_payload(item)
            properties = _publish_properties(
                item.event.uuid, mqtt_signature_with_key(key, topic, item.event.uuid, payload))
            info = paho.publish(topic, payload, qos=1, properties=properties)
            if info.rc != MQTT_ERR_SUCCESS:
                break  # the connection dropped: the wait below ends with it, the batch is sent again
        await self._wait_answered(ids, bad_acks_before)
        acknowledged = frozenset(i for i in ids if i in self._answered and self._answered[i] is None)
        refused = {i: reason for i in ids if (reason := self._answered.get(i)) is not None}
        auth = {self._held_back.pop(i) for i in ids if i in self._held_back} & AUTH_REASONS
        if not acknowledged and not refused:
            if auth:
                raise RejectedError(f"the county could not authenticate the events: {', '.join(sorted(auth))}")
            if self._bad_acks > bad_acks_before:
                raise RejectedError("the county's acknowledgements fail the signature check: the hub's secret is "
                                    "not the one the county has for it (bad_signature)")
            if self._refused_publishes > refused_before:
                raise RejectedError(f"the broker refused {self._refused_publishes - refused_before} publish(es) "
                                    f"under {self._prefix}: not authorized (check the topic prefix and the ACL)")
            if not self.connected:
                raise TransientUplinkError("the broker connection dropped before the county acknowledged")
            raise TransientUplinkError("the county acknowledged none of the batch in time (or holds it back until "
                                       "it has the events before it)")
        return BatchResult(acknowledged=acknowledged, refused=refused)

    async def _wait_answered(self, ids: Sequence[str], bad_acks_before: int) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._config.ack_timeout_s
        while self.connected and self._bad_acks == bad_acks_before and any(
                i not in self._answered and i not in self._held_back for i in ids):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._ack_changed.clear()
            reader = self._reader
            assert reader is not None
            changed = asyncio.ensure_future(self._ack_changed.wait())
            try:
                await asyncio.wait([changed, reader], timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            finally:
                changed.cancel()

    async def _read(self, client: aiomqtt.Client) -> None:
        try:
            async for message in client.messages:
                if message.topic.matches(self._ack_topic) and isinstance(message.payload, bytes):
                    self._take_ack(message.payload, message.properties)
        except aiomqtt.MqttError as err:
            _LOGGER.info("MQTT broker connection lost: %s", err)
        finally:
            self._ack_changed.set()

    def _take_ack(self, payload: bytes, properties: Properties | None) -> None:
        given = user_properties(properties).get(MQTT_PROPERTY_SIGNATURE, "")
        if not check_mqtt_signature(self._config.secret, self._ack_topic, MQTT_ACK_EVENT_ID, payload, given):
            self._bad_acks += 1
            if self._bad_acks == 1:  # once: anyone able to write the ack topic must not flood the log
                _LOGGER.warning("ignored an acknowledgement with a bad signature on %s", self._ack_topic)
            self._ack_changed.set()  # the batch's wait ends: a secret that differs is a rejection, not a timeout
            return
        try:
            data = json.loads(payload)
            answered: dict[str, str | None] = {str(i): None for i in data.get("accepted", [])}
            answered.update({str(i): None for i in data.get("duplicates", [])})
            for entry in data.get("rejected", []):
                answered[str(entry["id"])] = str(entry.get("reason", "refused"))
        except (ValueError, AttributeError, KeyError, TypeError):
            _LOGGER.warning("ignored an unreadable acknowledgement on %s", self._ack_topic)
            return
        for event_id, reason in answered.items():
            if reason in RETRY_REASONS:
                self._held_back[event_id] = reason
                continue
            self._answered[event_id] = reason
            self._answered.move_to_end(event_id)
        while len(self._answered) > _REMEMBERED_ACKS:
            self._answered.popitem(last=False)
        self._ack_changed.set()

    async def _drop(self, *, graceful: bool = False) -> None:
        client, reader = self._client, self._reader
        self._client = self._reader = None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError, OSError):
                if graceful:
                    await asyncio.wait_for(client.__aexit__(None, None, None), 5)
            await close_mqtt_client(client)


class _ErrorCapture(logging.Handler):
    """Keeps the last error paho logged (e.g. the TLS alert a broker sent) while a connection is made."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.last = record.getMessage()[:300]


def _properties(packet_type: int) -> Properties:
    return Properties(packet_type)  # type: ignore[no-untyped-call]  # paho's Properties is not annotated


_PUBLISH_PROTOTYPE = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
_USER_PROPERTY_ID = 38  # MQTT 5: User Property, a UTF-8 string pair


def _utf8_pair(name: str, value: str) -> bytes:
    encoded_name, encoded_value = name.encode(), value.encode()
    return (bytes((_USER_PROPERTY_ID,)) + len(encoded_name).to_bytes(2, "big") + encoded_name
            + len(encoded_value).to_bytes(2, "big") + encoded_value)


def _variable_byte_integer(value: int) -> bytes:
    out = bytearray()
    while True:
        value, digit = value >> 7, value & 0x7F
        out.append(digit | 0x80 if value else digit)
        if not value:
            return bytes(out)


class _EventProperties(Properties):
    """An event message's PUBLISH properties: its event id and signature as user properties.

    What paho sends is exactly what ``Properties(PUBLISH)`` with ``UserProperty`` set would send
    (tests/hub/uplink/test_uplink_mqtt_properties.py compares the bytes), built without paho's generic machinery:
    its constructor builds two tables per instance, its ``__setattr__`` looks names up through every property and
    its ``pack`` walks all of them, together the largest share of a hub's CPU per published message. The tables
    are shared with one prototype, the encoding is done once here."""

    def __init__(self, event_id: str, signature: str) -> None:  # paho's __init__ is not called: see above
        self.__dict__.update(_PUBLISH_PROTOTYPE.__dict__)
        pairs = [(MQTT_PROPERTY_EVENT_ID, event_id), (MQTT_PROPERTY_SIGNATURE, signature)]
        object.__setattr__(self, "UserProperty", pairs)
        body = b"".join(_utf8_pair(name, value) for name, value in pairs)
        object.__setattr__(self, "_packed", _variable_byte_integer(len(body)) + body)

    def pack(self) -> bytes:
        """The properties as sent (their length, then each property)."""
        packed: bytes = self.__dict__["_packed"]
        return packed


def _publish_properties(event_id: str, signature: str) -> Properties:
    """The PUBLISH properties of one event message (see :class:`_EventProperties`)."""
    return _EventProperties(event_id, signature)


async def open_mqtt_client(client: aiomqtt.Client) -> None:
    """Connect ``client`` (its ``__aenter__``). If that fails or is cancelled, close what it had opened (see
    :func:`close_mqtt_client`), so a connect abandoned half way (a hub unloaded, a consumer stopped, while the broker
    has not answered yet) leaves no socket, loop reader or keepalive task behind. aiomqtt runs paho's connect on an
    executor thread, which a cancellation does not stop: a socket that connect opens after that is closed as soon
    as it opens, before aiomqtt hands it to the event loop."""
    try:
        await client.__aenter__()
    except BaseException:
        loop = client._loop

        def abandoned(paho: Any, userdata: Any, sock: Any) -> None:  # on the executor thread, inside connect()
            loop.call_soon_threadsafe(_close_socket, client)

        client._client.on_socket_open = abandoned
        await close_mqtt_client(client)
        raise


async def close_mqtt_client(client: aiomqtt.Client) -> None:
    """Close a client's socket if it is still open (a connection that failed, dropped or did not close in time),
    with its event-loop reader and writer and its keepalive task, so nothing is left behind. The keepalive task is
    waited for (at most 1 s): a task only cancelled stays pending until the loop runs it again, and would outlive
    the client."""
    _close_socket(client)
    for future in (client._connected, client._disconnected):
        if future.done() and not future.cancelled():
            future.exception()  # retrieved: a dropped connection is reported by the caller, not by asyncio
    task = client._misc_task
    if task is not None and not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=1)


def _close_socket(client: aiomqtt.Client) -> None:
    paho = client._client
    sock = paho.socket()
    if sock is None:
        return
    loop = client._loop
    with contextlib.suppress(Exception):
        fileno = sock.fileno()
        if fileno >= 0:
            loop.remove_reader(fileno)
            loop.remove_writer(fileno)
    with contextlib.suppress(Exception):
        sock.close()
    paho._sock = None
