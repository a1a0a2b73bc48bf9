"""Cards and PINs: add, revoke, look up. Only keyed indexes, hints and slow hashes are stored."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

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


def find_pin_holder(conn: sqlite3.Connection, keys: KeyRing, pin: str) -> str | None:
    """The resident whose PIN this is, or ``None``: index lookup, then the slow-hash check."""
    if not isinstance(pin, str) or not pin.isascii() or not pin.isdigit():
        return None
    row = conn.execute(
        "SELECT resident_id, salt, pin_hash FROM pins WHERE pin_index = ?",
        (secrets.keyed_index(keys.pin_index, pin),),
    ).fetchone()
    if row is None or not secrets.verify_pin(pin, row["salt"], row["pin_hash"]):
        return None
    return str(row["resident_id"])


class CredentialStore(Store):
    """Cards and PINs of residents."""

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

    def list_cards(self, resident_id: str) -> list[Card]:
        """A resident's cards, newest first, revoked ones included."""
        rows = self._conn.execute(
            "SELECT * FROM cards WHERE resident_id = ? ORDER BY added_at DESC", (resident_id,)
        ).fetchall()
        return [card_from_row(r) for r in rows]

    def set_pin(self, actor: str, resident_id: str, pin: str) -> None:
        """Set (or replace) a resident's PIN. A PIN another resident uses is refused: it must name one person."""
        actor = v.actor(actor)
        resident_id = v.identifier(resident_id, "resident_id")
        pin = secrets.check_pin(pin)
        index = secrets.keyed_index(self._keys.pin_index, pin)
        salt = secrets.new_salt()
        pin_hash = secrets.slow_hash(pin, salt)
        now = self._clock()
        with transaction(self._conn) as conn:
            self._require_resident(conn, resident_id)
            holder = conn.execute("SELECT resident_id FROM pins WHERE pin_index = ?", (index,)).fetchone()
            if holder is not None and holder["resident_id"] != resident_id:
                raise InvalidInputError("this PIN is not available; choose another")
            conn.execute(
                "INSERT INTO pins (resident_id, pin_index, salt, pin_hash, set_at) VALUES (?,?,?,?,?)"
                " ON CONFLICT (resident_id) DO UPDATE SET pin_index=excluded.pin_index, salt=excluded.salt,"
                " pin_hash=excluded.pin_hash, set_at=excluded.set_at",
                (resident_id, index, salt, pin_hash, v.to_db(now)),
            )
        self._audit(actor, "pin.set", now, {"resident_id": resident_id})

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
