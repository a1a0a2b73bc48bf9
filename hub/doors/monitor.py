"""The door-state machine: turns a stream of door status samples into alarms that are raised and cleared.

* forced open: the contact opens while the door is locked, with no release and no exit-button press shortly
  before it (a release or exit press allows opening for a short grace period, since the strike relocks while a
  person is still pushing the door);
* held open: the door stays open longer than its held-open timeout;
* tamper: the reader's tamper switch is open.

Each alarm is raised once and cleared once; the monitor is pure (time is passed in), so it is tested without
sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from devices.models import DoorStatus

EXIT_GRACE_SECONDS = 10.0
RELEASE_GRACE_SECONDS = 5.0


class AlarmKind(StrEnum):
    """The alarms a door can raise."""

    FORCED_OPEN = "forced_open"
    HELD_OPEN = "held_open"
    TAMPER = "tamper"


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """An alarm raised or cleared at a door."""

    kind: AlarmKind
    door: int
    active: bool
    at: float


@dataclass
class DoorMonitor:
    """Tracks one door and reports alarm changes."""

    door: int
    held_open_timeout: float = 30.0
    active: set[AlarmKind] = field(default_factory=set)
    _opened_at: float | None = None
    _was_open: bool = False
    _allowed_until: float = float("-inf")

    def note_release(self, now: float, seconds: float) -> None:
        """The hub released the door: opening it during the release (and a grace period) is legitimate."""
        self._allowed_until = max(self._allowed_until, now + seconds + RELEASE_GRACE_SECONDS)

    def update(self, status: DoorStatus, now: float) -> list[AlarmEvent]:
        """Feed one status sample; returns the alarms raised or cleared by it."""
        events: list[AlarmEvent] = []
        if status.exit_button:
            self._allowed_until = max(self._allowed_until, now + EXIT_GRACE_SECONDS)
        if not status.locked:
            # Unlocked by a release, free passage, or a release this hub did not see: opening is not forced.
            self._allowed_until = max(self._allowed_until, now + RELEASE_GRACE_SECONDS)

        if status.door_open and not self._was_open:
            self._opened_at = now
            if now > self._allowed_until:
                events += self._set(AlarmKind.FORCED_OPEN, True, now)
        elif not status.door_open and self._was_open:
            self._opened_at = None
            events += self._set(AlarmKind.FORCED_OPEN, False, now)
            events += self._set(AlarmKind.HELD_OPEN, False, now)
        self._was_open = status.door_open

        if (
            status.door_open
            and self._opened_at is not None
            and now - self._opened_at >= self.held_open_timeout
        ):
            events += self._set(AlarmKind.HELD_OPEN, True, now)
        events += self._set(AlarmKind.TAMPER, status.tamper, now)
        return events

    def _set(self, kind: AlarmKind, on: bool, now: float) -> list[AlarmEvent]:
        if on == (kind in self.active):
            return []
        if on:
            self.active.add(kind)
        else:
            self.active.discard(kind)
        return [AlarmEvent(kind=kind, door=self.door, active=on, at=now)]
