"""The controller service: the one path from the hub to a door controller.

Every release goes through :meth:`ControllerService.release` with a :class:`ReleaseReason`, so a release that no
decision, manager or mode asked for cannot be sent; releases the controller reports that the hub did not send
are counted and logged. A release is sent once and never again: when its outcome is unknown (the link dropped
while it was in flight) the caller gets :class:`~devices.exceptions.DeviceOutcomeUnknownError` and decides.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from devices.exceptions import DeviceError, DeviceOutcomeUnknownError, DeviceTimeoutError
from devices.hub_native_map import DoorMode
from devices.models import ControllerInfo, CredentialRead, DoorStatus

from ..bus import EventBus
from .monitor import AlarmKind, DoorMonitor

_LOGGER = logging.getLogger(__name__)


class ReleaseReason(StrEnum):
    """Why a door is being released."""

    DECISION = "decision"
    MANAGER = "manager"
    MODE = "mode"
    VEHICLE = "vehicle"  # a lane's barrier on a controller's door/output, opened for a granted plate


@dataclass(frozen=True, slots=True)
class CredentialReadEvent:
    """A new card swipe or PIN entry at a door's reader (``door`` is the controller's door index)."""

    door: int
    read: CredentialRead


@dataclass(frozen=True, slots=True)
class DoorView:
    """A door as the hub sees it: the controller's inputs plus the hub's alarms."""

    status: DoorStatus
    alarms: frozenset[AlarmKind]


@dataclass(frozen=True, slots=True)
class ControllerSnapshot:
    """Everything known about one controller after a poll."""

    info: ControllerInfo
    doors: tuple[DoorView, ...]


class DoorDriver(Protocol):
    """What the service needs of a driver: the hub-native controller, or an I/O module's doors."""

    @property
    def host(self) -> str: ...

    @property
    def connected(self) -> bool: ...

    async def read_info(self) -> ControllerInfo: ...

    async def read_doors(self) -> list[DoorStatus]: ...

    async def release(self, door: int, seconds: int) -> None: ...

    async def relock(self, door: int) -> None: ...

    async def set_mode(self, door: int, mode: DoorMode) -> None: ...

    async def close(self) -> None: ...


class ControllerService:
    """Owns one controller's driver and its doors' state machines.

    Its ``events`` bus carries :class:`~hub.doors.monitor.AlarmEvent` (raised or cleared) and
    :class:`CredentialReadEvent`, published on the event loop during :meth:`poll`.
    """

    def __init__(
        self,
        controller: DoorDriver,
        *,
        held_open_timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.controller = controller
        self._clock = clock
        self._held_open_timeout = held_open_timeout
        self._info: ControllerInfo | None = None
        self._monitors: dict[int, DoorMonitor] = {}
        self._releases_seen: dict[int, int] = {}
        self._releases_sent: dict[int, int] = {}
        self._credential_seen: dict[int, int] = {}
        self.unrequested_releases = 0
        self.events = EventBus(f"controller {controller.host}")

    @property
    def info(self) -> ControllerInfo | None:
        """The controller's identity, once read."""
        return self._info

    async def connect(self) -> ControllerInfo:
        """Read the controller's identity (also proves it is reachable and speaks the register map)."""
        self._info = await self.controller.read_info()
        return self._info

    async def poll(self) -> ControllerSnapshot:
        """Read every door once, run the state machines, and return the result."""
        info = self._info or await self.connect()
        statuses = await self.controller.read_doors()
        now = self._clock()
        views: list[DoorView] = []
        for status in statuses:
            monitor = self._monitors.setdefault(
                status.index, DoorMonitor(status.index, held_open_timeout=self._held_open_timeout)
            )
            self._check_release_counter(status)
            self._check_credential(status)
            for event in monitor.update(status, now):
                _LOGGER.info(
                    "door %s: %s %s", status.index, event.kind.value, "raised" if event.active else "cleared"
                )
                self.events.publish(event)
            views.append(DoorView(status=status, alarms=frozenset(monitor.active)))
        return ControllerSnapshot(info=info, doors=tuple(views))

    def _check_release_counter(self, status: DoorStatus) -> None:
        previous = self._releases_seen.get(status.index)
        self._releases_seen[status.index] = status.releases
        if previous is None:
            return
        delta = (status.releases - previous) & 0xFFFF
        # Credits are taken before a release is sent, so a poll racing with the write never miscounts it.
        sent = self._releases_sent.get(status.index, 0)
        used = min(delta, sent)
        self._releases_sent[status.index] = sent - used
        if delta > used:
            self.unrequested_releases += delta - used
            _LOGGER.warning(
                "door %s on %s was released %d time(s) without a request from this hub",
                status.index,
                self.controller.host,
                delta - sent,
            )

    def _check_credential(self, status: DoorStatus) -> None:
        """Report each new card swipe or PIN entry once (the first poll only learns the current sequence)."""
        previous = self._credential_seen.get(status.index)
        self._credential_seen[status.index] = status.credential_sequence
        if previous is None or previous == status.credential_sequence or status.last_credential is None:
            return
        if (status.credential_sequence - previous) & 0xFFFF > 1:
            _LOGGER.warning("door %s: %d credential reads were missed between polls", status.index,
                            ((status.credential_sequence - previous) & 0xFFFF) - 1)
        self.events.publish(CredentialReadEvent(door=status.index, read=status.last_credential))

    async def release(self, door: int, seconds: int, reason: ReleaseReason) -> None:
        """Release a door for ``seconds``; ``reason`` is required so every release is accounted for.

        Sent once, never retried. Raises :class:`~devices.exceptions.DeviceOutcomeUnknownError` when the link
        dropped while the release was in flight: the door may or may not have been released, and sending it again
        could release it twice for one decision.
        """
        self._releases_sent[door] = self._releases_sent.get(door, 0) + 1
        try:
            await self.controller.release(door, seconds)
        except (DeviceOutcomeUnknownError, DeviceTimeoutError) as err:
            # The controller may have applied it: keep the credit, so that its release counter going up on the
            # next poll is not taken for a release from elsewhere.
            _LOGGER.warning("door %s on %s: release for %s s (%s) sent, but its outcome is unknown: %s",
                            door, self.controller.host, seconds, reason.value, err)
            raise
        except DeviceError:
            self._releases_sent[door] -= 1  # refused or never sent
            raise
        monitor = self._monitors.get(door)
        if monitor is not None:
            monitor.note_release(self._clock(), seconds)
        _LOGGER.debug("door %s released for %s s (%s)", door, seconds, reason.value)

    async def relock(self, door: int) -> None:
        """End a release at once."""
        await self.controller.relock(door)

    async def set_mode(self, door: int, mode: DoorMode) -> None:
        """Put a door in normal, locked-down or free-passage mode."""
        await self.controller.set_mode(door, mode)

    async def close(self) -> None:
        """Close the connection to the controller."""
        await self.controller.close()
