"""Inputs and output of :func:`hub.access.decide.decide`: plain frozen dataclasses, no I/O, no database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum


class CredentialKind(StrEnum):
    """How a person identified themselves at the door."""

    FACE = "face"
    CARD = "card"
    PIN = "pin"
    PASS = "pass"
    PLATE = "plate"  # a vehicle's number plate, read by a lane's camera (hub/vehicles)


# What a door accepts unless configured otherwise: every person's credential (plates are for vehicle lanes).
PERSON_CREDENTIALS: frozenset[CredentialKind] = frozenset(CredentialKind) - {CredentialKind.PLATE}


class VehicleDirection(StrEnum):
    """Which way a vehicle lane's camera sees cars go."""

    ENTRY = "entry"
    EXIT = "exit"


class TemporaryVehicleRule(StrEnum):
    """What the community does with a vehicle it does not know (fees are out of scope: refuse sends it to the
    booth)."""

    ALLOW = "allow"
    REFUSE = "refuse"


class Side(StrEnum):
    """Which way a door of an anti-passback gate lets people through."""

    IN = "in"
    OUT = "out"


class FaceAssurance(StrEnum):
    """What a face may do at a door (see docs/face-verification.md, "Face assurance per door").

    An RGB gate camera cannot prove liveness against every replay (prints and a phone playing a video of the
    person pass the liveness check most of the time), so a manager chooses per door, optionally per time window.
    """

    FACE_ALONE = "face_alone"
    """Convenience: a recognised live face opens by itself. A print or a video of a resident may open too."""
    FACE_AND_SECOND_FACTOR = "face_and_second_factor"
    """A face opens only with a card or PIN of the same resident at the same door within a short window."""
    FACE_OFF = "face_off"
    """The camera is not used for decisions; cards, PINs and passes work as before."""


# Secure by default: every new face gate, and every door stored before levels existed.
DEFAULT_FACE_ASSURANCE = FaceAssurance.FACE_AND_SECOND_FACTOR


class Reason(StrEnum):
    """Why a decision came out as it did; every grant and denial carries exactly one."""

    GRANTED = "granted"
    DOOR_LOCKED_DOWN = "door_locked_down"
    CREDENTIAL_NOT_ACCEPTED = "credential_not_accepted"
    LOCKED_OUT = "locked_out"
    NOT_LIVE = "not_live"
    UNKNOWN_FACE = "unknown_face"
    NO_CONSENT = "no_consent"
    UNKNOWN_CARD = "unknown_card"
    CARD_REVOKED = "card_revoked"
    WRONG_PIN = "wrong_pin"
    INVALID_PASS = "invalid_pass"
    PASS_REVOKED = "pass_revoked"
    PASS_USED_UP = "pass_used_up"
    SUSPENDED = "suspended"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    NO_ACCESS_TO_DOOR = "no_access_to_door"
    HOLIDAY = "holiday"
    OUTSIDE_HOURS = "outside_hours"
    ANTI_PASSBACK = "anti_passback"
    # A face at a face_and_second_factor door: no card or PIN came in time, or it was another resident's.
    SECOND_FACTOR_MISSING = "second_factor_missing"
    SECOND_FACTOR_OTHER_PERSON = "second_factor_other_person"
    # Vehicle lanes (a plate read at a car park's barrier), checked in this order (hub.access.decide).
    BLACKLISTED = "blacklisted"
    NO_PLATE = "no_plate"
    EXIT_WITHOUT_ENTRY = "exit_without_entry"
    WHITE_LISTED = "white_listed"
    RESIDENT_VEHICLE = "resident_vehicle"
    MONTHLY_VALID = "monthly_valid"
    MONTHLY_EXPIRED = "monthly_expired"
    VISITOR_IN_WINDOW = "visitor_in_window"
    VISITOR_OUTSIDE_WINDOW = "visitor_outside_window"
    VISITOR_REVOKED = "visitor_revoked"
    NEAR_MATCH = "near_match"
    TEMPORARY_ALLOWED = "temporary_allowed"
    TEMPORARY_REFUSED = "temporary_refused"


