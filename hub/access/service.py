"""The access service: resolve a presented credential, load what :func:`decide` needs, decide, and record the
outcome (attempt history, anti-passback state, pass use count) in the same transaction.

Loading and recording share one ``BEGIN IMMEDIATE`` transaction so that two gates scanning the same single-use
pass at the same moment cannot both be granted.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo

from hub.access.assurance import face_assurance_at
from hub.access.config import load_door, load_holidays, load_rules_for_door
from hub.access.decide import claimed_resident, decide
from hub.access.models import (
    DEFAULT_LOCKOUTS,
    AccessContext,
    AccessRequest,
    Attempt,
    CardRead,
    Credential,
    CredentialKind,
    Decision,
    Door,
    FaceAssurance,
    FaceMatch,
    LockoutPolicy,
    PassPresentation,
    PassState,
    PinEntry,
    Reason,
    SecondFactor,
    Side,
    Subject,
    kind_of,
)
from hub.access.pin_throttle import ACCOUNT_POLICY, KEYPAD_POLICY, Scope, ThrottlePolicy, ThrottleState
from hub.exceptions import InvalidInputError, NotFoundError
from hub.privacy.keys import KeyRing
from hub.residents import secrets
from hub.residents import validation as v
from hub.residents.consent import active_consent_row
from hub.residents.credentials import PinAccount, find_card, find_pin_account
from hub.residents.models import ResidentStatus
from hub.residents.pass_token import verify_token
from hub.residents.passes import load_pass
from hub.residents.qr import ImageInput, QrDecoderUnavailableError, read_pass_token
from hub.residents.store import transaction

_LOGGER = logging.getLogger(__name__)

DecisionHook = Callable[[Decision, datetime], None]
# Called inside the decision's transaction, after its attempt row: what it writes commits with the decision or not
# at all (the community journals the decision and its outbox row here).
RecordHook = Callable[[sqlite3.Connection, Door, Decision, datetime], None]


def _subject_key(decision: Decision) -> str | None:
    if decision.pass_id is not None:
        return f"pass:{decision.pass_id}"
    return decision.resident_id


class AccessService:
    """Decides at the doors. ``timezone`` is the community's local zone, in which rule hours are meant."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        keys: KeyRing,
        *,
        timezone: tzinfo,
        lockouts: Mapping[CredentialKind, LockoutPolicy] = DEFAULT_LOCKOUTS,
        max_face_distance: float | None = None,
        passback_reset: timedelta | None = None,
        on_decision: DecisionHook | None = None,
        on_record: RecordHook | None = None,
    ) -> None:
        self._conn = conn
        self.on_record = on_record
        self._keys = keys
        self._timezone = timezone
        self._lockouts = dict(lockouts)
        self._max_face_distance = max_face_distance
        # Anti-passback state older than this is forgotten, so a missed exit read does not lock someone out
        # forever; None keeps it until the opposite side is used.
        self._passback_reset = passback_reset
        self._on_decision = on_decision
        self._history_span = max((p.window + p.duration for p in self._lockouts.values()), default=timedelta(0))
        self._qr_unavailable = False  # set on the first frame that could not be read: no decoder here

    # ---- one entry point per credential kind --------------------------------------------------------------

    def present_face(
        self, door_id: str, match: FaceMatch, now: datetime, second_factor: SecondFactor | None = None
    ) -> Decision:
        """Decide for the face engine's result at a door, with the card or PIN it was paired with, if any (at a
        ``face_and_second_factor`` door a face without one is refused as ``second_factor_missing``)."""
        if not isinstance(match, FaceMatch):
            raise InvalidInputError("match must be a FaceMatch")
        if second_factor is not None and not isinstance(second_factor, SecondFactor):
            raise InvalidInputError("second_factor must be a SecondFactor")
        return self._run(door_id, match, now, second_factor=second_factor)

    def face_assurance(self, door_id: str, now: datetime) -> FaceAssurance | None:
        """The face assurance level at a door at this moment (``None``: the door takes no faces)."""
        door_id = v.identifier(door_id, "door_id")
        now = v.aware_datetime(now, "now")
        door = load_door(self._conn, door_id)
        if door is None:
            raise NotFoundError(f"no door {door_id!r}")
        return face_assurance_at(door, now.astimezone(self._timezone))

    def present_card(self, door_id: str, card_number: str, now: datetime) -> Decision:
        """Decide for a card read at a door."""
        lookup = find_card(self._conn, self._keys, card_number)
        card = lookup.card
        read = CardRead(None) if card is None else CardRead(card.resident_id, card.revoked_at is not None)
        return self._run(door_id, read, now)

    def enter_pin(self, door_id: str, code: str, pin: str, now: datetime) -> Decision:
        """Decide for a keypad code and a PIN typed at a door's keypad: the PIN is checked against the code's
        account alone, unless that account or this keypad is throttled (then it is not checked at all)."""
        door_id = v.identifier(door_id, "door_id")
        now = v.aware_datetime(now, "now")
        account = find_pin_account(self._conn, code)
        keypad_state = self.pin_throttle(Scope.KEYPAD, door_id)
        account_state = None if account is None else self.pin_throttle(Scope.ACCOUNT, account.resident_id)
        if keypad_state.locked(now) or (account_state is not None and account_state.locked(now)):
            return self._run(door_id, PinEntry(None, locked=True), now)
        # The slow hash runs before the write transaction so a keypad does not hold the database lock; an unknown
        # code costs the same hash, so the time taken does not tell which codes exist.
        correct = account.check(pin) if account is not None else _dummy_check(pin)
        entry = PinEntry(account.resident_id if correct and account is not None else None)
        return self._run(door_id, entry, now, pin_check=(account, correct))

    def pin_throttle(self, scope: Scope, key: str) -> ThrottleState:
        """The failed-PIN state of one keypad account (``key``: the resident id) or keypad (the door id)."""
        row = self._conn.execute(
            "SELECT failures, last_failure, locked_until FROM pin_throttle WHERE scope = ? AND key = ?",
            (scope.value, key),
        ).fetchone()
        if row is None:
            return ThrottleState()
        return ThrottleState(
            int(row["failures"]), v.from_db_optional(row["last_failure"]), v.from_db_optional(row["locked_until"])
        )

    def present_pass(self, door_id: str, token: str, now: datetime) -> Decision:
        """Decide for a visitor-pass token (as read from its QR code)."""
        verified = verify_token(self._keys.visitor_pass, token) if isinstance(token, str) else None
        return self._run(door_id, PassPresentation(None), now, pass_id=None if verified is None else verified.pass_id)

    def present_pass_image(self, door_id: str, image: ImageInput, now: datetime) -> Decision | None:
        """Find a visitor-pass QR code in a camera frame or image and decide for it; ``None`` if there is none.

        Also ``None`` when this install has no QR decoder (zxing-cpp, see :func:`hub.residents.qr.qr_decoder_status`):
        the frame is skipped, nothing is recorded, and the first such frame logs one warning.
        """
        token = self.pass_token_in(image)
        return None if token is None else self.present_pass(door_id, token, now)

    def pass_token_in(self, image: ImageInput) -> str | None:
        """The visitor-pass token in a camera frame or image, if any (no database work: the gate decodes whole
        frames off the community's writer thread, then decides with :meth:`present_pass`)."""
        if self._qr_unavailable:
            return None
        try:
            return read_pass_token(image)
        except QrDecoderUnavailableError as err:
            self._qr_unavailable = True
            _LOGGER.warning("visitor-pass QR codes in camera frames are skipped: %s", err)
            return None

    def qr_decoder_installed(self) -> None:
        """The QR decoder was installed while running: read pass QR codes in frames again."""
        self._qr_unavailable = False

    def purge_attempts(self, before: datetime) -> int:
        """Retention hook: delete attempt history older than ``before``; returns how many rows went."""
        before = v.aware_datetime(before, "before")
        with transaction(self._conn) as conn:
            # Failed-PIN counts that old name an account's resident and are forgotten anyway; never earlier than
            # the throttle forgets them, or a short retention would hand a guesser back the free failures.
            forgotten = min(before, datetime.now(UTC) - max(ACCOUNT_POLICY.forget_after, KEYPAD_POLICY.forget_after))
            conn.execute("DELETE FROM pin_throttle WHERE last_failure < ?", (v.to_db(forgotten),))
            return conn.execute("DELETE FROM access_attempts WHERE at < ?", (v.to_db(before),)).rowcount

    # ---- the shared path ----------------------------------------------------------------------------------

    def _run(
        self,
        door_id: str,
        credential: Credential,
        now: datetime,
        *,
        pass_id: str | None = None,
        pin_check: tuple[PinAccount | None, bool] | None = None,
        second_factor: SecondFactor | None = None,
    ) -> Decision:
        door_id = v.identifier(door_id, "door_id")
        now = v.aware_datetime(now, "now")
        with transaction(self._conn) as conn:
            door = load_door(conn, door_id)
            if door is None:
                raise NotFoundError(f"no door {door_id!r}")
            if pass_id is not None:
                credential = PassPresentation(self._pass_state(conn, pass_id))
            context = self._context(conn, door, credential, now)
            decision = decide(AccessRequest(door_id, credential, now, second_factor=second_factor), context)
            if pin_check is not None:
                self._count_pin_check(conn, door_id, decision, *pin_check, now=now)
            self._record(conn, door, decision, now)
            if self.on_record is not None:
                self.on_record(conn, door, decision, now)
        if self._on_decision is not None:
            self._on_decision(decision, now)
        return decision

    def _count_pin_check(
        self,
        conn: sqlite3.Connection,
        door_id: str,
        decision: Decision,
        account: PinAccount | None,
        correct: bool,
        *,
        now: datetime,
    ) -> None:
        """Count a PIN check the decision answered (a locked-down door or one taking no PINs tells nothing)."""
        if decision.reason in (Reason.DOOR_LOCKED_DOWN, Reason.CREDENTIAL_NOT_ACCEPTED):
            return
        if correct and account is not None:
            conn.execute(
                "DELETE FROM pin_throttle WHERE (scope = 'account' AND key = ?) OR (scope = 'keypad' AND key = ?)",
                (account.resident_id, door_id),
            )
            return
        self._fail(conn, Scope.KEYPAD, door_id, KEYPAD_POLICY, now)
        if account is not None:
            self._fail(conn, Scope.ACCOUNT, account.resident_id, ACCOUNT_POLICY, now)

    def _fail(self, conn: sqlite3.Connection, scope: Scope, key: str, policy: ThrottlePolicy, now: datetime) -> None:
        state = self.pin_throttle(scope, key).after_failure(policy, now)
        conn.execute(
            "INSERT INTO pin_throttle (scope, key, failures, last_failure, locked_until) VALUES (?,?,?,?,?)"
            " ON CONFLICT (scope, key) DO UPDATE SET failures=excluded.failures,"
            " last_failure=excluded.last_failure, locked_until=excluded.locked_until",
            (scope.value, key, state.failures, v.to_db_optional(state.last_failure),
             v.to_db_optional(state.locked_until)),
        )

    def _pass_state(self, conn: sqlite3.Connection, pass_id: str) -> PassState | None:
        found = load_pass(conn, pass_id)
        if found is None:
            return None
        return PassState(
            found.pass_id,
            found.issued_by,
            found.door_ids,
            found.valid_from,
            found.valid_until,
            found.max_uses,
            found.uses,
            found.revoked_at is not None,
        )

    def _context(self, conn: sqlite3.Connection, door: Door, credential: Credential, now: datetime) -> AccessContext:
        resident_id = claimed_resident(credential)
        subject = None if resident_id is None else _load_subject(conn, resident_id)
        subject_key = (
            f"pass:{credential.state.pass_id}"
            if isinstance(credential, PassPresentation) and credential.state is not None
            else resident_id
        )
        return AccessContext(
            door=door,
            timezone=self._timezone,
            subject=subject,
            rules=load_rules_for_door(conn, door.door_id) if subject is not None else (),
            holidays=load_holidays(conn) if subject is not None else frozenset(),
            recent_attempts=self._recent_attempts(conn, door, kind_of(credential), resident_id, now),
            last_side=self._last_side(conn, door, subject_key, now),
            lockouts=self._lockouts,
            max_face_distance=self._max_face_distance,
        )

    def _recent_attempts(
        self, conn: sqlite3.Connection, door: Door, kind: CredentialKind, resident_id: str | None, now: datetime
    ) -> tuple[Attempt, ...]:
        if kind not in self._lockouts:
            return ()
        rows = conn.execute(
            "SELECT * FROM access_attempts WHERE kind = ? AND at >= ? AND at <= ?"
            " AND (gate_key = ? OR resident_id = ?)",
            (kind.value, v.to_db(now - self._history_span), v.to_db(now), door.gate_id or door.door_id, resident_id),
        ).fetchall()
        return tuple(
            Attempt(
                v.from_db(r["at"]),
                r["door_id"],
                r["gate_key"],
                CredentialKind(r["kind"]),
                r["resident_id"],
                bool(r["granted"]),
            )
            for r in rows
        )

    def _last_side(self, conn: sqlite3.Connection, door: Door, subject: str | None, now: datetime) -> Side | None:
        if subject is None or door.gate_id is None or not door.anti_passback:
            return None
        row = conn.execute(
            "SELECT side, at FROM passback_state WHERE subject = ? AND gate_id = ?", (subject, door.gate_id)
        ).fetchone()
        if row is None:
            return None
        if self._passback_reset is not None and v.from_db(row["at"]) + self._passback_reset <= now:
            return None
        return Side(row["side"])

    def _record(self, conn: sqlite3.Connection, door: Door, decision: Decision, now: datetime) -> None:
        conn.execute(
            "INSERT INTO access_attempts (at, door_id, gate_key, kind, resident_id, pass_id, granted, reason)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (
                v.to_db(now),
                door.door_id,
                door.gate_id or door.door_id,
                decision.kind.value,
                decision.resident_id,
                decision.pass_id,
                int(decision.granted),
                decision.reason.value,
            ),
        )
        if not decision.granted:
            return
        if decision.pass_id is not None:
            conn.execute("UPDATE visitor_passes SET uses = uses + 1 WHERE pass_id = ?", (decision.pass_id,))
        subject = _subject_key(decision)
        if door.gate_id is not None and door.side is not None and subject is not None:
            conn.execute(
                "INSERT INTO passback_state (subject, gate_id, side, at) VALUES (?,?,?,?)"
                " ON CONFLICT (subject, gate_id) DO UPDATE SET side=excluded.side, at=excluded.at",
                (subject, door.gate_id, door.side.value, v.to_db(now)),
            )


_DUMMY_SALT = bytes(16)


def _dummy_check(pin: str) -> bool:
    """The slow hash an account check would cost, for a code nobody has; always ``False``."""
    if isinstance(pin, str):
        secrets.slow_hash(pin, _DUMMY_SALT)
    return False


def _load_subject(conn: sqlite3.Connection, resident_id: str) -> Subject | None:
    row = conn.execute("SELECT * FROM residents WHERE resident_id = ?", (resident_id,)).fetchone()
    if row is None:
        return None
    return Subject(
        resident_id=resident_id,
        active=row["status"] == ResidentStatus.ACTIVE.value,
        valid_from=v.from_db_optional(row["valid_from"]),
        valid_until=v.from_db_optional(row["valid_until"]),
        building=row["building"],
        face_consent=active_consent_row(conn, resident_id) is not None,
    )
