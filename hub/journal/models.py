"""Value objects of the journal: event kinds, an event to append, and an event as stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """What an event records. Manager actions are also written to the audit log."""

    DECISION = "decision"
    DOOR_ALARM = "door_alarm"
    DEVICE_STATUS = "device_status"
    MANAGER_ACTION = "manager_action"
    HEALTH_REPORT = "health_report"
    # A door released other than for a granted decision (a manager, an automation), or a decision's release that
    # failed; a granted decision's record already says its door was to be released.
    RELEASE = "release"
    # A door's mode changed by hand (normal, lockdown, free passage) or a release ended early: who asked stays in
    # the audit log; the event says which door, what and whether it happened.
    DOOR_CHANGE = "door_change"
    # A device problem (a device offline) opened, acknowledged by a manager or resolved when the device came back:
    # the problem's id, device, state and times, never who acknowledged it or the note.
    DEVICE_PROBLEM = "device_problem"
    # A plate read at a vehicle lane and its decision (granted or refused; a back-filled record of a camera's
    # backlog too): plate, colour, direction, time, camera, lane and reason (hub/vehicles).
    VEHICLE_PASS = "vehicle_pass"
    # A blacklisted plate seen at a lane: the alarm that goes with its refused vehicle_pass.
    VEHICLE_ALARM = "vehicle_alarm"


# Manager actions stay local by default: they are for the community's own accountability, not the county's.
UPLOADED_BY_DEFAULT = frozenset(
    {EventKind.DECISION, EventKind.DOOR_ALARM, EventKind.DEVICE_STATUS, EventKind.HEALTH_REPORT, EventKind.RELEASE,
     EventKind.DOOR_CHANGE, EventKind.DEVICE_PROBLEM, EventKind.VEHICLE_PASS, EventKind.VEHICLE_ALARM}
)

# Sent ahead of everything else queued (the outbox's priority lane): the county must hear of a device going down
# within seconds, however many access events wait. They are not door events, so the order per door still holds.
PRIORITY_KINDS = frozenset({EventKind.DEVICE_STATUS, EventKind.DEVICE_PROBLEM, EventKind.HEALTH_REPORT})


@dataclass(frozen=True, kw_only=True)
class NewEvent:
    """An event to append. ``payload`` holds the full local record; the field policy decides what leaves."""

    kind: EventKind
    door: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: datetime | None = None
    upload: bool | None = None

    def wants_upload(self) -> bool:
        """Whether an outbox row is written with the event."""
        return self.upload if self.upload is not None else self.kind in UPLOADED_BY_DEFAULT


@dataclass(frozen=True, kw_only=True)
class JournalEvent:
    """One stored event: UUID (the idempotency key upstream), monotonic sequence, UTC time and the hub's id."""

    seq: int
    uuid: str
    hub_id: str
    kind: EventKind
    door: str | None
    occurred_at: datetime
    recorded_at: datetime
    payload: Mapping[str, Any]


def utc_now() -> datetime:
    """The current time in UTC (one place to say it)."""
    return datetime.now(UTC)


def to_text(moment: datetime) -> str:
    """UTC ISO-8601 with milliseconds and a ``Z``: fixed width, so text order is time order in SQL."""
    if moment.tzinfo is None:
        raise ValueError("journal times must be timezone-aware")
    # isoformat is C code (strftime was a tenth of an event's journalling CPU, called five times per event); the
    # year is zero-padded to four digits, so the width stays fixed.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def from_text(text: str) -> datetime:
    """Parse what :func:`to_text` wrote."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