# Reasons that open a vehicle lane's barrier.
VEHICLE_GRANTS: frozenset[Reason] = frozenset(
    {Reason.WHITE_LISTED, Reason.RESIDENT_VEHICLE, Reason.MONTHLY_VALID, Reason.VISITOR_IN_WINDOW,
     Reason.NEAR_MATCH, Reason.TEMPORARY_ALLOWED}
)


MESSAGES: Mapping[Reason, str] = {
    Reason.GRANTED: "Access granted.",
    Reason.DOOR_LOCKED_DOWN: "The door is locked down.",
    Reason.CREDENTIAL_NOT_ACCEPTED: "This door does not accept this kind of credential.",
    Reason.LOCKED_OUT: "Too many failed attempts: please use another credential for now.",
    Reason.NOT_LIVE: "Liveness check failed.",
    Reason.UNKNOWN_FACE: "Face not recognised.",
    Reason.NO_CONSENT: "Face verification is not enabled for this person.",
    Reason.UNKNOWN_CARD: "Card not recognised.",
    Reason.CARD_REVOKED: "This card has been revoked.",
    Reason.WRONG_PIN: "Wrong PIN.",
    Reason.INVALID_PASS: "This code is not a valid visitor pass.",
    Reason.PASS_REVOKED: "This visitor pass has been revoked.",
    Reason.PASS_USED_UP: "This visitor pass has been used up.",
    Reason.SUSPENDED: "Access is suspended for this person.",
    Reason.NOT_YET_VALID: "Not valid yet.",
    Reason.EXPIRED: "No longer valid.",
    Reason.NO_ACCESS_TO_DOOR: "No access to this door.",
    Reason.HOLIDAY: "No access on holidays.",
    Reason.OUTSIDE_HOURS: "Outside permitted hours.",
    Reason.ANTI_PASSBACK: "Already inside: exit before entering again.",
    Reason.SECOND_FACTOR_MISSING: "Face recognised: this door also needs your card or PIN.",
    Reason.SECOND_FACTOR_OTHER_PERSON: "The card or PIN is not this person's.",
    Reason.BLACKLISTED: "This vehicle is not allowed in.",
    Reason.NO_PLATE: "No plate read: please see the booth.",
    Reason.EXIT_WITHOUT_ENTRY: "No entry record for this vehicle: please see the booth.",
    Reason.WHITE_LISTED: "Welcome.",
    Reason.RESIDENT_VEHICLE: "Welcome home.",
    Reason.MONTHLY_VALID: "Monthly vehicle.",
    Reason.MONTHLY_EXPIRED: "Monthly pass expired: please renew at the booth.",
    Reason.VISITOR_IN_WINDOW: "Welcome, visitor.",
    Reason.VISITOR_OUTSIDE_WINDOW: "The visitor invitation is not valid now.",
    Reason.VISITOR_REVOKED: "The visitor invitation was withdrawn.",
    Reason.NEAR_MATCH: "Welcome (plate read close to a registered plate).",
    Reason.TEMPORARY_ALLOWED: "Temporary vehicle.",
    Reason.TEMPORARY_REFUSED: "Temporary vehicles are not admitted: please see the booth.",
}


# ---- credentials as presented at the door -------------------------------------------------------------------


@dataclass(frozen=True)
class FaceMatch:
    """The face engine's result: best-matching resident (``None`` if no template was close enough)."""

    resident_id: str | None
    distance: float
    live: bool


@dataclass(frozen=True)
class CardRead:
    """A card read, resolved by the service: ``card_resident_id`` is ``None`` for an unknown card."""

    card_resident_id: str | None
    revoked: bool = False


@dataclass(frozen=True)
class PinEntry:
    """A keypad code and PIN, resolved by the service: ``resident_id`` is ``None`` unless the PIN is that code's
    account's PIN; ``locked`` when the account or the keypad is throttled (the PIN was then not checked)."""

    resident_id: str | None
    locked: bool = False


