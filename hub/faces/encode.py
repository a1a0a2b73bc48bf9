"""128-d templates: align the face to dlib's 150x150 chip, run the ResNet encoder, unit-normalise.

Each face is encoded twice, as seen and mirrored, and the two descriptors averaged: a face and its mirror image
are the same person, so averaging cancels part of the encoder's pose and lighting noise. Measured on LFW this
lowers stranger false accepts for one extra encoder pass in the same batch (see docs/face-verification.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from hub.faces.engine import models
from hub.faces.models import TEMPLATE_DIMENSIONS, DetectedFace, FloatArray, ImageArray

CHIP_SIZE = 150  # what dlib's encoder was trained on
CHIP_PADDING = 0.25  # face_recognition's and dlib's default framing
# Enrolment photos are encoded as seen, mirrored and through this many slightly moved copies (jitter), and the
# descriptors averaged: enrolment happens once per photo, so its cost does not matter, and an averaged template
# sits nearer the middle of the person's cloud of descriptors (see docs/face-verification.md, Recognition figures).
ENROLMENT_JITTERS = 10
# dlib's jitter: turns of up to 3 degrees, scale 0.97-1.0, shifts of up to 2% of the chip, half of them mirrored.
_JITTER_DEGREES = 3.0
_JITTER_SCALE = (0.97, 1.0)
_JITTER_SHIFT = 0.02
_JITTER_SEED = 150


def face_chip(rgb: ImageArray, face: DetectedFace) -> ImageArray:
    """The face aligned (eyes level, fixed scale) into a 150x150 RGB chip, exactly as the encoder expects."""
    m = models()
    dlib = m.dlib
    box = face.box
    rect = dlib.rectangle(box.left, box.top, box.right - 1, box.bottom - 1)
    points = dlib.points([dlib.point(round(x), round(y)) for x, y in face.landmarks])
    shape = dlib.full_object_detection(rect, points)
    chip: ImageArray = np.asarray(dlib.get_face_chip(rgb, shape, CHIP_SIZE, CHIP_PADDING), dtype=np.uint8)
    return chip


def jittered(chip: ImageArray, count: int) -> list[ImageArray]:
    """``count`` copies of a chip, each turned, scaled and shifted a little (and every other one mirrored).

    The moves are drawn from a fixed seed, so a photo always gives the same template.
    """
    rng = np.random.default_rng(_JITTER_SEED)
    image = Image.fromarray(chip)
    centre = (CHIP_SIZE - 1) / 2
    copies: list[ImageArray] = []
    for i in range(count):
        angle = np.deg2rad(rng.uniform(-_JITTER_DEGREES, _JITTER_DEGREES))
        scale = rng.uniform(*_JITTER_SCALE)
        dx, dy = rng.uniform(-_JITTER_SHIFT, _JITTER_SHIFT, 2) * CHIP_SIZE
        # PIL maps output to input pixels: input = A @ output + offset, A = rotation / scale.
        cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
        offset_x = centre - cos * (centre + dx) - sin * (centre + dy)
        offset_y = centre + sin * (centre + dx) - cos * (centre + dy)
        moved = image.transform(
            image.size, Image.Transform.AFFINE, (cos, sin, offset_x, -sin, cos, offset_y), Image.Resampling.BILINEAR
        )
        array = np.asarray(moved, dtype=np.uint8)
        copies.append(np.ascontiguousarray(array[:, ::-1]) if i % 2 else array)
    return copies


def _views(chips: Sequence[ImageArray], mirror: bool, jitters: int) -> tuple[list[ImageArray], int]:
    views = [[c] + ([np.ascontiguousarray(c[:, ::-1])] if mirror else []) + jittered(c, jitters) for c in chips]
    return [view for chip_views in views for view in chip_views], len(views[0]) if views else 1


def _templates(descriptors: FloatArray, per_chip: int) -> FloatArray:
    summed = descriptors.reshape(-1, per_chip, descriptors.shape[1]).sum(axis=1)
    summed /= np.linalg.norm(summed, axis=1, keepdims=True)
    return np.ascontiguousarray(summed, dtype=np.float32)


def encode_chips(chips: Sequence[ImageArray], *, mirror: bool = True, jitters: int = 0) -> FloatArray:
    """Unit templates, one row per chip; ``mirror`` averages each chip with its mirror image, ``jitters`` adds
    that many moved copies of it to the average (enrolment: :data:`ENROLMENT_JITTERS`)."""
    if not chips:
        return np.zeros((0, TEMPLATE_DIMENSIONS), dtype=np.float32)
    views, per_chip = _views(chips, mirror, jitters)
    return _templates(models().describe(views), per_chip)


@dataclass(frozen=True)
class PartialTemplates:
    """:func:`encode_chips` half done (:func:`begin_templates`): the encoder's first layers on a chip and its
    mirror; :func:`finish_templates` runs the rest for several at once."""

    part: Any
    per_chip: int


def begin_templates(chips: Sequence[ImageArray]) -> PartialTemplates:
    """The first half of :func:`encode_chips` (as seen and mirrored) for a burst's frame, on an encoder thread."""
    views, per_chip = _views(chips, True, 0)
    return PartialTemplates(models().describe_early(views), per_chip)


def finish_templates(partials: Sequence[PartialTemplates]) -> FloatArray:
    """The templates of every chip behind ``partials``, in order: the encoder's widest layers run once for all
    of them (the same templates as :func:`encode_chips` of each, to float rounding)."""
    if not partials:
        return np.zeros((0, TEMPLATE_DIMENSIONS), dtype=np.float32)
    return _templates(models().describe_late([p.part for p in partials]), partials[0].per_chip)


def encode_faces(rgb: ImageArray, faces: Sequence[DetectedFace], *, mirror: bool = True) -> FloatArray:
    """Templates for faces detected in one frame."""
    return encode_chips([face_chip(rgb, f) for f in faces], mirror=mirror)
