"""What opens a lane's barrier: implementations of :class:`hub.vehicles.service.Barrier`.

- :class:`DoorRelayBarrier`: the barrier is one door (relay output) of a door controller the hub already runs;
  it opens through that controller's :meth:`~hub.doors.ControllerService.release`, the path every door release
  takes, with :attr:`ReleaseReason.VEHICLE`, so the controller's release accounting counts it like any other.
- :class:`CameraRelayBarrier`: the camera's own relay (Hikvision ISAPI ``barrierGate``,
  :class:`devices.anpr.barrier.HikvisionBarrier`).
- :class:`VzenithReplyBarrier`: a Vzenith camera opens its relay when the HTTP reply to its push says so; opening
  sends nothing, the decision's answer *is* the command (:func:`barrier_reply`).
- :class:`LaneBarriers`: picks one of those by the lane's ``barrier`` name.

Errors propagate: :class:`~hub.vehicles.service.VehicleService` journals a failed opening (``release`` event,
outcome ``failed``) and keeps the decision.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from devices.anpr import BarrierReply
from hub.doors.service import ReleaseReason
from hub.exceptions import InvalidInputError, NotFoundError

from .models import Lane, VehicleDecision
from .service import Barrier

__all__ = [
    "CameraRelay",
    "CameraRelayBarrier",
    "DoorRelayBarrier",
    "LaneBarriers",
    "Releaser",
    "VzenithReplyBarrier",
    "barrier_reply",
]


class Releaser(Protocol):
    """A door controller's release path (:class:`hub.doors.ControllerService`)."""

    async def release(self, door: int, seconds: int, reason: ReleaseReason) -> None:
        """Release ``door`` for ``seconds``, once."""


class CameraRelay(Protocol):
    """A camera's barrier client (:class:`devices.anpr.barrier.HikvisionBarrier`)."""

    async def open(self) -> None:
        """Raise the barrier once."""


class DoorRelayBarrier:
    """A barrier wired to door ``door`` (0-based) of a controller; ``controller`` gives its running service, or
    ``None`` while it is not connected (then opening fails with :class:`NotFoundError`, and is journalled as a
    failed opening)."""

    def __init__(self, controller: Callable[[], Releaser | None], door: int, seconds: int = 1) -> None:
        if door < 0:
            raise InvalidInputError("door is the controller's door index, from 0")
        if not 1 <= seconds <= 60:
            raise InvalidInputError("a barrier pulse is 1..60 s")
        self._controller = controller
        self.door = door
        self.seconds = seconds

    async def open(self, lane: Lane) -> None:
        """Pulse the relay through the controller's release path, reason ``vehicle``."""
        service = self._controller()
        if service is None:
            raise NotFoundError(f"the controller of lane {lane.lane_id}'s barrier is not connected")
        await service.release(self.door, self.seconds, ReleaseReason.VEHICLE)


class CameraRelayBarrier:
    """The camera's own relay, commanded over its API (ISAPI ``PUT .../barrierGate`` open)."""

    def __init__(self, relay: CameraRelay) -> None:
        self._relay = relay

    async def open(self, lane: Lane) -> None:
        """Send the open command once (the client never repeats a command whose outcome is unknown)."""
        await self._relay.open()


class VzenithReplyBarrier:
    """A Vzenith camera's relay: it follows the reply to the push that carried the read. Opening sends nothing;
    the receiver answers the camera with :func:`barrier_reply` of the decision."""

    async def open(self, lane: Lane) -> None:
        """Nothing to send: the reply opens the relay."""


class LaneBarriers:
    """The community's barriers by name (a lane's ``barrier``)."""

    def __init__(self, barriers: Mapping[str, Barrier] | None = None) -> None:
        self._barriers: dict[str, Barrier] = dict(barriers or {})

    def set(self, name: str, barrier: Barrier) -> None:
        """Add or replace the barrier called ``name``."""
        self._barriers[name] = barrier

    def get(self, name: str) -> Barrier | None:
        """The barrier called ``name``, if there is one."""
        return self._barriers.get(name)

    async def open(self, lane: Lane) -> None:
        """Open the lane's barrier; :class:`NotFoundError` when no barrier has its name."""
        barrier = self._barriers.get(lane.barrier)
        if barrier is None:
            raise NotFoundError(f"lane {lane.lane_id} names barrier {lane.barrier!r}, which is not configured")
        opening: Awaitable[None] = barrier.open(lane)
        await opening


def barrier_reply(outcome: VehicleDecision, display: str | None = None) -> BarrierReply:
    """The answer to the camera for a decided read: open only for a granted, fresh read (a resend or a
    back-filled record never opens now)."""
    opens = outcome.decision.granted and not outcome.backfilled and not outcome.resend
    return BarrierReply(open=opens, display=display if display is not None else outcome.decision.message)
