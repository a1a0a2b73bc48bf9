"""The audit hook: every manager action reports (actor, action, details) to whoever journals it.

This package does not write the audit log itself; the integration passes a callback that appends to the
append-only log. Details never carry biometrics, PINs or full card numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

AuditHook = Callable[[str, str, Mapping[str, object]], None]


@dataclass(frozen=True)
class AuditRecord:
    """One manager action, as returned by the action methods and passed to the hook."""

    actor: str
    action: str
    at: datetime
    details: Mapping[str, object] = field(default_factory=dict)


def emit(hook: AuditHook | None, record: AuditRecord) -> AuditRecord:
    """Pass the record to the hook (if any), after the change has committed, and return it."""
    if hook is not None:
        hook(record.actor, record.action, {**record.details, "at": record.at.isoformat()})
    return record
