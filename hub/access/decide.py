"""The access decision: one pure function from (request, context) to a Decision. No I/O, no clock, no
randomness, so every path is testable with plain values and the service can replay it inside a transaction."""

from __future__ import annotations

from datetime import datetime

from hub.access.assurance import face_assurance_at
from hub.access.lockout import is_locked_out
from hub.access.models import (
    MESSAGES,
    VEHICLE_GRANTS,
    AccessContext,
    AccessRequest,
    CardRead,
    CredentialKind,
    Decision,
    FaceAssurance,
    FaceMatch,
    PassPresentation,
    PinEntry,
    PlateCredential,
    Reason,
    Subject,
    TemporaryVehicleRule,
    VehicleContext,
    VehicleDirection,
    VehicleStanding,
    kind_of,
)
from hub.access.schedule import covering_rules, schedule_reason
from hub.exceptions import InvalidInputError


def decide(request: AccessRequest, context: AccessContext) -> Decision:
    """Decide whether to open ``request.door_id`` for the presented credential at ``request.now``.

    Checks run from the door outwards: lockdown, accepted credential kinds, lock-out, the credential itself,
    the person (status, validity), the rules (door, holiday, hours), then anti-passback. The first failing
    check is the reason. A face is also held to the door's face assurance level at that moment: not used at all
    (``face_off``), or only with a card or PIN of the same resident (``face_and_second_factor``).
    """
    if request.now.tzinfo is None:
        raise InvalidInputError("request.now must be timezone-aware")
    if request.door_id != context.door.door_id:
        raise InvalidInputError(f"context is for door {context.door.door_id!r}, request for {request.door_id!r}")
    kind = kind_of(request.credential)
    claimed = claimed_resident(request.credential)
    pass_id = _pass_id(request.credential)
    issued_by = (
        request.credential.state.issued_by
        if isinstance(request.credential, PassPresentation) and request.credential.state is not None
        else None
    )

    door = context.door
    level = face_assurance_at(door, request.now.astimezone(context.timezone))
    second = request.second_factor if kind is CredentialKind.FACE else None

    def verdict(reason: Reason, resident_id: str | None = claimed) -> Decision:
        return Decision(
            granted=reason is Reason.GRANTED,
            reason=reason,
            kind=kind,
            door_id=request.door_id,
            resident_id=resident_id,
            pass_id=pass_id,
            message=MESSAGES[reason],
            issued_by=issued_by,
            face_assurance=level,
            second_factor=None if second is None else second.kind,
        )

    if door.locked_down:
        return verdict(Reason.DOOR_LOCKED_DOWN)
    if kind not in door.accepts or (kind is CredentialKind.FACE and level is FaceAssurance.FACE_OFF):
        return verdict(Reason.CREDENTIAL_NOT_ACCEPTED)
    if second is not None and second.kind not in (CredentialKind.CARD, CredentialKind.PIN):
        raise InvalidInputError("a face's second factor is a card or a PIN")
    policy = context.lockouts.get(kind)
    if policy is not None and is_locked_out(
        [a for a in context.recent_attempts if a.kind is kind],
        now=request.now,
        policy=policy,
        resident_id=claimed,
        gate_key=door.gate_id or door.door_id,
    ):
        return verdict(Reason.LOCKED_OUT)

    credential = request.credential
    if isinstance(credential, PinEntry) and credential.locked:
        return verdict(Reason.LOCKED_OUT)
    if isinstance(credential, PassPresentation):
        return verdict(_pass_reason(credential, request, context), None)
    if isinstance(credential, PlateCredential):
        return _plate_decision(credential, request, context)
    credential_reason = _credential_reason(credential, context)
    if credential_reason is not None:
        return verdict(credential_reason)
    if second is not None and second.resident_id != claimed:
        return verdict(Reason.SECOND_FACTOR_OTHER_PERSON)
    subject = context.subject
    if subject is None or subject.resident_id != claimed:
        # The service failed to load the person the credential names (erased meanwhile): not recognised.
        return verdict(_unknown_reason(kind))
    reason = _resident_reason(subject, request, context)
    if (
        reason is Reason.GRANTED
        and kind is CredentialKind.FACE
        and level is FaceAssurance.FACE_AND_SECOND_FACTOR
        and second is None
    ):
        # A face alone is not enough here, however good the match: a print or a video of the resident would be.
        return verdict(Reason.SECOND_FACTOR_MISSING)
    return verdict(reason)


