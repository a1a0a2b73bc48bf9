"""GA/T 1400 identifiers and times: 20-digit DeviceID, 41-character image IDs, 48-character object IDs.

Formats follow /docs/uplink-protocol.md (GA/T 1400 section): DeviceID is GB/T 28181 rule A; an image ID is
DeviceID + subtype ``02`` + YYYYMMDDhhmmss + 5-digit serial; an object ID is that + 2-digit type + 5-digit serial.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from hub.exceptions import InvalidInputError

_DEVICE_ID = re.compile(r"^\d{20}$")
IMAGE_SUBTYPE = "02"


class ObjectType:
    """Two-digit object type codes inside a 48-character ID (06 verified; the rest as commonly used)."""

    PERSON = "01"
    MOTOR_VEHICLE = "02"
    NON_MOTOR_VEHICLE = "03"
    THING = "04"
    SCENE = "05"
    FACE = "06"


def check_device_id(device_id: str) -> str:
    """Return ``device_id`` if it is 20 decimal digits, else raise."""
    if not _DEVICE_ID.match(device_id):
        raise InvalidInputError("a GA/T 1400 DeviceID is exactly 20 decimal digits")
    return device_id


def viid_time(moment: datetime, zone: ZoneInfo) -> str:
    """YYYYMMDDhhmmss in the platform's local time (the standard's times carry no zone)."""
    if moment.tzinfo is None:
        raise InvalidInputError("times must be timezone-aware")
    return moment.astimezone(zone).strftime("%Y%m%d%H%M%S")


def image_id(device_id: str, time14: str, serial: int) -> str:
    """41-character ImageID / SourceID."""
    return f"{check_device_id(device_id)}{IMAGE_SUBTYPE}{time14}{serial % 100000:05d}"


def object_id(source_id: str, object_type: str, serial: int) -> str:
    """48-character FaceID / PersonID / MotorVehicleID."""
    if len(source_id) != 41 or len(object_type) != 2:
        raise InvalidInputError("an object ID is a 41-character SourceID and a 2-digit type")
    return f"{source_id}{object_type}{serial % 100000:05d}"
