"""Face detection: dlib's HOG detector on a downscaled frame, then 68 landmarks on the full-resolution frame.

HOG cost grows with the pixel count and gate faces are large, so detecting on a small copy is the cheapest
speed-up; landmarks (about 1 ms) are then placed on the full frame so alignment keeps every pixel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from hub.faces.engine import model_lock, models
from hub.faces.imaging import ImageInput, downscale, to_rgb
from hub.faces.models import DetectedFace, FaceBox, ImageArray

# Longest side of the frame HOG sees. A face needs about 80 px in that frame (HOG's window), so 640 px still
# finds a face an eighth of the frame wide, which is far for a gate camera.
DEFAULT_MAX_SIDE = 640
# In frames smaller than this, a face may be under HOG's 80 px window: when the plain pass finds nothing, look
# again upsampled once (4x the cost, so only then). On 250x250 LFW photos the plain pass finds 99.6%.
SMALL_FRAME_SIDE = 400
# When nothing passes HOG's usual threshold, look again more leniently: a gate frame is taken because someone
# is there, and a false detection is still refused by the matcher. Found a face in 5 of the 5 LFW misses.
FALLBACK_THRESHOLD = -0.6
# Faces narrower than this fraction of the widest are bystanders, not candidates for "the person at the gate".
CANDIDATE_RATIO = 0.5


def detect_faces(
    image: ImageInput, *, max_side: int = DEFAULT_MAX_SIDE, upsample: int | None = None
) -> list[DetectedFace]:
    """Every face in the frame, largest first (at a gate the nearest person is the one to verify)."""
    rgb = to_rgb(image)
    return detect_in_rgb(rgb, max_side=max_side, upsample=upsample)


def detect_in_rgb(
    rgb: ImageArray, *, max_side: int = DEFAULT_MAX_SIDE, upsample: int | None = None, lenient_retry: bool = True
) -> list[DetectedFace]:
    """:func:`detect_faces` for an image already decoded to an RGB uint8 array.

    ``lenient_retry`` looks again with a lower HOG threshold when nothing was found (gate frames); enrolment
    turns it off, since a weak detection there would be a photo of something that is not a face.
    """
    m = models()
    small, factor = downscale(rgb, max_side)
    small_frame = max(small.shape[:2]) < SMALL_FRAME_SIDE
    levels = [upsample] if upsample is not None else ([0, 1] if small_frame else [0])
    with model_lock:
        for level in levels:
            rects, scores, _ = m.detector.run(small, level, 0.0)
            if rects:
                break
        if not rects and lenient_retry:
            rects, scores, _ = m.detector.run(small, levels[-1], FALLBACK_THRESHOLD)
    return _faces_with_landmarks(rgb, rects, scores, factor, 0, 0)


def _faces_with_landmarks(
    rgb: ImageArray, rects: Any, scores: Any, factor: float, left: int, top: int
) -> list[DetectedFace]:
    """The detector's rectangles (found at ``factor`` x the frame's scale, offset by ``left``/``top`` in the whole
    frame) as faces with their 68 landmarks on the whole frame, largest first."""
    m = models()
    height, width = rgb.shape[:2]
    faces: list[DetectedFace] = []
    for rect, score in zip(rects, scores, strict=True):
        box = FaceBox(
            left=max(0, left + round(rect.left() / factor)),
            top=max(0, top + round(rect.top() / factor)),
            right=min(width, left + round((rect.right() + 1) / factor)),
            bottom=min(height, top + round((rect.bottom() + 1) / factor)),
        )
        full = m.dlib.rectangle(box.left, box.top, box.right - 1, box.bottom - 1)
        with model_lock:
            shape = m.shape68(rgb, full)
        landmarks = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
        faces.append(DetectedFace(box=box, landmarks=landmarks, score=float(score)))
    faces.sort(key=lambda f: f.box.area, reverse=True)
    return faces


def primary_face(faces: list[DetectedFace], frame_shape: tuple[int, ...]) -> DetectedFace | None:
    """The face to verify: of the faces at least half as wide as the widest, the one nearest the frame centre.

    Cameras are aimed at the person in front; a larger face at the edge is usually someone passing by. On
    LFW this choice instead of "largest" halved the verification errors from picking the wrong face.
    """
    if not faces:
        return None
    widest = max(f.box.width for f in faces)
    candidates = [f for f in faces if f.box.width >= CANDIDATE_RATIO * widest]
    centre_y, centre_x = frame_shape[0] / 2, frame_shape[1] / 2

    def off_centre(face: DetectedFace) -> float:
        box = face.box
        return float(np.hypot((box.left + box.right) / 2 - centre_x, (box.top + box.bottom) / 2 - centre_y))

    return min(candidates, key=off_centre)


def nearest_face(faces: list[DetectedFace], previous: FaceBox) -> DetectedFace | None:
    """Of ``faces`` at least half as wide as the widest, the one nearest ``previous`` (the same person, 40 ms
    later)."""
    if not faces:
        return None
    widest = max(f.box.width for f in faces)
    centre_x, centre_y = (previous.left + previous.right) / 2, (previous.top + previous.bottom) / 2

    def off(face: DetectedFace) -> float:
        box = face.box
        return float(np.hypot((box.left + box.right) / 2 - centre_x, (box.top + box.bottom) / 2 - centre_y))

    return min((f for f in faces if f.box.width >= CANDIDATE_RATIO * widest), key=off)


# A face found in the previous frame of a burst is looked for again in a window this many face widths wide (and
# high) around it, at the same scale as a whole-frame search: 40 ms later a person standing or walking up has
# moved a few pixels and grown a few percent, so the window holds the face with room to spare, and HOG (whose
# cost follows the pixel count) sees about a fifth of the frame. See docs/face-verification.md ("Speed").
WINDOW_WIDTHS = 3.0
# The window is kept for the next frames while the face stays this far (in face widths) inside its edges, so
# consecutive frames are searched on the same crop (the same HOG cell grid) and their boxes stay comparable.
WINDOW_MARGIN = 0.5


@dataclass(frozen=True)
class SearchWindow:
    """Where to look for the face in the next frame: a crop of the decoded frame (``right``/``bottom``
    exclusive), its origin on the whole-frame search's HOG cell grid."""

    left: int
    top: int
    right: int
    bottom: int

    def holds(self, box: FaceBox) -> bool:
        """Whether ``box`` is still far enough inside the window to search the next frame in it again."""
        margin = WINDOW_MARGIN * box.width
        return (box.left - self.left >= margin and self.right - box.right >= margin
                and box.top - self.top >= margin and self.bottom - box.bottom >= margin)


