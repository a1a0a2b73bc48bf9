"""HTTP digest authentication (RFC 2617, MD5, qop=auth) as GA/T 1400 platforms use it for Register."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass

from hub.exceptions import InvalidInputError

_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True, kw_only=True)
class DigestChallenge:
    """The parameters of a ``WWW-Authenticate: Digest ...`` header."""

    realm: str
    nonce: str
    qop: str | None = None
    opaque: str | None = None
    algorithm: str = "MD5"

    def authorization(self, *, method: str, uri: str, username: str, password: str, nc: int = 1,
                      cnonce: str | None = None) -> str:
        """The ``Authorization`` header value answering this challenge."""
        if self.algorithm.upper() not in ("MD5", "MD5-SESS"):
            raise InvalidInputError(f"digest algorithm {self.algorithm} is not supported")
        cnonce = cnonce or os.urandom(8).hex()
        ha1 = _md5(f"{username}:{self.realm}:{password}")
        if self.algorithm.upper() == "MD5-SESS":
            ha1 = _md5(f"{ha1}:{self.nonce}:{cnonce}")
        ha2 = _md5(f"{method.upper()}:{uri}")
        nc_text = f"{nc:08x}"
        parts = [f'username="{username}"', f'realm="{self.realm}"', f'nonce="{self.nonce}"', f'uri="{uri}"']
        if self.qop is not None:
            qop = "auth"  # auth-int would hash the body; platforms offer auth
            response = _md5(f"{ha1}:{self.nonce}:{nc_text}:{cnonce}:{qop}:{ha2}")
            parts += [f"qop={qop}", f"nc={nc_text}", f'cnonce="{cnonce}"']
        else:
            response = _md5(f"{ha1}:{self.nonce}:{ha2}")
        parts.append(f'response="{response}"')
        if self.opaque is not None:
            parts.append(f'opaque="{self.opaque}"')
        if self.algorithm.upper() != "MD5":
            parts.append(f"algorithm={self.algorithm}")
        return "Digest " + ", ".join(parts)


def parse_challenge(header: str) -> DigestChallenge:
    """Parse a ``WWW-Authenticate`` header; raise if it is not a usable digest challenge."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        raise InvalidInputError("the platform did not offer digest authentication")
    params = {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3)) for m in _PARAM.finditer(rest)}
    if "realm" not in params or "nonce" not in params:
        raise InvalidInputError("digest challenge without realm or nonce")
    qop_offer = params.get("qop")
    qop = None
    if qop_offer is not None:
        offered = [q.strip() for q in qop_offer.split(",")]
        if "auth" not in offered:
            raise InvalidInputError("the platform offers only qop=" + qop_offer)
        qop = "auth"
    return DigestChallenge(realm=params["realm"], nonce=params["nonce"], qop=qop, opaque=params.get("opaque"),
                           algorithm=params.get("algorithm", "MD5"))
