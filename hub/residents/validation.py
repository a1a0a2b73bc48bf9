"""Input checks shared by the registry and the access rules: each raises InvalidInputError naming the field.

Every public action validates all of its input before it opens a transaction, so bad input changes nothing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hub.exceptions import InvalidInputError

_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}")


def identifier(value: object, field: str) -> str:
    """An id: 1-64 characters of letters, digits and ``._:@-``, starting with a letter or digit."""
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise InvalidInputError(_identifier_problem(value, field))
    return value


def _identifier_problem(value: object, field: str) -> str:
    """What is wrong with an id, said in words (a manager who typed a name as an id learns what an id is)."""
    label = field
    if not isinstance(value, str) or not value:
        return f"{label}: enter an id (1-64 letters, digits or . _ : @ -)"
    if len(value) > 64:
        return f"{label} {value!r} is {len(value)} characters long: an id has at most 64"
    if any(ch.isspace() for ch in value):
        return (
            f"{label} {value!r} contains a space: an id is one word of letters, digits or . _ : @ - "
            "(for example A-1203-01), not a name"
        )
    if not (value[0].isascii() and value[0].isalnum()):
        return f"{label} {value!r} must start with a letter or a digit"
    odd = sorted({ch for ch in value if not (ch.isascii() and (ch.isalnum() or ch in "._:@-"))})
    shown = " ".join(odd)
    return f"{label} {value!r} contains {shown}: an id may use only letters, digits and . _ : @ -"


def text(value: object, field: str, *, max_length: int = 200, optional: bool = False) -> str | None:
    """Free text, stripped; ``None`` allowed only when ``optional``; never empty, never over ``max_length``."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be text, got {type(value).__name__}")
    stripped = value.strip()
    if not stripped:
        raise InvalidInputError(f"{field} must not be empty")
    if len(stripped) > max_length:
        raise InvalidInputError(f"{field} must be at most {max_length} characters, got {len(stripped)}")
    if any(ord(ch) < 32 for ch in stripped):
        raise InvalidInputError(f"{field} must not contain control characters")
    return stripped


def required_text(value: object, field: str, *, max_length: int = 200) -> str:
    """Like :func:`text`, never ``None``."""
    result = text(value, field, max_length=max_length)
    assert result is not None  # text() only returns None when optional
    return result


def actor(value: object) -> str:
    """The manager (or system component) performing an action; it goes into the audit log."""
    return required_text(value, "actor", max_length=100)


def aware_datetime(value: object, field: str) -> datetime:
    """A timezone-aware datetime: naive ones are ambiguous across the hub, the county and DST changes."""
    if not isinstance(value, datetime):
        raise InvalidInputError(f"{field} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(f"{field} must be timezone-aware, got naive {value.isoformat()}")
    return value


def optional_datetime(value: object, field: str) -> datetime | None:
    """``None`` or a timezone-aware datetime."""
    return None if value is None else aware_datetime(value, field)


def period(valid_from: datetime | None, valid_until: datetime | None, field: str = "validity period") -> None:
    """A period must end after it starts."""
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise InvalidInputError(
            f"{field}: valid_until ({valid_until.isoformat()}) must be after valid_from ({valid_from.isoformat()})"
        )


def positive_int(value: object, field: str, *, maximum: int = 1_000_000) -> int:
    """A whole number between 1 and ``maximum`` (bool is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise InvalidInputError(f"{field} must be a whole number from 1 to {maximum}, got {value!r}")
    return value


def to_db(value: datetime) -> str:
    """Store times as fixed-width UTC text so that SQL string comparison orders them correctly."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_db_optional(value: datetime | None) -> str | None:
    """:func:`to_db` passing ``None`` through."""
    return None if value is None else to_db(value)


def from_db(value: str) -> datetime:
    """Inverse of :func:`to_db`."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def from_db_optional(value: str | None) -> datetime | None:
    """:func:`from_db` passing ``None`` through."""
    return None if value is None else from_db(value)
