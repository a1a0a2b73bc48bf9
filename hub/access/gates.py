"""Door and gate configuration checks. The central one: a door that accepts faces must accept another credential,
because anyone may refuse face verification and must still be able to get in."""

from __future__ import annotations

from datetime import time

from hub.access.models import CredentialKind, Door, FaceAssurance, FaceAssuranceWindow, Side
from hub.exceptions import InvalidInputError
from hub.residents import validation as v


def validate_door(door: Door) -> Door:
    """Return ``door`` with its name normalised, or raise InvalidInputError saying what is wrong."""
    v.identifier(door.door_id, "door_id")
    name = v.required_text(door.name, "name", max_length=100)
    if door.gate_id is not None:
        v.identifier(door.gate_id, "gate_id")
    if door.side is not None and not isinstance(door.side, Side):
        raise InvalidInputError(f"side must be one of {[s.value for s in Side]}")
    if not isinstance(door.accepts, frozenset) or not all(isinstance(k, CredentialKind) for k in door.accepts):
        raise InvalidInputError("accepts must be a set of CredentialKind")
    validate_credential_mix(door.accepts)
    if not isinstance(door.face_assurance, FaceAssurance):
        raise InvalidInputError(f"face_assurance must be one of {[x.value for x in FaceAssurance]}")
    windows = validate_face_windows(door.face_windows)
    if door.side is not None and door.gate_id is None:
        raise InvalidInputError("a door with a side (in/out) must belong to a gate (gate_id)")
    if door.anti_passback and door.side is None:
        raise InvalidInputError("anti-passback needs the door's side (in or out) and its gate")
    return Door(
        door.door_id, name, door.gate_id, door.side, door.accepts, bool(door.locked_down), bool(door.anti_passback),
        door.face_assurance, windows,
    )


def validate_face_windows(windows: tuple[FaceAssuranceWindow, ...]) -> tuple[FaceAssuranceWindow, ...]:
    """Face assurance windows: each a level, a local start and end in whole minutes, and some weekdays."""
    if not isinstance(windows, tuple) or not all(isinstance(w, FaceAssuranceWindow) for w in windows):
        raise InvalidInputError("face_windows must be a tuple of FaceAssuranceWindow")
    if len(windows) > 8:
        raise InvalidInputError("at most 8 face assurance windows per door")
    for window in windows:
        if not isinstance(window.level, FaceAssurance):
            raise InvalidInputError(f"a window's level must be one of {[x.value for x in FaceAssurance]}")
        for label, moment in (("start", window.start), ("end", window.end)):
            if not isinstance(moment, time) or moment.tzinfo is not None or moment.second or moment.microsecond:
                raise InvalidInputError(f"a window's {label} must be a local time of day in whole minutes")
        if not isinstance(window.weekdays, frozenset) or not window.weekdays or not all(
            isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in window.weekdays
        ):
            raise InvalidInputError("a window's weekdays must be a non-empty set of numbers 0 (Monday) to 6")
    return windows


def validate_credential_mix(accepts: frozenset[CredentialKind]) -> None:
    """At least one kind; with face, at least one of card, PIN or visitor pass as well."""
    if not accepts:
        raise InvalidInputError("a door must accept at least one kind of credential")
    if CredentialKind.FACE in accepts and not accepts - {CredentialKind.FACE}:
        raise InvalidInputError(
            "a door that accepts faces must also accept a card, PIN or visitor pass (face verification is optional)"
        )
