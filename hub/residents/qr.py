"""QR codes for visitor passes: render a token as PNG or as a pass card a visitor can use (the QR code with the
visitor's name, the time window, the gates and the community), and read tokens back from a camera frame or image
file.

Rendering (segno, pure Python) always works. Reading needs the decoder zxing-cpp, which is optional (the ``qr``
extra): it publishes no wheel for musl Linux, so on Home Assistant OS and the Home Assistant container it is not
installed. :func:`qr_decoder_status` says whether reading works here and, if not, why; reading without the decoder
raises :class:`QrDecoderUnavailableError`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from importlib import metadata
from pathlib import Path
from types import ModuleType

import numpy as np
import numpy.typing as npt
import segno
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from hub.exceptions import FeatureUnavailableError, InvalidInputError
from hub.faces.imaging import check_size
from hub.residents.pass_token import PREFIX

ImageInput = bytes | Image.Image | npt.NDArray[np.uint8]

DECODER_PACKAGE = "zxing-cpp"  # the distribution; the module is ``zxingcpp``
NOT_INSTALLED = (
    "zxing-cpp is not installed (it has no wheel for musl Linux, which Home Assistant OS and the Home Assistant "
    "container use), so visitor-pass QR codes are not read from camera frames; passes are still issued and "
    "rendered, and cards, PINs and faces work as before. Where a wheel exists (glibc Linux, x86-64 and aarch64), "
    "install the 'qr' extra: pip install 'smart-community-hub[qr]'"
)


class QrDecoderUnavailableError(FeatureUnavailableError):
    """A QR code had to be read from an image but the decoder (zxing-cpp) is not installed or cannot load."""


@dataclass(frozen=True)
class QrDecoderStatus:
    """Whether QR codes can be read from images here; ``reason`` says why not, in words for a log or a repair."""

    available: bool
    reason: str | None = None
    version: str | None = None  # zxing-cpp's version, when available


def _import_decoder() -> tuple[ModuleType | None, str | None]:
    """zxingcpp, or ``None`` and why not. Imported on use, not at module level, so that everything but reading
    works without it. Not cached: once loaded the import is a dictionary look-up (this runs per gate frame), and a
    failed one is only retried by callers that have not noticed yet (the access service stops after the first)."""
    try:
        import zxingcpp
    except ModuleNotFoundError as err:
        if err.name != "zxingcpp":  # zxingcpp itself is there but something it imports is not
            return None, f"zxing-cpp is installed but could not be loaded: {err}"
        return None, NOT_INSTALLED
    except ImportError as err:  # installed, but its compiled module does not load (a wrong build, a missing .so)
        return None, f"zxing-cpp is installed but could not be loaded: {err}"
    return zxingcpp, None


def qr_decoder_status() -> QrDecoderStatus:
    """Whether visitor-pass QR codes can be read from camera frames and images on this install, and why not."""
    module, reason = _import_decoder()
    if module is None:
        return QrDecoderStatus(False, reason)
    try:
        version: str | None = metadata.version(DECODER_PACKAGE)
    except metadata.PackageNotFoundError:  # importable without distribution metadata (a local build)
        version = None
    return QrDecoderStatus(True, None, version)


def qr_decoder_available() -> bool:
    """True when QR codes can be read from images here (zxing-cpp is installed and loads)."""
    return _import_decoder()[0] is not None


def _decoder() -> ModuleType:
    module, reason = _import_decoder()
    if module is None:
        raise QrDecoderUnavailableError(reason or NOT_INSTALLED)
    return module


def render_qr_png(token: str, *, scale: int = 8) -> bytes:
    """A PNG of the token's QR code (error correction M, with the standard quiet zone)."""
    if not isinstance(token, str) or not token:
        raise InvalidInputError("token must be non-empty text")
    if not isinstance(scale, int) or not 1 <= scale <= 40:
        raise InvalidInputError("scale must be a whole number from 1 to 40")
    buffer = io.BytesIO()
    segno.make_qr(token, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


CARD_WIDTH = 720
_CARD_MARGIN = 40
# Fonts tried for the card's text (a CJK font first, so Chinese names render), else Pillow's own (Latin only).
CARD_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in CARD_FONTS:
        if Path(path).is_file():
            try:
                return ImageFont.truetype(path, size)
            except OSError:
                continue
    return ImageFont.load_default(size=size)


def _size(font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> int:
    return int(getattr(font, "size", 16))


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
          width: int) -> list[str]:
    """Lines of ``text`` no wider than ``width`` (by words; a word too long on its own is cut by characters)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=font) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = word
        while draw.textlength(line, font=font) > width and len(line) > 1:
            cut = len(line) - 1
            while cut > 1 and draw.textlength(line[:cut], font=font) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line:
        lines.append(line)
    return lines or [""]


def format_window(valid_from: datetime, valid_until: datetime, tz: tzinfo) -> str:
    """A pass's time window as the card and the link show it, in the community's time zone with its offset."""
    start, end = valid_from.astimezone(tz), valid_until.astimezone(tz)
    offset = start.strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    end_text = end.strftime("%H:%M") if end.date() == start.date() else end.strftime("%Y-%m-%d %H:%M")
    return f"{start.strftime('%Y-%m-%d %H:%M')} to {end_text} ({zone})"


def render_pass_card_png(
    token: str,
    *,
    visitor_name: str,
    valid_from: datetime,
    valid_until: datetime,
    gates: Sequence[str],
    community: str,
    tz: tzinfo,
) -> bytes:
    """A visitor pass as a card image (PNG): the community, the visitor's name, the time window, the gates it opens
    and the QR code the gate camera reads. Nothing about who issued it."""
    qr = Image.open(io.BytesIO(render_qr_png(token, scale=10))).convert("RGB")
    inner = CARD_WIDTH - 2 * _CARD_MARGIN
    if qr.width > inner:
        qr = qr.resize((inner, inner), Image.Resampling.NEAREST)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    title, big, small = _font(26), _font(40), _font(24)
    blocks: list[tuple[list[str], ImageFont.FreeTypeFont | ImageFont.ImageFont, str]] = [
        (_wrap(probe, community, title, inner), title, "#ffffff"),
        (["VISITOR PASS"], small, "#cfe3ff"),
    ]
    body: list[tuple[list[str], ImageFont.FreeTypeFont | ImageFont.ImageFont, str]] = [
        (_wrap(probe, visitor_name, big, inner), big, "#111111"),
        (_wrap(probe, "Valid " + format_window(valid_from, valid_until, tz), small, inner), small, "#333333"),
        (_wrap(probe, "Gates: " + ", ".join(gates), small, inner), small, "#333333"),
    ]

    def height(parts: list[tuple[list[str], ImageFont.FreeTypeFont | ImageFont.ImageFont, str]]) -> int:
        return sum(len(lines) * (_size(font) + 10) + 8 for lines, font, _ in parts)

    header_h = _CARD_MARGIN + height(blocks) + 12
    total = header_h + 24 + height(body) + 16 + qr.height + 24 + 30 + _CARD_MARGIN
    card = Image.new("RGB", (CARD_WIDTH, total), "#ffffff")
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, CARD_WIDTH, header_h), fill="#1f5fa8")
    y = _CARD_MARGIN

    def write(parts: list[tuple[list[str], ImageFont.FreeTypeFont | ImageFont.ImageFont, str]], y: int) -> int:
        for lines, font, colour in parts:
            for line in lines:
                draw.text((_CARD_MARGIN, y), line, font=font, fill=colour)
                y += _size(font) + 10
            y += 8
        return y

    write(blocks, y)
    y = write(body, header_h + 24) + 16
    card.paste(qr, ((CARD_WIDTH - qr.width) // 2, y))
    y += qr.height + 24
    draw.text((_CARD_MARGIN, y), "Show this code to the gate camera.", font=small, fill="#555555")
    buffer = io.BytesIO()
    card.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _as_image(image: ImageInput) -> Image.Image | npt.NDArray[np.uint8]:
    if isinstance(image, bytes):
        try:
            loaded = Image.open(io.BytesIO(image))
            check_size(*loaded.size)  # from the header, before decoding
            loaded.load()
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as err:
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
    """Every QR code text found in the image; raises :class:`QrDecoderUnavailableError` without zxing-cpp."""
    zxingcpp = _decoder()
    results = zxingcpp.read_barcodes(_as_image(image), formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    return [r.text for r in results if r.valid]


def read_pass_token(image: ImageInput) -> str | None:
    """The first visitor-pass token in the image (other QR codes in view are ignored), or ``None``; raises
    :class:`QrDecoderUnavailableError` when zxing-cpp is not there to read it."""
    for text in read_qr_texts(image):
        if text.startswith(PREFIX + "."):
            return text
    return None
