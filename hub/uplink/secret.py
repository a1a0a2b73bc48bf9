"""A secret value that never shows up in logs, reprs or tracebacks."""

from __future__ import annotations

import os
from pathlib import Path

from hub.exceptions import InvalidInputError

MIN_SECRET_BYTES = 16


class Secret:
    """Holds key material; ``str``/``repr`` print a placeholder, :meth:`reveal` gives the bytes."""

    __slots__ = ("_value",)

    def __init__(self, value: str | bytes, *, min_bytes: int = MIN_SECRET_BYTES) -> None:
        raw = value.encode() if isinstance(value, str) else bytes(value)
        if len(raw) < max(1, min_bytes):
            raise InvalidInputError(f"a secret must be at least {max(1, min_bytes)} bytes long")
        self._value = raw

    def reveal(self) -> bytes:
        """The secret's bytes, for HMAC keys and the like only."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        import hmac

        return isinstance(other, Secret) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(("Secret", len(self._value)))

    @classmethod
    def from_file(cls, path: str | Path) -> Secret:
        """Read a secret from a file (surrounding whitespace ignored)."""
        return cls(Path(path).read_text(encoding="utf-8").strip())

    @classmethod
    def from_env(cls, name: str) -> Secret | None:
        """The secret in environment variable ``name``, or None when it is unset or empty."""
        value = os.environ.get(name, "").strip()
        return cls(value) if value else None

    @classmethod
    def generate(cls) -> Secret:
        """A fresh random secret (64 hex characters)."""
        return cls(os.urandom(32).hex())
