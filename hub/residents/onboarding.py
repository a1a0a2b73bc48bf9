"""Adding a resident in one step: the record, a card, a PIN and consent on one of the community's consent texts,
all or nothing (the panel's "Add resident" flow; photos follow through the enrolment path, which needs consent).

Each part is the registry's own action (so each is checked and audited as when done alone), inside one outer
transaction; their audit calls are held back and passed on only after the COMMIT, so a refused card leaves no
resident behind and no audit entry for one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ParamSpec, Protocol, TypeVar

from hub.residents.models import Resident
from hub.residents.registry_hub import ResidentRegistry
from hub.residents.store import transaction

P = ParamSpec("P")
_T = TypeVar("_T")


class AuditBatch(Protocol):
    """The held-back audit calls of a multi-step write (:class:`hub.community.PendingAudit`)."""

    def emit(self) -> int: ...


class OnboardTarget(Protocol):
    """What adding in one step needs of a community (:class:`hub.community.Community` is one)."""

    @property
    def registry(self) -> ResidentRegistry: ...

    def deferred_audit(self) -> AbstractContextManager[AuditBatch]: ...

    def call(self, func: Callable[P, _T], *args: P.args, **kwargs: P.kwargs) -> _T: ...


@dataclass(frozen=True)
class NewResident:
    """Everything the add flow can give at once; ``resident_id`` None generates one."""

    full_name: str
    resident_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    """household, building, unit, valid_from, valid_until, is_minor, guardian (as ``add_resident`` takes them)"""
    card_number: str | None = None
    pin: str | None = None
    keypad_code: str | None = None
    consent_text_id: str | None = None
    consent_guardian: str | None = None


@dataclass(frozen=True)
class Onboarded:
    """The new resident, and the keypad code their PIN is typed after (None without a PIN)."""

    resident: Resident
    keypad_code: str | None


def add_in_one_step(community: OnboardTarget, actor: str, new: NewResident, *, now: datetime) -> Onboarded:
    """Blocking: add the resident and what came with them, on the community's writer, all or nothing."""
    return community.call(_add, community, actor, new, now)


def _add(community: OnboardTarget, actor: str, new: NewResident, now: datetime) -> Onboarded:
    registry = community.registry
    with community.deferred_audit() as batch, transaction(registry.conn):
        resident = registry.residents.add_resident(actor, new.resident_id, new.full_name, **dict(new.details))
        rid = resident.resident_id
        if new.card_number:
            registry.credentials.add_card(actor, rid, new.card_number)
        code = None
        if new.pin:
            code = registry.credentials.set_pin(actor, rid, new.pin, new.keypad_code or None)
        if new.consent_text_id:
            guardian = (new.consent_guardian or resident.guardian) if resident.is_minor else None
            registry.consents.record_consent_on_template(
                actor, rid, template_id=new.consent_text_id, given_at=now, guardian=guardian
            )
    batch.emit()
    return Onboarded(resident, code)
