"""Records of the registry, as callers see them (frozen dataclasses; no secrets in any of them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ResidentStatus(StrEnum):
    """A suspended resident keeps their record and credentials but is denied at every door."""

    ACTIVE = "active"
    SUSPENDED = "suspended"


@dataclass(frozen=True)
class Resident:
    """A person who lives in (or is authorised for) the community."""

    resident_id: str
    full_name: str
    household: str | None
    building: str | None
    unit: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    status: ResidentStatus
    is_minor: bool
    guardian: str | None


@dataclass(frozen=True)
class ResidentPage:
    """One page of a resident search, and how many residents matched in all."""

    total: int
    residents: list[Resident]


@dataclass(frozen=True)
class Consent:
    """A consent record for face verification; ``withdrawn_at`` set means it no longer allows templates."""

    consent_id: str
    resident_id: str
    scope: str
    given_by: str
    guardian: str | None
    given_at: datetime
    withdrawn_at: datetime | None
    template_id: str | None = None
    template_version: int | None = None

    @property
    def active(self) -> bool:
        """Whether this consent still allows templates to be kept and used."""
        return self.withdrawn_at is None


@dataclass(frozen=True)
class ConsentTemplate:
    """One version of a consent text the community keeps; a consent given on it keeps this exact text."""

    template_id: str
    version: int
    title: str
    body: str
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class Card:
    """An access card; only a keyed index and the last digits are stored, never the full number."""

    card_id: str
    resident_id: str
    hint: str
    added_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class VisitorPass:
    """A pass a resident issued to a visitor for given doors and a time window."""

    pass_id: str
    issued_by: str
    visitor_name: str
    door_ids: frozenset[str]
    valid_from: datetime
    valid_until: datetime
    max_uses: int
    uses: int
    revoked_at: datetime | None
    created_at: datetime

    def active_at(self, now: datetime) -> bool:
        """Whether the pass still opens its doors at ``now``: not revoked, inside its window, uses left."""
        return self.revoked_at is None and self.valid_from <= now < self.valid_until and self.uses < self.max_uses


@dataclass(frozen=True)
class IssuedPass:
    """What issuing a pass returns: the record, the signed token the QR code carries, and the QR code."""

    visitor_pass: VisitorPass
    token: str
    qr_png: bytes
