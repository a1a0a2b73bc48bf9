"""Face detection: dlib's HOG detector on a downscaled frame, then 68 landmarks on the full-resolution frame.

HOG cost grows with the pixel count and gate faces are large, so detecting on a small copy is the cheapest
speed-up; landmarks (about 1 ms) are then placed on the full frame so alignment keeps every pixel.
"""

from __future__ import annotations

import numpy as np

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
