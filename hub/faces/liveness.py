"""Liveness over a burst of frames: a held-up photo or screen moves as one flat sheet, a live face does not.

Three measurements, all from what the pipeline already computed (68 landmarks, aligned chips, templates):

* landmark non-rigidity: a flat picture seen from any angle maps onto itself by a homography, so the best
  homography from the first frame's landmarks to each later frame's leaves only detector noise; a live head
  turning (parallax between nose and cheeks), blinking or talking leaves a larger residual;
* template spread: every frame of a still photo is the same picture, so its templates barely differ; a live
  face changes expression and pose and its templates spread further apart;
* chip inconsistency: ``1 - NCC`` of the aligned face chips; the same picture gives the same pixels.

The burst is live when ``residual / residual_scale + spread / spread_scale + (1 - ncc) / chip_scale >= 1``:
one cue can carry it when it is strong, and all must be weak for a refusal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from hub.faces.imaging import gray
from hub.faces.models import DetectedFace, FloatArray, ImageArray, LivenessResult, PointArray

npt_matrix = np.ndarray[tuple[int, ...], np.dtype[np.float64]]


@dataclass(frozen=True)
class LivenessLimits:
    """Scales of the two cues (defaults calibrated on the community photos, checked on LFW; see the docs)."""

    # Grid search for the widest gap on the bursts of `bench liveness --seed 7`; checked on `--seed 2024` (other
    # random bursts of the same people): docs/face-verification.md.
    residual_scale: float = 0.107  # homography residual, RMS in eye distances
    spread_scale: float = 0.356  # median distance between the burst's unit templates
    chip_scale: float = 0.607  # 1 - median correlation of the aligned chips
    # Measured with `bench liveness --frames N`: APCER 0.040 at 3 frames, 0.013 at 4, 0.000 at 5 (BPCER 0.000).
    min_frames: int = 5


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


def chip_consistency(chips: Sequence[ImageArray]) -> float:
    """Median normalised cross-correlation of the inner face between the first aligned chip and the others.

    A held-up picture shows the same pixels in every frame (up to blur, exposure and tilt), so its aligned
    chips correlate almost perfectly; a live face's frames differ in expression, pose and shading.
    """
    if len(chips) < 2:
        return 1.0
    patches = []
    for chip in chips:
        luma = gray(chip)[30:130, 25:125]
        luma = luma.reshape(50, 2, 50, 2).mean(axis=(1, 3))  # 2x2 average: camera noise is not a difference
        luma = luma - luma.mean()
        patches.append(luma / max(float(np.linalg.norm(luma)), 1e-6))
    return float(np.median([float((patches[0] * p).sum()) for p in patches[1:]]))


def assess_liveness(
    faces: Sequence[DetectedFace],
    templates: FloatArray,
    chips: Sequence[ImageArray],
    limits: LivenessLimits = DEFAULT_LIVENESS,
) -> LivenessResult:
    """Liveness of one person's face across a burst (``faces[i]``, ``templates[i]``, ``chips[i]``: frame ``i``)."""
    frames = len(faces)
    if frames < max(limits.min_frames, 2):
        return LivenessResult(live=False, score=0.0, landmark_residual=0.0, encoding_spread=0.0,
                              chip_consistency=1.0, frames=frames)
    residuals = [homography_residual(faces[0], face) for face in faces[1:]]
    residual = float(np.median(residuals))
    spread = template_spread(templates)
    consistency = chip_consistency(chips)
    score = (
        residual / limits.residual_scale + spread / limits.spread_scale + (1.0 - consistency) / limits.chip_scale
    )
    return LivenessResult(live=score >= 1.0, score=score, landmark_residual=residual, encoding_spread=spread,
                          chip_consistency=consistency, frames=frames)
