"""What of a vehicle pass may leave the hub: the plate by default (an operator can withhold it), never the
camera's own ids, the registered plate a near match stood for, who invited the car, or the pictures without a
stated basis."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.exceptions import InvalidInputError
from hub.journal import EventKind, JournalEvent
from hub.uplink import FieldOption, FieldPolicy, LegalBasis, Secret, pseudonymous_ref

WHEN = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
KEY = Secret("community-key-for-tests-0123456789")
PAYLOAD = {"result": "granted", "reason": "near_match", "credential_kind": "plate", "plate": "皖A7XGS8",
           "plate_color": 5, "direction": "entry", "car_park": "p1", "entrance": "north", "lane_no": 1,
           "camera_id": "SN-0042", "record_id": "plateid-7", "seen_at": WHEN.isoformat(), "resident_id": "r-001",
           "issued_by": None, "near_match": True, "near_match_of": "皖A7XG58", "days_left": None,
           "backfilled": False, "dwell_s": None, "vehicle_type": "car", "vehicle_color": "white",
           "plate_type": None, "confidence": 0.93, "release_requested": True,
           "vehicle_images": [{"kind": "plate", "content_type": "image/jpeg", "data": "/9g="}]}


def _event() -> JournalEvent:
    return JournalEvent(seq=1, uuid="u-1", hub_id="hub", kind=EventKind.VEHICLE_PASS, door="p1:north:1",
                        occurred_at=WHEN, recorded_at=WHEN, payload=PAYLOAD)


def test_a_vehicle_pass_leaves_with_its_plate_and_nothing_local() -> None:
    fields = FieldPolicy(KEY).fields_for(_event())
    assert fields == {"type": "vehicle_pass", "door": "p1:north:1", "occurred_at": "2026-12-02T09:00:00Z",
                      "result": "granted", "reason": "near_match", "credential_kind": "plate",
                      "resident_ref": pseudonymous_ref(KEY, "r-001"), "plate": "皖A7XGS8", "plate_color": 5,
                      "direction": "entry", "car_park": "p1", "entrance": "north", "lane_no": 1,
                      "backfilled": False, "near_match": True, "vehicle_type": "car", "vehicle_color": "white"}


def test_the_plate_can_be_withheld_and_pictures_need_a_basis() -> None:
    option = FieldOption(field="vehicle_images", legal_basis=LegalBasis.LEGAL_OBLIGATION,
                         reference="County order 2026-14 §3", enabled_by="manager-1", enabled_at=WHEN)
    policy = FieldPolicy(KEY, withheld=frozenset({"plate"})).with_options([option])
    fields = policy.fields_for(_event())
    assert "plate" not in fields and fields["vehicle_images"] == PAYLOAD["vehicle_images"]
    with pytest.raises(InvalidInputError, match="can be withheld"):
        FieldPolicy(KEY, withheld=frozenset({"result"}))
