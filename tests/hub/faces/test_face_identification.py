"""Enrolment and 1:N identification on real photos: residents recognised, strangers from LFW kept out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hub.faces.decision import DecisionRule
from hub.faces.matcher import Matcher
from hub.faces.models import FaceOutcome
from hub.faces.pipeline import encode_image, verify_burst

pytestmark = pytest.mark.usefixtures("engine")
RULE = DecisionRule()


@pytest.fixture(scope="module")
def resident_probes(community: dict[str, list[Path]], enrolled_photos: int) -> list[tuple[str, np.ndarray]]:
    probes = []
    for name, photos in community.items():
        for photo in photos[enrolled_photos:]:
            template = encode_image(photo)
            assert template is not None, photo
            probes.append((name, template))
    return probes


@pytest.fixture(scope="module")
def stranger_probes(faces_dir: Path) -> list[np.ndarray]:
    images = sorted((faces_dir / "lfw-dev" / "images").glob("*/*.jpg"))[::40]
    if not images:
        pytest.skip("lfw-dev not in the shared folder")
    return [t for t in (encode_image(p) for p in images) if t is not None]


def test_residents_are_recognised(community_gallery: Matcher, resident_probes: list[tuple[str, np.ndarray]]) -> None:
    results = community_gallery.search_many(np.stack([t for _, t in resident_probes]))
    accepted = [(name, r.person_id) for (name, _), r in zip(resident_probes, results, strict=True) if RULE.accepts(r)]
    assert all(name == person for name, person in accepted), "a resident was taken for another"
    assert len(accepted) >= 0.85 * len(resident_probes)
    # Rank 1 is right for every probe even where the rule is cautious.
    assert [r.person_id for r in results] == [name for name, _ in resident_probes]


def test_strangers_are_kept_out(community_gallery: Matcher, stranger_probes: list[np.ndarray]) -> None:
    assert len(stranger_probes) >= 30
    results = community_gallery.search_many(np.stack(stranger_probes))
    assert not [r for r in results if RULE.accepts(r)]


def test_removed_resident_is_no_longer_recognised(
    community_gallery: Matcher, resident_probes: list[tuple[str, np.ndarray]]
) -> None:
    name, template = resident_probes[0]
    gallery = Matcher.from_arrays(
        [p for p in community_gallery.people() for _ in range(len(community_gallery.templates_of(p)))],
        np.concatenate([community_gallery.templates_of(p) for p in community_gallery.people()]),
    )
    assert RULE.accepts(gallery.search(template))
    gallery.remove(name)
    result = gallery.search(template)
    assert result.person_id != name
    assert not RULE.accepts(result)


def test_single_frame_gate_check(community: dict[str, list[Path]], community_gallery: Matcher) -> None:
    name, photos = next(iter(community.items()))
    result = verify_burst([photos[-1].read_bytes()], community_gallery, liveness=None)
    assert result.outcome is FaceOutcome.ACCEPTED
    assert result.person_id == name
    assert result.live is None
    assert result.margin > 0
    assert verify_burst([photos[-1].read_bytes()], Matcher(), liveness=None).outcome is FaceOutcome.EMPTY_GALLERY
    blank = np.full((300, 300, 3), 127, dtype=np.uint8)
    assert verify_burst([blank], community_gallery, liveness=None).outcome is FaceOutcome.NO_FACE
