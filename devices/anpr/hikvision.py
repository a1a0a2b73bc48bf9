"""Hikvision ISAPI ANPR pushes: ``multipart/form-data`` with an XML (or JSON) ``EventNotificationAlert`` first,
then the JPEGs (plate crop, scene); also the bare XML / JSON a camera sends for heartbeats and other events.

:func:`parse_hikvision` is a pure function from the request body and its ``Content-Type`` to the plate reads. A
heartbeat or a non-ANPR event is an empty list, not an error.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from . import _common as c
from .errors import AnprFormatError
from .models import PlateImage, PlateRead
from .plates import color_from_word

__all__ = ["MultipartPart", "parse_hikvision", "parse_hikvision_json", "parse_hikvision_xml", "split_multipart"]

FORMAT_XML = "hikvision"
FORMAT_JSON = "hikvision-json"
_MAX_PARTS = 16
_TRAVEL = {"forward": "approaching", "reverse": "departing"}


@dataclass(frozen=True, slots=True)
class MultipartPart:
    """One part of a multipart body: its headers (lower-case names) and its bytes."""

    headers: dict[str, str]
    data: bytes

    @property
    def content_type(self) -> str:
        """The part's media type, lower case, without parameters."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def name(self) -> str:
        """The ``name`` (or ``filename``) of its ``Content-Disposition``."""
        disposition = self.headers.get("content-disposition", "")
        match = re.search(r'(?:^|;)\s*name="?([^";]*)"?', disposition) or re.search(
            r'filename="?([^";]*)"?', disposition)
        return match.group(1) if match else ""


def _boundary(content_type: str) -> str:
    match = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', content_type, re.IGNORECASE)
    if match is None:
        raise AnprFormatError("hikvision: multipart body without a boundary in its Content-Type")
    return match.group(1) or match.group(2)


def split_multipart(body: bytes, content_type: str) -> list[MultipartPart]:
    """The parts of a ``multipart/*`` body. Tolerates a missing closing delimiter and LF-only line ends (both seen
    from cameras); at most 16 parts."""
    delimiter = b"--" + _boundary(content_type).encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 2:
        raise AnprFormatError("hikvision: multipart body has no part with the announced boundary")
    parts: list[MultipartPart] = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        chunk = chunk.removeprefix(b"\r\n").removeprefix(b"\n")
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, data = chunk.partition(b"\n\n")
        if not sep:
            continue
        headers: dict[str, str] = {}
        for line in head.decode("latin-1").splitlines():
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        parts.append(MultipartPart(headers, data.removesuffix(b"\r\n").removesuffix(b"\n")))
        if len(parts) > _MAX_PARTS:
            raise AnprFormatError(f"hikvision: more than {_MAX_PARTS} parts in one push")
    return parts


def _safe_xml(data: bytes) -> ET.Element:
    """Parse XML with no DTD: a DOCTYPE or ENTITY declaration is refused before the parser sees it (no entity
    expansion, no external fetches; ``defusedxml`` is not a dependency)."""
    if re.search(rb"<!\s*(DOCTYPE|ENTITY)", data, re.IGNORECASE):
        raise AnprFormatError("hikvision: XML with a DOCTYPE/ENTITY declaration is refused")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        raise AnprFormatError(f"hikvision: the XML does not parse ({err})") from None
    for element in root.iter():  # drop the namespace (ver20/XMLSchema, ver10, or none)
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    return root


def _xml_to_dict(element: ET.Element) -> dict[str, Any]:
    """Child elements as a dict (text for leaves, dicts for containers; the first of repeated names)."""
    result: dict[str, Any] = {}
    for child in element:
        value: Any = _xml_to_dict(child) if len(child) else (child.text or "").strip()
        result.setdefault(str(child.tag), value)
    return result


def _truthy(value: Any) -> bool:
    return (c.text(value) or "").lower() in ("true", "1", "yes")


