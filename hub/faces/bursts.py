"""Test bursts for liveness: presentation attacks made from one still photo, bona fide bursts from real photos.

An attack is what a held-up print or phone looks like to the gate camera: the same picture in every frame, on
a background, moved, scaled, rotated and tilted (a perspective warp, as a sheet held at an angle), with a little
blur and exposure change. A bona fide burst uses *different* real photos of the person, each placed with the
same kind of movement but no tilt: the difference between the two is only what differs in a live face.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from hub.faces.models import ImageArray

CANVAS_FACTOR = 2.0  # the frame is this much larger than the photo, so there is room to move


def _perspective_coefficients(
    source: Sequence[tuple[float, float]], target: Sequence[tuple[float, float]]
) -> tuple[float, ...]:
    # PIL wants the mapping from output to input pixels: solve the 8 unknowns from 4 corner pairs.
    rows, rhs = [], []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs.extend([u, v])
    solution = np.linalg.solve(np.asarray(rows, dtype=np.float64), np.asarray(rhs, dtype=np.float64))
    return tuple(float(c) for c in solution)


def _background(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    base = rng.uniform(60, 190, size=3)
    noise = rng.normal(0, 12, size=(size[1], size[0], 1))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


def place(
    photo: ImageArray, rng: np.random.Generator, *, scale: float, angle: float, tilt: float, background: Image.Image
) -> ImageArray:
    """The photo as a quadrilateral on the background: scaled, rotated by ``angle`` degrees, ``tilt`` skewed."""
    height, width = photo.shape[:2]
    canvas_w, canvas_h = background.size
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64) - [width / 2, height / 2]
    theta = np.radians(angle)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    moved = corners @ rotation.T * scale
    # Tilt: one side of the sheet further from the camera looks shorter (perspective foreshortening).
    side = int(rng.integers(4))
    for corner in (side, (side + 1) % 4):
        moved[corner] *= 1.0 - tilt
    shift = rng.uniform(-0.12, 0.12, size=2) * [canvas_w, canvas_h] + [canvas_w / 2, canvas_h / 2]
    target = moved + shift
    source = corners + np.array([width / 2, height / 2])
    coefficients = _perspective_coefficients([tuple(p) for p in source], [tuple(p) for p in target])
    picture = Image.fromarray(photo).convert("RGBA")
    warped = picture.transform(
        (canvas_w, canvas_h), Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BILINEAR
    )
    frame = background.copy()
    frame.paste(warped, (0, 0), warped)
    return np.asarray(frame.convert("RGB"), dtype=np.uint8)


def _camera(frame: ImageArray, rng: np.random.Generator) -> ImageArray:
    image = Image.fromarray(frame).filter(ImageFilter.GaussianBlur(float(rng.uniform(0.0, 0.8))))
    image = ImageEnhance.Brightness(image).enhance(float(rng.uniform(0.85, 1.15)))
    return np.asarray(image, dtype=np.uint8)


def _canvas(photo: ImageArray, rng: np.random.Generator) -> Image.Image:
    height, width = photo.shape[:2]
    return _background((round(width * CANVAS_FACTOR), round(height * CANVAS_FACTOR)), rng)


def attack_burst(photo: ImageArray, frames: int, rng: np.random.Generator) -> list[ImageArray]:
    """A still photo held up to the camera and moved around: one picture, ``frames`` views of it."""
    background = _canvas(photo, rng)
    return [
        _camera(
            place(
                photo,
                rng,
                scale=float(rng.uniform(0.8, 1.2)),
                angle=float(rng.uniform(-15, 15)),
                tilt=float(rng.uniform(0.0, 0.25)),
                background=background,
            ),
            rng,
        )
        for _ in range(frames)
    ]


def bona_fide_burst(photos: Sequence[ImageArray], rng: np.random.Generator) -> list[ImageArray]:
    """Different real photos of one person as the frames of a burst, each moved like a person walking up."""
    background = _canvas(photos[0], rng)
    return [
        _camera(
            place(
                photo,
                rng,
                scale=float(rng.uniform(0.9, 1.1)),
                angle=float(rng.uniform(-8, 8)),
                tilt=0.0,
                background=background,
            ),
            rng,
        )
        for photo in photos
    ]
