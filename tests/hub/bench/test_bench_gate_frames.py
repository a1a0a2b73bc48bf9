"""The gate benchmark's camera frames: 1080p JPEG scenes built from photos that were not enrolled, in which the
gate's own detection finds the face the 150x150 photo shows."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from devkit.bench.gate import ENROL_PHOTOS, build_captures, split_photos
from hub.faces.paths import shared_faces_dir


@pytest.fixture(scope="module")
def faces() -> Path:
    folder = shared_faces_dir() / "community"
    if not folder.is_dir():
        pytest.skip(f"shared face photos not found at {folder}")
    return folder


def test_frames_are_1080p_jpeg_from_photos_never_enrolled(faces: Path, tmp_path: Path) -> None:
    split = split_photos(faces)
    captures = build_captures(faces, tmp_path, (1920, 1080), 3)
    enrolled = {p for enrol, _ in split.values() for p in enrol}
    assert all(len(enrol) == ENROL_PHOTOS for enrol, _ in split.values())
    assert len(captures) == sum(len(probes) for _, probes in split.values())
    assert not {c.photo for c in captures} & enrolled
    assert len({c.person for c in captures[: len(split)]}) == len(split)  # people interleaved
    frames = sorted((tmp_path / captures[0].scene).glob("*.jpg"))
    assert len(frames) == 3
    for frame in frames:
        with Image.open(frame) as image:
            assert image.format == "JPEG" and image.size == (1920, 1080)
    first, second = (np.asarray(Image.open(f), dtype=np.int16) for f in frames[:2])
    assert np.abs(first - second).mean() > 1  # fresh noise and sway in every frame, not one frame repeated


def test_the_gate_finds_in_a_1080p_frame_the_face_of_the_150px_photo(faces: Path, tmp_path: Path) -> None:
    pytest.importorskip("dlib")
    from hub.faces.detect import detect_in_rgb, primary_face
    from hub.faces.encode import encode_chips, face_chip
    from hub.faces.imaging import to_rgb
    from hub.faces.pipeline import FRAME_DECODE_SIDE, encode_image

    capture = build_captures(faces, tmp_path, (1920, 1080), 1)[0]
    frame = (tmp_path / capture.scene / "000.jpg").read_bytes()
    rgb = to_rgb(frame, min_side=FRAME_DECODE_SIDE)  # as the gate decodes a camera frame
    face = primary_face(detect_in_rgb(rgb), rgb.shape)
    assert face is not None
    # Near the middle of the frame, at a gate's face size (about 250 px at full resolution).
    scale = 1920 / rgb.shape[1]
    assert abs((face.box.left + face.box.right) / 2 * scale - 960) < 200
    assert 150 < face.box.width * scale < 400
    template = encode_chips([face_chip(rgb, face)])[0]
    photo = encode_image(capture.photo)
    assert photo is not None
    assert float(np.linalg.norm(template - photo)) < 0.3  # the same face (strangers are beyond 0.4)
    with Image.open(io.BytesIO(frame)) as image:
        assert image.size == (1920, 1080)
