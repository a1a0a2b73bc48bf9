"""The hub's fast MQTT 5 properties and signatures put exactly the bytes on the wire that paho's generic ones did.

The hub builds an event message's PUBLISH properties (event id, signature) without paho's per-attribute machinery,
and signs a batch with the secret revealed once (hub/uplink/mqtt_client.py, hub/uplink/signing.py; see
docs/performance.md). Any county consumer reads those bytes: they must be byte for byte what paho packs for
``Properties(PUBLISH)`` with ``UserProperty`` set, and read back the same by paho's own unpacking (what the
county consumer of devkit.county runs). Nothing is mocked: paho's real classes are the reference. The journal's
time text (the sort key of its SQL) is compared with the strftime form it replaced.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hub.journal.models import from_text, to_text
from hub.uplink import Secret
from hub.uplink.mqtt_client import _publish_properties
from hub.uplink.signing import (
    MQTT_PROPERTY_EVENT_ID,
    MQTT_PROPERTY_SIGNATURE,
    SIGNATURE_PREFIX,
    check_mqtt_signature,
    mqtt_canonical_string,
    mqtt_signature,
    mqtt_signature_with_key,
)


def _paho(event_id: str, signature: str) -> Any:  # paho's Properties is not annotated
    properties: Any = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    properties.UserProperty = [(MQTT_PROPERTY_EVENT_ID, event_id), (MQTT_PROPERTY_SIGNATURE, signature)]
    return properties


# Short, long enough for a two-byte length prefix of the whole (> 127 bytes), and non-ASCII values.
@pytest.mark.parametrize("signature_length", [0, 67, 200, 20_000])
def test_event_properties_are_the_bytes_paho_would_send(signature_length: int) -> None:
    event_id = str(uuid.uuid4())
    signature = ("v1=" + "é" * signature_length)[:signature_length + 3]
    fast: Any = _publish_properties(event_id, signature)
    reference = _paho(event_id, signature)

    assert fast.pack() == reference.pack()
    read: Any = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    read.unpack(fast.pack())
    assert read.UserProperty == [(MQTT_PROPERTY_EVENT_ID, event_id), (MQTT_PROPERTY_SIGNATURE, signature)]
    assert str(fast) == str(reference)  # paho's debug log line shows them the same way


def test_the_batch_signature_is_the_documented_hmac() -> None:
    secret = Secret.generate()
    topic, event_id, payload = "county/0317/community/hub-1/events/access", str(uuid.uuid4()), b'{"id":"x"}'
    expected = SIGNATURE_PREFIX + hmac.new(secret.reveal(), mqtt_canonical_string(topic, event_id, payload),
                                           hashlib.sha256).hexdigest()

    assert mqtt_signature_with_key(secret.reveal(), topic, event_id, payload) == expected
    assert mqtt_signature(secret, topic, event_id, payload) == expected
    assert check_mqtt_signature(secret, topic, event_id, payload, expected)
    assert not check_mqtt_signature(secret, topic + "x", event_id, payload, expected)


def test_journal_time_text_is_unchanged() -> None:
    def strftime_form(moment: datetime) -> str:  # what to_text wrote before
        utc = moment.astimezone(UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"

    rng = random.Random(16)
    zones = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
    for _ in range(5000):
        moment = datetime(rng.randint(1970, 2200), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
                          rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999_999), tzinfo=rng.choice(zones))
        text = to_text(moment)
        assert text == strftime_form(moment)
        assert len(text) == 24
        assert from_text(text) == moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    with pytest.raises(ValueError, match="timezone-aware"):
        to_text(datetime(2026, 12, 2, 19, 0))
