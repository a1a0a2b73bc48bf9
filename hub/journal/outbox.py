"""The outbox side of the journal: read pending events in order, mark them sent or failed, report the backlog.

The uplink worker uses its own connection (and its own thread), so the gate's appends and the uplink's reads
never share a transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from hub.exceptions import StorageError

from .models import JournalEvent, from_text, to_text, utc_now
from .store import row_to_event


@dataclass(frozen=True, kw_only=True)
class PendingEvent:
    """An event waiting in the outbox, with how often sending it was tried."""

    event: JournalEvent
    attempts: int


class Outbox:
    """Blocking outbox operations on one connection; run them in one thread."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def pending(self, limit: int) -> list[PendingEvent]:
        """The next unsent events: the priority lane (health events) first, then the oldest; each in sequence order.

        A health event journalled behind thousands of queued access events goes in the very next batch. Access
        events are never prioritised, so the events of one door leave in the order they happened.
        """
        rows = self._conn.execute(
            "SELECT e.*, o.attempts FROM outbox o JOIN events e ON e.seq = o.seq"
            " WHERE o.sent_at IS NULL AND o.failed_at IS NULL ORDER BY o.priority DESC, o.seq LIMIT ?",
            (limit,),
        ).fetchall()
        return [PendingEvent(event=row_to_event(row), attempts=int(row["attempts"])) for row in rows]

    def last_sent_before(self, seq: int) -> int | None:
        """The sequence number of the newest row before ``seq`` the receiver acknowledged (None: there is none).

        A receiver that keeps order (the MQTT profile's county) stores an event only after the one before it."""
        row = self._conn.execute(
            "SELECT seq FROM outbox WHERE seq < ? AND sent_at IS NOT NULL ORDER BY seq DESC LIMIT 1", (seq,)
        ).fetchone()
        return int(row[0]) if row is not None else None

    def record_attempt(self, seqs: Iterable[int]) -> None:
        """Count one more attempt for these rows (for diagnostics)."""
        self._write("UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?", [(s,) for s in seqs])

    def mark_sent(self, seqs: Iterable[int], *, at: datetime | None = None) -> None:
        """Mark rows the receiver acknowledged."""
        when = to_text(at or utc_now())
        self._write("UPDATE outbox SET sent_at = ? WHERE seq = ? AND sent_at IS NULL", [(when, s) for s in seqs])

    def mark_failed(self, failures: Mapping[int, str], *, at: datetime | None = None) -> None:
        """Set aside rows the receiver refused for good (dead letters), so the queue behind them moves on."""
        when = to_text(at or utc_now())
        self._write("UPDATE outbox SET failed_at = ?, failure = ? WHERE seq = ? AND sent_at IS NULL",
                    [(when, reason[:500], s) for s, reason in failures.items()])

    def backlog(self) -> int:
        """How many rows wait to be sent."""
        row = self._conn.execute(
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
        ).fetchone()
        return int(row[0])

    def oldest_pending_at(self) -> datetime | None:
        """When the oldest unsent event occurred (None when nothing waits)."""
        row = self._conn.execute(
            "SELECT e.occurred_at FROM outbox o JOIN events e ON e.seq = o.seq"
            " WHERE o.sent_at IS NULL AND o.failed_at IS NULL ORDER BY o.seq LIMIT 1"
        ).fetchone()
        return from_text(row[0]) if row is not None else None

    def failed_count(self) -> int:
        """How many rows were set aside as refused."""
        return int(self._conn.execute("SELECT COUNT(*) FROM outbox WHERE failed_at IS NOT NULL").fetchone()[0])

    def requeue_failed(self) -> int:
        """Put refused rows back in the queue (after the operator fixed the cause)."""
        return self._write_one("UPDATE outbox SET failed_at = NULL, failure = NULL WHERE failed_at IS NOT NULL")

    def _write(self, sql: str, params: list[tuple[object, ...]]) -> None:
        if not params:
            return
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(sql, params)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        except sqlite3.Error as err:
            raise StorageError(f"could not update the outbox: {err}") from err

    def _write_one(self, sql: str) -> int:
        try:
            return self._conn.execute(sql).rowcount
        except sqlite3.Error as err:
            raise StorageError(f"could not update the outbox: {err}") from err
