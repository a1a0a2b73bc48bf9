"""Turning what callers hand in (JPEG/PNG bytes, a path, an array) into an RGB uint8 array, and resizing it."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from hub.faces.errors import ImageDecodeError
from hub.faces.models import FloatArray, ImageArray

ImageInput = ImageArray | bytes | Path

_ORIENTATION = 0x0112  # EXIF tag: 1 is upright

MAX_PIXELS = 50_000_000
"""The largest image decoded (a 50-megapixel phone photo; a camera frame is far smaller). Checked from the
header, before any pixel is decoded: a small file can claim a huge picture (a decompression bomb)."""


def check_size(width: int, height: int) -> None:
    """Refuse an image larger than :data:`MAX_PIXELS` (or with no pixels), with the figures in the message."""
    pixels = width * height
    if pixels > MAX_PIXELS or pixels <= 0:
        raise ImageDecodeError(
            f"the image is {width}x{height} pixels ({pixels / 1e6:.1f} MP); the limit is {MAX_PIXELS / 1e6:.0f} MP"
        )


def to_rgb(image: ImageInput, *, min_side: int | None = None) -> ImageArray:
    """An RGB uint8 array (H, W, 3); EXIF orientation is applied so phone photos stand upright.

    With ``min_side``, a JPEG at least twice that size (longer side) is decoded at 1/2, 1/4 or 1/8 scale, the
    smallest whose longer side is still ``min_side`` or more: JPEG scales in its DCT domain while decoding, so
    a 1920x1080 camera frame decodes to 960x540 in about two thirds of the time and needs a third of the
    work to shrink further for detection. Pixel sizes then refer to the reduced image, so the enrolment check
    (which measures faces in pixels) does not use it.
    """
    if isinstance(image, np.ndarray):
        return _array_to_rgb(image)
    try:
        with Image.open(io.BytesIO(image) if isinstance(image, bytes) else image) as pil:
            check_size(*pil.size)  # from the header: nothing decoded yet
            if min_side is not None and pil.format == "JPEG":
                scale = 1
                while scale < 8 and max(pil.size) // (2 * scale) >= min_side:
                    scale *= 2
                if scale > 1:
                    pil.draft(pil.mode, (pil.width // scale, pil.height // scale))
            # exif_transpose copies the image even when there is nothing to turn: only call it when needed.
            upright = (ImageOps.exif_transpose(pil) or pil) if pil.getexif().get(_ORIENTATION, 1) != 1 else pil
            if upright.mode != "RGB":
                upright = upright.convert("RGB")
            return np.asarray(upright, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise ImageDecodeError(f"cannot read the image: {err}") from err


def _array_to_rgb(array: ImageArray) -> ImageArray:
    if array.dtype != np.uint8:
        raise ImageDecodeError(f"image arrays must be uint8, got {array.dtype}")
    if array.ndim == 2:
        return np.ascontiguousarray(np.stack([array] * 3, axis=-1))
    if array.ndim == 3 and array.shape[2] in (3, 4):
        return np.ascontiguousarray(array[:, :, :3])
    raise ImageDecodeError(f"image arrays must be (H, W), (H, W, 3) or (H, W, 4), got {array.shape}")


def downscale(image: ImageArray, max_side: int) -> tuple[ImageArray, float]:
    """The image shrunk so its longer side is at most ``max_side``, and the factor applied (<= 1)."""
    height, width = image.shape[:2]
    factor = min(1.0, max_side / max(height, width))
    if factor >= 1.0:
        return image, 1.0
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    small = Image.fromarray(image).resize(size, Image.Resampling.BILINEAR)
    return np.asarray(small, dtype=np.uint8), factor


def gray(image: ImageArray) -> FloatArray:
    """Luma (ITU-R 601) as float32, for sharpness and brightness measurements."""
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.asarray(image[..., :3].astype(np.float32) @ weights, dtype=np.float32)

