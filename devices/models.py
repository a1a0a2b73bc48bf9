"""Plain data the device drivers return."""

from __future__ import annotations

from dataclasses import dataclass

from .hub_native_map import CredentialKind, DoorMode


@dataclass(frozen=True, slots=True)
class ControllerInfo:
    """What a door controller says about itself."""

    serial: str
    model: str
    firmware: str
    door_count: int
    map_version: int


@dataclass(frozen=True, slots=True)
class CredentialRead:
    """One card swipe or PIN entry at a door's reader."""

    sequence: int
    kind: CredentialKind
    value: str


@dataclass(frozen=True, slots=True)
class DoorStatus:
    """A door's inputs and lock state as last read from its controller."""

    index: int
    locked: bool
    door_open: bool
    exit_button: bool
    tamper: bool
    presence: bool
    barrier_open: bool
    release_seconds_left: int
    credential_sequence: int
    last_credential: CredentialRead | None
    releases: int
    mode: DoorMode = DoorMode.NORMAL