def window_around(box: FaceBox, frame_shape: tuple[int, ...], *, max_side: int = DEFAULT_MAX_SIDE) -> SearchWindow:
    """A window ``WINDOW_WIDTHS`` face widths wide around ``box`` in a frame of ``frame_shape``.

    Its origin is snapped to the whole-frame search's cell grid (HOG's 8 px cells in the frame shrunk to
    ``max_side``), so the window's shrunk pixels are the whole frame's shrunk pixels.
    """
    height, width = frame_shape[:2]
    factor = min(1.0, max_side / max(height, width))
    step = 8 / factor
    snap = round(step) if abs(step - round(step)) < 1e-6 else 1
    half = WINDOW_WIDTHS * max(box.width, box.height) / 2
    centre_x, centre_y = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    left = max(0, int((centre_x - half) // snap) * snap)
    top = max(0, int((centre_y - half) // snap) * snap)
    return SearchWindow(left, top, min(width, round(centre_x + half)), min(height, round(centre_y + half)))


def detect_in_window(
    rgb: ImageArray, window: SearchWindow, *, max_side: int = DEFAULT_MAX_SIDE
) -> list[DetectedFace]:
    """Faces inside ``window`` of the decoded frame, found as :func:`detect_in_rgb` would at the same scale (the
    window is shrunk by the whole frame's factor), with landmarks on the whole frame; ``[]`` when none is there
    (the caller then searches the whole frame)."""
    m = models()
    height, width = rgb.shape[:2]
    factor = min(1.0, max_side / max(height, width))
    crop = rgb[window.top:window.bottom, window.left:window.right]
    if crop.shape[0] < 2 or crop.shape[1] < 2:
        return []
    if factor < 1.0:
        size = (max(1, round(crop.shape[1] * factor)), max(1, round(crop.shape[0] * factor)))
        small = np.asarray(Image.fromarray(np.ascontiguousarray(crop)).resize(size, Image.Resampling.BILINEAR),
                           dtype=np.uint8)
    else:
        small = np.ascontiguousarray(crop)
    with model_lock:
        rects, scores, _ = m.detector.run(small, 0, 0.0)
    return _faces_with_landmarks(rgb, rects, scores, factor, window.left, window.top)
