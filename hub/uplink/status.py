"""What the worker reports for Home Assistant entities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class UplinkStatus:
    """A snapshot of the uplink's state; ``oldest_unsent_age_s`` is measured at ``updated_at``."""

    connected: bool
    backlog: int
    last_success: datetime | None
    oldest_unsent_age_s: float | None
    last_error: str | None
    consecutive_rejections: int
    failed: int
    sent_total: int
    updated_at: datetime
