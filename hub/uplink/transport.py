"""The interface a profile implements for the worker: start, send one ordered batch, close."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from hub.journal import JournalEvent


@dataclass(frozen=True, kw_only=True)
class OutgoingEvent:
    """One event as it may leave the hub: its journal identity and the policy-filtered fields."""

    event: JournalEvent
    fields: Mapping[str, Any]
    # The event sent just before this one in the outbox's order: the batch's previous event, or for a batch's
    # first the newest the receiver acknowledged (None: none yet). Profiles that let the receiver keep order use it.
    previous_seq: int | None = None


@dataclass(frozen=True, kw_only=True)
class BatchResult:
    """The receiver's answer: which event UUIDs it holds now, which it refused for good (UUID -> reason).

    Events in neither set stay queued and are sent again.
    """

    acknowledged: frozenset[str] = frozenset()
    refused: Mapping[str, str] = field(default_factory=dict)


class UplinkTransport(Protocol):
    """A profile: JSON or GA/T 1400."""

    async def start(self) -> None:
        """Connect or register (may raise; the worker retries)."""

    async def send(self, batch: Sequence[OutgoingEvent]) -> BatchResult:
        """Send events in order; raise TransientUplinkError or RejectedError when nothing was acknowledged."""

    async def close(self) -> None:
        """Release what the transport opened (never an injected session)."""