@dataclass(frozen=True)
class PassState:
    """A visitor pass as the database holds it."""

    pass_id: str
    issued_by: str
    door_ids: frozenset[str]
    valid_from: datetime
    valid_until: datetime
    max_uses: int
    uses: int
    revoked: bool


@dataclass(frozen=True)
class PassPresentation:
    """A scanned pass: ``state`` is ``None`` when the signature failed or the pass is unknown."""

    state: PassState | None


@dataclass(frozen=True)
class PlateCredential:
    """A number plate read at a vehicle lane (normalised; ``""`` when the camera saw no plate) and its colour
    (the GA/T 1400 code)."""

    plate: str
    color: int


Credential = FaceMatch | CardRead | PinEntry | PassPresentation | PlateCredential


def kind_of(credential: Credential) -> CredentialKind:
    """The credential kind of a presented credential."""
    if isinstance(credential, FaceMatch):
        return CredentialKind.FACE
    if isinstance(credential, CardRead):
        return CredentialKind.CARD
    if isinstance(credential, PinEntry):
        return CredentialKind.PIN
    if isinstance(credential, PlateCredential):
        return CredentialKind.PLATE
    return CredentialKind.PASS


@dataclass(frozen=True)
class SecondFactor:
    """A card or PIN that identified a resident at a door, paired with a face there (face_and_second_factor)."""

    kind: CredentialKind
    resident_id: str


@dataclass(frozen=True)
class AccessRequest:
    """Someone presents a credential at a door at a moment."""

    door_id: str
    credential: Credential
    now: datetime
    direction: VehicleDirection | None = None
    """For a plate at a vehicle lane: whether the lane lets cars in or out."""
    second_factor: SecondFactor | None = None
    """For a face: the card or PIN of the same door it was paired with (face_and_second_factor)."""


# ---- what decide() needs to know ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FaceAssuranceWindow:
    """A time window with its own face assurance level (e.g. second factor at night), in the community's local
    time, with the rules' conventions: ``start == end`` all day, ``start > end`` crosses midnight (the part after
    midnight belongs to the day the window started). Holidays count as their weekday."""

    level: FaceAssurance
    start: time
    end: time
    weekdays: frozenset[int] = frozenset(range(7))


@dataclass(frozen=True)
class Door:
    """A door (or one side of a gate) and the credentials it accepts."""

    door_id: str
    name: str
    gate_id: str | None = None
    side: Side | None = None
    accepts: frozenset[CredentialKind] = PERSON_CREDENTIALS
    locked_down: bool = False
    anti_passback: bool = False
    face_assurance: FaceAssurance = DEFAULT_FACE_ASSURANCE
    """What a face may do here outside ``face_windows`` (only meaningful when the door accepts faces)."""
    face_windows: tuple[FaceAssuranceWindow, ...] = ()
    """Windows with another level; the first that contains the moment applies."""


@dataclass(frozen=True)
class AccessRule:
    """Who may use which doors when. On a holiday a rule applies only if ``on_holidays``; on other days only
    if the weekday (0 = Monday) is in ``weekdays``. ``start == end`` means all day; ``start > end`` crosses
    midnight (the part after midnight belongs to the day the window started)."""

    rule_id: str
    door_ids: frozenset[str]
    weekdays: frozenset[int] = frozenset(range(7))
    start: time = time(0, 0)
    end: time = time(0, 0)
    on_holidays: bool = True
    applies_to_all: bool = False
    resident_ids: frozenset[str] = frozenset()
    buildings: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Subject:
    """The resident a credential resolved to, with what decide needs about them."""

    resident_id: str
    active: bool
    valid_from: datetime | None
    valid_until: datetime | None
    building: str | None
    face_consent: bool