def claimed_resident(credential: object) -> str | None:
    """The resident a face, card or PIN names (a visitor pass names none)."""
    if isinstance(credential, FaceMatch):
        return credential.resident_id
    if isinstance(credential, CardRead):
        return credential.card_resident_id
    if isinstance(credential, PinEntry):
        return credential.resident_id
    return None


def _pass_id(credential: object) -> str | None:
    if isinstance(credential, PassPresentation) and credential.state is not None:
        return credential.state.pass_id
    return None


def _unknown_reason(kind: CredentialKind) -> Reason:
    return {
        CredentialKind.FACE: Reason.UNKNOWN_FACE,
        CredentialKind.CARD: Reason.UNKNOWN_CARD,
        CredentialKind.PIN: Reason.WRONG_PIN,
        CredentialKind.PASS: Reason.INVALID_PASS,
        CredentialKind.PLATE: Reason.TEMPORARY_REFUSED,
    }[kind]


def _credential_reason(credential: FaceMatch | CardRead | PinEntry, context: AccessContext) -> Reason | None:
    """Why the credential itself fails, or ``None`` if it identifies someone."""
    if isinstance(credential, FaceMatch):
        if not credential.live:
            return Reason.NOT_LIVE
        too_far = context.max_face_distance is not None and credential.distance > context.max_face_distance
        if credential.resident_id is None or too_far:
            return Reason.UNKNOWN_FACE
        if context.subject is not None and not context.subject.face_consent:
            # A stale gallery may still hold a withdrawn template: consent is checked at every decision.
            return Reason.NO_CONSENT
        return None
    if isinstance(credential, CardRead):
        if credential.card_resident_id is None:
            return Reason.UNKNOWN_CARD
        return Reason.CARD_REVOKED if credential.revoked else None
    return Reason.WRONG_PIN if credential.resident_id is None else None


def _resident_reason(subject: Subject, request: AccessRequest, context: AccessContext) -> Reason:
    now = request.now
    if not subject.active:
        return Reason.SUSPENDED
    if subject.valid_from is not None and now < subject.valid_from:
        return Reason.NOT_YET_VALID
    if subject.valid_until is not None and now >= subject.valid_until:
        return Reason.EXPIRED
    rules = covering_rules(context.rules, subject, context.door.door_id)
    blocked = schedule_reason(rules, now.astimezone(context.timezone), context.holidays)
    if blocked is not None:
        return blocked
    return Reason.ANTI_PASSBACK if _passback(context) else Reason.GRANTED


def _pass_reason(credential: PassPresentation, request: AccessRequest, context: AccessContext) -> Reason:
    state = credential.state
    if state is None:
        return Reason.INVALID_PASS
    if state.revoked:
        return Reason.PASS_REVOKED
    if state.uses >= state.max_uses:
        return Reason.PASS_USED_UP
    if request.now < state.valid_from:
        return Reason.NOT_YET_VALID
    if request.now >= state.valid_until:
        return Reason.EXPIRED
    if context.door.door_id not in state.door_ids:
        return Reason.NO_ACCESS_TO_DOOR
    return Reason.ANTI_PASSBACK if _passback(context) else Reason.GRANTED


def _passback(context: AccessContext) -> bool:
    """Same side twice in a row at an anti-passback gate: in, in (a card handed back) or out, out."""
    door = context.door
    return door.anti_passback and door.side is not None and context.last_side is door.side


# ---- vehicle lanes -------------------------------------------------------------------------------------------


