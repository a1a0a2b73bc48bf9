"""Face assurance per door, as pure rules: what a face may do at each level and in each window, the pairing's
bookkeeping, the secure default for a new door and for a door stored before levels existed, and bad settings."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.access.assurance import FacePairing, face_assurance_at, second_factor_of
from hub.access.config import AccessConfigStore
from hub.access.decide import decide
from hub.access.models import (
    AccessContext,
    AccessRequest,
    AccessRule,
    CardRead,
    CredentialKind,
    Decision,
    Door,
    FaceAssurance,
    FaceAssuranceWindow,
    FaceMatch,
    Reason,
    SecondFactor,
    Subject,
)
from hub.exceptions import InvalidInputError
from hub.residents.registry_hub import ResidentRegistry

TZ = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 12, 2, 10, 0, tzinfo=TZ)  # a Wednesday, 10:00 local
NIGHT = datetime(2026, 12, 2, 23, 30, tzinfo=TZ)
EARLY = datetime(2026, 12, 3, 5, 0, tzinfo=TZ)
LIVE = FaceMatch("r1", 0.3, True)
SUBJECT = Subject("r1", True, None, None, "3", True)
RULES = (AccessRule("all", frozenset({"g"}), applies_to_all=True),)


def _ctx(door: Door, subject: Subject = SUBJECT) -> AccessContext:
    return AccessContext(door=door, timezone=TZ, subject=subject, rules=RULES)


def _face(door: Door, now: datetime, second: SecondFactor | None = None, match: FaceMatch = LIVE) -> Decision:
    return decide(AccessRequest("g", match, now, second_factor=second), _ctx(door))


def test_a_new_door_takes_a_face_only_with_a_second_factor() -> None:
    door = Door("g", "North gate")
    assert door.face_assurance is FaceAssurance.FACE_AND_SECOND_FACTOR
    alone = _face(door, DAY)
    assert (alone.granted, alone.reason, alone.face_assurance) == (
        False, Reason.SECOND_FACTOR_MISSING, FaceAssurance.FACE_AND_SECOND_FACTOR)
    paired = _face(door, DAY, SecondFactor(CredentialKind.CARD, "r1"))
    assert (paired.granted, paired.second_factor) == (True, CredentialKind.CARD)
    other = _face(door, DAY, SecondFactor(CredentialKind.PIN, "r2"))
    assert (other.granted, other.reason) == (False, Reason.SECOND_FACTOR_OTHER_PERSON)


def test_a_refused_face_says_why_before_the_second_factor() -> None:
    door = Door("g", "North gate")
    assert _face(door, DAY, match=FaceMatch("r1", 0.3, False)).reason is Reason.NOT_LIVE
    assert _face(door, DAY, match=FaceMatch(None, 0.9, True)).reason is Reason.UNKNOWN_FACE


def test_face_alone_and_face_off() -> None:
    alone = _face(Door("g", "North gate", face_assurance=FaceAssurance.FACE_ALONE), DAY)
    assert (alone.granted, alone.face_assurance) == (True, FaceAssurance.FACE_ALONE)
    off_door = Door("g", "North gate", face_assurance=FaceAssurance.FACE_OFF)
    off = _face(off_door, DAY, SecondFactor(CredentialKind.CARD, "r1"))
    assert (off.granted, off.reason, off.face_assurance) == (
        False, Reason.CREDENTIAL_NOT_ACCEPTED, FaceAssurance.FACE_OFF)
    card = decide(AccessRequest("g", CardRead("r1"), DAY), _ctx(off_door))
    assert card.granted  # cards work as before


def test_a_card_alone_opens_a_second_factor_door_as_any_card_door() -> None:
    card = decide(AccessRequest("g", CardRead("r1"), DAY), _ctx(Door("g", "North gate")))
    assert (card.granted, card.face_assurance) == (True, FaceAssurance.FACE_AND_SECOND_FACTOR)
    assert second_factor_of(card) == SecondFactor(CredentialKind.CARD, "r1")
    revoked = decide(AccessRequest("g", CardRead("r1", revoked=True), DAY), _ctx(Door("g", "North gate")))
    assert second_factor_of(revoked) is None


def test_a_night_window_crossing_midnight() -> None:
    night = FaceAssuranceWindow(FaceAssurance.FACE_AND_SECOND_FACTOR, time(20, 0), time(7, 0))
    door = Door("g", "North gate", face_assurance=FaceAssurance.FACE_ALONE, face_windows=(night,))
    assert face_assurance_at(door, DAY) is FaceAssurance.FACE_ALONE
    assert face_assurance_at(door, NIGHT) is FaceAssurance.FACE_AND_SECOND_FACTOR
    assert face_assurance_at(door, EARLY) is FaceAssurance.FACE_AND_SECOND_FACTOR
    assert _face(door, DAY).granted
    assert _face(door, NIGHT).reason is Reason.SECOND_FACTOR_MISSING
    no_faces = Door("g", "Back door", accepts=frozenset({CredentialKind.CARD}))
    assert face_assurance_at(no_faces, DAY) is None


def test_pairing_either_order_within_the_wait() -> None:
    pairing = FacePairing(timedelta(seconds=20))
    t0 = DAY
    card = SecondFactor(CredentialKind.CARD, "r1")
    assert pairing.face_seen("g", LIVE, t0) is None
    face = pairing.factor_seen("g", card, t0 + timedelta(seconds=19))
    assert face is not None and face.match == LIVE
    assert pairing.factor_seen("g", card, t0 + timedelta(seconds=30)) is None  # kept for a face that follows
    assert pairing.face_seen("g", LIVE, t0 + timedelta(seconds=40)) == card
    assert pairing.face_seen("g", LIVE, t0 + timedelta(seconds=100)) is None
    assert pairing.expired(t0 + timedelta(seconds=110)) == []
    assert [f.at for f in pairing.expired(t0 + timedelta(seconds=121))] == [t0 + timedelta(seconds=100)]


def test_a_face_replaced_by_a_later_one_is_still_recorded() -> None:
    pairing = FacePairing()
    assert pairing.face_seen("g", LIVE, DAY) is None
    assert pairing.face_seen("g", LIVE, DAY + timedelta(seconds=3)) is None
    assert [f.at for f in pairing.expired(DAY + timedelta(seconds=4))] == [DAY]
    with pytest.raises(ValueError):
        FacePairing(timedelta(0))


def test_stored_levels_and_the_default_for_doors_stored_before_levels(tmp_path: Path) -> None:
    reg = ResidentRegistry.open(tmp_path / "hub.db", tmp_path / "hub.key")
    config = AccessConfigStore(reg.conn)
    # A door row written as before face assurance existed (none of the new columns named): the secure default.
    reg.conn.execute("INSERT INTO doors (door_id, name, accepts, updated_at) VALUES ('old', 'Old gate',"
                     " 'card,face,pin', '2026-01-01T00:00:00+00:00')")
    assert config.get_door("old").face_assurance is FaceAssurance.FACE_AND_SECOND_FACTOR
    night = FaceAssuranceWindow(FaceAssurance.FACE_AND_SECOND_FACTOR, time(20, 0), time(7, 0))
    door = config.set_face_assurance("mgr", "old", FaceAssurance.FACE_ALONE, [night])
    assert (door.face_assurance, door.face_windows) == (FaceAssurance.FACE_ALONE, (night,))
    assert config.get_door("old") == door
    with pytest.raises(InvalidInputError):
        config.set_face_assurance("mgr", "old", "face_alone", [])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        config.set_face_assurance("mgr", "old", FaceAssurance.FACE_OFF,
                                  [FaceAssuranceWindow(FaceAssurance.FACE_OFF, time(20, 0, 30), time(7, 0))])
    assert config.get_door("old") == door  # bad input changed nothing
    reg.conn.close()
