"""Retention: purge events and kept snapshots past their period; the audit log keeps its own, longer period.

Unsent events are kept past the period by default (the county is owed them); set ``purge_unsent`` when the legal
limit must win over delivery.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.exceptions import InvalidInputError, StorageError

from .audit import AuditKeys, AuditLog
from .models import to_text, utc_now

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class RetentionPolicy:
    """How long things are kept, in days."""

    events_days: int = 90
    snapshots_days: int = 30
    audit_days: int = 3 * 365
    purge_unsent: bool = False

    def __post_init__(self) -> None:
        if min(self.events_days, self.snapshots_days, self.audit_days) < 1:
            raise InvalidInputError("retention periods must be at least one day")
        if self.audit_days < self.events_days:
            raise InvalidInputError("the audit log must be kept at least as long as events")


@dataclass(frozen=True, kw_only=True)
class PurgeResult:
    """What one purge removed."""

    events: int
    snapshots: int
    audit_entries: int
    unsent_kept: int
    vehicle_records: int = 0
    """Vehicle pass records (and ended vehicle invitations) past the events' period (hub.vehicles)."""


def purge_expired(conn: sqlite3.Connection, policy: RetentionPolicy, *, now: datetime | None = None,
                  hub_id: str = "", audit_keys: AuditKeys | None = None) -> PurgeResult:
    """Delete what is past its period, in one transaction (blocking; run it in an executor).

    ``audit_keys`` authenticates the audit log's new anchor; without them a purge that cut the keyed chain leaves
    an anchor that ``verify`` refuses."""
    now = now or utc_now()
    event_cutoff = to_text(now - timedelta(days=policy.events_days))
    snapshot_cutoff = to_text(now - timedelta(days=policy.snapshots_days))
    pending = "SELECT seq FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
    files: list[str] = []
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if policy.purge_unsent:
                unsent_kept = 0
                events = conn.execute("DELETE FROM events WHERE occurred_at < ?", (event_cutoff,)).rowcount
            else:
                unsent_kept = int(conn.execute(
                    f"SELECT COUNT(*) FROM events WHERE occurred_at < ? AND seq IN ({pending})", (event_cutoff,)
                ).fetchone()[0])
                events = conn.execute(
                    f"DELETE FROM events WHERE occurred_at < ? AND seq NOT IN ({pending})", (event_cutoff,)
                ).rowcount
            files = [str(r[0]) for r in conn.execute(
                "SELECT path FROM snapshots WHERE taken_at < ? AND path IS NOT NULL", (snapshot_cutoff,))]
            snapshots = conn.execute("DELETE FROM snapshots WHERE taken_at < ?", (snapshot_cutoff,)).rowcount
            vehicle_records = _purge_vehicle_records(conn, now - timedelta(days=policy.events_days))
            audit_cutoff = now - timedelta(days=policy.audit_days)
            audit = AuditLog(conn, hub_id, keys=audit_keys).purge_before_in_transaction(audit_cutoff)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    except sqlite3.Error as err:
        raise StorageError(f"retention purge failed: {err}") from err
    for name in files:  # after the commit: a crash here leaves an orphan file, never a row without its file
        Path(name).unlink(missing_ok=True)
    return PurgeResult(events=events, snapshots=snapshots, audit_entries=audit, unsent_kept=unsent_kept,
                       vehicle_records=vehicle_records)


def _purge_vehicle_records(conn: sqlite3.Connection, cutoff: datetime) -> int:
    """Vehicle passes older than ``cutoff`` and invitations that ended before it, when the vehicle tables are
    in this database; returns how many rows went. (Those tables keep time as the registry does.)"""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'vehicle_passes'").fetchone() is None:
        return 0
    stamp = cutoff.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    passes = conn.execute("DELETE FROM vehicle_passes WHERE at < ?", (stamp,)).rowcount
    invitations = conn.execute("DELETE FROM visitor_vehicles WHERE valid_until < ?", (stamp,)).rowcount
    return int(passes) + int(invitations)


async def purge_periodically(
    purge: Callable[[], PurgeResult],
    *,
    interval_s: float = 3600.0,
    run_blocking: Callable[[Callable[[], PurgeResult]], Awaitable[PurgeResult]] | None = None,
) -> None:
    """Run ``purge`` now and then every ``interval_s`` until cancelled (wrap it in a task).

    ``run_blocking`` moves the purge off the loop: Home Assistant passes ``hass.async_add_executor_job``; the
    default is :func:`asyncio.to_thread`.
    """
    runner = run_blocking or asyncio.to_thread
    while True:
        try:
            result = await runner(purge)
            if result.events or result.snapshots or result.audit_entries or result.vehicle_records:
                _LOGGER.info("retention purge removed %s events, %s snapshots, %s audit entries, %s vehicle records",
                             result.events, result.snapshots, result.audit_entries, result.vehicle_records)
        except Exception:  # keep purging on the next round; the error is logged once per round
            _LOGGER.exception("retention purge failed")
        await asyncio.sleep(interval_s)
