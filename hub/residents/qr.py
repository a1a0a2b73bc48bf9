"""QR codes for visitor passes: render a token as PNG, and read tokens back from a camera frame or image file."""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
import segno
import zxingcpp
from PIL import Image, UnidentifiedImageError

from hub.exceptions import InvalidInputError
from hub.residents.pass_token import PREFIX

ImageInput = bytes | Image.Image | npt.NDArray[np.uint8]


def render_qr_png(token: str, *, scale: int = 8) -> bytes:
    """A PNG of the token's QR code (error correction M, with the standard quiet zone)."""
    if not isinstance(token, str) or not token:
        raise InvalidInputError("token must be non-empty text")
    if not isinstance(scale, int) or not 1 <= scale <= 40:
        raise InvalidInputError("scale must be a whole number from 1 to 40")
    buffer = io.BytesIO()
    segno.make_qr(token, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def _as_image(image: ImageInput) -> Image.Image | npt.NDArray[np.uint8]:
    if isinstance(image, bytes):
        try:
            loaded = Image.open(io.BytesIO(image))
            loaded.load()
        except (UnidentifiedImageError, OSError) as err:
            raise InvalidInputError(f"image bytes are not a readable image: {err}") from None
        # zxing wants grey or RGB; PNG palettes and alpha channels are converted here.
        return loaded.convert("L")
    if isinstance(image, Image.Image):
        return image.convert("L")
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise InvalidInputError("frame must be a uint8 array, grey (H, W) or BGR (H, W, 3)")
        return image
    raise InvalidInputError(f"image must be bytes, a PIL image or a numpy frame, got {type(image).__name__}")


def read_qr_texts(image: ImageInput) -> list[str]:
    """Every QR code text found in the image."""
    results = zxingcpp.read_barcodes(_as_image(image), formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    return [r.text for r in results if r.valid]


def read_pass_token(image: ImageInput) -> str | None:
    """The first visitor-pass token in the image (other QR codes in view are ignored), or ``None``."""
    for text in read_qr_texts(image):
        if text.startswith(PREFIX + "."):
            return text
    return None
