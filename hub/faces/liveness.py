"""Liveness over a burst of frames from the gate camera: refuse what a live capture cannot look like.

A camera at 25 fps sees a person change very little from one frame to the next: a resident who stands still and
looks at the camera gives frames that differ only by sensor noise, a little sway and lighting flicker. An earlier
version of this check demanded that the frames look *different* (landmark parallax, template spread, chip
change) and so refused residents who stood still, while a phone slideshow of different photos passed. That is
backwards for a real camera, and it was removed.

What is refused now is a burst whose face *jumps* between consecutive frames, as a slideshow, a cut in a video or
a swapped print does: the step between consecutive frames' templates, and ``1 - NCC`` between consecutive aligned
chips, must stay below limits set on bursts of other people (docs/face-verification.md). The face's measurements
are all from what the pipeline already computed (68 landmarks, aligned chips, templates).

What this check cannot do, and no check on RGB frames of a few hundred milliseconds can do reliably: tell a
print or a phone playing a video of the resident, held still, from the resident standing still. Both give the
same continuous, nearly unchanging face. The doors' face assurance (face plus a second factor) is the answer to
that, not a threshold here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations, pairwise

import numpy as np

from hub.faces.imaging import gray
from hub.faces.models import DetectedFace, FloatArray, ImageArray, LivenessResult, PointArray

npt_matrix = np.ndarray[tuple[int, ...], np.dtype[np.float64]]


@dataclass(frozen=True)
class LivenessLimits:
    """Limits of a live capture's frame-to-frame change (set on the ``tune`` half of the evidence bursts, reported
    on the ``report`` half: docs/face-verification.md)."""

    # Three times the largest step of any bona fide burst of the tune half, as the gate takes them (three frames,
    # the window search: 0.0685 template, 0.0606 chip; with five whole-frame searches it was 0.062 and 0.048, and
    # the limits 0.19 and 0.14), a margin for what a live face does that a rendered photo does not (talking,
    # blinking, turning) and for other cameras; every tune slideshow still exceeds at least one (chip steps from
    # 0.25).
    # The largest distance between two consecutive frames' unit templates of a live capture.
    max_template_step: float = 0.21
    # The largest ``1 - NCC`` between two consecutive frames' aligned inner-face chips.
    max_chip_step: float = 0.18
    # Frames with the matched face needed before anything is judged (the gate takes three: hub.gate.BURST_FRAMES).
    min_frames: int = 3


DEFAULT_LIVENESS = LivenessLimits()


def fit_homography(source: PointArray, target: PointArray) -> npt_matrix:
    """Least-squares homography (DLT with Hartley normalisation) mapping ``source`` points onto ``target``."""
    src_norm, src_t = _normalise(source)
    dst_norm, dst_t = _normalise(target)
    rows = []
    for (x, y), (u, v) in zip(src_norm, dst_norm, strict=True):
        rows.append([-x, -y, -1, 0, 0, 0, u * x, u * y, u])
        rows.append([0, 0, 0, -x, -y, -1, v * x, v * y, v])
    _, _, vt = np.linalg.svd(np.asarray(rows))
    normalised = vt[-1].reshape(3, 3)
    homography: npt_matrix = np.linalg.inv(dst_t) @ normalised @ src_t
    return np.asarray(homography / homography[2, 2], dtype=np.float64)



def _normalise(points: PointArray) -> tuple[PointArray, npt_matrix]:
    # Centre on the mean and scale to mean distance sqrt(2): keeps the DLT well conditioned.
    centre = points.mean(axis=0)
    scale = np.sqrt(2) / max(float(np.linalg.norm(points - centre, axis=1).mean()), 1e-9)
    transform = np.array([[scale, 0, -scale * centre[0]], [0, scale, -scale * centre[1]], [0, 0, 1]])
    return (points - centre) * scale, transform


def apply_homography(homography: npt_matrix, points: PointArray) -> PointArray:
    homogeneous = np.c_[points, np.ones(len(points))] @ homography.T
    return np.asarray(homogeneous[:, :2] / homogeneous[:, 2:3], dtype=np.float64)


def homography_residual(source: DetectedFace, target: DetectedFace) -> float:
    """RMS landmark error left by the best planar mapping, in units of the target's eye distance."""
    homography = fit_homography(source.landmarks, target.landmarks)
    error = apply_homography(homography, source.landmarks) - target.landmarks
    rms = float(np.sqrt((error**2).sum(axis=1).mean()))
    return rms / max(target.eye_distance, 1.0)


def template_spread(templates: FloatArray) -> float:
    """Median distance between the burst's (unit) templates."""
    distances = [float(np.linalg.norm(a - b)) for a, b in combinations(templates, 2)]
    return float(np.median(distances)) if distances else 0.0


def _inner_patch(chip: ImageArray) -> FloatArray:
    luma = gray(chip)[30:130, 25:125]
    luma = luma.reshape(50, 2, 50, 2).mean(axis=(1, 3))  # 2x2 average: camera noise is not a difference
    luma = luma - luma.mean()
    return np.asarray(luma / max(float(np.linalg.norm(luma)), 1e-6), dtype=np.float32)


def chip_consistency(chips: Sequence[ImageArray]) -> float:
    """Median normalised cross-correlation of the inner face between the first aligned chip and the others."""
    if len(chips) < 2:
        return 1.0
    patches = [_inner_patch(chip) for chip in chips]
    return float(np.median([float((patches[0] * p).sum()) for p in patches[1:]]))


def chip_steps(chips: Sequence[ImageArray]) -> list[float]:
    """``1 - NCC`` of the inner face between each pair of consecutive aligned chips."""
    patches = [_inner_patch(chip) for chip in chips]
    return [1.0 - float((a * b).sum()) for a, b in pairwise(patches)]


def template_steps(templates: FloatArray) -> list[float]:
    """Distance between each pair of consecutive (unit) templates."""
    return [float(np.linalg.norm(a - b)) for a, b in pairwise(templates)]


def assess_liveness(
    faces: Sequence[DetectedFace],
    templates: FloatArray,
    chips: Sequence[ImageArray],
    limits: LivenessLimits = DEFAULT_LIVENESS,
) -> LivenessResult:
    """Liveness of one person's face across a burst (``faces[i]``, ``templates[i]``, ``chips[i]``: frame ``i``).

    Live unless the face jumps between consecutive frames. ``score`` is how far the largest jump stays below its
    limit (live when >= 1); ``encoding_spread`` is the largest template step, ``chip_consistency`` ``1 -`` the
    largest chip step, ``landmark_residual`` the median planar-fit residual (kept for logs and tuning).
    """
    frames = len(faces)
    if frames < max(limits.min_frames, 2):
        return LivenessResult(live=False, score=0.0, landmark_residual=0.0, encoding_spread=0.0,
                              chip_consistency=1.0, frames=frames)
    residual = float(np.median([homography_residual(faces[0], face) for face in faces[1:]]))
    step = max(template_steps(templates))
    chip_step = max(chip_steps(chips))
    score = min(limits.max_template_step / max(step, 1e-9), limits.max_chip_step / max(chip_step, 1e-9))
    return LivenessResult(live=score >= 1.0, score=score, landmark_residual=residual, encoding_spread=step,
                          chip_consistency=1.0 - chip_step, frames=frames)
