"""The pure decide(): one test per reason, plus the order in which checks apply. No database, no clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.access.decide import decide
from hub.access.models import (
    AccessContext,
    AccessRequest,
    AccessRule,
    Attempt,
    CardRead,
    Credential,
    CredentialKind,
    Decision,
    Door,
    FaceAssurance,
    FaceMatch,
    LockoutPolicy,
    PassPresentation,
    PassState,
    PinEntry,
    Reason,
    Side,
    Subject,
)
from hub.exceptions import InvalidInputError

TZ = ZoneInfo("Asia/Shanghai")
# Monday 2 March 2026, 10:00 in Shanghai.
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
DOOR = Door("gate-in", "North gate in", gate_id="north", side=Side.IN, anti_passback=True,
            face_assurance=FaceAssurance.FACE_ALONE)  # the face alone, as these reasons are about
SUBJECT = Subject("r1", active=True, valid_from=None, valid_until=None, building="3", face_consent=True)
WORKDAY = AccessRule(
    "weekday",
    frozenset({"gate-in"}),
    weekdays=frozenset(range(5)),
    start=time(6),
    end=time(22),
    on_holidays=False,
    resident_ids=frozenset({"r1"}),
)
CONTEXT = AccessContext(door=DOOR, timezone=TZ, subject=SUBJECT, rules=(WORKDAY,))
PASS = PassState(
    "pass_1", "r9", frozenset({"gate-in"}), NOW - timedelta(hours=1), NOW + timedelta(hours=1), 2, 0, False
)
FACE = FaceMatch("r1", 0.35, True)


def _decide(credential: Credential, context: AccessContext = CONTEXT, now: datetime = NOW) -> Decision:
    return decide(AccessRequest("gate-in", credential, now), context)


@pytest.mark.parametrize("credential", [FACE, CardRead("r1"), PinEntry("r1")])
def test_granted_for_every_resident_credential(credential: Credential) -> None:
    decision = _decide(credential)
    assert decision.granted
    assert decision.reason is Reason.GRANTED
    assert decision.resident_id == "r1"
    assert decision.message == "Access granted."


def test_granted_pass() -> None:
    decision = _decide(PassPresentation(PASS), replace(CONTEXT, subject=None))
    assert (decision.granted, decision.kind, decision.pass_id) == (True, CredentialKind.PASS, "pass_1")


@pytest.mark.parametrize(
    ("credential", "context", "now", "reason"),
    [
        (FACE, replace(CONTEXT, door=replace(DOOR, locked_down=True)), NOW, Reason.DOOR_LOCKED_DOWN),
        (
            FACE,
            replace(CONTEXT, door=replace(DOOR, accepts=frozenset({CredentialKind.CARD}))),
            NOW,
            Reason.CREDENTIAL_NOT_ACCEPTED,
        ),
        (FaceMatch("r1", 0.3, live=False), CONTEXT, NOW, Reason.NOT_LIVE),
        (FaceMatch(None, 0.7, True), replace(CONTEXT, subject=None), NOW, Reason.UNKNOWN_FACE),
        (FaceMatch("r1", 0.59, True), replace(CONTEXT, max_face_distance=0.5), NOW, Reason.UNKNOWN_FACE),
        (FACE, replace(CONTEXT, subject=None), NOW, Reason.UNKNOWN_FACE),
        (FACE, replace(CONTEXT, subject=replace(SUBJECT, face_consent=False)), NOW, Reason.NO_CONSENT),
        (CardRead(None), replace(CONTEXT, subject=None), NOW, Reason.UNKNOWN_CARD),
        (CardRead("r1", revoked=True), CONTEXT, NOW, Reason.CARD_REVOKED),
        (PinEntry(None), replace(CONTEXT, subject=None), NOW, Reason.WRONG_PIN),
        (PassPresentation(None), CONTEXT, NOW, Reason.INVALID_PASS),
        (PassPresentation(replace(PASS, revoked=True)), CONTEXT, NOW, Reason.PASS_REVOKED),
        (PassPresentation(replace(PASS, uses=2)), CONTEXT, NOW, Reason.PASS_USED_UP),
        (PassPresentation(PASS), CONTEXT, NOW - timedelta(hours=2), Reason.NOT_YET_VALID),
        (PassPresentation(PASS), CONTEXT, NOW + timedelta(hours=1), Reason.EXPIRED),
        (PassPresentation(replace(PASS, door_ids=frozenset({"other"}))), CONTEXT, NOW, Reason.NO_ACCESS_TO_DOOR),
        (PassPresentation(PASS), replace(CONTEXT, last_side=Side.IN), NOW, Reason.ANTI_PASSBACK),
        (CardRead("r1"), replace(CONTEXT, subject=replace(SUBJECT, active=False)), NOW, Reason.SUSPENDED),
        (
            CardRead("r1"),
            replace(CONTEXT, subject=replace(SUBJECT, valid_from=NOW + timedelta(days=1))),
            NOW,
            Reason.NOT_YET_VALID,
        ),
        (CardRead("r1"), replace(CONTEXT, subject=replace(SUBJECT, valid_until=NOW)), NOW, Reason.EXPIRED),
        (CardRead("r1"), replace(CONTEXT, rules=()), NOW, Reason.NO_ACCESS_TO_DOOR),
        (
            CardRead("r1"),
            replace(CONTEXT, rules=(replace(WORKDAY, resident_ids=frozenset({"r2"})),)),
            NOW,
            Reason.NO_ACCESS_TO_DOOR,
        ),
        (CardRead("r1"), replace(CONTEXT, holidays=frozenset({date(2026, 3, 2)})), NOW, Reason.HOLIDAY),
        (CardRead("r1"), CONTEXT, NOW.replace(hour=23), Reason.OUTSIDE_HOURS),
        (CardRead("r1"), CONTEXT, NOW + timedelta(days=5), Reason.OUTSIDE_HOURS),  # Saturday
        (CardRead("r1"), replace(CONTEXT, last_side=Side.IN), NOW, Reason.ANTI_PASSBACK),
    ],
)
def test_every_denial_reason(credential: Credential, context: AccessContext, now: datetime, reason: Reason) -> None:
    decision = _decide(credential, context, now)
    assert decision.reason is reason
    assert not decision.granted
    assert decision.message


def test_locked_out_person_can_fall_back_to_card() -> None:
    failures = tuple(
        Attempt(NOW - timedelta(minutes=m), "gate-in", "north", CredentialKind.FACE, "r1", False) for m in (1, 2, 3)
    )
    context = replace(CONTEXT, recent_attempts=failures)
    assert _decide(FACE, context).reason is Reason.LOCKED_OUT
    assert _decide(CardRead("r1"), context).granted
    # The lock-out ends after its duration.
    assert _decide(FACE, context, NOW + timedelta(minutes=10)).granted


def test_gate_lockout_counts_unknown_faces() -> None:
    policy = LockoutPolicy(max_failures_per_person=3, max_failures_per_gate=4)
    failures = tuple(
        Attempt(NOW - timedelta(seconds=20 * i), "gate-in", "north", CredentialKind.FACE, None, False) for i in range(4)
    )
    context = replace(CONTEXT, recent_attempts=failures, lockouts={CredentialKind.FACE: policy})
    assert _decide(FACE, context).reason is Reason.LOCKED_OUT
    assert _decide(PinEntry("r1"), context).granted


def test_success_resets_the_person_count_and_spread_failures_do_not_lock() -> None:
    attempts = (
        Attempt(NOW - timedelta(minutes=4), "gate-in", "north", CredentialKind.FACE, "r1", False),
        Attempt(NOW - timedelta(minutes=3), "gate-in", "north", CredentialKind.FACE, "r1", False),
        Attempt(NOW - timedelta(minutes=2), "gate-in", "north", CredentialKind.FACE, "r1", True),
        Attempt(NOW - timedelta(minutes=1), "gate-in", "north", CredentialKind.FACE, "r1", False),
    )
    assert _decide(FACE, replace(CONTEXT, recent_attempts=attempts)).granted
    spread = tuple(
        Attempt(NOW - timedelta(minutes=4 * i), "gate-in", "north", CredentialKind.FACE, "r1", False) for i in (1, 2, 3)
    )
    assert _decide(FACE, replace(CONTEXT, recent_attempts=spread)).granted


def test_anti_passback_allows_alternating_sides() -> None:
    out_door = Door("gate-out", "North gate out", gate_id="north", side=Side.OUT, anti_passback=True)
    rule = replace(WORKDAY, door_ids=frozenset({"gate-in", "gate-out"}))
    inside = replace(CONTEXT, door=out_door, rules=(rule,), last_side=Side.IN)
    assert decide(AccessRequest("gate-out", CardRead("r1"), NOW), inside).granted
    assert decide(AccessRequest("gate-out", CardRead("r1"), NOW), replace(inside, last_side=Side.OUT)).reason is (
        Reason.ANTI_PASSBACK
    )
    assert _decide(CardRead("r1"), replace(CONTEXT, last_side=Side.OUT)).granted


def test_request_must_match_context_and_be_aware() -> None:
    with pytest.raises(InvalidInputError, match="timezone-aware"):
        _decide(FACE, CONTEXT, datetime(2026, 3, 2, 10, 0))
    with pytest.raises(InvalidInputError, match="context is for door"):
        decide(AccessRequest("elsewhere", FACE, NOW), CONTEXT)


def test_time_zone_of_rules_is_the_communitys() -> None:
    # 01:30 UTC is 09:30 in Shanghai: inside 06:00-22:00 there, outside it in UTC.
    assert _decide(CardRead("r1"), CONTEXT, datetime(2026, 3, 2, 1, 30, tzinfo=UTC)).granted
