"""Consent to face verification: record it (a guardian for a minor), withdraw it (which deletes templates)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from hub.exceptions import InvalidInputError, NotFoundError
from hub.residents import validation as v
from hub.residents.models import Consent
from hub.residents.store import Store, new_id, transaction

SELF = "resident"
"""``given_by`` of a consent the resident gave personally."""


def consent_from_row(row: sqlite3.Row) -> Consent:
    """Build a :class:`Consent` from a ``consents`` row."""
    return Consent(
        consent_id=row["consent_id"],
        resident_id=row["resident_id"],
        scope=row["scope"],
        given_by=row["given_by"],
        guardian=row["guardian"],
        given_at=v.from_db(row["given_at"]),
        withdrawn_at=v.from_db_optional(row["withdrawn_at"]),
    )


@dataclass(frozen=True)
class Withdrawal:
    """The outcome of withdrawing consent: which consent, and how much biometric data was deleted."""

    consent_id: str
    withdrawn_at: datetime
    templates_deleted: int
    photos_deleted: int


def active_consent_row(conn: sqlite3.Connection, resident_id: str) -> sqlite3.Row | None:
    """The resident's consent that has not been withdrawn, if any."""
    row = conn.execute(
        "SELECT * FROM consents WHERE resident_id = ? AND withdrawn_at IS NULL", (resident_id,)
    ).fetchone()
    assert row is None or isinstance(row, sqlite3.Row)
    return row


class ConsentStore(Store):
    """Consent records for face verification."""

    def record_consent(
        self,
        actor: str,
        resident_id: str,
        *,
        scope: str,
        given_at: datetime,
        guardian: str | None = None,
    ) -> Consent:
        """Record that the resident (or, for a minor, ``guardian``) consented to face verification.

        ``scope`` is the text the person agreed to (which gates, what is kept, for how long). A minor's consent
        must name the guardian recorded on the resident; an adult's must not name a guardian.
        """
        actor = v.actor(actor)
        resident_id = v.identifier(resident_id, "resident_id")
        scope_text = v.required_text(scope, "scope", max_length=2000)
        given_at = v.aware_datetime(given_at, "given_at")
        guardian = v.text(guardian, "guardian", max_length=100, optional=True)
        now = self._clock()
        consent = Consent(new_id("consent"), resident_id, scope_text, SELF, None, given_at, None)
        with transaction(self._conn) as conn:
            resident = self._require_resident(conn, resident_id)
            if bool(resident["is_minor"]):
                if guardian is None:
                    raise InvalidInputError(f"resident {resident_id!r} is a minor: a guardian must give consent")
                if guardian != resident["guardian"]:
                    raise InvalidInputError(
                        f"guardian {guardian!r} is not the guardian recorded for resident {resident_id!r}"
                    )
                consent = Consent(consent.consent_id, resident_id, scope_text, guardian, guardian, given_at, None)
            elif guardian is not None:
                raise InvalidInputError(f"resident {resident_id!r} is not a minor: consent is their own")
            if active_consent_row(conn, resident_id) is not None:
                raise InvalidInputError(f"resident {resident_id!r} already has an active consent")
            conn.execute(
                "INSERT INTO consents (consent_id, resident_id, scope, given_by, guardian, given_at, recorded_by)"
                " VALUES (?,?,?,?,?,?,?)",
                (
                    consent.consent_id,
                    resident_id,
                    scope_text,
                    consent.given_by,
                    consent.guardian,
                    v.to_db(given_at),
                    actor,
                ),
            )
        self._audit(actor, "consent.record", now, {"resident_id": resident_id, "consent_id": consent.consent_id})
        return consent

    def withdraw_consent(self, actor: str, resident_id: str, *, withdrawn_at: datetime) -> Withdrawal:
        """Withdraw the active consent and delete the resident's templates and kept photos in the same step."""
        actor = v.actor(actor)
        resident_id = v.identifier(resident_id, "resident_id")
        withdrawn_at = v.aware_datetime(withdrawn_at, "withdrawn_at")
        now = self._clock()
        with transaction(self._conn) as conn:
            self._require_resident(conn, resident_id)
            row = active_consent_row(conn, resident_id)
            if row is None:
                raise NotFoundError(f"resident {resident_id!r} has no active consent to withdraw")
            conn.execute(
                "UPDATE consents SET withdrawn_at = ? WHERE consent_id = ?", (v.to_db(withdrawn_at), row["consent_id"])
            )
            templates = conn.execute("DELETE FROM face_templates WHERE resident_id = ?", (resident_id,)).rowcount
            photos = conn.execute("DELETE FROM enrolment_photos WHERE resident_id = ?", (resident_id,)).rowcount
        result = Withdrawal(row["consent_id"], withdrawn_at, templates, photos)
        self._audit(
            actor,
            "consent.withdraw",
            now,
            {
                "resident_id": resident_id,
                "consent_id": result.consent_id,
                "templates_deleted": templates,
                "photos_deleted": photos,
            },
        )
        return result

    def active_consent(self, resident_id: str) -> Consent | None:
        """The resident's active consent, or ``None``."""
        row = active_consent_row(self._conn, resident_id)
        return None if row is None else consent_from_row(row)

    def list_consents(self, resident_id: str) -> list[Consent]:
        """All consent records of a resident, oldest first (withdrawn ones stay as proof until erasure)."""
        rows = self._conn.execute(
            "SELECT * FROM consents WHERE resident_id = ? ORDER BY given_at", (resident_id,)
        ).fetchall()
        return [consent_from_row(r) for r in rows]
