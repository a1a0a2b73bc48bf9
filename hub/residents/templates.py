"""Encrypted face templates (and optionally kept enrolment photos): enrol, count, load the 1:N gallery.

Templates are 128-d float32 vectors from the face engine. They are stored only under an active consent and only
as AES-GCM ciphertext bound to the resident id; the plaintext exists only in memory, for matching on the hub.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hub.exceptions import InvalidInputError
from hub.privacy.encryption import FieldCipher
from hub.residents import validation as v
from hub.residents.consent import active_consent_row
from hub.residents.store import Store, new_id, transaction

TEMPLATE_DIMENSIONS = 128
TEMPLATE_PURPOSE = "face-template"
PHOTO_PURPOSE = "enrolment-photo"
MAX_TEMPLATES_PER_RESIDENT = 20
MAX_PHOTO_BYTES = 10 * 1024 * 1024
_PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class FaceGallery:
    """Decrypted templates for 1:N matching: row ``i`` of ``templates`` belongs to ``resident_ids[i]``."""

    resident_ids: tuple[str, ...]
    templates: FloatArray

    def __len__(self) -> int:
        return len(self.resident_ids)


def check_template(template: object, field: str = "template") -> FloatArray:
    """A finite 1-D float32 array of 128 values, as the face engine produces."""
    if not isinstance(template, np.ndarray):
        raise InvalidInputError(f"{field} must be a numpy array, got {type(template).__name__}")
    if template.dtype != np.float32:
        raise InvalidInputError(f"{field} must be float32, got {template.dtype}")
    if template.shape != (TEMPLATE_DIMENSIONS,):
        raise InvalidInputError(f"{field} must have shape ({TEMPLATE_DIMENSIONS},), got {template.shape}")
    if not bool(np.isfinite(template).all()):
        raise InvalidInputError(f"{field} contains NaN or infinite values")
    return template


def _is_template_list(templates: object) -> bool:
    # A bare 128-d array is a Sequence-like too; insist on a real non-empty list of arrays.
    return isinstance(templates, (list, tuple)) and len(templates) > 0


class FaceTemplateStore(Store):
    """Templates and kept photos, encrypted with the key file's template key."""

    @property
    def _cipher(self) -> FieldCipher:
        return FieldCipher(self._keys.templates, self._keys.key_id)

    def enrol_templates(self, actor: str, resident_id: str, templates: Sequence[FloatArray]) -> list[str]:
        """Store templates for a resident who has an active consent; returns the new template ids."""
        actor = v.actor(actor)
        resident_id = v.identifier(resident_id, "resident_id")
        if not _is_template_list(templates):
            raise InvalidInputError("templates must be a non-empty list of numpy arrays")
        checked = [check_template(t, f"templates[{i}]") for i, t in enumerate(templates)]
        cipher = self._cipher
        now = self._clock()
        ids: list[str] = []
        with transaction(self._conn) as conn:
            self._require_resident(conn, resident_id)
            consent = active_consent_row(conn, resident_id)
            if consent is None:
                raise InvalidInputError(
                    f"resident {resident_id!r} has no active consent to face verification: record consent first"
                )
            (existing,) = conn.execute(
                "SELECT COUNT(*) FROM face_templates WHERE resident_id = ?", (resident_id,)
            ).fetchone()
            if existing + len(checked) > MAX_TEMPLATES_PER_RESIDENT:
                raise InvalidInputError(
                    f"resident {resident_id!r} would have {existing + len(checked)} templates; "
                    f"the limit is {MAX_TEMPLATES_PER_RESIDENT}"
                )
            for template in checked:
                template_id = new_id("tpl")
                blob = cipher.encrypt(
                    template.astype("<f4").tobytes(), purpose=TEMPLATE_PURPOSE, resident_id=resident_id
                )
                conn.execute(
                    "INSERT INTO face_templates (template_id, resident_id, consent_id, key_id, ciphertext, created_at)"
                    " VALUES (?,?,?,?,?,?)",
                    (template_id, resident_id, consent["consent_id"], cipher.key_id, blob, v.to_db(now)),
                )
                ids.append(template_id)
        self._audit(actor, "face.enrol", now, {"resident_id": resident_id, "templates": len(ids)})
        return ids

    def delete_templates(self, actor: str, resident_id: str) -> int:
        """Delete every template of a resident (consent stays); returns how many were deleted."""
        actor = v.actor(actor)
        resident_id = v.identifier(resident_id, "resident_id")
        now = self._clock()
        with transaction(self._conn) as conn:
            self._require_resident(conn, resident_id)
            count = conn.execute("DELETE FROM face_templates WHERE resident_id = ?", (resident_id,)).rowcount
        self._audit(actor, "face.delete_templates", now, {"resident_id": resident_id, "templates": count})
        return count

    def keep_enrolment_photo(self, actor: str, resident_id: str, image: bytes, media_type: str) -> str:
        """Keep an enrolment photo, encrypted (only when the operator chose to keep photos); returns its id."""
        actor = v.actor(actor)
        resident_id = v.identifier(resident_id, "resident_id")
        if not isinstance(image, bytes) or not image:
            raise InvalidInputError("image must be non-empty bytes")
        if len(image) > MAX_PHOTO_BYTES:
            raise InvalidInputError(f"image is {len(image)} bytes; the limit is {MAX_PHOTO_BYTES}")
        if media_type not in _PHOTO_TYPES:
            raise InvalidInputError(f"media_type must be one of {sorted(_PHOTO_TYPES)}, got {media_type!r}")
        cipher = self._cipher
        now = self._clock()
        photo_id = new_id("photo")
        with transaction(self._conn) as conn:
            self._require_resident(conn, resident_id)
            consent = active_consent_row(conn, resident_id)
            if consent is None:
                raise InvalidInputError(f"resident {resident_id!r} has no active consent: a photo cannot be kept")
            conn.execute(
                "INSERT INTO enrolment_photos (photo_id, resident_id, consent_id, media_type, key_id, ciphertext,"
                " created_at) VALUES (?,?,?,?,?,?,?)",
                (
                    photo_id,
                    resident_id,
                    consent["consent_id"],
                    media_type,
                    cipher.key_id,
                    cipher.encrypt(image, purpose=PHOTO_PURPOSE, resident_id=resident_id),
                    v.to_db(now),
                ),
            )
        self._audit(actor, "face.keep_photo", now, {"resident_id": resident_id, "photo_id": photo_id})
        return photo_id

    def load_enrolment_photo(self, resident_id: str, photo_id: str) -> tuple[bytes, str]:
        """Decrypt a kept photo; returns (image bytes, media type)."""
        row = self._conn.execute(
            "SELECT * FROM enrolment_photos WHERE resident_id = ? AND photo_id = ?", (resident_id, photo_id)
        ).fetchone()
        if row is None:
            raise InvalidInputError(f"resident {resident_id!r} has no photo {photo_id!r}")
        image = self._cipher.decrypt(
            row["ciphertext"], purpose=PHOTO_PURPOSE, resident_id=resident_id, key_id=row["key_id"]
        )
        return image, str(row["media_type"])

    def load_gallery(self, resident_id: str | None = None) -> FaceGallery:
        """Decrypt every template whose consent is active, for the face engine's 1:N search (only one
        resident's when ``resident_id`` is given: how the gallery follows a change without a reload)."""
        cipher = self._cipher
        where, params = ("WHERE t.resident_id = ?", (resident_id,)) if resident_id is not None else ("", ())
        rows = self._conn.execute(
            "SELECT t.resident_id, t.key_id, t.ciphertext FROM face_templates t"
            " JOIN consents c ON c.consent_id = t.consent_id AND c.withdrawn_at IS NULL"
            f" {where} ORDER BY t.resident_id, t.template_id",
            params,
        ).fetchall()
        matrix = np.empty((len(rows), TEMPLATE_DIMENSIONS), dtype=np.float32)
        for i, row in enumerate(rows):
            plain = cipher.decrypt(
                row["ciphertext"], purpose=TEMPLATE_PURPOSE, resident_id=row["resident_id"], key_id=row["key_id"]
            )
            matrix[i] = np.frombuffer(plain, dtype="<f4")
        return FaceGallery(tuple(r["resident_id"] for r in rows), matrix)

    def enrolled_residents(self) -> list[str]:
        """The residents with at least one template under an active consent (ids only, nothing decrypted)."""
        rows = self._conn.execute(
            "SELECT DISTINCT t.resident_id FROM face_templates t"
            " JOIN consents c ON c.consent_id = t.consent_id AND c.withdrawn_at IS NULL"
        ).fetchall()
        return [str(r[0]) for r in rows]

    def enrolled_face_count(self) -> int:
        """How many people have at least one face template: the figure regulation wants visible (kept by the
        database as templates come and go: nothing counted)."""
        (count,) = self._conn.execute("SELECT value FROM resident_counts WHERE name = 'enrolled_faces'").fetchone()
        return int(count)

    def template_count(self, resident_id: str | None = None) -> int:
        """How many templates are stored, in total or for one resident."""
        if resident_id is None:
            (count,) = self._conn.execute("SELECT COUNT(*) FROM face_templates").fetchone()
        else:
            (count,) = self._conn.execute(
                "SELECT COUNT(*) FROM face_templates WHERE resident_id = ?", (resident_id,)
            ).fetchone()
        return int(count)
