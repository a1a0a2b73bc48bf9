"""Request signing of the JSON profile: HMAC-SHA256 over method, path, timestamp, nonce and the body's digest."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Mapping

from .secret import Secret

HEADER_HUB = "X-Hub-Id"
HEADER_TIMESTAMP = "X-Hub-Timestamp"
HEADER_NONCE = "X-Hub-Nonce"
HEADER_SIGNATURE = "X-Hub-Signature"
SIGNATURE_PREFIX = "v1="
MAX_SKEW_S = 300


def canonical_string(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The exact bytes that are signed (see docs/uplink-protocol.md)."""
    return "\n".join(
        [method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()]
    ).encode()


def signature(secret: Secret, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The header value: ``v1=`` and the hex HMAC-SHA256."""
    mac = hmac.new(secret.reveal(), canonical_string(method, path, timestamp, nonce, body), hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def sign_headers(secret: Secret, hub_id: str, method: str, path: str, body: bytes,
                 *, now: float | None = None) -> dict[str, str]:
    """Headers for one request; a fresh nonce each time, so a retried batch is a new request."""
    timestamp = str(int(now if now is not None else time.time()))
    nonce = os.urandom(16).hex()
    return {
        HEADER_HUB: hub_id,
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: signature(secret, method, path, timestamp, nonce, body),
    }


def check_signature(secret: Secret, method: str, path: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether the signature header matches (constant-time)."""
    given = headers.get(HEADER_SIGNATURE, "")
    expected = signature(secret, method, path, headers.get(HEADER_TIMESTAMP, ""), headers.get(HEADER_NONCE, ""),
                         body)
    return hmac.compare_digest(given.encode(), expected.encode())


# The MQTT profile: a message may sit in a broker for days, so there is no timestamp window and no nonce; the
# county catches replays by the event id (its unique key). The signature binds the topic, the event id and the
# payload, so a message moved to another topic, or given another id, fails.
MQTT_SIGNATURE_CONTEXT = "mqtt-v1"
MQTT_PROPERTY_EVENT_ID = "event-id"
MQTT_PROPERTY_SIGNATURE = "signature"
MQTT_ACK_EVENT_ID = "ack"


def mqtt_canonical_string(topic: str, event_id: str, payload: bytes) -> bytes:
    """The exact bytes an MQTT message's signature covers (see docs/uplink-protocol.md)."""
    return "\n".join([MQTT_SIGNATURE_CONTEXT, topic, event_id, hashlib.sha256(payload).hexdigest()]).encode()


def mqtt_signature(secret: Secret, topic: str, event_id: str, payload: bytes) -> str:
    """``v1=`` and the hex HMAC-SHA256 over topic, event id and payload."""
    return mqtt_signature_with_key(secret.reveal(), topic, event_id, payload)


def mqtt_signature_with_key(key: bytes, topic: str, event_id: str, payload: bytes) -> str:
    """:func:`mqtt_signature` with the secret's bytes (a batch reveals the secret once, not per message)."""
    canonical = "\n".join([MQTT_SIGNATURE_CONTEXT, topic, event_id, hashlib.sha256(payload).hexdigest()]).encode()
    return SIGNATURE_PREFIX + hmac.digest(key, canonical, "sha256").hex()


def check_mqtt_signature(secret: Secret, topic: str, event_id: str, payload: bytes, given: str) -> bool:
    """Whether ``given`` is the signature of this message under ``secret`` (constant-time)."""
    return hmac.compare_digest(given.encode(), mqtt_signature(secret, topic, event_id, payload).encode())
