"""The field policy lets out only allowed fields, never biometrics, and a reference the county cannot reverse."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from hub.exceptions import InvalidInputError
from hub.journal import EventKind, JournalEvent
from hub.uplink import FieldOption, FieldPolicy, LegalBasis, Secret, pseudonymous_ref

WHEN = datetime(2026, 6, 1, 8, 30, tzinfo=UTC)
KEY = Secret("community-key-for-tests-0123456789")


def _event(**payload: object) -> JournalEvent:
    return JournalEvent(seq=1, uuid="u-1", hub_id="hub", kind=EventKind.DECISION, door="gate-1", occurred_at=WHEN,
                        recorded_at=WHEN, payload=payload)


def _option(name: str) -> FieldOption:
    return FieldOption(field=name, legal_basis=LegalBasis.LEGAL_OBLIGATION, reference="County order 2026-14 §3",
                       enabled_by="manager-1", enabled_at=WHEN)


FULL = {"result": "granted", "reason": "face_match", "credential_kind": "face", "resident_id": "res-42",
        "face_image": "base64jpeg", "face_template": [0.1] * 128, "encoding": [0.2], "snapshot": "base64jpeg",
        "resident_name": "Li Lei", "pin": "1234", "card_number": "99887766"}


def test_default_payload_has_no_biometrics_or_images_and_a_pseudonym() -> None:
    fields = FieldPolicy(KEY).fields_for(_event(**FULL))
    assert fields == {"type": "decision", "door": "gate-1", "occurred_at": "2026-06-01T08:30:00Z",
                      "result": "granted", "reason": "face_match", "credential_kind": "face",
                      "resident_ref": pseudonymous_ref(KEY, "res-42")}
    assert "res-42" not in json.dumps(fields)


def test_a_release_goes_up_with_its_reason_and_outcome_but_not_who_asked() -> None:
    event = JournalEvent(seq=2, uuid="u-2", hub_id="hub", kind=EventKind.RELEASE, door="gate-1", occurred_at=WHEN,
                         recorded_at=WHEN, payload={"release_reason": "manager", "outcome": "unknown",
                                                    "actor": {"user_name": "Guard Zhang"},
                                                    "error": "DeviceOutcomeUnknownError"})
    assert FieldPolicy(KEY).fields_for(event) == {
        "type": "release", "door": "gate-1", "occurred_at": "2026-06-01T08:30:00Z",
        "release_reason": "manager", "outcome": "unknown",
    }


def test_a_door_change_goes_up_with_what_changed_but_not_who_asked() -> None:
    event = JournalEvent(seq=3, uuid="u-3", hub_id="hub", kind=EventKind.DOOR_CHANGE, door="gate-1",
                         occurred_at=WHEN, recorded_at=WHEN,
                         payload={"change": "mode", "mode": "free_passage", "outcome": "requested"})
    assert FieldPolicy(KEY).fields_for(event) == {
        "type": "door_change", "door": "gate-1", "occurred_at": "2026-06-01T08:30:00Z",
        "change": "mode", "mode": "free_passage", "outcome": "requested",
    }


def test_pseudonym_is_stable_keyed_and_not_the_id() -> None:
    ref = pseudonymous_ref(KEY, "res-42")
    assert ref == pseudonymous_ref(KEY, "res-42") and ref != pseudonymous_ref(KEY, "res-43")
    assert ref != pseudonymous_ref(Secret("another-community-key-000000"), "res-42")


def test_extra_field_needs_option_with_legal_basis() -> None:
    policy = FieldPolicy(KEY, (_option("snapshot"),))
    fields = policy.fields_for(_event(**FULL))
    assert fields["snapshot"] == "base64jpeg" and "face_image" not in fields and "resident_name" not in fields
    with pytest.raises(InvalidInputError, match="legal basis"):
        FieldOption(field="snapshot", legal_basis=LegalBasis.CONSENT, reference=" ", enabled_by="m",
                    enabled_at=WHEN)
    with pytest.raises(InvalidInputError, match="legal_basis"):
        FieldOption(field="snapshot", legal_basis="because", reference="Order 12 of 2026",  # type: ignore[arg-type]
                    enabled_by="m", enabled_at=WHEN)
    with pytest.raises(InvalidInputError):
        policy.with_options([_option("snapshot"), _option("snapshot")])


@pytest.mark.parametrize("name", ["face_image", "face_template", "encoding", "resident_id", "pin"])
def test_biometrics_and_raw_identifiers_can_never_be_enabled(name: str) -> None:
    with pytest.raises(InvalidInputError, match="never"):
        _option(name)


def test_secrets_never_show_in_reprs() -> None:
    policy = FieldPolicy(KEY)
    assert "community-key" not in repr(policy) and "community-key" not in str(KEY)
    with pytest.raises(InvalidInputError):
        Secret("short")
