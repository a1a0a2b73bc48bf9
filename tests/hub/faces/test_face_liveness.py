"""Liveness over bursts: a still photo moved in front of the camera fails, real different frames pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hub.faces.bursts import attack_burst, bona_fide_burst
from hub.faces.imaging import to_rgb
from hub.faces.liveness import apply_homography, assess_liveness, chip_consistency, fit_homography
from hub.faces.matcher import Matcher
from hub.faces.models import FaceOutcome
from hub.faces.pipeline import encode_burst, verify_burst

FRAMES = 5


def test_planar_motion_leaves_no_residual() -> None:
    rng = np.random.default_rng(3)
    points = rng.uniform(0, 200, size=(68, 2))
    homography = np.array([[0.9, 0.1, 12.0], [-0.08, 1.1, -5.0], [0.0004, -0.0002, 1.0]])
    moved = apply_homography(homography, points)
    fitted = fit_homography(points, moved)
    assert np.allclose(apply_homography(fitted, points), moved, atol=1e-6)
    # Points that do not move as one plane (a 3D face turning) leave a residual.
    bent = moved + rng.normal(0, 3.0, size=moved.shape)
    assert np.abs(apply_homography(fit_homography(points, bent), points) - bent).mean() > 1.0


@pytest.fixture(scope="module")
def bursts(engine: None, community: dict[str, list[Path]], enrolled_photos: int) -> dict[str, list[list[np.ndarray]]]:
    """For two community members: a bona fide burst of unenrolled photos and an attack with one of them."""
    rng = np.random.default_rng(11)
    made: dict[str, list[list[np.ndarray]]] = {"bona_fide": [], "attack": []}
    for photos in list(community.values())[:2]:
        real = [to_rgb(p) for p in photos[enrolled_photos : enrolled_photos + FRAMES]]
        made["bona_fide"].append(bona_fide_burst(real, rng))
        made["attack"].append(attack_burst(real[0], FRAMES, rng))
    return made


def test_attacks_fail_and_bona_fide_pass(bursts: dict[str, list[list[np.ndarray]]]) -> None:
    for frames in bursts["attack"]:
        burst = encode_burst(frames)
        assert len(burst.faces) >= 3, "the held-up photo should still be seen as a face"
        result = assess_liveness(burst.faces, burst.templates, burst.chips)
        assert not result.live, result
    for frames in bursts["bona_fide"]:
        burst = encode_burst(frames)
        result = assess_liveness(burst.faces, burst.templates, burst.chips)
        assert result.live, result


def test_too_few_frames_is_not_live(bursts: dict[str, list[list[np.ndarray]]]) -> None:
    burst = encode_burst(bursts["bona_fide"][0][:2])
    assert not assess_liveness(burst.faces, burst.templates, burst.chips).live


def test_gate_accepts_the_resident_and_refuses_their_photo(
    bursts: dict[str, list[list[np.ndarray]]], community: dict[str, list[Path]], community_gallery: Matcher
) -> None:
    first = next(iter(community))
    live = verify_burst(bursts["bona_fide"][0], community_gallery)
    assert live.outcome is FaceOutcome.ACCEPTED, live.reason
    assert live.person_id == first
    assert live.live is True
    assert live.agreeing_frames >= 2
    held_up = verify_burst(bursts["attack"][0], community_gallery)
    assert held_up.outcome is FaceOutcome.NOT_LIVE
    assert held_up.person_id is None
    assert held_up.live is False


def test_gate_refuses_a_stranger(faces_dir: Path, community_gallery: Matcher) -> None:
    folder = faces_dir / "lfw-dev" / "images" / "Tony_Blair"
    photos = sorted(folder.glob("*.jpg"))[:FRAMES]
    if len(photos) < FRAMES:
        pytest.skip("lfw-dev not in the shared folder")
    frames = bona_fide_burst([to_rgb(p) for p in photos], np.random.default_rng(5))
    result = verify_burst(frames, community_gallery)
    assert result.outcome in {FaceOutcome.UNKNOWN_FACE, FaceOutcome.AMBIGUOUS}
    assert result.person_id is None


def test_same_picture_is_perfectly_consistent() -> None:
    rng = np.random.default_rng(4)
    chip = rng.integers(0, 255, (150, 150, 3), dtype=np.uint8)
    other = rng.integers(0, 255, (150, 150, 3), dtype=np.uint8)
    assert chip_consistency([chip, chip.copy()]) == pytest.approx(1.0)
    assert chip_consistency([chip, other]) < 0.2
