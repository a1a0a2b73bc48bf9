"""Records of the vehicle registry and of a lane's decisions: plain frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from devices.anpr import PlateColor
from hub.access.models import Decision, VehicleDirection

__all__ = [
    "Lane",
    "ListedPlate",
    "MonthlyVehicle",
    "PlateList",
    "ResidentVehicle",
    "VehicleDecision",
    "VehicleDirection",
    "VisitorVehicle",
]


class PlateList(StrEnum):
    """The community's own lists: white (free or internal vehicles: open), black (refuse and raise an alarm)."""

    WHITE = "white"
    BLACK = "black"


@dataclass(frozen=True)
class ResidentVehicle:
    """A resident's own vehicle."""

    vehicle_id: str
    resident_id: str
    plate: str
    plate_color: PlateColor
    added_at: datetime


@dataclass(frozen=True)
class MonthlyVehicle:
    """A monthly (月租) vehicle, valid for a period; ``holder`` is a note on whose it is."""

    vehicle_id: str
    plate: str
    plate_color: PlateColor
    valid_from: datetime
    valid_until: datetime
    holder: str | None
    added_at: datetime


@dataclass(frozen=True)
class VisitorVehicle:
    """A visitor's vehicle a resident invited for a time window; revocable."""

    invitation_id: str
    resident_id: str
    plate: str
    plate_color: PlateColor
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class ListedPlate:
    """A plate on the white or the black list, with the manager's note."""

    plate: str
    list: PlateList
    note: str | None
    added_at: datetime


@dataclass(frozen=True)
class Lane:
    """One lane of a car park's entrance: its camera sees cars go one way, and it has a barrier to open.

    ``entrance`` names the entrance (a booth, 岗亭; a GA/T 1400 tollgate), ``lane_no`` counts from 1 within it,
    ``barrier`` is what the barrier interface opens (a relay's id, the camera's own relay)."""

    car_park: str
    entrance: str
    lane_no: int
    direction: VehicleDirection
    barrier: str

    @property
    def lane_id(self) -> str:
        """The lane as journalled (the event's ``door``): ``<car park>:<entrance>:<lane>``."""
        return f"{self.car_park}:{self.entrance}:{self.lane_no}"


@dataclass(frozen=True)
class VehicleDecision:
    """What happened to one plate read at a lane.

    ``resend``: the camera sent a record the hub already had; nothing new was recorded (the stored decision is
    returned, its duplicate count went up). ``backfilled``: the read happened earlier (the camera marked it as a
    stored record, or it is older than the freshness window): it was recorded at the time it happened and the
    barrier was not opened now. ``opened``: the barrier interface was told to open, and did not fail."""

    decision: Decision
    lane: Lane
    at: datetime
    plate: str
    plate_color: PlateColor
    backfilled: bool
    resend: bool
    opened: bool
    dwell_s: int | None = None
    event_uuid: str | None = None


@dataclass(frozen=True)
class Entrance:
    """A car park's entrance (a booth, 岗亭) as the county sees it: a GA/T 1400 tollgate with its lanes."""

    car_park: str
    entrance: str
    name: str
    lanes: int
    longitude: float | None = None
    latitude: float | None = None
    place_code: str = ""  # the 6-digit administrative division it is in
    org_code: str = ""  # the organisation that runs it
