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