@dataclass(frozen=True)
class Attempt:
    """One earlier decision, from the recent history."""

    at: datetime
    door_id: str
    gate_id: str | None
    kind: CredentialKind
    resident_id: str | None
    granted: bool


@dataclass(frozen=True)
class LockoutPolicy:
    """Lock a credential kind after ``max_failures`` failures within ``window``, for ``duration``.

    Counted per person (failures after their last grant with that kind) and per gate (all failures there).
    """

    max_failures_per_person: int = 3
    max_failures_per_gate: int = 10
    window: timedelta = timedelta(minutes=5)
    duration: timedelta = timedelta(minutes=10)


# PINs are throttled per keypad account and per keypad instead (hub/access/pin_throttle.py).
DEFAULT_LOCKOUTS: Mapping[CredentialKind, LockoutPolicy] = {
    CredentialKind.FACE: LockoutPolicy(),
}


@dataclass(frozen=True)
class VehicleStanding:
    """What the registry holds about one registered plate (the one read, or the one it nearly matches)."""

    plate: str
    white_listed: bool = False
    resident_id: str | None = None
    """The resident whose vehicle this is."""
    resident_active: bool = True
    monthly_from: datetime | None = None
    monthly_until: datetime | None = None
    """The monthly period (the latest one on record); ``None``: not a monthly vehicle."""
    invitations: tuple[VisitorWindow, ...] = ()


@dataclass(frozen=True)
class VisitorWindow:
    """A resident's invitation for a visitor's vehicle."""

    invitation_id: str
    resident_id: str
    valid_from: datetime
    valid_until: datetime
    revoked: bool = False


@dataclass(frozen=True)
class VehicleContext:
    """What decide needs for a plate: the registry's view of it, its presence, and the community's rules.

    ``exact`` is the standing of the plate as read (``None``: not registered); ``near`` that of a registered plate
    one OCR confusion away, when the read plate itself is not registered."""

    black_listed: bool = False
    exact: VehicleStanding | None = None
    near: VehicleStanding | None = None
    inside_since: datetime | None = None
    """When this plate's open entry record began (``None``: no entry on record)."""
    temporary_rule: TemporaryVehicleRule = TemporaryVehicleRule.REFUSE
    near_match_opens: bool = False
    anti_passback: bool = False


@dataclass(frozen=True)
class AccessContext:
    """Everything decide needs besides the request, loaded by the service (or built by a test)."""

    door: Door
    timezone: tzinfo
    subject: Subject | None = None
    rules: tuple[AccessRule, ...] = ()
    holidays: frozenset[date] = frozenset()
    recent_attempts: tuple[Attempt, ...] = ()
    last_side: Side | None = None
    """The side of this gate the subject last passed through (anti-passback)."""
    lockouts: Mapping[CredentialKind, LockoutPolicy] = field(default_factory=lambda: dict(DEFAULT_LOCKOUTS))
    max_face_distance: float | None = None
    """If set, a face match farther than this is treated as unknown (the engine's own threshold is the norm)."""
    vehicle: VehicleContext | None = None
    """For a plate: what the vehicle registry holds about it (loaded by the vehicle service)."""


@dataclass(frozen=True)
class Decision:
    """The outcome: granted or not, why, for whom, with which credential, and a message for a display."""

    granted: bool
    reason: Reason
    kind: CredentialKind
    door_id: str
    resident_id: str | None = None
    pass_id: str | None = None
    message: str = ""
    # For a visitor pass: the resident who issued it (so they can be told their visitor arrived).
    issued_by: str | None = None
    # For a plate: the plate read, the registered plate a near match stood for, a monthly vehicle's whole days
    # left, and whether the decision raises an alarm (a blacklisted plate).
    plate: str | None = None
    near_match_of: str | None = None
    days_left: int | None = None
    alarm: bool = False
    # At a door that accepts faces: the face assurance level that applied, and for a face decided with a card or
    # PIN, which one.
    face_assurance: FaceAssurance | None = None
    second_factor: CredentialKind | None = None
