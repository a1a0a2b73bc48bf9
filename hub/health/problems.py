"""Device problems and door alarms: tracked from the moment they happen until a manager has dealt with them.

A problem is one **alarm** (:class:`AlarmKind`): a device offline, a door forced open, held open or tampered
with, or a blacklisted vehicle refused at a car-park lane. It **opens** when that happens (a device's state changes
to offline, a door raises the alarm), may be **acknowledged** by a manager with a note, and is **resolved**
automatically when the condition ends (the device is back online, the door's alarm clears; a blacklisted vehicle's
alarm is resolved as it opens: the car was seen, nothing lasts); its time to repair is from opening to resolution.
One unresolved problem per device and alarm at most.

An alarm *stays* after it is resolved: the manager **closes** it, once it has been acknowledged (:class:`AlarmState`:
open -> acknowledged -> closed). Who acknowledged and who closed it are kept (the managers' ``Name (id)`` as the
audit log names them, which also records both actions).

The record holds no resident's data: the device or door, its kind, the times, the managers and their note about the
device. A blacklisted-vehicle alarm also keeps the plate it was raised for (``subject``): it is the manager's data
(the plate a manager put on the black list), shown in the admin-only panel, never in a notification or an entity.
What goes upstream (:meth:`Problem.upstream`) leaves the note, the managers and the subject out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from .models import public_device_id
from .timeutil import from_text, to_text

MAX_NOTE_CHARS = 500


class AlarmKind(StrEnum):
    """What a problem is about. The door alarms are :class:`hub.doors.monitor.AlarmKind`'s values."""

    DEVICE_OFFLINE = "device_offline"
    FORCED_OPEN = "forced_open"
    HELD_OPEN = "held_open"
    TAMPER = "tamper"
    BLACKLISTED_VEHICLE = "blacklisted_vehicle"


DOOR_ALARMS = frozenset({AlarmKind.FORCED_OPEN, AlarmKind.HELD_OPEN, AlarmKind.TAMPER})
# Alarms about something that happened once (a car seen), not a condition that lasts: resolved when raised.
EVENT_ALARMS = frozenset({AlarmKind.BLACKLISTED_VEHICLE})


class AlarmState(StrEnum):
    """Where an alarm is for the managers: it stays until one of them closes it."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class ProblemState(StrEnum):
    """Where a problem is in its life."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One device problem or door alarm. ``acknowledged_at`` is the first acknowledgement; ``note`` the latest
    one's note (or the closing note). ``kind`` is the device's kind (``door`` for a door alarm)."""

    problem_id: int
    device_id: str
    kind: str
    opened_at: datetime
    acknowledged_at: datetime | None
    note: str | None
    resolved_at: datetime | None
    alarm: str = AlarmKind.DEVICE_OFFLINE
    acknowledged_by: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    subject: str | None = None  # a blacklisted-vehicle alarm's plate (local only, never upstream)

    @property
    def alarm_state(self) -> AlarmState:
        """Open until acknowledged, acknowledged until a manager closes it (whether or not it has cleared)."""
        if self.closed_at is not None:
            return AlarmState.CLOSED
        if self.acknowledged_at is not None:
            return AlarmState.ACKNOWLEDGED
        return AlarmState.OPEN

    @property
    def active(self) -> bool:
        """Whether the condition still holds (the device is offline, the door's alarm is raised)."""
        return self.resolved_at is None

    @property
    def state(self) -> ProblemState:
        if self.resolved_at is not None:
            return ProblemState.RESOLVED
        if self.acknowledged_at is not None:
            return ProblemState.ACKNOWLEDGED
        return ProblemState.OPEN

    @property
    def repair_seconds(self) -> float | None:
        """Time to repair: from opening to resolution (``None`` while not resolved)."""
        if self.resolved_at is None:
            return None
        return (self.resolved_at - self.opened_at).total_seconds()

    def upstream(self) -> dict[str, Any]:
        """What the county receives (the ``problem`` field): ids, state and times; never the note (and a camera's
        URL without credentials or query, see :func:`public_device_id`)."""
        return {
            "problem_id": self.problem_id,
            "device_id": public_device_id(self.device_id),
            "kind": self.kind,
            "state": str(self.state),
            "opened_at": to_text(self.opened_at),
            "acknowledged_at": None if self.acknowledged_at is None else to_text(self.acknowledged_at),
            "resolved_at": None if self.resolved_at is None else to_text(self.resolved_at),
            "repair_seconds": self.repair_seconds,
        }

    def to_dict(self) -> dict[str, Any]:
        """The local view (the panel): the upstream fields, the device's own id, the note and the alarm's state."""
        return {
            **self.upstream(), "device_id": self.device_id, "note": self.note, "alarm": str(self.alarm),
            "alarm_state": str(self.alarm_state), "active": self.active, "acknowledged_by": self.acknowledged_by,
            "closed_at": None if self.closed_at is None else to_text(self.closed_at), "closed_by": self.closed_by,
            "subject": self.subject,
        }


@dataclass(frozen=True, kw_only=True)
class ProblemEntry:
    """A problem as the weekly report lists it (no note: the report goes upstream)."""

    problem_id: int
    device_id: str
    kind: str
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None

    @property
    def repair_seconds(self) -> float | None:
        if self.resolved_at is None:
            return None
        return (self.resolved_at - self.opened_at).total_seconds()

    @classmethod
    def of(cls, problem: Problem) -> ProblemEntry:
        return cls(problem_id=problem.problem_id, device_id=problem.device_id, kind=problem.kind,
                   opened_at=problem.opened_at, acknowledged_at=problem.acknowledged_at,
                   resolved_at=problem.resolved_at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "problem_id": self.problem_id,
            "device_id": self.device_id,
            "kind": self.kind,
            "opened_at": to_text(self.opened_at),
            "acknowledged_at": None if self.acknowledged_at is None else to_text(self.acknowledged_at),
            "resolved_at": None if self.resolved_at is None else to_text(self.resolved_at),
            "repair_seconds": self.repair_seconds,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProblemEntry:
        acked, resolved = data.get("acknowledged_at"), data.get("resolved_at")
        return cls(
            problem_id=int(data["problem_id"]),
            device_id=str(data["device_id"]),
            kind=str(data["kind"]),
            opened_at=from_text(data["opened_at"]),
            acknowledged_at=None if acked is None else from_text(acked),
            resolved_at=None if resolved is None else from_text(resolved),
        )


@dataclass(frozen=True, kw_only=True)
class StatusChange:
    """What :meth:`HealthStore.record_change` did: the device's new state, and the problem it opened or resolved."""

    device_id: str
    kind: str
    online: bool
    at: datetime
    problem: Problem | None
