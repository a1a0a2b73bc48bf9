"""Consent to face verification: record it (a guardian for a minor), withdraw it (which deletes templates).

The community keeps its consent texts (:class:`ConsentTemplate`): a manager writes them, and editing one adds a
new version (the old ones stay). A consent given on a text records the exact text signed as its ``scope`` and
which text and version it was.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from hub.exceptions import InvalidInputError, NotFoundError
from hub.residents import validation as v
from hub.residents.models import Consent, ConsentTemplate
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
        template_id=row["template_id"],
        template_version=row["template_version"],
    )


def template_from_row(row: sqlite3.Row) -> ConsentTemplate:
    """Build a :class:`ConsentTemplate` from a ``consent_templates`` row."""
    return ConsentTemplate(
        template_id=row["template_id"],
        version=int(row["version"]),
        title=row["title"],
        body=row["body"],
        created_at=v.from_db(row["created_at"]),
        created_by=row["created_by"],
    )


def latest_template_row(conn: sqlite3.Connection, template_id: str) -> sqlite3.Row | None:
    """The newest version of a consent text, if the text exists."""
    row = conn.execute(
        "SELECT * FROM consent_templates WHERE template_id = ? ORDER BY version DESC LIMIT 1", (template_id,)
    ).fetchone()
    assert row is None or isinstance(row, sqlite3.Row)
    return row


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
        scope_text = v.required_text(scope, "scope", max_length=2000)
        return self._record(actor, resident_id, scope_text, None, given_at, guardian)

    def record_consent_on_template(
        self,
        actor: str,
        resident_id: str,
        *,
        template_id: str,
        given_at: datetime,
        guardian: str | None = None,
    ) -> Consent:
        """Record consent given on one of the community's consent texts (its newest version): the consent keeps
        the exact text signed and the text's id and version. Otherwise as :meth:`record_consent`."""
        template_id = v.identifier(template_id, "consent text")
        row = latest_template_row(self._conn, template_id)
        if row is None:
            raise NotFoundError(f"no consent text {template_id!r}")
        return self._record(actor, resident_id, row["body"], (template_id, int(row["version"])), given_at, guardian)

    def _record(
        self,
        actor: str,
        resident_id: str,
        scope_text: str,
        template: tuple[str, int] | None,
        given_at: datetime,
        guardian: str | None,
    ) -> Consent:
        actor = v.actor(actor)
        resident_id = v.identifier(resident_id, "resident_id")
        given_at = v.aware_datetime(given_at, "given_at")
        guardian = v.text(guardian, "guardian", max_length=100, optional=True)
        now = self._clock()
        template_id, template_version = template if template is not None else (None, None)
        consent = Consent(
            new_id("consent"), resident_id, scope_text, SELF, None, given_at, None, template_id, template_version
        )
        with transaction(self._conn) as conn:
            resident = self._require_resident(conn, resident_id)
            if bool(resident["is_minor"]):
                if guardian is None:
                    raise InvalidInputError(f"resident {resident_id!r} is a minor: a guardian must give consent")
                if guardian != resident["guardian"]:
                    raise InvalidInputError(
                        f"guardian {guardian!r} is not the guardian recorded for resident {resident_id!r}"
                    )
                consent = Consent(
                    consent.consent_id, resident_id, scope_text, guardian, guardian, given_at, None,
                    template_id, template_version,
                )
            elif guardian is not None:
                raise InvalidInputError(f"resident {resident_id!r} is not a minor: consent is their own")
            if active_consent_row(conn, resident_id) is not None:
                raise InvalidInputError(f"resident {resident_id!r} already has an active consent")
            conn.execute(
                "INSERT INTO consents (consent_id, resident_id, scope, given_by, guardian, given_at, recorded_by,"
                " template_id, template_version) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    consent.consent_id,
                    resident_id,
                    scope_text,
                    consent.given_by,
                    consent.guardian,
                    v.to_db(given_at),
                    actor,
                    template_id,
                    template_version,
                ),
            )
        details: dict[str, object] = {"resident_id": resident_id, "consent_id": consent.consent_id}
        if template is not None:
            details.update(template_id=template_id, template_version=template_version)
        self._audit(actor, "consent.record", now, details)
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


class ConsentTemplateStore(Store):
    """The consent texts the community keeps. Saving a text that exists adds a version; nothing is overwritten,
    so every consent given on an older version can still be shown with the text as it was."""

    def save_template(self, actor: str, template_id: str | None, *, title: str, body: str) -> ConsentTemplate:
        """Add a consent text (``template_id`` None: a new text with a generated id) or a new version of one."""
        actor = v.actor(actor)
        title = v.required_text(title, "title", max_length=100)
        body = v.required_text(body, "consent text", max_length=2000)
        if template_id is not None:
            template_id = v.identifier(template_id, "consent text")
        now = self._clock()
        with transaction(self._conn) as conn:
            if template_id is None:
                template_id = new_id("consent_text")
                version = 1
            else:
                row = latest_template_row(conn, template_id)
                if row is None:
                    raise NotFoundError(f"no consent text {template_id!r}")
                if row["title"] == title and row["body"] == body:
                    raise InvalidInputError(f"consent text {title!r} is unchanged: nothing to save")
                version = int(row["version"]) + 1
            conn.execute(
                "INSERT INTO consent_templates (template_id, version, title, body, created_at, created_by)"
                " VALUES (?,?,?,?,?,?)",
                (template_id, version, title, body, v.to_db(now), actor),
            )
        self._audit(actor, "consent_text.save", now, {"template_id": template_id, "version": version})
        return ConsentTemplate(template_id, version, title, body, now, actor)

    def list_templates(self) -> list[ConsentTemplate]:
        """The newest version of every consent text, by title."""
        rows = self._conn.execute(
            "SELECT t.* FROM consent_templates t WHERE t.version ="
            " (SELECT MAX(version) FROM consent_templates WHERE template_id = t.template_id)"
        ).fetchall()
        return sorted((template_from_row(r) for r in rows), key=lambda t: (t.title.casefold(), t.template_id))

    def get_template(self, template_id: str, version: int | None = None) -> ConsentTemplate:
        """One version of a consent text (the newest by default)."""
        if version is None:
            row = latest_template_row(self._conn, template_id)
        else:
            row = self._conn.execute(
                "SELECT * FROM consent_templates WHERE template_id = ? AND version = ?", (template_id, version)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no consent text {template_id!r}")
        return template_from_row(row)
