"""Visitor-pass tokens: a small signed string a QR code carries.

The token holds the pass id and its validity window, signed with HMAC-SHA256 under the key file's pass key. Only
this hub verifies its own passes, so a symmetric signature is enough and keeps the QR code small. Use counts,
doors and revocation live in the database, so a pass can be revoked or used up after it was handed out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

PREFIX = "SCHP1"
_MAX_TOKEN_LENGTH = 512


@dataclass(frozen=True)
class PassToken:
    """The verified content of a token."""

    pass_id: str
    valid_from: datetime
    valid_until: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, signed: str) -> str:
    return _b64(hmac.new(key, signed.encode(), hashlib.sha256).digest())


def sign_token(key: bytes, pass_id: str, valid_from: datetime, valid_until: datetime) -> str:
    """The token for a pass (deterministic, so the same QR code can be shown again)."""
    payload = json.dumps(
        {"p": pass_id, "nb": int(valid_from.timestamp()), "na": int(valid_until.timestamp())},
        separators=(",", ":"),
        sort_keys=True,
    )
    signed = f"{PREFIX}.{_b64(payload.encode())}"
    return f"{signed}.{_mac(key, signed)}"


def verify_token(key: bytes, token: str) -> PassToken | None:
    """The token's content if its signature is good, else ``None`` (a forged, altered or foreign code)."""
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_LENGTH:
        return None
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    signed = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_mac(key, signed), parts[2]):
        return None
    try:
        payload = json.loads(_unb64(parts[1]))
        return PassToken(
            pass_id=str(payload["p"]),
            valid_from=datetime.fromtimestamp(int(payload["nb"]), UTC),
            valid_until=datetime.fromtimestamp(int(payload["na"]), UTC),
        )
    except (ValueError, KeyError, TypeError):
        # Signed by us but unreadable: only possible with a bug or a leaked key; treat as invalid.
        return None
