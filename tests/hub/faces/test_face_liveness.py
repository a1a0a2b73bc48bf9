"""Liveness over camera-like bursts: a resident standing still is live; a face that jumps between frames (a
slideshow on a phone) is not. Bursts are 1920x1080 JPEG frames rendered as ``bench build-bursts`` renders them,
from community photos that are not enrolled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from devkit.bench import burst_builder as render
from hub.faces.liveness import (
    DEFAULT_LIVENESS,
    apply_homography,
    assess_liveness,
    chip_consistency,
    chip_steps,
    fit_homography,
)
from hub.faces.matcher import Matcher
from hub.faces.models import FaceOutcome
from hub.faces.pipeline import encode_burst, verify_burst

FRAMES = 6


def test_planar_motion_leaves_no_residual() -> None:
    rng = np.random.default_rng(3)
    points = rng.uniform(0, 200, size=(68, 2))
    homography = np.array([[0.9, 0.1, 12.0], [-0.08, 1.1, -5.0], [0.0004, -0.0002, 1.0]])
    moved = apply_homography(homography, points)
    fitted = fit_homography(points, moved)
    assert np.allclose(apply_homography(fitted, points), moved, atol=1e-6)
    bent = moved + rng.normal(0, 3.0, size=moved.shape)
    assert np.abs(apply_homography(fit_homography(points, bent), points) - bent).mean() > 1.0


def _open(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")


@pytest.fixture(scope="module")
def bursts(engine: None, community: dict[str, list[Path]], enrolled_photos: int) -> dict[str, list[bytes]]:
    """For the first community member: standing still, and a phone slideshow of three other photos (none of
    them enrolled)."""
    rng = np.random.default_rng(11)
    photos = [_open(p) for p in next(iter(community.values()))[enrolled_photos:]]
    made = {
        "still": render.person_frames(photos[0], render.make_scene(rng), FRAMES, rng),
        "slideshow": render.replay_frames(photos[1:4], render.make_scene(rng), FRAMES, rng, 1),
    }
    return {kind: [render.camera_jpeg(f, rng) for f in frames] for kind, frames in made.items()}


def test_a_resident_standing_still_is_live(bursts: dict[str, list[bytes]]) -> None:
    burst = encode_burst(bursts["still"])
    assert len(burst.faces) == FRAMES
    result = assess_liveness(burst.faces, burst.templates, burst.chips)
    assert result.live, result
    assert result.encoding_spread < DEFAULT_LIVENESS.max_template_step


def test_a_slideshow_jumps_and_is_not_live(bursts: dict[str, list[bytes]]) -> None:
    burst = encode_burst(bursts["slideshow"])
    assert len(burst.faces) >= DEFAULT_LIVENESS.min_frames, "the phone's face should still be seen"
    result = assess_liveness(burst.faces, burst.templates, burst.chips)
    assert not result.live, result


def test_too_few_frames_is_not_live(bursts: dict[str, list[bytes]]) -> None:
    burst = encode_burst(bursts["still"][:2])
    assert not assess_liveness(burst.faces, burst.templates, burst.chips).live


def test_the_gate_lets_the_still_resident_in_and_refuses_the_slideshow(
    bursts: dict[str, list[bytes]], community: dict[str, list[Path]], community_gallery: Matcher
) -> None:
    first = next(iter(community))
    live = verify_burst(bursts["still"], community_gallery)
    assert live.outcome is FaceOutcome.ACCEPTED, live.reason
    assert (live.person_id, live.live) == (first, True)
    slideshow = verify_burst(bursts["slideshow"], community_gallery)
    assert slideshow.outcome is FaceOutcome.NOT_LIVE
    assert (slideshow.person_id, slideshow.live) == (None, False)
    # Without the liveness check the same slideshow is let in: only liveness stands between it and the door.
    assert verify_burst(bursts["slideshow"], community_gallery, liveness=None).outcome is FaceOutcome.ACCEPTED


def test_same_picture_is_perfectly_consistent() -> None:
    rng = np.random.default_rng(4)
    chip = rng.integers(0, 255, (150, 150, 3), dtype=np.uint8)
    other = rng.integers(0, 255, (150, 150, 3), dtype=np.uint8)
    assert chip_consistency([chip, chip.copy()]) == pytest.approx(1.0)
    assert chip_consistency([chip, other]) < 0.2
    assert chip_steps([chip, chip.copy(), other])[0] == pytest.approx(0.0, abs=1e-6)
    assert chip_steps([chip, chip.copy(), other])[1] > 0.8
