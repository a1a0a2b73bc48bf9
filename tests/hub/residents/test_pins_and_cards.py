"""PINs and cards: never stored in clear; a PIN belongs to one keypad account; cards unique; revocable."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hub.exceptions import InvalidInputError, NotFoundError
from hub.residents.credentials import find_card, find_pin_account
from hub.residents.registry_hub import ResidentRegistry
from hub.residents.secrets import check_pin_digits


def _all_file_bytes(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp_path.glob("hub.db*"))


def test_pin_is_never_stored_in_clear(registry: ResidentRegistry, tmp_path: Path) -> None:
    registry.residents.add_resident("mgr", "r1", "Chen Jing")
    registry.credentials.set_pin("mgr", "r1", "739184")
    assert b"739184" not in _all_file_bytes(tmp_path)
    registry.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert b"739184" not in _all_file_bytes(tmp_path)
    assert "739184".encode("utf-16-le") not in _all_file_bytes(tmp_path)


def test_pin_is_checked_against_its_keypad_account_only(registry: ResidentRegistry) -> None:
    registry.residents.add_resident("mgr", "r1", "Chen Jing")
    registry.residents.add_resident("mgr", "r2", "Liu Yang")
    code1 = registry.credentials.set_pin("mgr", "r1", "739184")
    code2 = registry.credentials.set_pin("mgr", "r2", "582047")
    assert code1 != code2
    assert len(code1) == 6 and code1.isdigit()
    account = find_pin_account(registry.conn, code1)
    assert account is not None and account.resident_id == "r1"
    assert account.check("739184")
    # r2's PIN typed after r1's code is wrong: a guess tries one account, never the community.
    assert not account.check("582047")
    assert find_pin_account(registry.conn, "000001") is None
    assert find_pin_account(registry.conn, "abc") is None
    # Replacing a PIN retires the old one and keeps the code; revoking leaves the code with no PIN.
    assert registry.credentials.set_pin("mgr", "r1", "604215") == code1
    account = find_pin_account(registry.conn, code1)
    assert account is not None and not account.check("739184") and account.check("604215")
    registry.credentials.revoke_pin("mgr", "r1")
    account = find_pin_account(registry.conn, code1)
    assert account is not None and not account.check("604215")
    assert not registry.credentials.has_pin("r1")
    with pytest.raises(NotFoundError):
        registry.credentials.revoke_pin("mgr", "r1")
    assert registry.credentials.set_pin("mgr", "r1", "604215") == code1


def test_pins_need_not_be_unique_and_setting_one_reveals_nothing(registry: ResidentRegistry) -> None:
    registry.residents.add_resident("mgr", "r1", "Chen Jing")
    registry.residents.add_resident("mgr", "r2", "Liu Yang")
    code1 = registry.credentials.set_pin("mgr", "r1", "739184")
    # The same PIN for another resident is simply set: refusing it would tell the manager someone has it.
    code2 = registry.credentials.set_pin("mgr", "r2", "739184")
    first, second = find_pin_account(registry.conn, code1), find_pin_account(registry.conn, code2)
    assert first is not None and second is not None
    assert (first.resident_id, second.resident_id) == ("r1", "r2")
    assert first.check("739184") and second.check("739184")
    assert first.salt != second.salt and first.pin_hash != second.pin_hash


def test_keypad_codes_chosen_by_the_manager(registry: ResidentRegistry, snapshot: Callable[..., Any]) -> None:
    registry.residents.add_resident("mgr", "r1", "Chen Jing")
    registry.residents.add_resident("mgr", "r2", "Liu Yang")
    assert registry.credentials.set_pin("mgr", "r1", "739184", keypad_code="120301") == "120301"
    assert registry.credentials.keypad_code("r1") == "120301"
    before = snapshot(registry.conn)
    with pytest.raises(InvalidInputError, match="belongs to another resident"):
        registry.credentials.set_pin("mgr", "r2", "582047", keypad_code="120301")
    for bad, message in [("12", "3-8"), ("123456789", "3-8"), ("12a4", "digits")]:
        with pytest.raises(InvalidInputError, match=message):
            registry.credentials.set_pin("mgr", "r2", "582047", keypad_code=bad)
    assert snapshot(registry.conn) == before


def test_pin_length_and_trivial_pins(registry: ResidentRegistry, snapshot: Callable[..., Any]) -> None:
    registry.residents.add_resident("mgr", "r1", "Chen Jing")
    before = snapshot(registry.conn)
    for weak, message in [
        ("111111", "too easy"),
        ("123456", "too easy"),
        ("987654", "too easy"),
        ("12a456", "digits"),
        ("4802", "6 digits"),
        ("48021395", "6 digits"),
    ]:
        with pytest.raises(InvalidInputError, match=message):
            registry.credentials.set_pin("mgr", "r1", weak)
    with pytest.raises(NotFoundError):
        registry.credentials.set_pin("mgr", "ghost", "582047")
    assert snapshot(registry.conn) == before
    # A community may choose 4-8 digits (docs/privacy.md states what each resists).
    registry.credentials.pin_digits = check_pin_digits(4)
    registry.credentials.set_pin("mgr", "r1", "4802")
    for digits in (3, 9, True, "6"):
        with pytest.raises(InvalidInputError, match="4-8"):
            check_pin_digits(digits)


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
