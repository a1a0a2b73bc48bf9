"""Dahua ITSAPI pushes: ``POST /NotificationInfo/TollgateInfo`` (a vehicle pass, JSON with base64 pictures) and
``POST /NotificationInfo/KeepAlive`` (a heartbeat), both sent with HTTP Digest authentication.

Pure functions: :func:`parse_dahua_tollgate` gives the reads, :func:`parse_dahua_keepalive` the heartbeat.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from . import _common as c
from .errors import AnprFormatError
from .models import PlateRead
from .plates import color_from_word

__all__ = ["DahuaKeepAlive", "dahua_reply", "parse_dahua_keepalive", "parse_dahua_tollgate"]

FORMAT = "dahua"
TOLLGATE_PATH = "/NotificationInfo/TollgateInfo"
KEEPALIVE_PATH = "/NotificationInfo/KeepAlive"
# Where ITSAPI firmware puts the pictures: the scene (NormalPic, VehiclePic) and the plate crop (CutoutPic, PlatePic).
_PICTURES = (("CutoutPic", "plate"), ("PlatePic", "plate"), ("NormalPic", "scene"), ("VehiclePic", "scene"))
_TRAVEL = {"approach": "approaching", "obverse": "approaching", "forward": "approaching",
           "leave": "departing", "reverse": "departing", "backward": "departing"}
# Record ids firmware carries, in order of preference (the hub falls back to a hash of camera, time and plate).
_RECORD_ID_KEYS = ("RecordID", "RecordId", "GroupID", "GroupId", "SnapID", "EventID")


@dataclass(frozen=True, slots=True)
class DahuaKeepAlive:
    """A heartbeat: the camera is alive (``camera_id`` is ``None`` when it did not say which it is)."""

    camera_id: str | None
    received_at: datetime


def _load(body: bytes | dict[str, Any], what: str) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    try:
        obj = json.loads(body) if body.strip() else {}
    except (UnicodeDecodeError, ValueError) as err:
        raise AnprFormatError(f"dahua: the {what} JSON does not parse ({err})") from None
    if not isinstance(obj, dict):
        raise AnprFormatError(f"dahua: the {what} is not a JSON object")
    return obj


def parse_dahua_tollgate(body: bytes | dict[str, Any], *, camera_id: str | None = None, local_tz: tzinfo = UTC,
                         received_at: datetime | None = None) -> list[PlateRead]:
    """The read in one TollgateInfo push. ``camera_id`` (the Digest user name, say) is used when ``SnapInfo``
    names no ``DeviceID``; ``local_tz`` for the camera's times, which carry no offset."""
    obj = _load(body, "TollgateInfo")
    picture = c.get_path(obj, "Picture")
    if not isinstance(picture, dict):
        raise AnprFormatError("dahua: TollgateInfo without a Picture object")
    plate = c.get_path(picture, "Plate") or {}
    vehicle = c.get_path(picture, "Vehicle") or {}
    snap = c.get_path(picture, "SnapInfo") or {}
    if not isinstance(plate, dict) or not isinstance(vehicle, dict) or not isinstance(snap, dict):
        raise AnprFormatError("dahua: Plate, Vehicle and SnapInfo must be objects")
    seen_at = (c.parse_time(c.get_path(snap, "AccurateTime"), local_tz=local_tz)
               or c.parse_time(c.get_path(snap, "SnapTime"), local_tz=local_tz)
               or received_at or datetime.now(UTC))
    images = tuple(image for key, kind in _PICTURES
                   if (image := c.b64_image(c.get_path(picture, key, "Content"), kind)) is not None)
    record_id = next((value for key in _RECORD_ID_KEYS
                      if (value := c.text(c.get_path(snap, key)) or c.text(c.get_path(picture, key)))), None)
    raw_direction = c.get_path(snap, "Direction")
    return [c.make_read(
        fmt=FORMAT,
        camera_id=c.text(c.get_path(snap, "DeviceID")) or camera_id or "",
        record_id=record_id,
        raw_plate=c.get_path(plate, "PlateNumber"),
        color=color_from_word(c.text(c.get_path(plate, "PlateColor"))),
        seen_at=seen_at,
        confidence=c.confidence(c.get_path(plate, "Confidence")),
        direction=c.direction(raw_direction),
        travel=_TRAVEL.get((c.text(raw_direction) or "").lower()),
        plate_type=c.text(c.get_path(plate, "PlateType")),
        vehicle_type=c.text(c.get_path(vehicle, "VehicleType")),
        vehicle_color=c.text(c.get_path(vehicle, "VehicleColor")),
        channel=c.text(c.get_path(snap, "LaneNo")) or c.text(c.get_path(snap, "LanNo")),
        images=images,
    )]


def parse_dahua_keepalive(body: bytes | dict[str, Any], *, camera_id: str | None = None,
                          received_at: datetime | None = None) -> DahuaKeepAlive:
    """A KeepAlive push (its body may be empty)."""
    obj = _load(body, "KeepAlive")
    device = c.text(c.get_path(obj, "DeviceID")) or c.text(c.get_path(obj, "KeepAlive", "DeviceID"))
    return DahuaKeepAlive(camera_id=device or camera_id, received_at=received_at or datetime.now(UTC))


def dahua_reply(ok: bool, message: str = "") -> dict[str, Any]:
    """The JSON answer the camera gets (it resends a pass until it is told ``Result: true``)."""
    return {"Result": ok, "Message": message or ("success" if ok else "error")}

