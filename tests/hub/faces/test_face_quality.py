"""Enrolment photo checks on real photos, with the reason a property manager would be shown."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

from hub.exceptions import InvalidInputError
from hub.faces.enrol import enrol_or_raise, enrol_photos
from hub.faces.errors import FaceQualityError, ImageDecodeError
from hub.faces.models import RejectionReason
from hub.faces.quality import assess_photo

pytestmark = pytest.mark.usefixtures("engine")


@pytest.fixture(scope="module")
def obama(faces_dir: Path) -> Image.Image:
    return Image.open(faces_dir / "scenes" / "obama.jpg").convert("RGB")


def test_good_portrait_is_accepted(faces_dir: Path) -> None:
    report = assess_photo(faces_dir / "scenes" / "obama.jpg")
    assert report.accepted, report.message
    assert report.face_count == 1
    assert report.eye_distance_px > 80
    assert abs(report.yaw_degrees) < 15


@pytest.mark.parametrize("scene", ["two_people.jpg", "obama_and_biden.jpg"])
def test_two_people_are_refused(faces_dir: Path, scene: str) -> None:
    report = assess_photo((faces_dir / "scenes" / scene).read_bytes())
    assert report.reason is RejectionReason.MULTIPLE_FACES
    assert "more than one face" in report.message


def test_blurred_photo_is_refused(obama: Image.Image) -> None:
    report = assess_photo(np.asarray(obama.filter(ImageFilter.GaussianBlur(6))))
    assert report.reason is RejectionReason.TOO_BLURRED
    assert "blurred" in report.message


def test_small_face_is_refused(obama: Image.Image) -> None:
    # The portrait shrunk to a fifth and placed in a larger frame: the resident stood too far away.
    frame = Image.new("RGB", (900, 700), (128, 128, 128))
    frame.paste(obama.resize((obama.width // 5, obama.height // 5)), (350, 200))
    report = assess_photo(np.asarray(frame))
    assert report.reason is RejectionReason.FACE_TOO_SMALL
    assert "too small" in report.message


def test_dark_photo_is_refused(obama: Image.Image) -> None:
    report = assess_photo(np.asarray(ImageEnhance.Brightness(obama).enhance(0.2)))
    assert report.reason is RejectionReason.TOO_DARK


def test_turned_face_is_refused(faces_dir: Path) -> None:
    photo = faces_dir / "lfw-dev" / "images" / "Andy_Dick" / "Andy_Dick_0001.jpg"
    if not photo.exists():
        pytest.skip("lfw-dev not in the shared folder")
    report = assess_photo(photo)
    assert report.reason is RejectionReason.FACE_TURNED
    assert abs(report.yaw_degrees) > 35


def test_photos_without_a_face_are_refused(obama: Image.Image) -> None:
    noise = np.random.default_rng(0).integers(0, 255, (400, 500, 3), dtype=np.uint8)
    assert assess_photo(noise).reason is RejectionReason.NO_FACE
    suit = obama.crop((0, 800, obama.width, obama.height))  # the same real photo below the chin
    buffer = io.BytesIO()
    suit.save(buffer, format="PNG")
    report = assess_photo(buffer.getvalue())
    assert report.reason is RejectionReason.NO_FACE
    assert "No face" in report.message


def test_unreadable_bytes_raise() -> None:
    with pytest.raises(ImageDecodeError):
        assess_photo(b"this is not a photo")
    with pytest.raises(ImageDecodeError):
        assess_photo(np.zeros((10, 10), dtype=np.float32))  # type: ignore[arg-type]


def test_enrolment_keeps_good_photos_and_reports_the_rest(faces_dir: Path) -> None:
    scenes = faces_dir / "scenes"
    enrolment = enrol_photos([scenes / "obama.jpg", scenes / "two_people.jpg", scenes / "obama-480p.jpg"])
    assert len(enrolment.templates) == 2
    assert [i for i, _ in enrolment.rejected] == [1]
    for template in enrolment.templates:
        assert template.dtype == np.float32
        assert template.shape == (128,)
        assert float(np.linalg.norm(template)) == pytest.approx(1.0, abs=1e-5)
    # Two photos of the same man give close templates.
    assert float(np.linalg.norm(enrolment.templates[0] - enrolment.templates[1])) < 0.35
    with pytest.raises(FaceQualityError) as refused:
        enrol_or_raise([scenes / "two_people.jpg"])
    assert refused.value.report.reason is RejectionReason.MULTIPLE_FACES
    with pytest.raises(InvalidInputError):
        enrol_or_raise([])
