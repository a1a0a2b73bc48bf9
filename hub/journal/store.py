"""The journal: append events (with their outbox rows, in one transaction) and read them back."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import uuid as uuid_module
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from hub.db import open_database
from hub.exceptions import InvalidInputError, NotFoundError, StorageError

from . import schema
from .audit import AuditEntry, AuditKeys, AuditLog
from .models import EventKind, JournalEvent, NewEvent, from_text, to_text, utc_now
from .query import AccessLogFilter, AccessLogPage, access_log, check_limit, export_csv
from .retention import PurgeResult, RetentionPolicy, purge_expired

_LOGGER = logging.getLogger(__name__)

# The health events the hub uploads anyway: each carries the audit log's head, so the county holds a copy.
CARRIES_AUDIT_HEAD = frozenset({EventKind.DEVICE_STATUS, EventKind.HEALTH_REPORT, EventKind.DEVICE_PROBLEM})

# The payload field that records a place's display name at the time of the event (see Journal.set_place_names).
PLACE_NAME_FIELD = "door_name"
MAX_PLACE_NAME = 200  # characters


def check_place_names(names: Mapping[str, str]) -> dict[str, str]:
    """Place id to display name, checked: text only, surrounding blanks dropped, at most :data:`MAX_PLACE_NAME`
    characters; an empty name (or one equal to its id) says nothing and is left out."""
    checked: dict[str, str] = {}
    for place_id, name in names.items():
        if not isinstance(place_id, str) or not isinstance(name, str):
            raise InvalidInputError("place names map text ids to text names")
        shown = name.strip()
        if len(shown) > MAX_PLACE_NAME:
            raise InvalidInputError(f"the name of {place_id!r} is longer than {MAX_PLACE_NAME} characters")
        if shown and shown != place_id:
            checked[place_id] = shown
    return checked


def open_journal_database(path: str | Path) -> sqlite3.Connection:
    """Open the community database with the journal's tables up to date (WAL, ``synchronous=FULL``)."""
    return open_database(path, components=[schema.COMPONENT])


