"""Cards and PINs: add, revoke, look up. Only keyed indexes, hints and slow hashes are stored.

A PIN belongs to a keypad account: the resident's keypad code (not secret, like a user number) names the account
and the PIN is checked against it alone. PINs need not be unique, and setting one never tells whether someone else
uses it.
"""

from __future__ import annotations

import secrets as system_random
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from hub.db import has_table
from hub.exceptions import InvalidInputError, NotFoundError
from hub.privacy.keys import KeyRing
from hub.residents import secrets
from hub.residents import validation as v
from hub.residents.models import Card
from hub.residents.store import Store, new_id, transaction


def card_from_row(row: sqlite3.Row) -> Card:
    """Build a :class:`Card` from a ``cards`` row."""
    return Card(
        card_id=row["card_id"],
        resident_id=row["resident_id"],
        hint=row["hint"],
        added_at=v.from_db(row["added_at"]),
        revoked_at=v.from_db_optional(row["revoked_at"]),
    )


@dataclass(frozen=True)
class CardLookup:
    """What a card read resolves to: the card (active one preferred), or ``None`` for an unknown card."""

    card: Card | None


def find_card(conn: sqlite3.Connection, keys: KeyRing, number: str) -> CardLookup:
    """Resolve a card read; an unreadable number counts as unknown rather than an error (it came off a reader)."""
    try:
        normalised = secrets.check_card_number(number)
    except InvalidInputError:
        return CardLookup(None)
    row = conn.execute(
        "SELECT * FROM cards WHERE number_index = ? ORDER BY revoked_at IS NOT NULL, added_at DESC LIMIT 1",
        (secrets.keyed_index(keys.card_index, normalised),),
    ).fetchone()
    return CardLookup(None if row is None else card_from_row(row))


KEYPAD_CODE_DIGITS = 6  # codes the hub assigns; a manager may choose any 3-8 digit code instead


def new_keypad_code(conn: sqlite3.Connection) -> str:
    """A random keypad code no resident has (random, so codes say nothing about who enrolled when)."""
    while True:
        code = str(system_random.randbelow(9 * 10 ** (KEYPAD_CODE_DIGITS - 1)) + 10 ** (KEYPAD_CODE_DIGITS - 1))
        if conn.execute("SELECT 1 FROM keypad_codes WHERE code = ?", (code,)).fetchone() is None:
            return code


@dataclass(frozen=True)
class PinAccount:
    """The keypad account a code names: whose it is, and the stored hash of its PIN (``None`` without a PIN)."""

    resident_id: str
    salt: bytes | None
    pin_hash: bytes | None

    def check(self, pin: str) -> bool:
        """Whether ``pin`` is this account's PIN (the slow hash: run it off any open write transaction)."""
        if self.salt is None or self.pin_hash is None:
            return False
        if not isinstance(pin, str) or not pin.isascii() or not pin.isdigit():
            return False
        return secrets.verify_pin(pin, self.salt, self.pin_hash)


def find_pin_account(conn: sqlite3.Connection, code: str) -> PinAccount | None:
    """The keypad account of a code typed at a keypad, or ``None`` for a code nobody has."""
    if not isinstance(code, str) or not code.isascii() or not code.isdigit():
        return None
    row = conn.execute(
        "SELECT k.resident_id, p.salt, p.pin_hash FROM keypad_codes k LEFT JOIN pins p USING (resident_id)"
        " WHERE k.code = ?",
        (code,),
    ).fetchone()
    return None if row is None else PinAccount(str(row["resident_id"]), row["salt"], row["pin_hash"])



