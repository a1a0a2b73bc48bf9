"""The field policy: an allow-list of what may leave the hub, and the pseudonymous resident reference.

The default lets out only the event type, door/gate, time, result, reason, credential kind and a keyed HMAC of the
resident id (the county cannot reverse it without the community key), a door release's reason and outcome and a door
change's kind, mode and outcome (never who asked), the weekly device-health ``report`` (device ids, online rates and
outages: no personal data), a device status change's device kind, a device problem (``problem``: its id, device,
state and times, never the manager's note or who acknowledged it) and, with the health events, the audit log's head
(``audit_head``: the newest entry's seq and keyed hash, so the county holds a copy the hub cannot take back), a
vehicle pass's plate, colour, direction, car park, entrance, lane, dwell time and whether it was back-filled or a
near match (the plate can be withheld; the camera's pictures need an option), and the display name of the event's
place as it was when the event was journalled (``door_name``: "North gate" beside ``DEMO-DC-01-door0``; a place's
name is not personal data, and an operator can withhold it).
Anything more needs a :class:`FieldOption` naming its legal basis; face images, templates and other biometrics can
never be allowed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from hub.exceptions import InvalidInputError
from hub.journal import JournalEvent

from .secret import Secret

DEFAULT_FIELDS: frozenset[str] = frozenset(
    {"type", "door", "occurred_at", "result", "reason", "credential_kind", "resident_ref", "report",
     "release_reason", "outcome", "change", "mode", "audit_head", "problem", "device_kind",
     # A vehicle pass (hub/vehicles): the plate is personal data, sent because the county's programme asks for
     # every vehicle movement; an operator can withhold it (FieldPolicy.withheld). Pictures need an option.
     "plate", "plate_color", "plate_type", "vehicle_type", "vehicle_color", "direction", "car_park", "entrance",
     "lane_no", "backfilled", "dwell_s", "near_match",
     # The place's display name when the event happened (hub.journal.PLACE_NAME_FIELD), beside its id ("door").
     "door_name"}
)

# Default fields an operator may keep back (the county then receives the events without them).
WITHHOLDABLE_FIELDS: frozenset[str] = frozenset({"plate", "door_name"})

# Fields an operator may add, each with a stated legal basis. The value is what the field carries.
OPTIONAL_FIELDS: Mapping[str, str] = {
    "snapshot": "a still image of the door's camera at the event (base64 JPEG), never a face crop or template",
    "snapshot_url": "a link to the snapshot kept on the hub",
    "resident_name": "the resident's display name",
    "unit": "the resident's building/unit",
    "card_suffix": "the last four digits of the card number",
    "device": "the device id behind a status change or alarm",
    "vehicle_images": "the plate crop and scene pictures a lane's camera sent with a vehicle pass (base64 JPEG)",
}

# Never allowed, whatever the options say: biometric data and raw identifiers.
FORBIDDEN_FIELDS: frozenset[str] = frozenset(
    {"face_image", "face_crop", "face_template", "template", "encoding", "embedding", "face_encoding",
     "enrolment_photo", "photo", "biometric", "resident_id", "pin", "card_number", "liveness_frames"}
)


class LegalBasis(StrEnum):
    """Lawful bases under PIPL Art. 13 / GDPR Art. 6 that an operator can name for an extra field."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    PUBLIC_HEALTH_EMERGENCY = "public_health_emergency"
    PUBLIC_INTEREST = "public_interest"


@dataclass(frozen=True, kw_only=True)
class FieldOption:
    """Permission for one extra field: the basis, a reference to the instrument (order, contract), who and when.

    The integration records each one in the audit log when it is turned on or off.
    """

    field: str
    legal_basis: LegalBasis
    reference: str
    enabled_by: str
    enabled_at: datetime

    def __post_init__(self) -> None:
        if self.field in FORBIDDEN_FIELDS:
            raise InvalidInputError(f"{self.field!r} may never leave the hub")
        if self.field not in OPTIONAL_FIELDS:
            raise InvalidInputError(f"{self.field!r} is not a field the uplink knows")
        if not isinstance(self.legal_basis, LegalBasis):
            raise InvalidInputError("legal_basis must be one of " + ", ".join(b.value for b in LegalBasis))
        if len(self.reference.strip()) < 5:
            raise InvalidInputError("state the legal basis: name the order, contract or consent record")
        if not self.enabled_by.strip():
            raise InvalidInputError("say who enabled the field")
        if self.enabled_at.tzinfo is None:
            raise InvalidInputError("enabled_at must be timezone-aware")

    def as_dict(self) -> dict[str, str]:
        """For the audit log and diagnostics."""
        return {"field": self.field, "legal_basis": str(self.legal_basis), "reference": self.reference,
                "enabled_by": self.enabled_by, "enabled_at": self.enabled_at.isoformat()}


def pseudonymous_ref(community_key: Secret, resident_id: str) -> str:
    """A stable reference for a resident that only holders of the community key can link to the resident."""
    mac = hmac.new(community_key.reveal(), b"resident-ref:v1:" + resident_id.encode(), hashlib.sha256)
    return "r1_" + mac.hexdigest()[:32]


@dataclass(frozen=True)
class FieldPolicy:
    """Turns a journal event into the fields that may leave, nothing else."""

    community_key: Secret
    options: tuple[FieldOption, ...] = ()
    withheld: frozenset[str] = frozenset()
    """Default fields the operator keeps back (only those in :data:`WITHHOLDABLE_FIELDS`: ``plate``,
    ``door_name``)."""
    _allowed: frozenset[str] = field(init=False, repr=False, default=frozenset())

    def __post_init__(self) -> None:
        names = [o.field for o in self.options]
        if len(names) != len(set(names)):
            raise InvalidInputError("each optional field may be enabled once")
        unknown = set(self.withheld) - WITHHOLDABLE_FIELDS
        if unknown:
            raise InvalidInputError(f"only {sorted(WITHHOLDABLE_FIELDS)} can be withheld, not {sorted(unknown)}")
        object.__setattr__(self, "_allowed", (DEFAULT_FIELDS - self.withheld) | frozenset(names))

    @property
    def allowed_fields(self) -> frozenset[str]:
        """Every field name that may leave."""
        return self._allowed

    def with_options(self, options: Iterable[FieldOption]) -> FieldPolicy:
        """A copy with another set of options (validated)."""
        return FieldPolicy(self.community_key, tuple(options), self.withheld)

    def fields_for(self, event: JournalEvent) -> dict[str, Any]:
        """The allowed fields of one event."""
        payload = dict(event.payload)
        candidate: dict[str, Any] = {
            "type": str(event.kind),
            "door": event.door,
            "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        }
        resident_id = payload.get("resident_id")
        if resident_id:
            candidate["resident_ref"] = pseudonymous_ref(self.community_key, str(resident_id))
        for name, value in payload.items():
            if name not in candidate and name not in FORBIDDEN_FIELDS:
                candidate[name] = value
        return {k: v for k, v in candidate.items() if k in self._allowed and v is not None}
