"""PINs and cards: never stored in clear, found from the value alone, unique, revocable."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hub.exceptions import InvalidInputError, NotFoundError
from hub.residents.credentials import find_card, find_pin_holder
from hub.residents.registry_hub import ResidentRegistry


def _all_file_bytes(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp_path.glob("hub.db*"))


def test_pin_is_never_stored_in_clear(registry: ResidentRegistry, tmp_path: Path) -> None:
    registry.residents.add_resident("mgr", "r1", "Chen Jing")
    registry.credentials.set_pin("mgr", "r1", "739184")
    assert b"739184" not in _all_file_bytes(tmp_path)
    registry.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert b"739184" not in _all_file_bytes(tmp_path)
    assert "739184".encode("utf-16-le") not in _all_file_bytes(tmp_path)


def test_pin_identifies_the_person(registry: ResidentRegistry) -> None:
    registry.residents.add_resident("mgr", "r1", "Chen Jing")
    registry.residents.add_resident("mgr", "r2", "Liu Yang")
    registry.credentials.set_pin("mgr", "r1", "739184")
    registry.credentials.set_pin("mgr", "r2", "582047")
    assert find_pin_holder(registry.conn, registry.keys, "739184") == "r1"
    assert find_pin_holder(registry.conn, registry.keys, "582047") == "r2"
    assert find_pin_holder(registry.conn, registry.keys, "000001") is None
    assert find_pin_holder(registry.conn, registry.keys, "abc") is None
    # Replacing a PIN retires the old one.
    registry.credentials.set_pin("mgr", "r1", "604215")
    assert find_pin_holder(registry.conn, registry.keys, "739184") is None
    assert find_pin_holder(registry.conn, registry.keys, "604215") == "r1"
    registry.credentials.revoke_pin("mgr", "r1")
    assert find_pin_holder(registry.conn, registry.keys, "604215") is None
    assert not registry.credentials.has_pin("r1")
    with pytest.raises(NotFoundError):
        registry.credentials.revoke_pin("mgr", "r1")


def test_pin_must_be_unique_and_not_trivial(registry: ResidentRegistry, snapshot: Callable[..., Any]) -> None:
    registry.residents.add_resident("mgr", "r1", "Chen Jing")
    registry.residents.add_resident("mgr", "r2", "Liu Yang")
    registry.credentials.set_pin("mgr", "r1", "739184")
    before = snapshot(registry.conn)
    with pytest.raises(InvalidInputError, match="not available"):
        registry.credentials.set_pin("mgr", "r2", "739184")
    for weak, message in [
        ("1111", "too easy"),
        ("123456", "too easy"),
        ("987654", "too easy"),
        ("12a4", "digits"),
        ("123", "4-12"),
        ("1" * 13, "4-12"),
    ]:
        with pytest.raises(InvalidInputError, match=message):
            registry.credentials.set_pin("mgr", "r2", weak)
    with pytest.raises(NotFoundError):
        registry.credentials.set_pin("mgr", "ghost", "582047")
    assert snapshot(registry.conn) == before


def test_cards(registry: ResidentRegistry, tmp_path: Path, snapshot: Callable[..., Any]) -> None:
    registry.residents.add_resident("mgr", "r1", "Chen Jing")
    card = registry.credentials.add_card("mgr", "r1", "0412 3456 7890")
    assert card.hint == "7890"
    registry.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert b"041234567890" not in _all_file_bytes(tmp_path)
    found = find_card(registry.conn, registry.keys, "041234567890").card
    assert found is not None
    assert found.resident_id == "r1"
    assert find_card(registry.conn, registry.keys, "999999").card is None
    assert find_card(registry.conn, registry.keys, "not a card").card is None
    before = snapshot(registry.conn)
    with pytest.raises(InvalidInputError, match="already registered"):
        registry.credentials.add_card("mgr", "r1", "041234567890")
    with pytest.raises(InvalidInputError, match="4-32"):
        registry.credentials.add_card("mgr", "r1", "12")
    assert snapshot(registry.conn) == before
    revoked = registry.credentials.revoke_card("mgr", card.card_id)
    assert revoked.revoked_at is not None
    still = find_card(registry.conn, registry.keys, "041234567890").card
    assert still is not None
    assert still.revoked_at is not None
    with pytest.raises(InvalidInputError, match="already revoked"):
        registry.credentials.revoke_card("mgr", card.card_id)
    # A revoked number may be issued again; the active card wins the lookup.
    registry.credentials.add_card("mgr", "r1", "041234567890")
    again = find_card(registry.conn, registry.keys, "041234567890").card
    assert again is not None
    assert again.revoked_at is None
    assert len(registry.credentials.list_cards("r1")) == 2
