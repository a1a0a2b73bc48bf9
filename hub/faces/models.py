"""Plain data the face engine hands back: detected faces, quality reports, search results, gate results."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
ImageArray = npt.NDArray[np.uint8]
PointArray = npt.NDArray[np.float64]

TEMPLATE_DIMENSIONS = 128


@dataclass(frozen=True)
class FaceBox:
    """A face rectangle in full-frame pixel coordinates (right and bottom exclusive)."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def area(self) -> int:
        return max(self.width, 0) * max(self.height, 0)


@dataclass(frozen=True, eq=False)
class DetectedFace:
    """One face found in a frame: its box, 68 landmarks (iBUG order, full-frame pixels) and HOG confidence."""

    box: FaceBox
    landmarks: PointArray
    score: float

    @property
    def eye_distance(self) -> float:
        """Distance between the eye centres in pixels: the face's scale, robust to loose detector boxes."""
        left = self.landmarks[36:42].mean(axis=0)
        right = self.landmarks[42:48].mean(axis=0)
        return float(np.linalg.norm(right - left))


class RejectionReason(Enum):
    """Why an enrolment photo was refused; ``message`` is written for a property manager."""

    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    FACE_TOO_SMALL = "face_too_small"
    TOO_BLURRED = "too_blurred"
    FACE_TURNED = "face_turned"
    TOO_DARK = "too_dark"

    @property
    def message(self) -> str:
        return _REJECTION_MESSAGES[self]


_REJECTION_MESSAGES: dict[RejectionReason, str] = {
    RejectionReason.NO_FACE: "No face was found in the photo. Use a photo that shows the resident's face clearly.",
    RejectionReason.MULTIPLE_FACES: "The photo shows more than one face. Use a photo of the resident alone.",
    RejectionReason.FACE_TOO_SMALL: (
        "The face is too small in the photo. Take the photo closer, so the face fills more of the picture."
    ),
    RejectionReason.TOO_BLURRED: "The photo is too blurred. Hold the camera still and make sure the face is in focus.",
    RejectionReason.FACE_TURNED: (
        "The face is turned too far away from the camera. The resident should look straight into the camera."
    ),
    RejectionReason.TOO_DARK: "The face is too dark. Take the photo in better light, without a bright light behind.",
}


@dataclass(frozen=True)
class QualityReport:
    """The result of an enrolment photo check; ``reason`` is None when the photo is accepted."""

    reason: RejectionReason | None
    face_count: int
    face: DetectedFace | None = None
    eye_distance_px: float = 0.0
    sharpness: float = 0.0
    brightness: float = 0.0
    yaw_degrees: float = 0.0
    pitch_degrees: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.reason is None

    @property
    def message(self) -> str:
        return "The photo is suitable for enrolment." if self.reason is None else self.reason.message


@dataclass(frozen=True)
class Enrolment:
    """Templates made from the accepted photos, and a report for every photo (same order as given)."""

    templates: list[FloatArray]
    reports: list[QualityReport]

    @property
    def rejected(self) -> list[tuple[int, QualityReport]]:
        return [(i, r) for i, r in enumerate(self.reports) if not r.accepted]


@dataclass(frozen=True)
class SearchResult:
    """The nearest enrolled person to a probe and the nearest *other* person (distances between unit templates)."""

    person_id: str | None
    distance: float
    second_person_id: str | None
    second_distance: float

    @property
    def margin(self) -> float:
        """How much further the runner-up is: a small margin means the probe looks like two residents."""
        return self.second_distance - self.distance


class FaceOutcome(Enum):
    """Why a gate burst ended as it did; ``message`` is fit for the access log."""

    ACCEPTED = "accepted"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    UNKNOWN_FACE = "unknown_face"
    AMBIGUOUS = "ambiguous"
    FRAMES_DISAGREE = "frames_disagree"
    NOT_LIVE = "not_live"
    EMPTY_GALLERY = "empty_gallery"

    @property
    def message(self) -> str:
        return _OUTCOME_MESSAGES[self]


_OUTCOME_MESSAGES: dict[FaceOutcome, str] = {
    FaceOutcome.ACCEPTED: "Face matched an enrolled resident.",
    FaceOutcome.NO_FACE: "No usable face in enough frames.",
    FaceOutcome.MULTIPLE_FACES: "More than one face at the gate.",
    FaceOutcome.UNKNOWN_FACE: "The face does not match any enrolled resident closely enough.",
    FaceOutcome.AMBIGUOUS: "The face is too close to more than one enrolled resident.",
    FaceOutcome.FRAMES_DISAGREE: "The frames did not agree on one resident.",
    FaceOutcome.NOT_LIVE: "The face did not pass the liveness check (possible photo or screen).",
    FaceOutcome.EMPTY_GALLERY: "No resident is enrolled for face verification.",
}


@dataclass(frozen=True)
class LivenessResult:
    """Liveness over a burst: ``live`` plus the measurements it rests on (for logs and tuning)."""

    live: bool
    score: float
    landmark_residual: float
    encoding_spread: float
    chip_consistency: float
    frames: int


@dataclass(frozen=True)
class FaceResult:
    """The face engine's answer for one gate burst; ``person_id`` is set only when ``accepted``."""

    outcome: FaceOutcome
    person_id: str | None = None
    distance: float = float("inf")
    margin: float = 0.0
    live: bool | None = None
    frames_used: int = 0
    agreeing_frames: int = 0
    liveness: LivenessResult | None = None
    candidates: tuple[SearchResult, ...] = field(default=())

    @property
    def accepted(self) -> bool:
        return self.outcome is FaceOutcome.ACCEPTED

    @property
    def reason(self) -> str:
        return self.outcome.message
