"""The enrolment photo check: one face, large enough, sharp, lit and facing the camera.

Sharpness and brightness are measured on the aligned 150x150 chip the encoder sees, so the figures mean the
same thing whatever the photo's resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.faces.detect import detect_in_rgb
from hub.faces.encode import face_chip
from hub.faces.imaging import ImageInput, gray, to_rgb
from hub.faces.models import FloatArray, ImageArray, QualityReport, RejectionReason
from hub.faces.pose import head_pose


@dataclass(frozen=True)
class QualityLimits:
    """Limits of an acceptable enrolment photo (defaults measured on the shared photos, see the docs)."""

    # The encoder's 150 px chip puts the eyes about 55 px apart: below 28 px the face is upscaled 2x or more.
    min_eye_distance_px: float = 28.0
    # Variance of the Laplacian on the chip's inner face: in-focus photos measured 19-1200 (median about 90),
    # the same photos under a Gaussian blur of 1% of their size 1-10.
    min_sharpness: float = 12.0
    min_brightness: float = 40.0
    max_yaw_degrees: float = 35.0
    max_pitch_degrees: float = 25.0
    # Faces smaller than this fraction of the largest (bystanders far behind) do not count as "another face".
    other_face_ratio: float = 0.5


DEFAULT_LIMITS = QualityLimits()
# Enrolment photos (often phone photos of 3000+ px) are checked at a higher resolution than gate frames, and
# looked at again upsampled when nothing was found, so a small face is reported as small rather than missing.
ENROL_MAX_SIDE = 1024


def laplacian_variance(image: FloatArray) -> float:
    """Variance of the 4-neighbour Laplacian: low when edges are soft, i.e. the image is blurred."""
    lap = 4 * image[1:-1, 1:-1] - image[:-2, 1:-1] - image[2:, 1:-1] - image[1:-1, :-2] - image[1:-1, 2:]
    return float(lap.var())


def chip_sharpness_and_brightness(chip: ImageArray) -> tuple[float, float]:
    """Measured on the chip's central part (eyes, nose, mouth), leaving out background and hair."""
    luma = gray(chip)
    h, w = luma.shape
    inner = luma[h // 4 : h - h // 8, w // 4 : w - w // 4]
    return laplacian_variance(inner), float(inner.mean())


def assess_rgb(rgb: ImageArray, limits: QualityLimits = DEFAULT_LIMITS) -> tuple[QualityReport, ImageArray | None]:
    """The quality report for a decoded photo, and the face chip when a single face was found."""
    faces = detect_in_rgb(rgb, max_side=ENROL_MAX_SIDE, lenient_retry=False) or detect_in_rgb(
        rgb, max_side=ENROL_MAX_SIDE, upsample=1, lenient_retry=False
    )
    if not faces:
        return QualityReport(RejectionReason.NO_FACE, face_count=0), None
    largest = faces[0]
    others = [f for f in faces[1:] if f.box.width >= limits.other_face_ratio * largest.box.width]
    if others:
        return QualityReport(RejectionReason.MULTIPLE_FACES, face_count=len(faces)), None
    eyes = largest.eye_distance
    yaw, pitch = head_pose(largest.landmarks)
    chip = face_chip(rgb, largest)
    sharpness, brightness = chip_sharpness_and_brightness(chip)
    reason: RejectionReason | None = None
    # Pose first: a turned head also shortens the eye distance, and "turned" is the advice that helps then.
    if abs(yaw) > limits.max_yaw_degrees or abs(pitch) > limits.max_pitch_degrees:
        reason = RejectionReason.FACE_TURNED
    elif eyes < limits.min_eye_distance_px:
        reason = RejectionReason.FACE_TOO_SMALL
    elif brightness < limits.min_brightness:
        reason = RejectionReason.TOO_DARK
    elif sharpness < limits.min_sharpness:
        reason = RejectionReason.TOO_BLURRED
    report = QualityReport(
        reason,
        face_count=len(faces),
        face=largest,
        eye_distance_px=eyes,
        sharpness=sharpness,
        brightness=brightness,
        yaw_degrees=yaw,
        pitch_degrees=pitch,
    )
    return report, chip if reason is None else None


def assess_photo(image: ImageInput, limits: QualityLimits = DEFAULT_LIMITS) -> QualityReport:
    """Check one enrolment photo (bytes, path or array); the report says why it was refused, if it was."""
    return assess_rgb(to_rgb(image), limits)[0]
