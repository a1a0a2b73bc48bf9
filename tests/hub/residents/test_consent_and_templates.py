"""Consent gates face templates; templates are AES-GCM ciphertext bound to the resident and the key file."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hub.exceptions import InvalidInputError, NotFoundError
from hub.privacy.errors import DecryptionError, KeyFileError
from hub.privacy.keys import KeyRing
from hub.residents.registry_hub import ResidentRegistry

CONSENT_AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SCOPE = "Face verification at the north and south gates; template kept until withdrawal or move-out."


def _template(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=128).astype(np.float32)


def _with_consent(registry: ResidentRegistry, resident_id: str = "r1") -> None:
    registry.residents.add_resident("mgr", resident_id, f"Person {resident_id}")
    registry.consents.record_consent("mgr", resident_id, scope=SCOPE, given_at=CONSENT_AT)


def test_template_needs_active_consent(registry: ResidentRegistry, snapshot: Callable[..., Any]) -> None:
    registry.residents.add_resident("mgr", "r1", "Zhao Lei")
    before = snapshot(registry.conn)
    with pytest.raises(InvalidInputError, match="no active consent"):
        registry.faces.enrol_templates("mgr", "r1", [_template(1)])
    assert snapshot(registry.conn) == before
    registry.consents.record_consent("mgr", "r1", scope=SCOPE, given_at=CONSENT_AT)
    ids = registry.faces.enrol_templates("mgr", "r1", [_template(1), _template(2)])
    assert len(ids) == 2
    assert registry.enrolled_face_count() == 1
    assert registry.faces.template_count() == 2


def test_minor_consent_comes_from_the_guardian(registry: ResidentRegistry) -> None:
    registry.residents.add_resident("mgr", "kid", "Xiao Hua", is_minor=True, guardian="Zhao Lei")
    with pytest.raises(InvalidInputError, match="guardian must give consent"):
        registry.consents.record_consent("mgr", "kid", scope=SCOPE, given_at=CONSENT_AT)
    with pytest.raises(InvalidInputError, match="not the guardian"):
        registry.consents.record_consent("mgr", "kid", scope=SCOPE, given_at=CONSENT_AT, guardian="Someone")
    consent = registry.consents.record_consent("mgr", "kid", scope=SCOPE, given_at=CONSENT_AT, guardian="Zhao Lei")
    assert consent.given_by == "Zhao Lei"
    assert consent.guardian == "Zhao Lei"


def test_adult_cannot_have_guardian_consent_and_only_one_active(registry: ResidentRegistry) -> None:
    _with_consent(registry)
    with pytest.raises(InvalidInputError, match="already has an active consent"):
        registry.consents.record_consent("mgr", "r1", scope=SCOPE, given_at=CONSENT_AT)
    registry.residents.add_resident("mgr", "r2", "Adult")
    with pytest.raises(InvalidInputError, match="not a minor"):
        registry.consents.record_consent("mgr", "r2", scope=SCOPE, given_at=CONSENT_AT, guardian="X")
    with pytest.raises(InvalidInputError, match="timezone"):
        registry.consents.record_consent("mgr", "r2", scope=SCOPE, given_at=datetime(2026, 1, 1))


def test_withdrawing_consent_deletes_templates_and_photos(registry: ResidentRegistry) -> None:
    _with_consent(registry)
    _with_consent(registry, "r2")
    registry.faces.enrol_templates("mgr", "r1", [_template(1), _template(2)])
    registry.faces.enrol_templates("mgr", "r2", [_template(3)])
    registry.faces.keep_enrolment_photo("mgr", "r1", b"\xff\xd8fake-jpeg", "image/jpeg")
    result = registry.consents.withdraw_consent("mgr", "r1", withdrawn_at=CONSENT_AT.replace(day=5))
    assert (result.templates_deleted, result.photos_deleted) == (2, 1)
    assert registry.faces.template_count("r1") == 0
    assert registry.enrolled_face_count() == 1
    assert registry.consents.active_consent("r1") is None
    assert registry.consents.list_consents("r1")[0].withdrawn_at == CONSENT_AT.replace(day=5)
    gallery = registry.faces.load_gallery()
    assert gallery.resident_ids == ("r2",)
    with pytest.raises(NotFoundError):
        registry.consents.withdraw_consent("mgr", "r1", withdrawn_at=CONSENT_AT)
    with pytest.raises(InvalidInputError, match="no active consent"):
        registry.faces.enrol_templates("mgr", "r1", [_template(1)])


def test_gallery_round_trip(registry: ResidentRegistry) -> None:
    _with_consent(registry, "a")
    _with_consent(registry, "b")
    registry.faces.enrol_templates("mgr", "a", [_template(1)])
    registry.faces.enrol_templates("mgr", "b", [_template(2), _template(3)])
    gallery = registry.faces.load_gallery()
    assert gallery.resident_ids == ("a", "b", "b")
    assert gallery.templates.dtype == np.float32
    assert gallery.templates.shape == (3, 128)
    assert np.array_equal(gallery.templates[0], _template(1))
    assert {tuple(row) for row in gallery.templates[1:]} == {tuple(_template(2)), tuple(_template(3))}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros(128, dtype=np.float64), "float32"),
        (np.zeros(127, dtype=np.float32), "shape"),
        (np.full(128, np.nan, dtype=np.float32), "NaN"),
        ([0.0] * 128, "numpy array"),
    ],
)
def test_bad_templates_are_refused(
    registry: ResidentRegistry, snapshot: Callable[..., Any], bad: Any, message: str
) -> None:
    _with_consent(registry)
    before = snapshot(registry.conn)
    with pytest.raises(InvalidInputError, match=message):
        registry.faces.enrol_templates("mgr", "r1", [_template(1), bad])
    with pytest.raises(InvalidInputError, match="non-empty list"):
        registry.faces.enrol_templates("mgr", "r1", _template(1))  # type: ignore[arg-type]
    assert snapshot(registry.conn) == before


def test_ciphertext_is_not_plaintext_and_needs_the_key(registry: ResidentRegistry, tmp_path: Path) -> None:
    _with_consent(registry)
    template = _template(7)
    registry.faces.enrol_templates("mgr", "r1", [template])
    registry.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (blob,) = registry.conn.execute("SELECT ciphertext FROM face_templates").fetchone()
    plain = template.astype("<f4").tobytes()
    assert plain not in blob
    assert plain[:16] not in (tmp_path / "hub.db").read_bytes()

    # Another key file: the same database refuses to decrypt, saying it is the wrong key.
    other = ResidentRegistry(registry.conn, KeyRing.load_or_create(tmp_path / "other.key"))
    with pytest.raises(DecryptionError, match="wrong key file"):
        other.faces.load_gallery()


def test_ciphertext_is_bound_to_the_resident(registry: ResidentRegistry) -> None:
    _with_consent(registry, "a")
    _with_consent(registry, "b")
    registry.faces.enrol_templates("mgr", "a", [_template(1)])
    registry.faces.enrol_templates("mgr", "b", [_template(2)])
    # Swap a's ciphertext onto b's row: AES-GCM's associated data (the resident id) no longer matches.
    registry.conn.execute(
        "UPDATE face_templates SET ciphertext = (SELECT ciphertext FROM face_templates WHERE resident_id = 'a')"
        " WHERE resident_id = 'b'"
    )
    with pytest.raises(DecryptionError, match="failed authentication"):
        registry.faces.load_gallery()


def test_photos_are_encrypted_and_readable_back(registry: ResidentRegistry) -> None:
    _with_consent(registry)
    photo_id = registry.faces.keep_enrolment_photo("mgr", "r1", b"PNG-bytes-of-a-face", "image/png")
    (blob,) = registry.conn.execute("SELECT ciphertext FROM enrolment_photos").fetchone()
    assert b"PNG-bytes-of-a-face" not in blob
    assert registry.faces.load_enrolment_photo("r1", photo_id) == (b"PNG-bytes-of-a-face", "image/png")
    with pytest.raises(InvalidInputError, match="media_type"):
        registry.faces.keep_enrolment_photo("mgr", "r1", b"x", "text/plain")


def test_key_file_is_created_0600_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "hub.key"
    first = KeyRing.load_or_create(path)
    assert (path.stat().st_mode & 0o777) == 0o600
    assert KeyRing.load_or_create(path).key_id == first.key_id
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        KeyRing.load_or_create(path)
    os.chmod(path, 0o600)
    path.write_bytes(b"short")
    with pytest.raises(KeyFileError, match="expected 32"):
        KeyRing.load_or_create(path)
    with pytest.raises(KeyFileError, match="does not exist"):
        KeyRing.load_or_create(tmp_path / "missing-folder" / "hub.key")
    with pytest.raises(InvalidInputError):
        KeyRing.load_or_create("")
