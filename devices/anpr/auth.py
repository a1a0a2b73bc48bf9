"""How the receiver knows a push is from a camera it was told about: a secret in the push URL, HTTP Basic, HTTP
Digest (Dahua), or the sender's address (Vzenith, which cannot authenticate at all).

Every comparison of a secret is constant-time. :class:`DigestVerifier` is the server side of RFC 7616 / 2617
(MD5 and SHA-256, ``qop=auth``): its nonces are signed by the verifier itself (so they need no storage until
used), expire, and each nonce count is accepted once (a replayed request is refused).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from ..camera import parse_digest_challenge

__all__ = ["AddressAllowList", "DigestOutcome", "DigestVerifier", "check_basic", "check_secret"]

_HASHES: dict[str, Callable[[bytes], hashlib._Hash]] = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def check_secret(given: str | None, expected: str) -> bool:
    """Whether ``given`` is ``expected``, in time that does not depend on where they differ."""
    if not expected:
        return False
    return hmac.compare_digest((given or "").encode("utf-8"), expected.encode("utf-8"))


def check_basic(header: str | None, username: str, password: str) -> bool:
    """Whether an ``Authorization: Basic ...`` header carries these credentials (both compared constant-time)."""
    if not header or header[:6].lower() != "basic ":
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, sep, secret = decoded.partition(":")
    # Both compared, always, so the time does not say which was wrong.
    ok_user = hmac.compare_digest(user.encode(), username.encode())
    ok_password = hmac.compare_digest(secret.encode(), password.encode())
    return bool(sep) and ok_user and ok_password


class AddressAllowList:
    """Source addresses (single addresses or networks, IPv4 and IPv6) a push is accepted from. Empty: none."""

    def __init__(self, entries: Iterable[str]) -> None:
        self._networks = tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())

    def __bool__(self) -> bool:
        return bool(self._networks)

    def allows(self, address: str | None) -> bool:
        """Whether ``address`` is inside one of the entries (an IPv4-mapped IPv6 address counts as IPv4)."""
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == net.version and ip in net for net in self._networks)


class DigestOutcome(StrEnum):
    """What :meth:`DigestVerifier.verify` found."""

    OK = "ok"
    MISSING = "missing"  # no Digest header: send the challenge
    STALE = "stale"  # a good response to an expired nonce: challenge again with stale=true
    REPLAYED = "replayed"  # a nonce count already used
    BAD = "bad"  # wrong user or password, a nonce we did not issue, a malformed header


@dataclass(frozen=True, slots=True)
class DigestResult:
    """The outcome and, when it is ``OK``, the authenticated user name."""

    outcome: DigestOutcome
    username: str | None = None


class DigestVerifier:
    """Server-side HTTP Digest for a set of users.

    Nonces are ``<issued-at ms>.<random>.<hmac>``, signed with a key of this verifier; they live ``nonce_ttl_s``.
    The highest nonce count seen per nonce is remembered, and a count not above it is a replay. At most
    ``max_nonces`` nonces are remembered; when one is forgotten, every nonce issued up to it becomes stale (its
    client is challenged again), so a forgotten nonce cannot be replayed either. A request without ``qop``
    (RFC 2069) is refused: it has no count, so nothing would stop its replay.
    """

    def __init__(self, users: Mapping[str, str], *, realm: str = "smart-community", nonce_ttl_s: float = 300.0,
                 algorithms: tuple[str, ...] = ("SHA-256", "MD5"), max_nonces: int = 4096,
                 clock: Callable[[], float] = time.time) -> None:
        unknown = [a for a in algorithms if a not in _HASHES]
        if unknown or not algorithms:
            raise ValueError(f"unsupported digest algorithm(s) {unknown}: use SHA-256 and/or MD5")
        self._users = dict(users)
        self.realm = realm
        self._ttl = nonce_ttl_s
        self._algorithms = algorithms
        self._clock = clock
        self._key = os.urandom(32)
        self._opaque = os.urandom(8).hex()
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._max_nonces = max_nonces
        # Nonces issued up to this time (ms) are no longer accepted: their counts were forgotten to keep memory
        # bounded, so a replay of one could not be recognised. Their clients get ``stale`` and a fresh nonce.
        self._forgotten_up_to_ms = -1

    def _sign(self, issued: str, salt: str) -> str:
        return hmac.new(self._key, f"{issued}.{salt}".encode(), hashlib.sha256).hexdigest()[:32]

    def new_nonce(self) -> str:
        """A fresh signed nonce."""
        issued, salt = str(int(self._clock() * 1000)), os.urandom(8).hex()
        return f"{issued}.{salt}.{self._sign(issued, salt)}"

    def challenges(self, *, stale: bool = False) -> list[str]:
        """``WWW-Authenticate`` values, one per algorithm (the strongest first; a client takes the first it knows)."""
        nonce = self.new_nonce()
        extra = ", stale=true" if stale else ""
        return [f'Digest realm="{self.realm}", qop="auth", algorithm={algorithm}, nonce="{nonce}", '
                f'opaque="{self._opaque}"{extra}' for algorithm in self._algorithms]

    def _nonce_state(self, nonce: str) -> DigestOutcome:
        issued, _, rest = nonce.partition(".")
        salt, _, signature = rest.partition(".")
        if not signature or not hmac.compare_digest(signature, self._sign(issued, salt)):
            return DigestOutcome.BAD
        try:
            issued_ms = int(issued)
        except ValueError:
            return DigestOutcome.BAD
        age = self._clock() - issued_ms / 1000
        if age > self._ttl or age < -5 or issued_ms <= self._forgotten_up_to_ms:
            return DigestOutcome.STALE
        return DigestOutcome.OK

    def verify(self, method: str, request_uri: str, header: str | None) -> DigestResult:
        """Check an ``Authorization`` header of a request with ``method`` to ``request_uri`` (path and query)."""
        if not header or header.lstrip()[:7].lower() != "digest ":
            return DigestResult(DigestOutcome.MISSING)
        params = parse_digest_challenge(header)  # same auth-param syntax as a challenge
        if params is None:
            return DigestResult(DigestOutcome.BAD)
        username, nonce, uri = params.get("username", ""), params.get("nonce", ""), params.get("uri", "")
        algorithm = params.get("algorithm", "MD5").upper()
        qop, nc, cnonce = params.get("qop", "").lower(), params.get("nc", ""), params.get("cnonce", "")
        password = self._users.get(username)
        if (algorithm not in self._algorithms or qop != "auth" or not cnonce or password is None
                or params.get("realm") != self.realm or uri != request_uri):
            return DigestResult(DigestOutcome.BAD)
        try:
            count = int(nc, 16)
        except ValueError:
            return DigestResult(DigestOutcome.BAD)
        hash_fn = _HASHES[algorithm]

        def h(value: str) -> str:
            return hash_fn(value.encode("utf-8")).hexdigest()

        ha1 = h(f"{username}:{self.realm}:{password}")
        ha2 = h(f"{method.upper()}:{uri}")
        expected = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        if not hmac.compare_digest(expected, params.get("response", "")):
            return DigestResult(DigestOutcome.BAD)
        state = self._nonce_state(nonce)
        if state is not DigestOutcome.OK:
            return DigestResult(state)
        if count <= self._counts.get(nonce, 0):
            return DigestResult(DigestOutcome.REPLAYED)
        self._counts[nonce] = count
        self._counts.move_to_end(nonce)
        while len(self._counts) > self._max_nonces:
            forgotten, _ = self._counts.popitem(last=False)
            self._forgotten_up_to_ms = max(self._forgotten_up_to_ms, int(forgotten.partition(".")[0]))
        return DigestResult(DigestOutcome.OK, username)
