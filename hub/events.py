"""The hub's typed events, as published on its buses (:class:`~hub.bus.EventBus`).

On a community's bus (``Community.events``): :class:`DecisionEvent` and :class:`ReleaseEvent` from the gate
path (on the event loop), :class:`ManagerActionEvent` after a manager's write committed (on the writer thread),
:class:`DeviceStatusEvent` from whoever watches a device. On a controller service's bus
(``ControllerService.events``): :class:`AlarmEvent` and :class:`CredentialReadEvent`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from .access.models import Decision
from .bus import EventBus, Unsubscribe
from .doors.ids import DoorId
from .doors.monitor import AlarmEvent, AlarmKind
from .doors.service import CredentialReadEvent, ReleaseReason
from .health.models import DeviceKind

__all__ = [
    "AlarmEvent",
    "AlarmKind",
    "CredentialReadEvent",
    "DecisionEvent",
    "DeviceStatusEvent",
    "DoorId",
    "EventBus",
    "ManagerActionEvent",
    "ReleaseEvent",
    "Unsubscribe",
]


@dataclass(frozen=True, slots=True)
class DecisionEvent:
    """An access decision at a door (journalled before this is published), and whether the door was released."""

    door: str  # the access-control door id (``str(DoorId)`` for a controller's door)
    decision: Decision
    released: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class ReleaseEvent:
    """A door released by hand (a manager, an automation), published once the release was sent or failed."""

    door: str
    reason: ReleaseReason
    actor: Mapping[str, str]
    released: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class DeviceStatusEvent:
    """A device (controller, camera, the uplink) went online or offline."""

    device_id: str
    kind: DeviceKind
    online: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class ManagerActionEvent:
    """A manager's action, after its write committed (what the audit log and the face gallery follow)."""

    actor: str
    action: str
    details: Mapping[str, object]
    at: datetime
