"""Turning what callers hand in (JPEG/PNG bytes, a path, an array) into an RGB uint8 array, and resizing it."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from hub.faces.errors import ImageDecodeError
from hub.faces.models import FloatArray, ImageArray

ImageInput = ImageArray | bytes | Path


def to_rgb(image: ImageInput) -> ImageArray:
    """An RGB uint8 array (H, W, 3); EXIF orientation is applied so phone photos stand upright."""
    if isinstance(image, np.ndarray):
        return _array_to_rgb(image)
    try:
        with Image.open(io.BytesIO(image) if isinstance(image, bytes) else image) as pil:
            upright = ImageOps.exif_transpose(pil) or pil
            return np.asarray(upright.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as err:
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

