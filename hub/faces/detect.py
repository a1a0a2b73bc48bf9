"""Face detection: dlib's HOG detector on a downscaled frame, then 68 landmarks on the full-resolution frame.

HOG cost grows with the pixel count and gate faces are large, so detecting on a small copy is the cheapest
speed-up; landmarks (about 1 ms) are then placed on the full frame so alignment keeps every pixel.
"""

from __future__ import annotations

import numpy as np

from hub.faces.engine import models
from hub.faces.imaging import ImageInput, downscale, to_rgb
from hub.faces.models import DetectedFace, FaceBox, ImageArray

# Longest side of the frame HOG sees. A face needs about 80 px in that frame (HOG's window), so 640 px still
# finds a face an eighth of the frame wide, which is far for a gate camera.
DEFAULT_MAX_SIDE = 640
# Frames smaller than this are upsampled once so faces of 40-80 px (e.g. 250x250 LFW photos) are found.
SMALL_FRAME_SIDE = 400


def detect_faces(
    image: ImageInput, *, max_side: int = DEFAULT_MAX_SIDE, upsample: int | None = None
) -> list[DetectedFace]:
    """Every face in the frame, largest first (at a gate the nearest person is the one to verify)."""
    rgb = to_rgb(image)
    return detect_in_rgb(rgb, max_side=max_side, upsample=upsample)


def detect_in_rgb(rgb: ImageArray, *, max_side: int = DEFAULT_MAX_SIDE, upsample: int | None = None) -> list[DetectedFace]:
    """:func:`detect_faces` for an image already decoded to an RGB uint8 array."""
    m = models()
    small, factor = downscale(rgb, max_side)
    if upsample is None:
        upsample = 1 if max(small.shape[:2]) < SMALL_FRAME_SIDE else 0
    rects, scores, _ = m.detector.run(small, upsample, 0.0)
    height, width = rgb.shape[:2]
    faces: list[DetectedFace] = []
    for rect, score in zip(rects, scores, strict=True):
        box = FaceBox(
            left=max(0, round(rect.left() / factor)),
            top=max(0, round(rect.top() / factor)),
            right=min(width, round((rect.right() + 1) / factor)),
            bottom=min(height, round((rect.bottom() + 1) / factor)),
        )
        full = m.dlib.rectangle(box.left, box.top, box.right - 1, box.bottom - 1)
        shape = m.shape68(rgb, full)
        landmarks = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
        faces.append(DetectedFace(box=box, landmarks=landmarks, score=float(score)))
    faces.sort(key=lambda f: f.box.area, reverse=True)
    return faces
