"""Face assurance per door: which level applies at a moment, and the pairing of a face with a second factor.

Pure: no I/O and no clock (every call takes ``now``). The gate keeper holds one :class:`FacePairing` and asks it,
for each face and each card or PIN at a door, what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.access.models import (
    CredentialKind,
    Decision,
    Door,
    FaceAssurance,
    FaceMatch,
    Reason,
    SecondFactor,
)
from hub.access.schedule import weekly_window_contains

# What face alone costs, as the panel and the demo state it: APCER per attack kind measured by `community-hub bench
# bursts` on the half of the people disjoint from the tuned half (docs/face-verification.md).
FACE_ALONE_RISK = (
    "Convenience level: a face alone opens this door. The gate camera cannot prove liveness: in the measured "
    "bursts a print held still got in 84% of the time (APCER 0.842), a print moved 79% (0.789), a bent print 68% "
    "(0.684), a phone playing a video of the resident 74% (0.737); only a phone slideshow was stopped (0.000)."
)

# A face waits this long for its card or PIN (and a card or PIN this long for its face), either order.
PAIR_WAIT = timedelta(seconds=20)

# A card or PIN decided for one of these reasons did not show who is there: it cannot stand as a second factor.
_NOT_IDENTIFIED = frozenset(
    {Reason.UNKNOWN_CARD, Reason.CARD_REVOKED, Reason.WRONG_PIN, Reason.LOCKED_OUT, Reason.CREDENTIAL_NOT_ACCEPTED}
)


def face_assurance_at(door: Door, local: datetime) -> FaceAssurance | None:
    """The level that applies at ``door`` at the local moment; ``None`` at a door that takes no faces."""
    if CredentialKind.FACE not in door.accepts:
        return None
    for window in door.face_windows:
        if weekly_window_contains(window.start, window.end, window.weekdays, local):
            return window.level
    return door.face_assurance


def second_factor_of(decision: Decision) -> SecondFactor | None:
    """The second factor a card or PIN decision gives: the resident it genuinely identified, if any.

    A valid card of a resident outside their hours still identifies them (the face's own decision then says
    outside hours); an unknown, revoked or throttled credential identifies nobody."""
    if decision.kind not in (CredentialKind.CARD, CredentialKind.PIN) or decision.resident_id is None:
        return None
    if decision.reason in _NOT_IDENTIFIED:
        return None
    return SecondFactor(decision.kind, decision.resident_id)


def waits_for_second_factor(match: FaceMatch) -> bool:
    """A face worth pairing: live and matched to someone. Any other face is refused at once, as it would be
    anyway (not live, unknown), without waiting for a card."""
    return match.live and match.resident_id is not None


@dataclass(frozen=True)
class PendingFace:
    """A face seen at a face_and_second_factor door, waiting for its card or PIN."""

    door_id: str
    match: FaceMatch
    at: datetime


class FacePairing:
    """The faces and second factors waiting for each other, per door (the latest of each; a door serves one
    person at a time). Nothing here is a decision: the caller decides once a pair completes or a face expires."""

    def __init__(self, wait: timedelta = PAIR_WAIT) -> None:
        if wait <= timedelta(0):
            raise ValueError("the pairing wait must be positive")
        self.wait = wait
        self._faces: dict[str, PendingFace] = {}
        self._factors: dict[str, tuple[SecondFactor, datetime]] = {}
        self._superseded: list[PendingFace] = []  # replaced by a later face at the same door, still to record

    def face_seen(self, door_id: str, match: FaceMatch, now: datetime) -> SecondFactor | None:
        """A face at the door: the card or PIN shown there within the wait (used up), or ``None`` (the face now
        waits; a face already waiting there is replaced, and returned by the next :meth:`expired`)."""
        factor = self._factors.pop(door_id, None)
        if factor is not None and now - factor[1] <= self.wait:
            return factor[0]
        earlier = self._faces.get(door_id)
        if earlier is not None:
            self._superseded.append(earlier)
        self._faces[door_id] = PendingFace(door_id, match, now)
        return None

    def factor_seen(self, door_id: str, factor: SecondFactor, now: datetime) -> PendingFace | None:
        """A card or PIN at the door: the face waiting there within the wait (used up), or ``None`` (the factor
        is kept for a face that follows)."""
        face = self._faces.pop(door_id, None)
        if face is not None and now - face.at <= self.wait:
            return face
        if face is not None:
            self._superseded.append(face)  # its wait was over: recorded by the next expired()
        self._factors[door_id] = (factor, now)
        return None

    def expired(self, now: datetime) -> list[PendingFace]:
        """Faces whose wait is over (or that a later face at the door replaced), removed: the caller records
        each as ``second_factor_missing``. Stale second factors are dropped."""
        gone, self._superseded = self._superseded, []
        for face in [f for f in self._faces.values() if now - f.at > self.wait]:
            del self._faces[face.door_id]
            gone.append(face)
        for door_id in [d for d, (_, at) in self._factors.items() if now - at > self.wait]:
            del self._factors[door_id]
        return gone

    def waiting(self) -> list[PendingFace]:
        """The faces waiting now (for display and tests)."""
        return list(self._faces.values())
