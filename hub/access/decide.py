"""The access decision: one pure function from (request, context) to a Decision. No I/O, no clock, no
randomness, so every path is testable with plain values and the service can replay it inside a transaction."""

from __future__ import annotations

from hub.access.lockout import is_locked_out
from hub.access.models import (
    MESSAGES,
    AccessContext,
    AccessRequest,
    CardRead,
    CredentialKind,
    Decision,
    FaceMatch,
    PassPresentation,
    PinEntry,
    Reason,
    Subject,
    kind_of,
)
from hub.access.schedule import covering_rules, schedule_reason
from hub.exceptions import InvalidInputError


def decide(request: AccessRequest, context: AccessContext) -> Decision:
    """Decide whether to open ``request.door_id`` for the presented credential at ``request.now``.

    Checks run from the door outwards: lockdown, accepted credential kinds, lock-out, the credential itself,
    the person (status, validity), the rules (door, holiday, hours), then anti-passback. The first failing
    check is the reason.
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
        )

    door = context.door
    if door.locked_down:
        return verdict(Reason.DOOR_LOCKED_DOWN)
    if kind not in door.accepts:
        return verdict(Reason.CREDENTIAL_NOT_ACCEPTED)
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
    credential_reason = _credential_reason(credential, context)
    if credential_reason is not None:
        return verdict(credential_reason)
    subject = context.subject
    if subject is None or subject.resident_id != claimed:
        # The service failed to load the person the credential names (erased meanwhile): not recognised.
        return verdict(_unknown_reason(kind))
    return verdict(_resident_reason(subject, request, context))


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