class Journal:
    """Durable, append-only record of decisions, alarms, device status changes and manager actions.

    ``on_append`` is called after each commit (from whatever thread appended); pass the uplink worker's
    thread-safe ``wake`` so the gate never waits for the uplink. ``audit_keys`` (the community's
    :attr:`hub.privacy.keys.KeyRing.audit`) is needed to record manager actions and to verify the audit log.

    Device-status and health-report events carry the audit log's current head (``audit_head``: seq and hash,
    read in the event's own transaction), so the county receives it with the health events it already gets.

    An event at a place the hub has a display name for (:meth:`set_place_names`: a door, a lane, a camera or a
    controller, by the id the event's ``door`` holds) records that name in its payload as ``door_name``: the name
    the place had when the event was journalled. A later rename changes later events only.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        hub_id: str,
        *,
        audit_keys: AuditKeys | None = None,
        on_append: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not hub_id:
            raise InvalidInputError("hub_id must not be empty")
        self._conn = conn
        self.hub_id = hub_id
        self.on_append = on_append
        self._clock = clock
        # Home Assistant's executor has many threads; one sqlite3 connection must not interleave transactions.
        self._lock = threading.RLock()
        self._audit_keys = audit_keys
        self.audit = AuditLog(conn, hub_id, keys=audit_keys, clock=clock, lock=self._lock)
        self._place_names: Mapping[str, str] = {}

    @property
    def place_names(self) -> Mapping[str, str]:
        """The display names events are journalled with (place id to name)."""
        return self._place_names

    def set_place_names(self, names: Mapping[str, str]) -> None:
        """Replace the display names of places (checked by :func:`check_place_names`; bad input changes nothing).
        Safe from any thread: the events journalled from now on take the new names."""
        self._place_names = check_place_names(names)

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying connection (shared with the audit log)."""
        return self._conn

    def append(
        self,
        kind: EventKind | str,
        *,
        door: str | None = None,
        payload: Mapping[str, Any] | None = None,
        occurred_at: datetime | None = None,
        upload: bool | None = None,
    ) -> JournalEvent:
        """Append one event (and its outbox row if it is uploaded) in one transaction."""
        event = NewEvent(kind=EventKind(kind), door=door, payload=dict(payload or {}), occurred_at=occurred_at,
                         upload=upload)
        return self.append_many([event])[0]

    def append_many(self, events: Sequence[NewEvent]) -> list[JournalEvent]:
        """Append several events in one transaction: one fsync for the lot, which is what makes bursts cheap."""
        try:
            with self._lock:
                stored = self._append_locked(events)
        except sqlite3.Error as err:
            raise StorageError(f"could not append to the journal: {err}") from err
        self._notify()
        return stored

    def _append_locked(self, events: Sequence[NewEvent]) -> list[JournalEvent]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            stored = [self._insert(event) for event in events]
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
        return stored

    def append_in_transaction(self, event: NewEvent) -> JournalEvent:
        """Append one event (and its outbox row) inside the caller's open transaction on this journal's
        connection, so it commits or rolls back with the caller's own rows (a decision with its attempt). Call
        :meth:`notify` after the COMMIT."""
        if not self._conn.in_transaction:
            raise RuntimeError("append_in_transaction needs an open transaction")
        return self._insert(event)

    def notify(self) -> None:
        """Tell the listener (the uplink worker) that events were committed."""
        self._notify()

    def record_manager_action(
        self, actor: str, action: str, details: Mapping[str, Any] | None = None, *, upload: bool | None = None
    ) -> AuditEntry:
        """Journal a manager action and append it to the hash-chained audit log, atomically; both copies name
        residents by their audit pseudonym (:meth:`AuditLog.pseudonymise`), never by id."""
        details = dict(details or {})
        try:
            with self._lock:
                entry = self._record_locked(actor, action, details, upload)
        except sqlite3.Error as err:
            raise StorageError(f"could not record the manager action: {err}") from err
        self._notify()
        return entry

    def _record_locked(self, actor: str, action: str, details: dict[str, Any], upload: bool | None) -> AuditEntry:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            safe = self.audit.pseudonymise(details)
            event = self._insert(
                NewEvent(kind=EventKind.MANAGER_ACTION, payload={"actor": actor, "action": action, **safe},
                         upload=upload)
            )
            entry = self.audit.append_in_transaction(
                actor=actor, action=action, details=details, uuid=event.uuid, at=event.occurred_at
            )
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
        return entry

    def forget_resident(self, resident_id: str) -> int:
        """Erasure: take a resident's id out of the journal in its own transaction (see
        :meth:`forget_resident_in_transaction`). Returns the events changed."""
        if not resident_id:
            raise InvalidInputError("resident_id must not be empty")
        try:
            with self._lock:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    changed = self.forget_resident_in_transaction(resident_id)
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
        except sqlite3.Error as err:
            raise StorageError(f"could not erase the resident from the journal: {err}") from err
        return changed

    def forget_resident_in_transaction(self, resident_id: str) -> int:
        """Erasure, inside the caller's transaction (the registry's erasure, so both go or neither does).

        The resident's decisions stay (the community keeps its record of what happened at each door, and what was
        sent upstream was pseudonymous anyway) but no longer say who: the id is taken out, and snapshots kept with
        those events are deleted, rows and files (a door camera's still shows who it was). Events not yet sent go up
        without a resident reference. Manager actions name residents by their audit pseudonym only; copies an
        earlier release wrote with the id in clear (``resident_id``, ``issued_by``) are scrubbed too. The hash-
        chained audit log is not changed (it never holds the id). Returns the events changed.
        """
        if not resident_id:
            raise InvalidInputError("resident_id must not be empty")
        uuids = [r[0] for r in self._conn.execute(
            "SELECT uuid FROM events WHERE kind = 'decision' AND resident_id = ?", (resident_id,)
        )]
        files: list[str] = []
        for start in range(0, len(uuids), 500):
            chunk = uuids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            files += [r[0] for r in self._conn.execute(
                f"SELECT path FROM snapshots WHERE path IS NOT NULL AND event_uuid IN ({marks})", chunk)]
            self._conn.execute(f"DELETE FROM snapshots WHERE event_uuid IN ({marks})", chunk)
        # Snapshot files go at once (before the COMMIT): an erasure that then rolled back loses a still, never
        # keeps one.
        for name in files:
            Path(name).unlink(missing_ok=True)
        changed = self._conn.execute(
            "UPDATE events SET payload = json_set(payload, '$.resident_id', NULL)"
            " WHERE kind IN ('decision', 'manager_action') AND resident_id = ?",
            (resident_id,),
        ).rowcount
        changed += self._conn.execute(
            "UPDATE events SET payload = json_set(payload, '$.issued_by', NULL)"
            " WHERE kind = 'manager_action' AND json_valid(payload) AND json_extract(payload, '$.issued_by') = ?",
            (resident_id,),
        ).rowcount
        return int(changed)

    def close(self) -> None:
        """Close the connection once no other thread is using it (a purge or append in an executor finishes
        first: closing a SQLite connection under a running statement crashes the process)."""
        with self._lock:
            self._conn.close()

    def purge(self, policy: RetentionPolicy, *, now: datetime | None = None) -> PurgeResult:
        """Apply retention on this journal's connection (blocking; see :func:`purge_periodically`)."""
        with self._lock:
            return purge_expired(self._conn, policy, now=now, hub_id=self.hub_id, audit_keys=self._audit_keys)

    def get(self, event_uuid: str) -> JournalEvent:
        """The event with this UUID."""
        with self._lock:
            row = self._conn.execute("SELECT * FROM events WHERE uuid = ?", (event_uuid,)).fetchone()
        if row is None:
            raise NotFoundError(f"no journal event {event_uuid}")
        return row_to_event(row)

    def events(
        self, *, after_seq: int = 0, limit: int = 100, kind: EventKind | None = None, door: str | None = None
    ) -> list[JournalEvent]:
        """Events after ``after_seq`` in sequence order, optionally of one kind or one door."""
        sql = "SELECT * FROM events WHERE seq > ?"
        params: list[Any] = [after_seq]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(str(kind))
        if door is not None:
            sql += " AND door = ?"
            params.append(door)
        sql += " ORDER BY seq LIMIT ?"
        params.append(limit)
        with self._lock:
            return [row_to_event(row) for row in self._conn.execute(sql, params).fetchall()]

    def count(self) -> int:
        """How many events the journal holds."""
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def access_log(self, filter: AccessLogFilter | None = None, *, before: int | None = None,
                   limit: int = 50) -> AccessLogPage:
        """One page of access decisions matching ``filter``, newest first, with ``seq < before``.

        Pass the page's ``next_before`` as ``before`` to read the next page (``None``: this was the last one).
        ``limit`` is 1 to 500. Raises :class:`InvalidInputError` for a bad cursor or limit.
        """
        log_filter = filter if filter is not None else AccessLogFilter()
        try:
            with self._lock:
                return access_log(self._conn, log_filter, before=before, limit=limit)
        except sqlite3.Error as err:
            raise StorageError(f"could not read the access log: {err}") from err

    def export_access_log_csv(
        self,
        filter: AccessLogFilter | None = None,
        *,
        chunk_rows: int = 5000,
        door_names: Mapping[str, str] | None = None,
        resident_names: Mapping[str, str] | None = None,
        tz: tzinfo | None = None,
        reason_texts: Mapping[str, str] | None = None,
    ) -> Iterator[str]:
        """The access log matching ``filter`` as CSV text chunks (header first), newest first.

        The lock is taken per chunk of ``chunk_rows`` rows, never for the whole export, and only one chunk is in
        memory: pull the chunks from an executor (each ``next`` is blocking SQLite work). Cells that a
        spreadsheet would run as a formula get a leading ``'``. ``door_names`` / ``resident_names`` (id to name)
        add ``door_name`` / ``resident_name`` columns; ``tz`` writes times in that zone with its offset (UTC by
        default) and ``reason_texts`` adds a ``reason_text`` column (see :func:`hub.journal.query.export_csv`).
        """
        check_limit(chunk_rows, name="chunk_rows", maximum=100_000)
        log_filter = filter if filter is not None else AccessLogFilter()
        return self._storage_errors(export_csv(self._conn, self._lock, log_filter, chunk_rows=chunk_rows,
                                               door_names=door_names, resident_names=resident_names,
                                               tz=tz, reason_texts=reason_texts))

    @staticmethod
    def _storage_errors(chunks: Iterator[str]) -> Iterator[str]:
        try:
            yield from chunks
        except sqlite3.Error as err:
            raise StorageError(f"could not export the access log: {err}") from err

    def add_snapshot(self, *, event_uuid: str | None, path: str | None = None, data: bytes | None = None,
                     taken_at: datetime | None = None) -> int:
        """Record a kept snapshot (a file path or the bytes) so retention purges it with the events."""
        if path is None and data is None:
            raise InvalidInputError("a snapshot needs a path or data")
        try:
            with self._lock:
                cur = self._conn.execute(
                    "INSERT INTO snapshots (event_uuid, taken_at, path, data) VALUES (?, ?, ?, ?)",
                    (event_uuid, to_text(taken_at or self._clock()), path, data),
                )
        except sqlite3.Error as err:
            raise StorageError(f"could not record the snapshot: {err}") from err
        return int(cur.lastrowid or 0)

    def _insert(self, event: NewEvent) -> JournalEvent:
        now = self._clock()
        occurred = event.occurred_at or now
        event_uuid = str(uuid_module.uuid4())
        payload = event.payload
        if event.kind in CARRIES_AUDIT_HEAD and "audit_head" not in payload:
            head = self.audit.head_in_transaction()
            if head is not None:
                payload = {**payload, "audit_head": head.as_dict()}
        if event.door is not None and PLACE_NAME_FIELD not in payload:
            name = self._place_names.get(event.door)
            if name is not None:
                payload = {**payload, PLACE_NAME_FIELD: name}
        payload_text = json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str)
        occurred_text, now_text = to_text(occurred), to_text(now)  # once each: every append pays for them
        cur = self._conn.execute(
            "INSERT INTO events (uuid, hub_id, kind, door, occurred_at, recorded_at, payload)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (event_uuid, self.hub_id, str(event.kind), event.door, occurred_text, now_text, payload_text),
        )
        seq = int(cur.lastrowid or 0)
        if event.wants_upload():
            # The priority lane (health events first) is set by the outbox's trigger (journal schema V4).
            self._conn.execute("INSERT INTO outbox (seq, queued_at) VALUES (?, ?)", (seq, now_text))
        return JournalEvent(seq=seq, uuid=event_uuid, hub_id=self.hub_id, kind=event.kind, door=event.door,
                            occurred_at=from_text(occurred_text), recorded_at=from_text(now_text), payload=payload)

    def _notify(self) -> None:
        if self.on_append is None:
            return
        try:
            self.on_append()
        except Exception:  # a broken listener must never fail the gate's decision path
            _LOGGER.exception("journal append listener failed")


def row_to_event(row: sqlite3.Row) -> JournalEvent:
    """Build a :class:`JournalEvent` from an ``events`` row."""
    return JournalEvent(
        seq=int(row["seq"]),
        uuid=str(row["uuid"]),
        hub_id=str(row["hub_id"]),
        kind=EventKind(row["kind"]),
        door=row["door"],
        occurred_at=from_text(row["occurred_at"]),
        recorded_at=from_text(row["recorded_at"]),
        payload=json.loads(row["payload"]),
    )
