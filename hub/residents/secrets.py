"""Keyed indexes and slow hashes for card numbers and PINs; nothing here touches the database.

A PIN belongs to one keypad account: the resident types their keypad code first, then the PIN, and the PIN is
checked against that one account only (never against the whole community, so one guess tries one account and
two residents may well have the same PIN). The scrypt hash with a per-PIN salt verifies it, so a stolen database
gives no fast oracle for the PIN. A card number is found through a keyed HMAC index, useless without the key file.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import os
import re

from hub.exceptions import InvalidInputError

PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 8
DEFAULT_PIN_DIGITS = 6
KEYPAD_CODE_MIN_DIGITS = 3
KEYPAD_CODE_MAX_DIGITS = 8
_SCRYPT_N = 2**14  # about 16 MiB and tens of milliseconds per check: cheap at a keypad, costly in bulk
_SCRYPT_R = 8
_SCRYPT_P = 1
_CARD = re.compile(r"[0-9A-F]{4,32}")


def check_pin_digits(digits: object) -> int:
    """The community's PIN length: 4-8 digits (6 by default; see docs/privacy.md for what each length resists)."""
    if isinstance(digits, bool) or not isinstance(digits, int) or not PIN_MIN_DIGITS <= digits <= PIN_MAX_DIGITS:
        raise InvalidInputError(f"PIN length must be {PIN_MIN_DIGITS}-{PIN_MAX_DIGITS} digits, not {digits!r}")
    return digits


def check_pin(pin: object, digits: int = DEFAULT_PIN_DIGITS) -> str:
    """A PIN of exactly ``digits`` digits that is not trivially guessable (all one digit, or a straight run)."""
    if not isinstance(pin, str) or not pin.isascii() or not pin.isdigit():
        raise InvalidInputError("PIN must be a string of digits")
    if len(pin) != digits:
        raise InvalidInputError(f"PIN must have {digits} digits, got {len(pin)}")
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(pin)}
    if steps in ({0}, {1}, {9}):
        raise InvalidInputError("PIN is too easy to guess (one repeated digit or a straight run)")
    return pin


def check_keypad_code(code: object) -> str:
    """A keypad code (the account a PIN belongs to): 3-8 digits, not secret."""
    if not isinstance(code, str) or not code.isascii() or not code.isdigit():
        raise InvalidInputError("keypad code must be a string of digits")
    if not KEYPAD_CODE_MIN_DIGITS <= len(code) <= KEYPAD_CODE_MAX_DIGITS:
        raise InvalidInputError(
            f"keypad code must have {KEYPAD_CODE_MIN_DIGITS}-{KEYPAD_CODE_MAX_DIGITS} digits, got {len(code)}"
        )
    return code


def check_card_number(number: object) -> str:
    """A card number (decimal or hex, 4-32 characters, spaces and dashes ignored), normalised to upper case."""
    if not isinstance(number, str):
        raise InvalidInputError("card number must be text")
    normalised = number.replace(" ", "").replace("-", "").upper()
    if not _CARD.fullmatch(normalised):
        raise InvalidInputError("card number must be 4-32 digits or hex characters")
    return normalised


def keyed_index(key: bytes, value: str) -> bytes:
    """HMAC-SHA256 of a secret value under a purpose key: the database lookup column."""
    return hmac.new(key, value.encode(), hashlib.sha256).digest()


def new_salt() -> bytes:
    """A fresh per-PIN salt."""
    return os.urandom(16)


def slow_hash(pin: str, salt: bytes) -> bytes:
    """scrypt of the PIN with its salt."""
    return hashlib.scrypt(pin.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)


def verify_pin(pin: str, salt: bytes, expected: bytes) -> bool:
    """Constant-time check of a PIN against its stored scrypt hash."""
    return hmac.compare_digest(slow_hash(pin, salt), expected)
