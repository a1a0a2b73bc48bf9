"""Helpers the format parsers share: times, confidences, directions, fallback record ids, base64 images."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from .errors import AnprFormatError
from .models import PlateColor, PlateImage, PlateRead
from .plates import normalize_plate

# Images larger than this in a push are dropped (the read is kept): a plate crop or scene is tens of kilobytes.
MAX_IMAGE_BYTES = 4 * 1024 * 1024
_JPEG_SOI = b"\xff\xd8\xff"


def text(value: Any) -> str | None:
    """A field as stripped text, ``None`` for missing/empty/containers."""
    if value is None or isinstance(value, dict | list):
        return None
    result = str(value).strip()
    return result or None


def get_path(obj: Any, *keys: str) -> Any:
    """``obj[k1][k2]...`` or ``None`` when any level is missing or not an object (keys matched case-insensitively)."""
    for key in keys:
        if not isinstance(obj, Mapping):
            return None
        if key in obj:
            obj = obj[key]
            continue
        lowered = key.lower()
        obj = next((v for k, v in obj.items() if isinstance(k, str) and k.lower() == lowered), None)
    return obj


def confidence(value: Any, *, scale: float = 100.0) -> float | None:
    """A 0..``scale`` confidence as 0..1; ``None`` when missing or not a number; clamped into 0..1."""
    raw = text(value)
    if raw is None:
        return None
    try:
        number = float(raw.rstrip("%"))
    except ValueError:
        return None
    if number != number:  # NaN
        return None
    return min(1.0, max(0.0, number / scale))


_ENTRY_WORDS = {"entry", "enter", "in", "entrance", "入", "入场", "进"}
_EXIT_WORDS = {"exit", "out", "leave", "出", "出场"}


def direction(value: Any) -> str | None:
    """``entry`` / ``exit`` when the camera says so in those terms, else ``None``."""
    raw = (text(value) or "").lower()
    if raw in _ENTRY_WORDS:
        return "entry"
    if raw in _EXIT_WORDS:
        return "exit"
    return None


_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S.%f", "%Y/%m/%d %H:%M:%S")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]|$)")


def parse_time(value: Any, *, local_tz: tzinfo) -> datetime | None:
    """An ISO 8601 (extended form) / ``yyyy-MM-dd HH:mm:ss[.fff]`` / ``yyyyMMddHHmmss[fff]`` time or a Unix time
    in seconds or milliseconds, timezone-aware (``local_tz`` when the camera gives no offset); ``None`` when
    missing or unreadable."""
    raw = text(value)
    if raw is None:
        return None
    if raw.isdigit():
        # Digits only: GA/T 1400's yyyyMMddHHmmss[fff], or a Unix time in seconds / milliseconds. Never ISO 8601's
        # basic form, which Python would read differently (20261202101530 is not 10:15:03).
        if len(raw) in (14, 17):
            try:
                compact = datetime.strptime(raw[:14], "%Y%m%d%H%M%S")
            except ValueError:
                return None
            compact = compact.replace(microsecond=int(raw[14:] or 0) * 1000)
            return compact.replace(tzinfo=local_tz)
        if len(raw) in (10, 13):
            return epoch_time(int(raw) / (1000 if len(raw) == 13 else 1))
        return None
    parsed: datetime | None = None
    if _ISO_DATE.match(raw):
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
    if parsed is None:
        for fmt in _TIME_FORMATS:
            try:
                parsed = datetime.strptime(raw, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=local_tz)


def epoch_time(seconds: Any, micros: Any = None) -> datetime | None:
    """A Unix time (seconds, optional microseconds) as an aware UTC datetime; ``None`` when missing or absurd."""
    try:
        sec = float(str(seconds))
        usec = float(str(micros)) if text(micros) is not None else 0.0
    except ValueError:
        return None
    if not 0 < sec < 32503680000:  # before 3000-01-01
        return None
    return datetime.fromtimestamp(sec, UTC) + timedelta(microseconds=usec)


def fixed_offset(hours: float) -> tzinfo:
    """A fixed UTC offset (cameras in China: +8)."""
    return timezone(timedelta(hours=hours))


def fallback_record_id(camera_id: str, seen_at: datetime, plate: str) -> str:
    """A stable id for formats that carry none: the same camera, time and plate give the same id (so a resend is
    recognised), anything else a different one."""
    digest = hashlib.sha256(f"{camera_id}\x1f{seen_at.isoformat()}\x1f{plate}".encode()).hexdigest()
    return f"h-{digest[:32]}"


def b64_image(value: Any, kind: str) -> PlateImage | None:
    """A base64 JPEG from a JSON field; ``None`` when missing, not base64, not a JPEG or too large (the read is
    still good without its picture)."""
    raw = text(value)
    if raw is None:
        return None
    raw = re.sub(r"^data:image/[a-z]+;base64,", "", raw)
    if len(raw) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        return None
    try:
        data = base64.b64decode(raw, validate=False)
    except (binascii.Error, ValueError):
        return None
    if not data.startswith(_JPEG_SOI):
        return None
    return PlateImage(kind=kind, content_type="image/jpeg", data=data)


def make_read(
    *,
    fmt: str,
    camera_id: str,
    record_id: str | None,
    raw_plate: Any,
    color: PlateColor,
    seen_at: datetime,
    **extra: Any,
) -> PlateRead:
    """A :class:`PlateRead` with the plate normalised (a colour-word prefix fills in an unknown colour) and a
    fallback record id when the camera gave none."""
    if not camera_id:
        raise AnprFormatError(f"{fmt}: the push does not say which camera sent it")
    normalized = normalize_plate(text(raw_plate))
    if color is PlateColor.OTHER and normalized.prefix_color is not None:
        color = normalized.prefix_color
    return PlateRead(
        format=fmt,
        camera_id=camera_id,
        record_id=record_id or fallback_record_id(camera_id, seen_at, normalized.plate),
        plate=normalized.plate,
        plate_color=color,
        seen_at=seen_at,
        **extra,
    )
