"""The speed-ups of the gate path keep its results: pipelined bursts, reduced JPEG decoding, one BLAS thread."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hub.faces.blas import blas_threads, single_threaded_blas
from hub.faces.errors import ImageDecodeError
from hub.faces.imaging import to_rgb


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def test_large_jpegs_decode_at_a_reduced_scale_only_when_asked() -> None:
    frame = Image.new("RGB", (1920, 1080), (120, 130, 140))
    data = _jpeg(frame)
    assert to_rgb(data).shape == (1080, 1920, 3)
    assert to_rgb(data, min_side=960).shape == (540, 960, 3)  # 1/2: still 960 wide
    assert to_rgb(data, min_side=961).shape == (1080, 1920, 3)  # 1/2 would be too small
    assert to_rgb(_jpeg(Image.new("RGB", (4000, 3000))), min_side=960).shape == (750, 1000, 3)  # 1/4
    assert to_rgb(_jpeg(Image.new("L", (2000, 1000))), min_side=960).shape == (500, 1000, 3)
    png = io.BytesIO()
    frame.save(png, format="PNG")
    assert to_rgb(png.getvalue(), min_side=960).shape == (1080, 1920, 3)  # only JPEG scales while decoding


def test_exif_orientation_is_still_applied() -> None:
    image = Image.new("RGB", (300, 200), (10, 20, 30))
    exif = image.getexif()
    exif[0x0112] = 6  # rotated 90 degrees
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    assert to_rgb(out.getvalue()).shape == (300, 200, 3)
    with pytest.raises(ImageDecodeError):
        to_rgb(b"not an image")


@pytest.mark.skipif(blas_threads() is None, reason="numpy's OpenBLAS not found")
def test_single_threaded_blas_is_scoped_and_shared() -> None:
    before = blas_threads()
    seen: list[int | None] = []
    with single_threaded_blas():
        assert blas_threads() == 1
        worker = threading.Thread(target=lambda: seen.append(_inside_twice()))
        worker.start()
        worker.join()
        assert blas_threads() == 1  # the other user leaving does not lift this one's limit
    assert seen == [1]
    assert blas_threads() == before


def _inside_twice() -> int | None:
    with single_threaded_blas(), single_threaded_blas():
        return blas_threads()


@pytest.mark.usefixtures("engine")
def test_pipelined_burst_matches_frame_by_frame(community: dict[str, list[Path]]) -> None:
    from hub.faces.detect import detect_in_rgb, primary_face
    from hub.faces.encode import encode_chips, face_chip
    from hub.faces.pipeline import BurstEncoder, encode_burst

    photos = next(iter(community.values()))[:3]
    blank = np.full((200, 200, 3), 127, dtype=np.uint8)
    frames: list[bytes | np.ndarray] = [photos[0].read_bytes(), blank, photos[1].read_bytes(), photos[2].read_bytes()]
    burst = encode_burst(frames)
    assert burst.frame_index == [0, 2, 3]
    for row, index in enumerate(burst.frame_index):
        rgb = to_rgb(frames[index])
        face = primary_face(detect_in_rgb(rgb), rgb.shape)
        assert face is not None
        assert np.allclose(burst.templates[row], encode_chips([face_chip(rgb, face)])[0], atol=1e-6)
    assert not [t for t in threading.enumerate() if t.name.startswith("face-encoder")]

    encoder = BurstEncoder()
    assert encoder.add(frames[0])
    assert not encoder.add(blank)
    assert encoder.result() is encoder.result()
    with pytest.raises(RuntimeError):
        encoder.add(frames[0])
    with pytest.raises(ImageDecodeError):  # a frame that cannot be read ends the burst, threads and all
        encode_burst([frames[0], b"broken"])
    assert not [t for t in threading.enumerate() if t.name.startswith("face-encoder")]


@pytest.mark.usefixtures("engine")
def test_window_search_follows_the_face_and_falls_back_to_the_whole_frame(
    community: dict[str, list[Path]], enrolled_photos: int
) -> None:
    """After a burst's first face, the next frames are searched near it: the same face is found (box and template
    as a whole-frame search finds them, within the detector's own cell grid), and a frame without a face is
    handled by a whole-frame search. A face that jumped across the frame between two frames is someone else (the
    next person, after the one a ring buffer held): the burst starts again on it, the frames before it dropped."""
    from devkit.bench import burst_builder as render
    from hub.faces import pipeline
    from hub.faces.detect import detect_in_rgb, primary_face
    from hub.faces.encode import encode_chips, face_chip

    rng = np.random.default_rng(11)
    with Image.open(next(iter(community.values()))[enrolled_photos]) as image:
        photo = image.convert("RGB")
    here = render.make_scene(rng)
    still = [render.camera_jpeg(f, rng) for f in render.person_frames(photo, here, 3, rng)]
    # The same person at the other side of the frame: outside the window the first frames set.
    there = render.Scene(here.background, (here.centre[0] + 500, here.centre[1]), here.face_scale)
    moved = render.camera_jpeg(render.person_frames(photo, there, 1, rng)[0], rng)
    blank = render.camera_jpeg(np.asarray(here.background), rng)

    jumped = pipeline.BurstEncoder()
    assert [jumped.add(f) for f in [*still, moved]] == [True, True, True, True]
    assert (jumped.kept, jumped.restarts) == (1, 1)
    assert jumped.result().frame_index == [3]  # only the face after the jump

    encoder = pipeline.BurstEncoder()
    assert [encoder.add(f) for f in [*still, blank, still[0]]] == [True, True, True, False, True]
    burst = encoder.result()
    assert (burst.frame_index, encoder.restarts) == ([0, 1, 2, 4], 0)  # a frame without a face is no jump
    for row, index in enumerate(burst.frame_index):
        frame = [*still, blank, still[0]][index]
        rgb = to_rgb(frame, min_side=pipeline.FRAME_DECODE_SIDE)
        whole = primary_face(detect_in_rgb(rgb), rgb.shape)
        assert whole is not None
        # HOG's boxes fall on its cell grid, which lies differently in a window: the box may differ by a
        # pyramid level, the landmarks (the shape predictor's, from that box) by a few pixels.
        shift = np.abs(burst.faces[row].landmarks - whole.landmarks).mean()
        assert shift <= 0.05 * whole.box.width, (index, shift)
        template = encode_chips([face_chip(rgb, whole)])[0]
        assert np.linalg.norm(burst.templates[row] - template) < 0.1
    distances = np.linalg.norm(burst.templates[1:3] - burst.templates[0], axis=1)
    assert distances.max() < 0.1, distances  # the same face, frame after frame
