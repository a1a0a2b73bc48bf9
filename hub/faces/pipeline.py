"""The gate path in one call: frames -> detect -> encode -> 1:N search -> accept rule -> liveness -> result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from hub.faces.decision import DecisionRule, decide_burst
from hub.faces.detect import detect_in_rgb, primary_face
from hub.faces.encode import encode_chips, face_chip
from hub.faces.imaging import ImageInput, to_rgb
from hub.faces.liveness import DEFAULT_LIVENESS, LivenessLimits, assess_liveness
from hub.faces.matcher import Matcher
from hub.faces.models import DetectedFace, FaceOutcome, FaceResult, FloatArray, ImageArray

DEFAULT_RULE = DecisionRule()


@dataclass(frozen=True)
class FrameFaces:
    """The face verified in each frame that had one (``frame_index`` into the burst) and its templates."""

    frame_index: list[int]
    faces: list[DetectedFace]
    templates: FloatArray
    chips: list[ImageArray]


def encode_frame(rgb: ImageArray) -> tuple[DetectedFace, FloatArray] | None:
    """The primary face of one decoded frame and its template, or None when the frame has no face."""
    face = primary_face(detect_in_rgb(rgb), rgb.shape)
    if face is None:
        return None
    return face, encode_chips([face_chip(rgb, face)])[0]


def encode_image(image: ImageInput) -> FloatArray | None:
    """The template of the primary face in a photo (bytes, path or array), or None if it has no face."""
    found = encode_frame(to_rgb(image))
    return None if found is None else found[1]


def encode_burst(frames: Sequence[ImageInput]) -> FrameFaces:
    """Detect the primary face in every frame and encode all of them in one encoder batch."""
    indices: list[int] = []
    faces: list[DetectedFace] = []
    chips: list[ImageArray] = []
    for index, frame in enumerate(frames):
        rgb = to_rgb(frame)
        face = primary_face(detect_in_rgb(rgb), rgb.shape)
        if face is not None:
            indices.append(index)
            faces.append(face)
            chips.append(face_chip(rgb, face))
    return FrameFaces(indices, faces, encode_chips(chips), chips)


def verify_burst(
    frames: Sequence[ImageArray | bytes],
    gallery: Matcher,
    rule: DecisionRule = DEFAULT_RULE,
    liveness: LivenessLimits | None = DEFAULT_LIVENESS,
) -> FaceResult:
    """Who is at the gate, if anyone: the whole face check for a burst of frames (blocking; run in an executor).

    ``liveness=None`` skips the liveness check (e.g. a single still frame in a test); the door should then not
    open on a face alone.
    """
    if len(gallery) == 0:
        return FaceResult(FaceOutcome.EMPTY_GALLERY, frames_used=0)
    burst = encode_burst(frames)
    if not burst.faces:
        return FaceResult(FaceOutcome.NO_FACE)
    results = gallery.search_many(burst.templates)
    decision = decide_burst(results, rule)
    best = decision.best
    base = FaceResult(
        decision.outcome,
        distance=best.distance if best is not None else float("inf"),
        margin=best.margin if best is not None else 0.0,
        frames_used=len(burst.faces),
        agreeing_frames=decision.agreeing_frames,
        candidates=tuple(results),
    )
    if decision.outcome is not FaceOutcome.ACCEPTED:
        return base
    if liveness is None:
        return replace(base, person_id=decision.person_id)
    # Liveness looks only at the frames that matched the accepted resident (a passer-by must not count).
    same = [i for i, r in enumerate(results) if r.person_id == decision.person_id]
    live = assess_liveness(
        [burst.faces[i] for i in same], np.asarray(burst.templates[same]), [burst.chips[i] for i in same], liveness
    )
    if not live.live:
        return replace(base, outcome=FaceOutcome.NOT_LIVE, live=False, liveness=live)
    return replace(base, person_id=decision.person_id, live=True, liveness=live)
