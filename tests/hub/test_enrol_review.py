"""Enrolment that checks who, with real photos (``../shared/faces/community``) on a real community database:

* a set with one photo of another person gets that photo flagged, with the photos it does not match, and the
  set is refused until it is removed; removing it, the rest enrol;
* a photo of resident B offered for resident A is flagged as close to B (the gates' 1:N rule would take it for
  B); it is refused unless the manager chooses to enrol it anyway, which the audit log records with who;
* with photos already enrolled, a new photo of someone else is flagged even when it is alone;
* two photos of two people: nobody can tell which is the resident, so both are flagged.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.community import Community
from hub.events import ManagerActionEvent
from hub.exceptions import InvalidInputError
from hub.face_gate import CLOSE_MATCH_ACCEPTED, PHOTO_REMOVED, CommunityFaces
from hub.faces.paths import shared_faces_dir
from hub.residents.bulk_import import PhotoCheck

COMMUNITY = shared_faces_dir() / "community"


@pytest.fixture(scope="module")
def photos() -> dict[str, list[Path]]:
    if not COMMUNITY.is_dir():
        pytest.skip(f"shared face photos not found at {COMMUNITY}")
    return {p.name: sorted(p.glob("*.jpg")) for p in sorted(COMMUNITY.iterdir()) if p.is_dir()}


@pytest.fixture
def community(tmp_path: Path) -> Iterator[Community]:
    c = Community(tmp_path / "c.db", tmp_path / "keys" / "k.key", timezone=ZoneInfo("UTC"))
    yield c
    c.close()


@pytest.fixture
def faces(community: Community) -> CommunityFaces:
    """Residents A (nobody enrolled yet) and B (John Schneider), both with consent."""
    registry = community.registry
    for rid, name in (("r-a", "Resident A"), ("r-b", "John Schneider")):
        registry.residents.add_resident("manager", rid, name)
        registry.consents.record_consent("manager", rid, scope="gates", given_at=datetime.now(UTC))
    return CommunityFaces(community)


@pytest.fixture
def actions(community: Community) -> list[ManagerActionEvent]:
    seen: list[ManagerActionEvent] = []
    community.events.subscribe(ManagerActionEvent, seen.append)
    return seen


def _checks(faces: CommunityFaces, paths: list[Path]) -> list[PhotoCheck]:
    checks = [faces.check_photo(p.name, p.read_bytes()) for p in paths]
    assert all(c.accepted for c in checks), [c.reason for c in checks]
    return checks


def test_a_photo_of_another_person_in_a_set_is_flagged_and_removing_it_enrols_the_rest(
    faces: CommunityFaces, community: Community, photos: dict[str, list[Path]], actions: list[ManagerActionEvent]
) -> None:
    paths = [*photos["John_Savage"][:2], photos["John_Simm"][0], photos["John_Savage"][2]]
    checks = _checks(faces, paths)
    reviews = faces.review("r-a", checks)
    flagged = [r.index for r in reviews if r is not None and r.odd_one]
    assert flagged == [2]  # John Simm's photo, and only it
    odd = reviews[2]
    assert odd is not None and odd.not_matching == (0, 1, 3) and not odd.not_matching_enrolled
    assert all(r is not None and r.close_to is None for r in reviews)  # nobody is enrolled yet

    with pytest.raises(InvalidInputError, match=f"{paths[2].name}: not the same person"):
        faces.enrol_checked("Manager (u1)", "r-a", checks)
    assert community.registry.faces.template_count("r-a") == 0  # refused: nothing stored

    faces.photo_removed("Manager (u1)", "r-a", accepted=True)
    rest = [c for i, c in enumerate(checks) if i != 2]
    assert all(r is not None and not r.flagged for r in faces.review("r-a", rest))
    assert faces.enrol_checked("Manager (u1)", "r-a", rest) == 3
    assert community.registry.faces.template_count("r-a") == 3
    assert [(a.actor, a.action) for a in actions if a.action == PHOTO_REMOVED] == [("Manager (u1)", PHOTO_REMOVED)]


def test_a_photo_of_an_enrolled_resident_offered_for_another_is_flagged_and_enrolled_only_when_chosen(
    faces: CommunityFaces, community: Community, photos: dict[str, list[Path]], actions: list[ManagerActionEvent]
) -> None:
    schneider = photos["John_Schneider"]
    assert faces.enrol_checked("manager", "r-b", _checks(faces, schneider[:3])) == 3

    offered = _checks(faces, [schneider[5]])  # B's face, offered as resident A's
    (review,) = faces.review("r-a", offered)
    assert review is not None and review.close_to == "r-b" and review.gate_would_accept
    assert review.close_distance is not None and review.close_distance < 0.42
    with pytest.raises(InvalidInputError, match="close to another resident"):
        faces.enrol_checked("Manager (u1)", "r-a", offered)
    assert community.registry.faces.template_count("r-a") == 0

    # B's own new photo is not "close to another resident": it is B.
    (own,) = faces.review("r-b", offered)
    assert own is not None and not own.flagged

    assert faces.enrol_checked("Manager (u1)", "r-a", offered, enrol_anyway={0}) == 1
    (chosen,) = [a for a in actions if a.action == CLOSE_MATCH_ACCEPTED]
    assert chosen.actor == "Manager (u1)"
    assert chosen.details["resident_id"] == "r-a" and chosen.details["close_to"] == "r-b"
    assert chosen.details["gate_would_accept"] is True


def test_a_new_photo_of_someone_else_is_flagged_against_the_enrolled_templates(
    faces: CommunityFaces, photos: dict[str, list[Path]]
) -> None:
    faces.enrol_checked("manager", "r-a", _checks(faces, photos["John_Shimkus"][:3]))
    (review,) = faces.review("r-a", _checks(faces, [photos["John_Salley"][0]]))
    assert review is not None and review.odd_one and review.not_matching_enrolled
    (same,) = faces.review("r-a", _checks(faces, [photos["John_Shimkus"][6]]))
    assert same is not None and not same.flagged


def test_two_photos_of_two_people_are_both_flagged(faces: CommunityFaces, photos: dict[str, list[Path]]) -> None:
    checks = _checks(faces, [photos["John_Salley"][0], photos["John_Simm"][0]])
    reviews = faces.review("r-a", checks)
    assert [(r.odd_one, r.not_matching) for r in reviews if r is not None] == [(True, (1,)), (True, (0,))]
    # A refused photo has no review and does not count as a member of the set.
    refused = PhotoCheck(filename="wall.png", accepted=False, reason="no face", template=None)
    assert faces.review("r-a", [checks[0], refused])[1] is None
    assert faces.review("r-a", [checks[0], refused])[0] == faces.review("r-a", [checks[0]])[0]


def test_the_enrol_action_refuses_a_mixed_set_and_another_residents_face(
    faces: CommunityFaces, community: Community, photos: dict[str, list[Path]]
) -> None:
    mixed = [p.read_bytes() for p in (*photos["John_Savage"][:2], photos["John_Simm"][0])]
    with pytest.raises(InvalidInputError, match="photo 3: not the same person"):
        faces.enrol("manager", "r-a", mixed)
    faces.enrol("manager", "r-b", [p.read_bytes() for p in photos["John_Schneider"][:3]])
    other = [photos["John_Schneider"][4].read_bytes()]
    with pytest.raises(InvalidInputError, match="close to another resident"):
        faces.enrol("manager", "r-a", other)
    assert community.registry.faces.template_count("r-a") == 0
    assert len(faces.enrol("manager", "r-a", other, enrol_anyway=True).templates) == 1
