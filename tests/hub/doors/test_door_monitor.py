"""The door-state machine, fed with status samples and a clock (no sleeping)."""

from __future__ import annotations

from dataclasses import replace

from devices.models import DoorStatus
from hub.doors import AlarmKind, DoorMonitor

CLOSED = DoorStatus(
    index=0, locked=True, door_open=False, exit_button=False, tamper=False, presence=False, barrier_open=False,
    release_seconds_left=0, credential_sequence=0, last_credential=None, releases=0,
)


def kinds(events: list) -> list[tuple[AlarmKind, bool]]:
    return [(e.kind, e.active) for e in events]


def test_forced_open_raised_and_cleared() -> None:
    """Opening a locked door with no release or exit press is forced; closing it clears the alarm."""
    monitor = DoorMonitor(0)
    assert monitor.update(CLOSED, 0.0) == []
    assert kinds(monitor.update(replace(CLOSED, door_open=True), 1.0)) == [(AlarmKind.FORCED_OPEN, True)]
    assert monitor.update(replace(CLOSED, door_open=True), 2.0) == []
    assert kinds(monitor.update(CLOSED, 3.0)) == [(AlarmKind.FORCED_OPEN, False)]


def test_release_and_exit_button_allow_opening() -> None:
    """A release by the hub, an unlocked strike or an exit press makes opening legitimate for a grace period."""
    monitor = DoorMonitor(0)
    monitor.update(CLOSED, 0.0)
    monitor.note_release(0.0, 5)
    assert monitor.update(replace(CLOSED, door_open=True), 8.0) == []
    monitor.update(CLOSED, 9.0)
    monitor.update(replace(CLOSED, exit_button=True), 20.0)
    assert monitor.update(replace(CLOSED, door_open=True), 25.0) == []
    monitor.update(CLOSED, 26.0)
    monitor.update(replace(CLOSED, locked=False), 40.0)
    assert monitor.update(replace(CLOSED, door_open=True), 41.0) == []
    monitor.update(CLOSED, 42.0)
    assert kinds(monitor.update(replace(CLOSED, door_open=True), 100.0)) == [(AlarmKind.FORCED_OPEN, True)]


def test_held_open_after_timeout() -> None:
    """A legitimately opened door left open past its timeout raises held-open once, cleared on closing."""
    monitor = DoorMonitor(0, held_open_timeout=30)
    monitor.note_release(0.0, 5)
    monitor.update(replace(CLOSED, door_open=True, locked=False), 1.0)
    assert monitor.update(replace(CLOSED, door_open=True), 29.0) == []
    assert kinds(monitor.update(replace(CLOSED, door_open=True), 31.0)) == [(AlarmKind.HELD_OPEN, True)]
    assert monitor.update(replace(CLOSED, door_open=True), 60.0) == []
    assert kinds(monitor.update(CLOSED, 61.0)) == [(AlarmKind.HELD_OPEN, False)]


def test_tamper_follows_the_switch() -> None:
    """Tamper is raised while the switch is open and cleared when it closes."""
    monitor = DoorMonitor(0)
    assert kinds(monitor.update(replace(CLOSED, tamper=True), 0.0)) == [(AlarmKind.TAMPER, True)]
    assert monitor.update(replace(CLOSED, tamper=True), 1.0) == []
    assert kinds(monitor.update(CLOSED, 2.0)) == [(AlarmKind.TAMPER, False)]
