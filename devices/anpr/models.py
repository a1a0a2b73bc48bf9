"""Plain data an ANPR camera's push is parsed into, whatever its vendor format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum


class PlateColor(IntEnum):
    """Plate colours by their GA/T 1400 code."""

    BLACK = 1
    WHITE = 2
    BLUE = 5
    YELLOW = 6
    GREEN = 9
    OTHER = 99


@dataclass(frozen=True, slots=True)
class PlateImage:
    """A picture a camera sent with a read: the plate crop or the scene."""

    kind: str  # "plate" | "scene"
    content_type: str  # e.g. "image/jpeg"
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class PlateRead:
    """One plate read as a camera reported it.

    ``(camera_id, record_id)`` is the camera's own identity of the record: the same pair again is a *resend*, a new
    ``record_id`` for the same plate is a *repeat* (the same car seen again).
    """

    format: str  # "hikvision" | "hikvision-json" | "dahua" | "vzenith" | "frigate"
    camera_id: str  # the camera's serial / device id / Frigate camera name, as the format carries it
    record_id: str  # the camera's own record id (UUID, plateid, Frigate event id, ...)
    plate: str  # normalised: upper case, no spaces or separators, colour word removed; "" when there is no plate
    plate_color: PlateColor
    seen_at: datetime  # timezone-aware
    resend: bool = False  # the camera marks it as a stored record sent again after an outage
    confidence: float | None = None  # 0..1
    direction: str | None = None  # "entry" | "exit" when the camera says, else None
    # Which way the vehicle moved relative to the camera, where the format says: "approaching" | "departing".
    # Not entry/exit: an exit camera sees cars approach too; the camera's configured role says which.
    travel: str | None = None
    plate_type: str | None = None
    vehicle_type: str | None = None
    vehicle_color: str | None = None
    channel: str | None = None  # the camera's channel / lane where it says
    images: tuple[PlateImage, ...] = ()
