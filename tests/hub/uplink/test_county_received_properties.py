"""The county consumer's faster reading of received MQTT 5 properties gives what paho's own reading gives.

devkit.county.received_properties replaces, in the consumer's own process only, the class paho builds every
received packet's properties with (see its docstring and docs/performance.md). Nothing is mocked: paho's real
``Properties`` is the reference, fed the hubs' real event properties (``_publish_properties``, the bytes a hub
sends) and property blocks packed by paho itself, followed by a payload as in a PUBLISH packet. Values, the
length read and errors must be the same, for every property type and for malformed blocks.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as paho_client
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from devkit.county import received_properties
from devkit.county.received_properties import ReceivedProperties, user_properties_only
from hub.uplink.mqtt_client import _publish_properties
from hub.uplink.signing import MQTT_PROPERTY_EVENT_ID, MQTT_PROPERTY_SIGNATURE

PAYLOAD = b'{"id":"x","type":"decision"}'


def _both(packet_type: int, buffer: bytes) -> tuple[Any, Any]:
    """What paho's class and the fast one read from ``buffer``: (attributes, length) or the error's type."""
    out: list[Any] = []
    for cls in (Properties, ReceivedProperties):
        properties: Any = cls(packet_type)
        try:
            _, used = properties.unpack(buffer)
        except Exception as err:  # paho raises MalformedPacket, UnicodeDecodeError, IndexError...
            out.append(type(err))
        else:
            out.append((str(properties), properties.json(), used))
    return out[0], out[1]


@pytest.mark.parametrize("signature_length", [0, 64, 200, 20_000])
def test_an_event_message_reads_as_paho_reads_it(signature_length: int) -> None:
    event_id = str(uuid.uuid4())
    signature = ("v1=" + "é" * signature_length)[: signature_length + 3]
    block = _publish_properties(event_id, signature).pack()  # type: ignore[no-untyped-call]
    reference, fast = _both(PacketTypes.PUBLISH, block + PAYLOAD)
    assert fast == reference
    read: Any = ReceivedProperties(PacketTypes.PUBLISH)
    _, used = read.unpack(block + PAYLOAD)
    assert (block + PAYLOAD)[used:] == PAYLOAD
    assert read.UserProperty == [(MQTT_PROPERTY_EVENT_ID, event_id), (MQTT_PROPERTY_SIGNATURE, signature)]
    assert user_properties_only(block + PAYLOAD) is not None  # the hubs' messages take the fast path


def _random_publish_block(rng: random.Random) -> bytes:
    properties: Any = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    if rng.random() < 0.4:
        properties.PayloadFormatIndicator = rng.randint(0, 1)
    if rng.random() < 0.4:
        properties.MessageExpiryInterval = rng.randint(0, 2**32 - 1)
    if rng.random() < 0.3:
        properties.ContentType = "application/json"
    if rng.random() < 0.3:
        properties.ResponseTopic = "county/ack/é"
    if rng.random() < 0.3:
        properties.CorrelationData = rng.randbytes(rng.randint(0, 40))
    if rng.random() < 0.3:
        properties.SubscriptionIdentifier = rng.randint(1, 268_435_455)
    if rng.random() < 0.3:
        properties.TopicAlias = rng.randint(1, 65_535)
    if rng.random() < 0.8:
        properties.UserProperty = [(f"k{i}é", "v" * rng.randint(0, 300)) for i in range(rng.randint(1, 4))]
    packed: bytes = properties.pack()
    return packed


def test_every_property_type_reads_as_paho_reads_it() -> None:
    rng = random.Random(16)
    fast_path = 0
    for _ in range(2_000):
        buffer = _random_publish_block(rng) + PAYLOAD
        reference, fast = _both(PacketTypes.PUBLISH, buffer)
        assert fast == reference, buffer
        fast_path += user_properties_only(buffer) is not None
    assert 0 < fast_path < 2_000  # both paths were taken


@pytest.mark.parametrize("packet_type", [PacketTypes.PUBACK, PacketTypes.CONNACK, PacketTypes.SUBACK,
                                         PacketTypes.DISCONNECT])
def test_other_packets_read_as_paho_reads_them(packet_type: int) -> None:
    properties: Any = Properties(packet_type)  # type: ignore[no-untyped-call]
    properties.ReasonString = "not authorised"
    properties.UserProperty = [("a", "b")]
    only_user: Any = Properties(packet_type)  # type: ignore[no-untyped-call]
    only_user.UserProperty = [("reason", "quota"), ("reason", "again")]
    empty: Any = Properties(packet_type)  # type: ignore[no-untyped-call]
    for block in (properties.pack(), only_user.pack(), empty.pack()):
        reference, fast = _both(packet_type, block)
        assert fast == reference


def _user(name: bytes, value: bytes, *, declared: int | None = None) -> bytes:
    body = bytes([38]) + len(name).to_bytes(2, "big") + name + len(value).to_bytes(2, "big") + value
    length = len(body) if declared is None else declared
    assert length < 128
    return bytes([length]) + body


@pytest.mark.parametrize("block", [
    _user(b"event-id", b"a\x00b"),  # U+0000 is forbidden in MQTT strings
    _user(b"event-id", "\ufeffx".encode()),  # so is a byte order mark
    _user(b"event-id", b"\xed\xa0\x80"),  # an encoded surrogate (D800) is not UTF-8
    _user(b"event-id", b"\xff\xfe"),  # nor is this
    _user(b"event-id", b"abc", declared=10),  # the block ends inside the value
    _user(b"event-id", b"abc")[:-2],  # the buffer ends inside the value
    b"\x80\x80\x80\x80\x01",  # a length of five bytes
    b"",  # nothing at all
    bytes([3, 38, 0]),  # a pair cut after its first length byte
], ids=["nul", "bom", "surrogate", "not-utf8", "past-block", "past-buffer", "long-length", "empty", "cut"])
def test_malformed_blocks_are_left_to_paho(block: bytes) -> None:
    assert user_properties_only(block) is None
    reference, fast = _both(PacketTypes.PUBLISH, block)
    assert fast == reference


def test_a_reused_object_forgets_what_it_read_before() -> None:
    properties: Any = ReceivedProperties(PacketTypes.PUBLISH)
    other: Any = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    other.ContentType = "text/plain"
    other.UserProperty = [("x", "1")]
    properties.unpack(other.pack())
    properties.unpack(_user(b"y", b"2"))
    assert properties.json() == {"UserProperty": [("y", "2")]}


PAHO: Any = paho_client  # paho's client module does not export the name it builds properties with


@pytest.fixture
def installed() -> Iterator[None]:
    original = PAHO.Properties
    received_properties.install()
    try:
        yield
    finally:
        PAHO.Properties = original


def test_install_replaces_the_class_paho_reads_packets_with(installed: None) -> None:
    # The county command and the uplink bench's consumer process call install(); their tests
    # (test_uplink_mqtt.py: the county command, the MQTT uplink bench) run it through a real broker.
    assert PAHO.Properties is ReceivedProperties
    made: Any = PAHO.Properties(PacketTypes.PUBLISH)
    made.ResponseTopic = "a/b"  # paho's own checks still apply to what is set by hand
    with pytest.raises(Exception, match="does not apply"):
        made.SessionExpiryInterval = 5