class CredentialStore(Store):
    """Cards and PINs of residents. ``pin_digits`` is the community's PIN length for PINs set from now on."""

    pin_digits: int = secrets.DEFAULT_PIN_DIGITS

    def add_card(self, actor: str, resident_id: str, card_number: str) -> Card:
        """Register a card for a resident; a number already active on any card is refused."""
        actor = v.actor(actor)
        resident_id = v.identifier(resident_id, "resident_id")
        number = secrets.check_card_number(card_number)
        index = secrets.keyed_index(self._keys.card_index, number)
        now = self._clock()
        card = Card(new_id("card"), resident_id, number[-4:], now, None)
        with transaction(self._conn) as conn:
            self._require_resident(conn, resident_id)
            if conn.execute("SELECT 1 FROM cards WHERE number_index = ? AND revoked_at IS NULL", (index,)).fetchone():
                raise InvalidInputError(f"card ending {card.hint} is already registered")
            conn.execute(
                "INSERT INTO cards (card_id, resident_id, number_index, hint, added_at) VALUES (?,?,?,?,?)",
                (card.card_id, resident_id, index, card.hint, v.to_db(now)),
            )
        self._audit(actor, "card.add", now, {"resident_id": resident_id, "card_id": card.card_id, "hint": card.hint})
        return card

    def revoke_card(self, actor: str, card_id: str) -> Card:
        """Revoke a card; it stays on record so a later read is denied as revoked, not unknown."""
        actor = v.actor(actor)
        card_id = v.identifier(card_id, "card_id")
        now = self._clock()
        with transaction(self._conn) as conn:
            row = conn.execute("SELECT * FROM cards WHERE card_id = ?", (card_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no card {card_id!r}")
            if row["revoked_at"] is not None:
                raise InvalidInputError(f"card {card_id!r} is already revoked")
            conn.execute("UPDATE cards SET revoked_at = ? WHERE card_id = ?", (v.to_db(now), card_id))
            card = card_from_row(row)
        self._audit(actor, "card.revoke", now, {"resident_id": card.resident_id, "card_id": card_id})
        return Card(card.card_id, card.resident_id, card.hint, card.added_at, now)

    def lookup_card(self, card_number: str) -> Card | None:
        """The card with this number (an active one preferred, else the latest revoked), or ``None``; a number
        that cannot be a card number is refused. The number is only compared through its keyed index."""
        number = secrets.check_card_number(card_number)
        return find_card(self._conn, self._keys, number).card

    def list_cards(self, resident_id: str) -> list[Card]:
        """A resident's cards, newest first, revoked ones included."""
        rows = self._conn.execute(
            "SELECT * FROM cards WHERE resident_id = ? ORDER BY added_at DESC", (resident_id,)
        ).fetchall()
        return [card_from_row(r) for r in rows]

    def set_pin(self, actor: str, resident_id: str, pin: str, keypad_code: str | None = None) -> str:
        """Set (or replace) a resident's PIN; returns their keypad code, typed at a keypad before the PIN.

        A resident without a code gets a random one, or ``keypad_code`` when the manager chooses it (for example
        from the unit number); a code another resident has is refused (codes are not secret). PINs need not be
        unique: nothing here compares one resident's PIN with another's. Setting a PIN lifts the account's
        lock-out after failed entries.
        """
        actor = v.actor(actor)
        resident_id = v.identifier(resident_id, "resident_id")
        pin = secrets.check_pin(pin, self.pin_digits)
        wanted = None if keypad_code is None else secrets.check_keypad_code(keypad_code)
        salt = secrets.new_salt()
        pin_hash = secrets.slow_hash(pin, salt)
        now = self._clock()
        with transaction(self._conn) as conn:
            self._require_resident(conn, resident_id)
            code = self._assign_code(conn, resident_id, wanted, now)
            conn.execute(
                "INSERT INTO pins (resident_id, salt, pin_hash, set_at) VALUES (?,?,?,?)"
                " ON CONFLICT (resident_id) DO UPDATE SET salt=excluded.salt, pin_hash=excluded.pin_hash,"
                " set_at=excluded.set_at",
                (resident_id, salt, pin_hash, v.to_db(now)),
            )
            if has_table(conn, "pin_throttle"):
                conn.execute("DELETE FROM pin_throttle WHERE scope = 'account' AND key = ?", (resident_id,))
        self._audit(actor, "pin.set", now, {"resident_id": resident_id, "keypad_code": code})
        return code

    def _assign_code(self, conn: sqlite3.Connection, resident_id: str, wanted: str | None, now: datetime) -> str:
        row = conn.execute("SELECT code FROM keypad_codes WHERE resident_id = ?", (resident_id,)).fetchone()
        if wanted is None and row is not None:
            return str(row["code"])
        if wanted is not None and row is not None and row["code"] == wanted:
            return wanted
        if wanted is not None and conn.execute("SELECT 1 FROM keypad_codes WHERE code = ?", (wanted,)).fetchone():
            raise InvalidInputError(f"keypad code {wanted} belongs to another resident; choose another")
        code = wanted if wanted is not None else new_keypad_code(conn)
        conn.execute(
            "INSERT INTO keypad_codes (resident_id, code, assigned_at) VALUES (?,?,?)"
            " ON CONFLICT (resident_id) DO UPDATE SET code=excluded.code, assigned_at=excluded.assigned_at",
            (resident_id, code, v.to_db(now)),
        )
        return code

    def keypad_code(self, resident_id: str) -> str | None:
        """The resident's keypad code, if they have one (it stays when a PIN is revoked and set again)."""
        row = self._conn.execute("SELECT code FROM keypad_codes WHERE resident_id = ?", (resident_id,)).fetchone()
        return None if row is None else str(row["code"])

    def revoke_pin(self, actor: str, resident_id: str) -> None:
        """Remove a resident's PIN."""
        actor = v.actor(actor)
        resident_id = v.identifier(resident_id, "resident_id")
        now = self._clock()
        with transaction(self._conn) as conn:
            self._require_resident(conn, resident_id)
            if conn.execute("DELETE FROM pins WHERE resident_id = ?", (resident_id,)).rowcount == 0:
                raise NotFoundError(f"resident {resident_id!r} has no PIN")
        self._audit(actor, "pin.revoke", now, {"resident_id": resident_id})

    def has_pin(self, resident_id: str) -> bool:
        """Whether the resident has a PIN set."""
        return self._conn.execute("SELECT 1 FROM pins WHERE resident_id = ?", (resident_id,)).fetchone() is not None
