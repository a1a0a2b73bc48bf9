"""The gate path in one call: frames -> detect -> encode -> 1:N search -> accept rule -> liveness -> result.

A burst is pipelined over two threads: each frame is decoded and its face found in the caller's thread (dlib's
detector holds the GIL), and its chip is encoded on an encoder thread (numpy's matrix products release it), so
the next frame's detection runs while this frame is being encoded, and on two cores two frames encode at once.
The encoder's widest layers (256 channels, weight-bound) run once for the whole burst when it ends.
After a burst's first face, the next frames are searched only in a window around it (``WINDOW_SEARCH``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from hub.faces.blas import single_threaded_blas
from hub.faces.decision import DecisionRule, decide_burst
from hub.faces.detect import (
    DEFAULT_MAX_SIDE,
    SearchWindow,
    detect_in_rgb,
    detect_in_window,
    nearest_face,
    primary_face,
    window_around,
)
from hub.faces.encode import PartialTemplates, begin_templates, encode_chips, face_chip, finish_templates
from hub.faces.imaging import ImageInput, to_rgb
from hub.faces.liveness import DEFAULT_LIVENESS, LivenessLimits, assess_liveness
from hub.faces.matcher import Matcher
from hub.faces.models import DetectedFace, FaceOutcome, FaceResult, FloatArray, ImageArray

DEFAULT_RULE = DecisionRule()
# Gate frames are decoded at a reduced JPEG scale down to this longer side (1.5x the detector's 640 px): a face
# the detector can find (80 px at 640) is then still 120 px wide, more than the ~100 px the 150 px chip samples
# it at, so alignment and encoding lose nothing, and a 1920x1080 frame decodes at 960x540.
FRAME_DECODE_SIDE = DEFAULT_MAX_SIDE * 3 // 2
# Encoder threads for a burst: two cores' worth (more would only queue behind the same cores on a small hub).
ENCODER_THREADS = min(2, os.cpu_count() or 1)
# After a burst's first face, the next frames are searched in a window around it (``detect.window_around``):
# HOG then sees about a fifth of the frame. A frame whose window shows no face is searched whole.
WINDOW_SEARCH = True
# A burst is one person's frames in a row. A face whose centre is more than JUMP_SHIFT face widths from the
# previous frame's, or whose width changed by more than JUMP_SCALE times, between two frames 40 ms apart is not
# the same face moving (a resident walking up grows by about 6% a frame): it is someone else, e.g. the next person
# after the one a gate's ring buffer still held. The frames before it are dropped and the burst goes on from it.
JUMP_SHIFT = 0.6
JUMP_SCALE = 1.4


def continuous(before: DetectedFace, after: DetectedFace) -> bool:
    """Whether ``after`` can be ``before`` one camera frame later (see :data:`JUMP_SHIFT`, :data:`JUMP_SCALE`)."""
    a, b = before.box, after.box
    width = max(a.width, b.width, 1)
    shift = np.hypot((a.left + a.right - b.left - b.right) / 2, (a.top + a.bottom - b.top - b.bottom) / 2)
    ratio = max(a.width, 1) / max(b.width, 1)
    return bool(shift <= JUMP_SHIFT * width and 1 / JUMP_SCALE <= ratio <= JUMP_SCALE)


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
        self._pending: list[Future[PartialTemplates]] = []
        self._result: FrameFaces | None = None
        self._window: SearchWindow | None = None
        self._last: DetectedFace | None = None
        self.restarts = 0  # times a face that jumped (someone else) dropped the frames before it

    @property
    def kept(self) -> int:
        """Frames of the burst's current person: those with a face since the last jump."""
        return len(self._faces)

    def add(self, frame: ImageInput) -> bool:
        """Detect the primary face of the next frame and start encoding it; False when it shows no face.

        A face that is not :func:`continuous` with the previous one drops the frames before it (:attr:`kept`
        counts from it again)."""
        if self._result is not None:
            raise RuntimeError("this burst is finished; start a new BurstEncoder")
        index = self._count
        self._count += 1
        rgb = to_rgb(frame, min_side=FRAME_DECODE_SIDE)
        face = self._find(rgb)
        if face is None:
            return False
        if self._faces and not continuous(self._faces[-1], face):
            self._restart()
        chip = face_chip(rgb, face)
        self._indices.append(index)
        self._faces.append(face)
        self._chips.append(chip)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=ENCODER_THREADS, thread_name_prefix="face-encoder")
        self._pending.append(self._pool.submit(begin_templates, [chip]))
        return True

    def _restart(self) -> None:
        """Forget the frames kept so far (another person's); encodings not started are cancelled."""
        for future in self._pending:
            future.cancel()
        self._indices.clear()
        self._faces.clear()
        self._chips.clear()
        self._pending.clear()
        self.restarts += 1

    def _find(self, rgb: ImageArray) -> DetectedFace | None:
        """The frame's face: near the burst's previous one when there was one (its window), else the frame's
        primary face; the window is kept while the face stays well inside it, so consecutive frames are searched
        on the same crop."""
        if not WINDOW_SEARCH:
            return primary_face(detect_in_rgb(rgb), rgb.shape)
        face = None
        window = self._window
        if window is not None and self._last is not None:
            face = nearest_face(detect_in_window(rgb, window), self._last.box)
            if face is not None and not window.holds(face.box):
                self._window = window_around(face.box, rgb.shape)  # it moved towards the edge: follow it
        if face is None:
            # A whole-frame search, then the same face again in its window: every frame's box and landmarks
            # then come from a search on the same kind of crop, so consecutive frames compare like for like.
            found = primary_face(detect_in_rgb(rgb), rgb.shape)
            if found is None:
                self._window = self._last = None
                return None
            self._window = window_around(found.box, rgb.shape)
            face = nearest_face(detect_in_window(rgb, self._window), found.box) or found
        self._last = face
        return face

    def result(self) -> FrameFaces:
        """Every frame's face and template (frames without a face are left out, ``frame_index`` says which)."""
        if self._result is not None:
            return self._result
        try:
            partials = [future.result() for future in self._pending]
        finally:
            self.abandon()
        templates = finish_templates(partials)  # the encoder's widest layers, once for every frame
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
