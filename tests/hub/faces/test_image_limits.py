"""A small file may claim a huge picture (a decompression bomb): every image the hub decodes (enrolment photos,
camera frames, QR frames, the gate's frame check) is refused from its header, with the figures, before decoding."""

from __future__ import annotations

import struct
import zlib

import pytest

from hub.exceptions import InvalidInputError
from hub.faces.errors import ImageDecodeError
from hub.faces.imaging import MAX_PIXELS, to_rgb


def _png_claiming(width: int, height: int) -> bytes:
    """A valid PNG header for ``width`` x ``height`` with one tiny (truncated) data chunk: 100 bytes on disk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(
        b"IEND", b"")


# 80 MP claimed: Pillow itself only warns below 179 MP and would decode 240 MB of pixels.
BOMB = _png_claiming(10_000, 8_000)
HUGE = _png_claiming(40_000, 40_000)  # 1,600 MP: Pillow refuses it itself when opening


def test_the_bombs_are_small_and_claim_more_than_the_limit() -> None:
    assert len(BOMB) < 200 and len(HUGE) < 200 and MAX_PIXELS < 10_000 * 8_000


def test_enrolment_photos_and_camera_frames_are_refused_before_decoding() -> None:
    with pytest.raises(ImageDecodeError, match=r"10000x8000 pixels \(80.0 MP\); the limit is 50 MP"):
        to_rgb(BOMB)
    with pytest.raises(ImageDecodeError, match="the limit is 50 MP"):
        to_rgb(BOMB, min_side=480)  # the gate's frame path
    with pytest.raises(ImageDecodeError, match="decompression bomb"):
        to_rgb(HUGE)


def test_qr_frames_are_refused_before_decoding() -> None:
    from hub.residents.qr import _as_image

    with pytest.raises(InvalidInputError, match="the limit is 50 MP"):
        _as_image(BOMB)
    with pytest.raises(InvalidInputError, match="decompression bomb"):
        _as_image(HUGE)


def test_the_gate_does_not_take_a_bomb_for_a_frame() -> None:
    from hub.face_gate import _is_image

    assert _is_image(BOMB) is False and _is_image(HUGE) is False
