"""The access service on a real database: card, PIN, face and visitor pass end to end, with history kept."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from hub.access.config import AccessConfigStore
from hub.access.models import AccessRule, CredentialKind, Decision, Door, FaceAssurance, FaceMatch, Reason, Side
from hub.access.pin_throttle import Scope, ThrottleState
from hub.access.service import AccessService
from hub.exceptions import InvalidInputError, NotFoundError
from hub.residents.models import ResidentStatus
from hub.residents.registry_hub import ResidentRegistry

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)  # a Monday morning
ALL = frozenset(CredentialKind)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[ResidentRegistry]:
    reg = ResidentRegistry.open(tmp_path / "hub.db", tmp_path / "hub.key", clock=lambda: NOW - timedelta(hours=1))
    config = AccessConfigStore(reg.conn)
    config.put_door(
        "installer", Door("n-in", "North in", gate_id="north", side=Side.IN, accepts=ALL, anti_passback=True,
             face_assurance=FaceAssurance.FACE_ALONE)
    )
    config.put_door(
        "installer", Door("n-out", "North out", gate_id="north", side=Side.OUT, accepts=ALL, anti_passback=True,
             face_assurance=FaceAssurance.FACE_ALONE)
    )
    config.put_door("installer", Door("b3", "Building 3 door", accepts=frozenset({CredentialKind.CARD})))
    config.add_rule(
        "mgr", AccessRule("everyone-gate", frozenset({"n-in", "n-out"}), applies_to_all=True), name="Main gate, always"
    )
    config.add_rule(
        "mgr",
        AccessRule(
            "b3-day",
            frozenset({"b3"}),
            weekdays=frozenset(range(5)),
            start=time(7),
            end=time(21),
            on_holidays=False,
            buildings=frozenset({"3"}),
        ),
        name="Building 3 on workdays",
    )
    reg.residents.add_resident("mgr", "r1", "Wu Min", building="3", unit="301")
    reg.credentials.add_card("mgr", "r1", "11112222")
    reg.credentials.set_pin("mgr", "r1", "480213", keypad_code=CODE)
    reg.consents.record_consent("mgr", "r1", scope="gates", given_at=NOW - timedelta(days=1))
    reg.faces.enrol_templates("mgr", "r1", [np.ones(128, dtype=np.float32)])
    yield reg
    reg.conn.close()


CODE = "301001"


@pytest.fixture
def service(registry: ResidentRegistry) -> AccessService:
    return AccessService(registry.conn, registry.keys, timezone=TZ)


def _attempts(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    return [(r["kind"], r["reason"], r["granted"]) for r in conn.execute("SELECT * FROM access_attempts")]


def test_card_pin_face_granted_and_recorded(registry: ResidentRegistry, service: AccessService) -> None:
    assert service.present_card("b3", "1111 2222", NOW).granted
    assert service.enter_pin("n-in", CODE, "480213", NOW).granted
    assert service.present_face("n-out", FaceMatch("r1", 0.3, True), NOW + timedelta(minutes=1)).granted
    assert _attempts(registry.conn) == [("card", "granted", 1), ("pin", "granted", 1), ("face", "granted", 1)]


def test_denials_through_the_service(registry: ResidentRegistry, service: AccessService) -> None:
    assert service.present_card("b3", "99998888", NOW).reason is Reason.UNKNOWN_CARD
    assert service.enter_pin("n-in", CODE, "000000", NOW).reason is Reason.WRONG_PIN
    assert service.present_card("b3", "11112222", NOW.replace(hour=22)).reason is Reason.OUTSIDE_HOURS
    assert service.enter_pin("b3", CODE, "480213", NOW).reason is Reason.CREDENTIAL_NOT_ACCEPTED
    AccessConfigStore(registry.conn).add_holiday("mgr", date(2026, 3, 2), "Test holiday")
    assert service.present_card("b3", "11112222", NOW).reason is Reason.HOLIDAY
    registry.residents.update_resident("mgr", "r1", status=ResidentStatus.SUSPENDED)
    assert service.present_card("n-in", "11112222", NOW).reason is Reason.SUSPENDED
    registry.residents.update_resident("mgr", "r1", status=ResidentStatus.ACTIVE)
    card = registry.credentials.list_cards("r1")[0]
    registry.credentials.revoke_card("mgr", card.card_id)
    assert service.present_card("n-in", "11112222", NOW).reason is Reason.CARD_REVOKED
    AccessConfigStore(registry.conn).set_lockdown("guard", "n-in", True)
    assert service.enter_pin("n-in", CODE, "480213", NOW).reason is Reason.DOOR_LOCKED_DOWN
    with pytest.raises(NotFoundError):
        service.present_card("nowhere", "11112222", NOW)
    with pytest.raises(InvalidInputError, match="timezone"):
        service.present_card("n-in", "11112222", datetime(2026, 3, 2, 10, 0))


def test_withdrawn_consent_denies_a_stale_face_match(registry: ResidentRegistry, service: AccessService) -> None:
    registry.consents.withdraw_consent("mgr", "r1", withdrawn_at=NOW)
    assert service.present_face("n-in", FaceMatch("r1", 0.3, True), NOW).reason is Reason.NO_CONSENT


def test_anti_passback_in_out(service: AccessService) -> None:
    t = NOW
    assert service.present_card("n-in", "11112222", t).granted
    assert service.present_card("n-in", "11112222", t + timedelta(minutes=1)).reason is Reason.ANTI_PASSBACK
    assert service.present_card("n-out", "11112222", t + timedelta(minutes=2)).granted
    assert service.present_card("n-out", "11112222", t + timedelta(minutes=3)).reason is Reason.ANTI_PASSBACK
    # A different credential of the same person is the same person: PIN at the in side now works once.
    assert service.enter_pin("n-in", CODE, "480213", t + timedelta(minutes=4)).granted
    assert service.present_face("n-in", FaceMatch("r1", 0.3, True), t + timedelta(minutes=5)).reason is (
        Reason.ANTI_PASSBACK
    )


def test_anti_passback_reset(registry: ResidentRegistry) -> None:
    service = AccessService(registry.conn, registry.keys, timezone=TZ, passback_reset=timedelta(hours=12))
    assert service.present_card("n-in", "11112222", NOW).granted
    assert service.present_card("n-in", "11112222", NOW + timedelta(hours=1)).reason is Reason.ANTI_PASSBACK
    assert service.present_card("n-in", "11112222", NOW + timedelta(hours=13)).granted


def test_face_lockout_then_card_fallback(registry: ResidentRegistry, service: AccessService) -> None:
    spoof = FaceMatch("r1", 0.3, live=False)
    reasons = [service.present_face("n-in", spoof, NOW + timedelta(seconds=10 * i)).reason for i in range(3)]
    assert reasons == [Reason.NOT_LIVE] * 3
    real = FaceMatch("r1", 0.3, True)
    assert service.present_face("n-in", real, NOW + timedelta(minutes=1)).reason is Reason.LOCKED_OUT
    assert service.present_card("n-in", "11112222", NOW + timedelta(minutes=1)).granted
    # After the lock-out ends, the face works again (at the out side, to respect anti-passback).
    assert service.present_face("n-out", real, NOW + timedelta(minutes=11)).granted


def test_gate_lockout_after_unknown_faces(service: AccessService) -> None:
    for i in range(10):
        assert service.present_face("n-in", FaceMatch(None, 0.9, True), NOW + timedelta(seconds=i)).reason is (
            Reason.UNKNOWN_FACE
        )
    assert service.present_face("n-in", FaceMatch("r1", 0.3, True), NOW + timedelta(seconds=20)).reason is (
        Reason.LOCKED_OUT
    )
    assert service.enter_pin("n-in", CODE, "480213", NOW + timedelta(seconds=30)).granted


def test_wrong_pins_lock_the_account_not_the_card(registry: ResidentRegistry, service: AccessService) -> None:
    # Four wrong PINs on r1's account are free; the fifth locks the account for 15 minutes, at every keypad.
    for i in range(5):
        assert service.enter_pin("n-in", CODE, f"90{i}531", NOW + timedelta(seconds=i)).reason is Reason.WRONG_PIN
    assert service.enter_pin("n-out", CODE, "480213", NOW + timedelta(seconds=10)).reason is Reason.LOCKED_OUT
    assert service.pin_throttle(Scope.ACCOUNT, "r1").locked_until == NOW + timedelta(seconds=4, minutes=15)
    # The card still works at once, and the right PIN after the lock ends (which resets the count).
    assert service.present_card("n-in", "11112222", NOW + timedelta(seconds=11)).granted
    assert service.enter_pin("n-out", CODE, "480213", NOW + timedelta(minutes=16)).granted
    assert service.pin_throttle(Scope.ACCOUNT, "r1") == ThrottleState()


def test_a_locked_account_does_not_check_the_pin(registry: ResidentRegistry, service: AccessService) -> None:
    for i in range(6):
        service.enter_pin("n-in", CODE, f"90{i}531", NOW + timedelta(minutes=30 * i))
    state = service.pin_throttle(Scope.ACCOUNT, "r1")
    assert state.failures == 6
    assert state.locked_until == NOW + timedelta(minutes=150 + 30)  # the sixth failure locks for 30 minutes
    # The right PIN while locked is refused like any other entry and is not counted either way.
    assert service.enter_pin("n-in", CODE, "480213", NOW + timedelta(minutes=160)).reason is Reason.LOCKED_OUT
    assert service.pin_throttle(Scope.ACCOUNT, "r1") == state
    # A manager setting a new PIN lifts the lock.
    registry.credentials.set_pin("mgr", "r1", "580213")
    assert service.enter_pin("n-in", CODE, "580213", NOW + timedelta(minutes=161)).granted


def test_wrong_entries_lock_the_keypad_for_every_account(registry: ResidentRegistry, service: AccessService) -> None:
    # Unknown codes (no account) still count at the keypad: ten in a row lock its PIN entry for 5 minutes.
    for i in range(10):
        assert service.enter_pin("n-in", f"77{i}001", "480213", NOW + timedelta(seconds=i)).reason is (
            Reason.WRONG_PIN
        )
    assert service.enter_pin("n-in", CODE, "480213", NOW + timedelta(seconds=20)).reason is Reason.LOCKED_OUT
    # Other keypads, cards and faces are not throttled by it.
    assert service.enter_pin("n-out", CODE, "480213", NOW + timedelta(seconds=21)).granted
    assert service.present_card("n-in", "11112222", NOW + timedelta(seconds=22)).granted
    assert service.enter_pin("n-in", CODE, "480213", NOW + timedelta(minutes=6)).reason is Reason.ANTI_PASSBACK


def test_visitor_pass_uses_expiry_revocation(registry: ResidentRegistry, service: AccessService) -> None:
    decisions: list[Decision] = []
    issued = registry.passes.issue_pass(
        "r1-app",
        "r1",
        "Plumber Ma",
        ["n-in", "n-out"],
        valid_from=NOW,
        valid_until=NOW + timedelta(hours=2),
        max_uses=2,
    )
    token = issued.token
    decisions.append(service.present_pass("n-in", token, NOW))
    decisions.append(service.present_pass("n-in", token, NOW + timedelta(minutes=1)))  # anti-passback
    decisions.append(service.present_pass_image("n-out", issued.qr_png, NOW + timedelta(minutes=30)))
    decisions.append(service.present_pass("n-in", token, NOW + timedelta(minutes=40)))
    assert [d.reason for d in decisions] == [Reason.GRANTED, Reason.ANTI_PASSBACK, Reason.GRANTED, Reason.PASS_USED_UP]
    assert registry.passes.get_pass(issued.visitor_pass.pass_id).uses == 2
    assert service.present_pass("b3", token, NOW).reason is Reason.CREDENTIAL_NOT_ACCEPTED

    second = registry.passes.issue_pass(
        "mgr", "r1", "Guest", ["n-in"], valid_from=NOW + timedelta(hours=1), valid_until=NOW + timedelta(hours=2)
    )
    assert service.present_pass("n-in", second.token, NOW).reason is Reason.NOT_YET_VALID
    assert service.present_pass("n-in", second.token, NOW + timedelta(hours=3)).reason is Reason.EXPIRED
    assert service.present_pass("n-out", second.token, NOW + timedelta(hours=1)).reason is Reason.NO_ACCESS_TO_DOOR
    registry.passes.revoke_pass("mgr", second.visitor_pass.pass_id)
    assert service.present_pass("n-in", second.token, NOW + timedelta(hours=1)).reason is Reason.PASS_REVOKED
    assert service.present_pass("n-in", second.token[:-2] + "xx", NOW).reason is Reason.INVALID_PASS
    assert service.present_pass_image("n-in", np.zeros((50, 50), dtype=np.uint8), NOW) is None


def test_decision_hook_and_purge(registry: ResidentRegistry) -> None:
    seen: list[Any] = []
    service = AccessService(registry.conn, registry.keys, timezone=TZ, on_decision=lambda d, at: seen.append(d))
    service.present_card("n-in", "11112222", NOW)
    assert seen[0].reason is Reason.GRANTED
    assert service.purge_attempts(NOW + timedelta(seconds=1)) == 1
    assert _attempts(registry.conn) == []


def test_service_time_is_utc_safe(service: AccessService) -> None:
    # 02:00 UTC is 10:00 in Shanghai; the building door's workday window is meant in local time.
    assert service.present_card("b3", "11112222", datetime(2026, 3, 2, 2, 0, tzinfo=UTC)).granted