def _plate_decision(credential: PlateCredential, request: AccessRequest, context: AccessContext) -> Decision:
    """A plate at a vehicle lane, checked in the order residential car parks use (hub/vehicles): no plate,
    black list (an alarm), exit with no entry record, then what the registry holds about the plate (white list,
    resident vehicle, monthly, visitor invitation), a near match of a registered plate (only when the community
    lets near matches open), the temporary-vehicle rule, and last anti-passback."""
    direction = request.direction
    if not isinstance(direction, VehicleDirection):
        raise InvalidInputError("a plate needs the lane's direction (entry or exit)")
    vehicle = context.vehicle if context.vehicle is not None else VehicleContext()
    now = request.now
    plate = credential.plate

    def verdict(reason: Reason, standing: _Standing | None = None, near_match_of: str | None = None) -> Decision:
        days_left = standing.days_left if standing is not None else None
        message = MESSAGES[reason]
        if reason is Reason.MONTHLY_VALID and days_left is not None:
            message = f"Monthly vehicle: {days_left} day{'' if days_left == 1 else 's'} left."
        return Decision(
            granted=reason in VEHICLE_GRANTS,
            reason=reason,
            kind=CredentialKind.PLATE,
            door_id=request.door_id,
            resident_id=standing.resident_id if standing is not None else None,
            message=message,
            issued_by=standing.invited_by if standing is not None else None,
            plate=plate,
            near_match_of=near_match_of,
            days_left=days_left if reason is Reason.MONTHLY_VALID else None,
            alarm=reason is Reason.BLACKLISTED,
        )

    if not plate:
        return verdict(Reason.NO_PLATE)
    if vehicle.black_listed:
        return verdict(Reason.BLACKLISTED)
    if direction is VehicleDirection.EXIT and vehicle.inside_since is None:
        return verdict(Reason.EXIT_WITHOUT_ENTRY)
    standing = _standing(vehicle.exact, direction, now) if vehicle.exact is not None else None
    near_match_of = None
    if standing is None and vehicle.near is not None:
        near = _standing(vehicle.near, direction, now)
        near_match_of = vehicle.near.plate
        if near is not None and near.reason in VEHICLE_GRANTS and vehicle.near_match_opens:
            standing = _Standing(Reason.NEAR_MATCH, near.resident_id, near.invited_by, near.days_left)
        # Otherwise the read is handled as the unknown plate it is; the decision still names the plate it was
        # close to, so the booth can see why a registered car was not let in.
    if standing is None:
        allow = vehicle.temporary_rule is TemporaryVehicleRule.ALLOW
        standing = _Standing(Reason.TEMPORARY_ALLOWED if allow else Reason.TEMPORARY_REFUSED)
    if (
        standing.reason in VEHICLE_GRANTS
        and direction is VehicleDirection.ENTRY
        and vehicle.anti_passback
        and vehicle.inside_since is not None
    ):
        return verdict(Reason.ANTI_PASSBACK, standing, near_match_of)
    return verdict(standing.reason, standing, near_match_of)


class _Standing:
    """A registered plate's outcome: the reason, whose vehicle (or who invited it), a monthly's days left."""

    __slots__ = ("days_left", "invited_by", "reason", "resident_id")

    def __init__(self, reason: Reason, resident_id: str | None = None, invited_by: str | None = None,
                 days_left: int | None = None) -> None:
        self.reason = reason
        self.resident_id = resident_id
        self.invited_by = invited_by
        self.days_left = days_left


def _standing(standing: VehicleStanding, direction: VehicleDirection, now: datetime) -> _Standing | None:
    """What the registry's entries for one plate say; ``None`` when none of them applies (a temporary vehicle).

    Any entry that opens wins (white list, resident vehicle, a valid monthly period, an invitation in its window);
    otherwise the refusal that explains most (a suspended resident, an expired or future monthly period, a revoked
    invitation, one outside its window). A visitor's invitation that no longer applies does not keep the car in:
    on the way out it is a temporary vehicle."""
    if standing.white_listed:
        return _Standing(Reason.WHITE_LISTED)
    if standing.resident_id is not None and standing.resident_active:
        return _Standing(Reason.RESIDENT_VEHICLE, standing.resident_id)
    monthly = None
    if standing.monthly_until is not None:
        start = standing.monthly_from
        if (start is None or start <= now) and now < standing.monthly_until:
            days_left = (standing.monthly_until - now).days
            return _Standing(Reason.MONTHLY_VALID, days_left=days_left)
        monthly = _Standing(Reason.NOT_YET_VALID if start is not None and now < start else Reason.MONTHLY_EXPIRED)
    current = [w for w in standing.invitations if w.valid_from <= now < w.valid_until]
    for window in current:
        if not window.revoked:
            return _Standing(Reason.VISITOR_IN_WINDOW, invited_by=window.resident_id)
    if standing.resident_id is not None:
        return _Standing(Reason.SUSPENDED, standing.resident_id)
    if monthly is not None:
        return monthly
    if direction is VehicleDirection.EXIT or not standing.invitations:
        return None
    if current:
        return _Standing(Reason.VISITOR_REVOKED, invited_by=current[0].resident_id)
    return _Standing(Reason.VISITOR_OUTSIDE_WINDOW, invited_by=standing.invitations[0].resident_id)