def _reads(alert: dict[str, Any], fmt: str, images: tuple[PlateImage, ...], *, camera_id: str | None,
           local_tz: tzinfo, received_at: datetime | None) -> list[PlateRead]:
    event_type = (c.text(alert.get("eventType")) or "").lower()
    anpr = c.get_path(alert, "ANPR")
    if event_type != "anpr" or not isinstance(anpr, dict):
        return []  # heartbeat (videoloss inactive, ...) or another event: nothing to read
    camera = (c.text(c.get_path(alert, "serialNumber")) or c.text(c.get_path(alert, "deviceID"))
              or c.text(c.get_path(alert, "macAddress")) or camera_id or c.text(c.get_path(alert, "ipAddress")))
    seen_at = (c.parse_time(alert.get("dateTime"), local_tz=local_tz) or received_at or datetime.now(UTC))
    travel = _TRAVEL.get((c.text(anpr.get("direction")) or "").lower())
    return [c.make_read(
        fmt=fmt,
        camera_id=camera or "",
        record_id=c.text(c.get_path(alert, "UUID")),
        raw_plate=anpr.get("licensePlate"),
        color=color_from_word(c.text(anpr.get("plateColor"))),
        seen_at=seen_at,
        resend=_truthy(alert.get("isDataRetransmission")),
        confidence=c.confidence(anpr.get("confidenceLevel")),
        direction=c.direction(anpr.get("direction")),
        travel=travel,
        plate_type=c.text(anpr.get("plateType")),
        vehicle_type=c.text(anpr.get("vehicleType")),
        vehicle_color=c.text(c.get_path(alert, "VehicleInfo", "color")),
        channel=c.text(alert.get("channelID")),
        images=images,
    )]


def parse_hikvision_xml(data: bytes, images: tuple[PlateImage, ...] = (), *, camera_id: str | None = None,
                        local_tz: tzinfo = UTC, received_at: datetime | None = None) -> list[PlateRead]:
    """The reads in one XML ``EventNotificationAlert`` (none for a heartbeat or another event type)."""
    root = _safe_xml(data)
    if root.tag != "EventNotificationAlert":
        raise AnprFormatError(f"hikvision: expected an EventNotificationAlert, got <{root.tag}>")
    return _reads(_xml_to_dict(root), FORMAT_XML, images, camera_id=camera_id, local_tz=local_tz,
                  received_at=received_at)


def parse_hikvision_json(data: bytes | dict[str, Any], images: tuple[PlateImage, ...] = (), *,
                         camera_id: str | None = None, local_tz: tzinfo = UTC,
                         received_at: datetime | None = None) -> list[PlateRead]:
    """The reads in the JSON form of the alert (bare, or wrapped in ``{"EventNotificationAlert": ...}``)."""
    if isinstance(data, bytes | bytearray):
        try:
            obj = json.loads(data)
        except (UnicodeDecodeError, ValueError) as err:
            raise AnprFormatError(f"hikvision: the JSON does not parse ({err})") from None
    else:
        obj = data
    if not isinstance(obj, dict):
        raise AnprFormatError("hikvision: the JSON alert is not an object")
    alert = obj.get("EventNotificationAlert", obj)
    if not isinstance(alert, dict) or "eventType" not in alert:
        raise AnprFormatError("hikvision: the JSON alert has no eventType")
    return _reads(alert, FORMAT_JSON, images, camera_id=camera_id, local_tz=local_tz, received_at=received_at)


def _image_kind(part: MultipartPart) -> str:
    name = part.name.lower()
    return "plate" if "plate" in name or "license" in name else "scene"


def _looks_like_json(data: bytes) -> bool:
    return data.lstrip()[:1] in (b"{", b"[")


def parse_hikvision(body: bytes, content_type: str, *, camera_id: str | None = None, local_tz: tzinfo = UTC,
                    received_at: datetime | None = None) -> list[PlateRead]:
    """The reads in one Hikvision push, whatever its shape: multipart (XML or JSON first, then JPEGs), or bare
    XML / JSON. ``camera_id`` is used when the alert names no serial or MAC; ``local_tz`` for times without an
    offset; ``received_at`` when the alert has no time."""
    media = content_type.split(";", 1)[0].strip().lower()
    kwargs: dict[str, Any] = {"camera_id": camera_id, "local_tz": local_tz, "received_at": received_at}
    if media.startswith("multipart/"):
        parts = split_multipart(body, content_type)
        # The alert is the first part, as a rule; some firmware puts a picture first, so take the first part that
        # is not a JPEG.
        alert_part = next((p for p in parts if not p.data.startswith(b"\xff\xd8\xff")), None)
        if alert_part is None:
            raise AnprFormatError("hikvision: multipart body with no alert part")
        images = tuple(PlateImage(kind=_image_kind(p), content_type="image/jpeg", data=p.data)
                       for p in parts
                       if p.data.startswith(b"\xff\xd8\xff") and len(p.data) <= c.MAX_IMAGE_BYTES)
        if "json" in alert_part.content_type or _looks_like_json(alert_part.data):
            return parse_hikvision_json(alert_part.data, images, **kwargs)
        return parse_hikvision_xml(alert_part.data, images, **kwargs)
    if "json" in media or _looks_like_json(body):
        return parse_hikvision_json(body, **kwargs)
    if "xml" in media or body.lstrip()[:1] == b"<":
        return parse_hikvision_xml(body, **kwargs)
    raise AnprFormatError(f"hikvision: unexpected Content-Type {media or '(none)'}")
