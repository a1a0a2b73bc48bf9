"""Helpers of the vehicle tests: the lanes, a clock the tests move, a barrier that records what it was told to
open, the service with chosen rules, and plate reads built as the ANPR receivers build them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from devices.anpr import PlateColor, PlateRead
from hub.access.models import VehicleDirection
from hub.community import Community
from hub.vehicles.models import Lane
from hub.vehicles.service import VehicleRules, VehicleService

ENTRY = Lane(car_park="p1", entrance="north", lane_no=1, direction=VehicleDirection.ENTRY, barrier="relay-1")
EXIT = Lane(car_park="p1", entrance="north", lane_no=2, direction=VehicleDirection.EXIT, barrier="relay-2")
_records = itertools.count(1)


class Clock:
    """The service's clock, moved by hand (the registry keeps the real one: windows are set around it)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class RecordingBarrier:
    """The barrier interface as the integration will provide it (a Modbus relay, the camera's own relay): here it
    records each opening, because no relay is part of these tests; ``fail`` makes the next openings raise."""

    def __init__(self) -> None:
        self.opened: list[str] = []
        self.fail = False

    async def open(self, lane: Lane) -> None:
        if self.fail:
            raise ConnectionError("relay did not answer")
        self.opened.append(lane.lane_id)


def make_service(community: Community, barrier: RecordingBarrier, clock: Clock, **rules: object) -> VehicleService:
    return VehicleService(community, barrier, rules=VehicleRules(**rules), clock=clock)  # type: ignore[arg-type]


def read(plate: str, at: datetime, *, camera: str = "cam-north-1", record: str | None = None,
         color: PlateColor = PlateColor.BLUE, resend: bool = False) -> PlateRead:
    """A plate read as a receiver parses it."""
    return PlateRead(format="vzenith", camera_id=camera, record_id=record or f"rec-{next(_records)}", plate=plate,
                     plate_color=color, seen_at=at, resend=resend, confidence=0.93)
