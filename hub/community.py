"""One community's hub state: resident registry, access configuration and decisions, written by one thread.

The stores share one SQLite write connection, owned by the community's :class:`~hub.writer.Writer`: every call
goes through :meth:`Community.call` (blocking) or :meth:`Community.submit` (a future), which run it on the writer
thread, so two transactions never interleave and no caller holds a lock while it waits.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from .access.config import AccessConfigStore
from .access.models import CredentialKind, Decision, Door, FaceAssurance, FaceAssuranceWindow
from .access.service import AccessService, DecisionHook
from .bus import EventBus
from .db import migrate, open_database
from .events import ManagerActionEvent
from .health import HealthStore
from .health import schema as health_schema
from .journal import EventKind, Journal, NewEvent, Outbox
from .journal import schema as journal_schema
from .privacy.audit import AuditHook
from .privacy.erasure import ErasureReceipt
from .privacy.keys import KeyRing
from .residents.bulk_import import ImportReport, PhotoCheck, import_residents, remove_unfinished_imports
from .residents.registry_hub import ResidentRegistry
from .residents.secrets import DEFAULT_PIN_DIGITS, check_pin_digits
from .residents.store import utc_now
from .vehicles import schema as vehicles_schema
from .vehicles.erasure import forget_vehicle_events
from .vehicles.registry import VehicleRegistry
from .writer import Writer

P = ParamSpec("P")
T = TypeVar("T")

_LOGGER = logging.getLogger(__name__)

SYSTEM_ACTOR = "system"
NON_FACE_CREDENTIALS = frozenset({CredentialKind.CARD, CredentialKind.PIN, CredentialKind.PASS})


class PendingAudit:
    """Audit calls held back while a multi-step write is still open (see :meth:`Community.deferred_audit`)."""

    def __init__(self, sink: AuditHook) -> None:
        self._sink = sink
        self.calls: list[tuple[str, str, dict[str, object]]] = []

    def add(self, actor: str, action: str, details: Mapping[str, object]) -> None:
        """Hold one call (the stores' audit hook lands here while the batch is open)."""
        self.calls.append((actor, action, dict(details)))

    def take(self) -> list[tuple[str, str, dict[str, object]]]:
        """The held calls, in order, for the caller to pass on one by one (after the COMMIT)."""
        calls, self.calls = self.calls, []
        return calls

    def emit(self) -> int:
        """Pass every held call on (as :class:`~hub.events.ManagerActionEvent`), in order; call this only after
        the COMMIT."""
        calls, self.calls = self.calls, []
        for actor, action, details in calls:
            self._sink(actor, action, details)
        return len(calls)


class CommunityReads:
    """The registry and the door configuration on a read connection of their own (use them through
    :meth:`Community.read`; never write through them)."""

    def __init__(self, db_path: Path, keys: KeyRing) -> None:
        self._conn = open_database(db_path, components=[])  # the writer's connection migrated the schema
        self.registry = ResidentRegistry(self._conn, keys)
        self.access_config = AccessConfigStore(self._conn)
        self.vehicles = VehicleRegistry(self._conn, keys)

    def close(self) -> None:
        self._conn.close()


class Community:
    """The community's registry and access decisions, safe to call from any thread.

    Its ``events`` bus (:mod:`hub.events`) carries the gate path's decisions and releases, and every manager
    action once it committed (published on the writer thread).
    """

    def __init__(
        self,
        db_path: Path,
        key_path: Path,
        *,
        timezone: tzinfo,
        on_audit: AuditHook | None = None,
        on_decision: DecisionHook | None = None,
        hub_id: str | None = None,
        pin_digits: int = DEFAULT_PIN_DIGITS,
    ) -> None:
        key_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        pin_digits = check_pin_digits(pin_digits)
        self._on_audit = on_audit
        self.events = EventBus(f"community {db_path.stem}")
        self.timezone = timezone
        self._pending_audit: PendingAudit | None = None
        self.registry = ResidentRegistry.open(db_path, key_path, on_audit=self._audit)
        self.registry.credentials.pin_digits = pin_digits
        self.access_config = AccessConfigStore(self.registry.conn, on_audit=self._audit)
        self.access = AccessService(
            self.registry.conn, self.registry.keys, timezone=timezone, on_decision=on_decision
        )
        # Residents' vehicles, monthly and visitors' vehicles, white and black lists (hub.vehicles).
        migrate(self.registry.conn, vehicles_schema.COMPONENT)
        self.vehicles = VehicleRegistry(self.registry.conn, self.registry.keys, on_audit=self._audit)
        # With a hub id, every decision is journalled (with its outbox row) in the decision's own transaction.
        self.journal: Journal | None = None
        if hub_id is not None:
            migrate(self.registry.conn, journal_schema.COMPONENT)
            self.journal = Journal(self.registry.conn, hub_id, audit_keys=self.registry.keys.audit)
            # An audit log an earlier release wrote (resident ids in clear, unkeyed chain) is converted now,
            # before anything reads or appends (see hub.journal.audit).
            if self.journal.audit.upgrade():
                _LOGGER.warning("the audit log was converted to resident pseudonyms and a keyed hash chain")
            self.access.on_record = self._journal_decision
        self.writer = Writer(f"community-writer-{db_path.stem}")
        # Reads of their own (see read()): committed data only, never the writer's open transaction.
        self.reads = CommunityReads(db_path, self.registry.keys)
        self._read_lock = threading.Lock()
        # An import the hub stopped in the middle of (a crash, a power cut) is taken out before anyone uses the
        # database: imports are all or nothing.
        if self.registry.unfinished_imports():
            removed = remove_unfinished_imports(self, SYSTEM_ACTOR)
            _LOGGER.warning("an import cut off when the hub stopped was undone: %d resident(s) taken out", removed)

    def _journal_decision(self, conn: sqlite3.Connection, door: Door, decision: Decision, now: datetime) -> None:
        assert self.journal is not None
        self.journal.append_in_transaction(
            NewEvent(kind=EventKind.DECISION, door=door.door_id, payload=decision_payload(decision), occurred_at=now)
        )

    def decided(self) -> None:
        """After a decision's COMMIT: wake the uplink (no-op without a journal)."""
        if self.journal is not None:
            self.journal.notify()

    def journal_event(
        self, kind: EventKind, door: str | None, payload: Mapping[str, Any], occurred_at: datetime | None = None
    ) -> None:
        """Blocking, on the writer: journal one event in its own transaction (no-op without a journal)."""
        if self.journal is not None:
            self.call(self.journal.append, kind, door=door, payload=payload, occurred_at=occurred_at)

    def set_place_names(self, names: Mapping[str, str]) -> None:
        """The display names of the community's places (doors, lanes, cameras, controllers) by the id events name
        them with: each event journalled from now on records its place's name (``door_name``), which the uplink
        sends beside the id when the field policy lets it. The hub does not name places itself: whoever does (the
        Home Assistant integration, from its registries) calls this whenever a name changes. Raises
        :class:`~hub.exceptions.InvalidInputError` (and changes nothing) on a name that is not text or too long."""
        if self.journal is not None:
            self.journal.set_place_names(names)

    def _audit(self, actor: str, action: str, details: Mapping[str, object]) -> None:
        pending = self._pending_audit
        if pending is not None:
            pending.add(actor, action, details)
            return
        self._fan_out(actor, action, details)

    def _fan_out(self, actor: str, action: str, details: Mapping[str, object]) -> None:
        if self._on_audit is not None:
            self._on_audit(actor, action, details)
        self.events.publish(ManagerActionEvent(actor=actor, action=action, details=dict(details), at=utc_now()))

    def erase_resident(self, actor: str, resident_id: str) -> ErasureReceipt:
        """Blocking: erase a resident (:mod:`hub.privacy.erasure`) and, in the same transaction, their id from the
        journal (:meth:`hub.journal.Journal.forget_resident_in_transaction`); then the WAL is checkpointed and
        truncated while this community's own readers are held off, so no byte of the person stays in any of the
        database's files."""
        return self.call(self._erase_resident, actor, resident_id)

    def _erase_resident(self, actor: str, resident_id: str) -> ErasureReceipt:
        journal = self.journal

        def also_erase(conn: sqlite3.Connection, who: str) -> dict[str, int]:
            if journal is None:
                return {}
            return {"journal_events": journal.forget_resident_in_transaction(who),
                    "vehicle_events": forget_vehicle_events(conn, who)}

        return self.registry.remove_resident(actor, resident_id, also_erase=also_erase,
                                             readers_paused=lambda: self._read_lock)

    def health_writes(self) -> HealthStore:
        """A device-health store on this community's write connection (health tables migrated there): run its
        writing methods (``record``, ``record_change``, ``acknowledge``, ``generate_due_reports``, ``purge``) through
        :meth:`call` or :meth:`submit`. Read the rates on a store of your own connection (:meth:`HealthStore.open`)."""
        conn = self.registry.conn
        self.call(migrate, conn, health_schema.COMPONENT)
        return HealthStore(conn)

    def outbox_writes(self) -> WriterOutboxWrites:
        """The uplink worker's outbox updates as jobs on this community's writer (the database's one writer)."""
        return WriterOutboxWrites(self)

    def call(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run one registry or access call on the community's writer thread and wait for it (blocking)."""
        return self.writer.call(func, *args, **kwargs)

    def submit(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Queue one registry or access call on the writer thread; await it with ``asyncio.wrap_future``."""
        return self.writer.submit(func, *args, **kwargs)

    @contextmanager
    def deferred_audit(self) -> Iterator[PendingAudit]:
        """Hold the audit calls of every action inside the block instead of publishing them.

        Their subscribers write the audit log and refresh the face gallery, so they must only
        hear of writes that committed. Use it around an outer transaction: after the COMMIT, call ``emit()`` on
        the batch (after the block, so the events are published normally); when the transaction rolled back, do
        nothing and the held calls are dropped. Runs on the writer thread only (inside a job).
        """
        if not self.writer.on_writer_thread:
            raise RuntimeError("deferred_audit runs inside a writer job (Community.call)")
        if self._pending_audit is not None:
            raise RuntimeError("deferred_audit blocks do not nest")
        pending = PendingAudit(self._fan_out)
        self._pending_audit = pending
        try:
            yield pending
        finally:
            self._pending_audit = None

    def import_residents(
        self, actor: str, csv_text: str, photos: Mapping[str, PhotoCheck], *, dry_run: bool = False
    ) -> ImportReport:
        """Import residents from a CSV export and checked photos, all or nothing (see
        :mod:`hub.residents.bulk_import`). Blocking, off the writer: the checks and the writes are small writer
        jobs, so the gates' decisions queued meanwhile go in between."""
        return import_residents(self, actor, csv_text, photos, dry_run=dry_run)

    def pass_on_audit(self, actor: str, action: str, details: Mapping[str, object]) -> None:
        """On the writer, after the COMMIT of the action: hand one held-back audit call to its listeners."""
        self._fan_out(actor, action, details)

    def ensure_door(self, door_id: str, name: str, *, face: bool = False) -> Door:
        """Register a door the first time the hub sees it: it accepts card, PIN and visitor pass (and face when it
        has a gate camera). A door that exists keeps the configuration a manager gave it."""
        return self.call(self._ensure_door, door_id, name, face)

    def _ensure_door(self, door_id: str, name: str, face: bool) -> Door:
        known = {door.door_id: door for door in self.access_config.list_doors()}
        if door_id in known:
            return known[door_id]
        accepts = NON_FACE_CREDENTIALS | ({CredentialKind.FACE} if face else set())
        return self.access_config.put_door(SYSTEM_ACTOR, Door(door_id=door_id, name=name, accepts=accepts))

    def record_action(self, actor: str, action: str, details: Mapping[str, object]) -> None:
        """A manager action that changes no registry row (e.g. the uplink's field policy), for the audit log."""
        self.call(self._audit, actor, action, details)

    def set_face_doors(self, door_ids: set[str]) -> None:
        """Faces are accepted exactly at the gates (doors watched by a camera); every other credential stays."""
        self.call(self._set_face_doors, door_ids)

    def _set_face_doors(self, door_ids: set[str]) -> None:
        for door in self.access_config.list_doors():
            face = door.door_id in door_ids
            if face != (CredentialKind.FACE in door.accepts):
                accepts = door.accepts | {CredentialKind.FACE} if face else door.accepts - {CredentialKind.FACE}
                self.access_config.put_door(SYSTEM_ACTOR, replace(door, accepts=frozenset(accepts)))

    def set_face_assurance(
        self, door_id: str, level: FaceAssurance, windows: Sequence[FaceAssuranceWindow] = (), *,
        actor: str = SYSTEM_ACTOR,
    ) -> Door:
        """What a face may do at a gate's door (see :class:`~hub.access.models.FaceAssurance`); unchanged
        settings are not rewritten (nor audited again)."""
        return self.call(self._set_face_assurance, door_id, level, tuple(windows), actor)

    def _set_face_assurance(
        self, door_id: str, level: FaceAssurance, windows: tuple[FaceAssuranceWindow, ...], actor: str
    ) -> Door:
        door = self.access_config.get_door(door_id)
        if door.face_assurance is level and door.face_windows == windows:
            return door
        return self.access_config.set_face_assurance(actor, door_id, level, windows)

    def summary(self) -> dict[str, Any]:
        """Counts for sensors and diagnostics (no personal data): kept counts, read off the writer."""
        return self.read(self._summary, self.reads)

    @staticmethod
    def _summary(reads: CommunityReads) -> dict[str, Any]:
        return {
            "residents": reads.registry.residents.count_residents(),
            "enrolled_faces": reads.registry.enrolled_face_count(),
            "doors": len(reads.access_config.list_doors()),
        }

    def read(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a read on :attr:`reads` (its own connection, one reader at a time), on the calling thread: what a
        manager browses (the resident list decrypts every name) neither waits for nor delays the writer."""
        with self._read_lock:
            return func(*args, **kwargs)

    def close(self) -> None:
        """Finish the queued writes, close the database and stop the writer thread."""
        with self._read_lock:
            self.reads.close()
        self.writer.close(self.registry.conn.close)


def decision_payload(decision: Decision) -> dict[str, Any]:
    """A decision as the journal keeps it (locally; the field policy decides what goes upstream)."""
    return {
        "result": "granted" if decision.granted else "denied",
        "reason": decision.reason.value,
        "credential_kind": decision.kind.value,
        "resident_id": decision.resident_id,
        # Journalled before the door moves: a granted decision's door was to be released; a release that then
        # fails is journalled as its own ``release`` event.
        "release_requested": decision.granted,
        # At a door that takes faces: the face assurance level that applied (not personal; upstream only if the
        # field policy lists it), and the card or PIN a face was paired with.
        **({"face_assurance": decision.face_assurance.value} if decision.face_assurance is not None else {}),
        **({"second_factor": decision.second_factor.value} if decision.second_factor is not None else {}),
    }


class WriterOutboxWrites:
    """Outbox updates (:class:`hub.uplink.worker.OutboxWrites`) run on a community's writer thread.

    Awaited from the event loop without an executor thread: the writer's future is wrapped. The updates queue
    behind the decisions already submitted, one small transaction each.
    """

    def __init__(self, community: Community) -> None:
        self._community = community
        self._outbox = Outbox(community.registry.conn)

    async def mark_sent(self, seqs: Sequence[int]) -> None:
        await asyncio.wrap_future(self._community.submit(self._outbox.mark_sent, list(seqs)))

    async def mark_failed(self, failures: Mapping[int, str]) -> None:
        await asyncio.wrap_future(self._community.submit(self._outbox.mark_failed, dict(failures)))
