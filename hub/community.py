"""One community's hub state behind one lock: resident registry, access configuration and decisions.

The stores share one SQLite connection, and Home Assistant calls them from executor threads; every call goes
through :meth:`Community.call`, which holds the community's lock, so two threads never interleave transactions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import tzinfo
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from .access.config import AccessConfigStore
from .access.models import CredentialKind, Door
from .access.service import AccessService, DecisionHook
from .privacy.audit import AuditHook
from .residents.bulk_import import ImportReport, PhotoCheck, import_residents_deferred
from .residents.registry_hub import ResidentRegistry

P = ParamSpec("P")
T = TypeVar("T")

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

    def emit(self) -> int:
        """Pass every held call on to the audit listeners, in order; call this only after the COMMIT."""
        calls, self.calls = self.calls, []
        for actor, action, details in calls:
            self._sink(actor, action, details)
        return len(calls)


class Community:
    """The community's registry and access decisions, safe to call from any thread."""

    def __init__(
        self,
        db_path: Path,
        key_path: Path,
        *,
        timezone: tzinfo,
        on_audit: AuditHook | None = None,
        on_decision: DecisionHook | None = None,
    ) -> None:
        self._lock = threading.RLock()
        key_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._on_audit = on_audit
        self.audit_listeners: list[AuditHook] = []
        self.timezone = timezone
        self._pending_audit: PendingAudit | None = None
        self.registry = ResidentRegistry.open(db_path, key_path, on_audit=self._audit)
        self.access_config = AccessConfigStore(self.registry.conn, on_audit=self._audit)
        self.access = AccessService(
            self.registry.conn, self.registry.keys, timezone=timezone, on_decision=on_decision
        )

    def _audit(self, actor: str, action: str, details: Mapping[str, object]) -> None:
        pending = self._pending_audit
        if pending is not None:
            pending.add(actor, action, details)
            return
        self._fan_out(actor, action, details)

    def _fan_out(self, actor: str, action: str, details: Mapping[str, object]) -> None:
        if self._on_audit is not None:
            self._on_audit(actor, action, details)
        for listener in self.audit_listeners:
            listener(actor, action, details)

    def call(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run one registry or access call while holding the community's lock."""
        with self._lock:
            return func(*args, **kwargs)

    @contextmanager
    def deferred_audit(self) -> Iterator[PendingAudit]:
        """Hold the audit calls of every action inside the block instead of passing them to the listeners.

        The listeners write the audit log in another database and refresh the face gallery, so they must only
        hear of writes that committed. Use it around an outer transaction: after the COMMIT, call ``emit()`` on
        the batch (after the block, so the listeners run normally); when the transaction rolled back, do
        nothing and the held calls are dropped. Holds the community's lock for the whole block.
        """
        with self._lock:
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
        :mod:`hub.residents.bulk_import`). The lock is held while checking and writing; the audit listeners hear
        of the writes after the commit, with the lock released so the gates' decisions go on meanwhile."""
        with self._lock:
            report, batch = import_residents_deferred(self, actor, csv_text, photos, dry_run=dry_run)
        if batch is not None:
            batch.emit()
        return report

    def ensure_door(self, door_id: str, name: str, *, face: bool = False) -> Door:
        """Register a door the first time the hub sees it: it accepts card, PIN and visitor pass (and face when it
        has a gate camera). A door that exists keeps the configuration a manager gave it."""
        with self._lock:
            known = {door.door_id: door for door in self.access_config.list_doors()}
            if door_id in known:
                return known[door_id]
            accepts = NON_FACE_CREDENTIALS | ({CredentialKind.FACE} if face else set())
            return self.access_config.put_door(SYSTEM_ACTOR, Door(door_id=door_id, name=name, accepts=accepts))

    def record_action(self, actor: str, action: str, details: Mapping[str, object]) -> None:
        """A manager action that changes no registry row (e.g. the uplink's field policy), for the audit log."""
        with self._lock:
            self._audit(actor, action, details)

    def set_face_doors(self, door_ids: set[str]) -> None:
        """Faces are accepted exactly at the gates (doors watched by a camera); every other credential stays."""
        with self._lock:
            for door in self.access_config.list_doors():
                face = door.door_id in door_ids
                if face != (CredentialKind.FACE in door.accepts):
                    accepts = door.accepts | {CredentialKind.FACE} if face else door.accepts - {CredentialKind.FACE}
                    self.access_config.put_door(SYSTEM_ACTOR, replace(door, accepts=frozenset(accepts)))

    def summary(self) -> dict[str, Any]:
        """Counts for sensors and diagnostics (no personal data)."""
        with self._lock:
            return {
                "residents": len(self.registry.residents.list_residents()),
                "enrolled_faces": self.registry.enrolled_face_count(),
                "doors": len(self.access_config.list_doors()),
            }

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self.registry.conn.close()
