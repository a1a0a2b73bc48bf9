"""Visitor-pass tokens: a small signed string a QR code carries.

The token holds the pass id and its validity window, signed with HMAC-SHA256 under the key file's pass key. Only
this hub verifies its own passes, so a symmetric signature is enough and keeps the QR code small. Use counts,
doors and revocation live in the database, so a pass can be revoked or used up after it was handed out.

A pass's **link** (what a manager sends the visitor, opened without a login) is another signature of the pass id
under the same key with its own purpose prefix: ``<pass id>.<MAC>``. The MAC is 256 bits, so guessing a link is
hopeless however fast one tries; the link says nothing but the pass's random id, and the pass's record decides
whether it still shows anything (not once the pass has expired, been revoked or used up).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

PREFIX = "SCHP1"
LINK_PURPOSE = "SCHL1"
_MAX_TOKEN_LENGTH = 512
_MAX_LINK_LENGTH = 200


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


def sign_link(key: bytes, pass_id: str) -> str:
    """The pass's link token: its id and a MAC of it for the link's purpose (deterministic, so the same link can be
    sent again; it is never the QR code's token)."""
    return f"{pass_id}.{_mac(key, f'{LINK_PURPOSE}.{pass_id}')}"


def verify_link(key: bytes, link: str) -> str | None:
    """The pass id a link token names if its MAC is good, else ``None`` (a guessed, altered or foreign link)."""
    if not isinstance(link, str) or len(link) > _MAX_LINK_LENGTH:
        return None
    pass_id, dot, mac = link.rpartition(".")
    if not dot or not pass_id or not mac:
        return None
    if not hmac.compare_digest(_mac(key, f"{LINK_PURPOSE}.{pass_id}").encode(), mac.encode()):
        return None
    return pass_id
