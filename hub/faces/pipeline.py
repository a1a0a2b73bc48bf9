"""The gate path in one call: frames -> detect -> encode -> 1:N search -> accept rule -> liveness -> result.

A burst is pipelined over two threads: each frame is decoded and its face found in the caller's thread (dlib's
detector holds the GIL), and its chip is encoded on an encoder thread (numpy's matrix products release it), so
the next frame's detection runs while this frame is being encoded, and on two cores two frames encode at once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from hub.faces.blas import single_threaded_blas
from hub.faces.decision import DecisionRule, decide_burst
from hub.faces.detect import DEFAULT_MAX_SIDE, detect_in_rgb, primary_face
from hub.faces.encode import encode_chips, face_chip
from hub.faces.imaging import ImageInput, to_rgb
from hub.faces.liveness import DEFAULT_LIVENESS, LivenessLimits, assess_liveness
from hub.faces.matcher import Matcher
from hub.faces.models import TEMPLATE_DIMENSIONS, DetectedFace, FaceOutcome, FaceResult, FloatArray, ImageArray

DEFAULT_RULE = DecisionRule()
# Gate frames are decoded at a reduced JPEG scale down to this longer side (1.5x the detector's 640 px): a face
# the detector can find (80 px at 640) is then still 120 px wide, more than the ~100 px the 150 px chip samples
# it at, so alignment and encoding lose nothing, and a 1920x1080 frame decodes at 960x540.
FRAME_DECODE_SIDE = DEFAULT_MAX_SIDE * 3 // 2
# Encoder threads for a burst: two cores' worth (more would only queue behind the same cores on a small hub).
ENCODER_THREADS = min(2, os.cpu_count() or 1)


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
    """The template of the primary face in a photo (bytes, path or array), or None if it has no face.

    One photo, one thread: the bench's seconds per image are what one core does.
    """
    found = encode_frame(to_rgb(image))
    return None if found is None else found[1]


class BurstEncoder:
    """Frames in one at a time, as they arrive; :meth:`result` waits for the last encoding.

    :meth:`add` finds the frame's face at once and hands its chip to an encoder thread, so a caller that feeds
    frames while the camera is still sending the next ones has most of the burst encoded when the last arrives.
    The threads belong to this burst (starting two costs well under a millisecond) and end with :meth:`result`
    or :meth:`abandon`: nothing keeps running between bursts.
    """

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._count = 0
        self._indices: list[int] = []
        self._faces: list[DetectedFace] = []
        self._chips: list[ImageArray] = []
        self._pending: list[Future[FloatArray]] = []
        self._result: FrameFaces | None = None

    def add(self, frame: ImageInput) -> bool:
        """Detect the primary face of the next frame and start encoding it; False when it shows no face."""
        if self._result is not None:
            raise RuntimeError("this burst is finished; start a new BurstEncoder")
        index = self._count
        self._count += 1
        rgb = to_rgb(frame, min_side=FRAME_DECODE_SIDE)
        face = primary_face(detect_in_rgb(rgb), rgb.shape)
        if face is None:
            return False
        chip = face_chip(rgb, face)
        self._indices.append(index)
        self._faces.append(face)
        self._chips.append(chip)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=ENCODER_THREADS, thread_name_prefix="face-encoder")
        self._pending.append(self._pool.submit(encode_chips, [chip]))
        return True

    def result(self) -> FrameFaces:
        """Every frame's face and template (frames without a face are left out, ``frame_index`` says which)."""
        if self._result is not None:
            return self._result
        try:
            rows = [future.result() for future in self._pending]
        finally:
            self.abandon()
        templates = np.concatenate(rows) if rows else np.zeros((0, TEMPLATE_DIMENSIONS), dtype=np.float32)
        self._result = FrameFaces(list(self._indices), list(self._faces), templates, list(self._chips))
        return self._result

    def abandon(self) -> None:
        """Wait for the encodings already started, drop them and end the threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._pending.clear()


def encode_burst(frames: Sequence[ImageInput]) -> FrameFaces:
    """Detect the primary face in every frame and encode them, detection and encoding overlapping."""
    encoder = BurstEncoder()
    try:
        for frame in frames:
            encoder.add(frame)
    except BaseException:
        encoder.abandon()
        raise
    return encoder.result()


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
    with single_threaded_blas():
        burst = encode_burst(frames)
        return verify_encoded(burst, gallery, rule, liveness)


def verify_encoded(
    burst: FrameFaces,
    gallery: Matcher,
    rule: DecisionRule = DEFAULT_RULE,
    liveness: LivenessLimits | None = DEFAULT_LIVENESS,
) -> FaceResult:
    """:func:`verify_burst` for a burst already encoded (e.g. by a :class:`BurstEncoder` fed as frames arrived)."""
    if len(gallery) == 0:
        return FaceResult(FaceOutcome.EMPTY_GALLERY, frames_used=0)
    if not burst.faces:
        return FaceResult(FaceOutcome.NO_FACE)
    with single_threaded_blas():
        return _decide(burst, gallery, rule, liveness)


def _decide(
    burst: FrameFaces, gallery: Matcher, rule: DecisionRule, liveness: LivenessLimits | None
) -> FaceResult:
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
