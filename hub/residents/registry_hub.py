"""One object for the integration: every registry store over one connection and key file, plus erasure."""

from __future__ import annotations

import os
import sqlite3
from contextlib import nullcontext
from pathlib import Path

from hub.db import open_database
from hub.privacy.audit import AuditHook
from hub.privacy.erasure import AlsoErase, ErasureReceipt, ReadersPaused, erase_resident, remove_unfinished_import
from hub.privacy.keys import KeyRing
from hub.residents import schema as residents_schema
from hub.residents.consent import ConsentStore, ConsentTemplateStore
from hub.residents.credentials import CredentialStore
from hub.residents.passes import VisitorPassStore
from hub.residents.registry import ResidentStore
from hub.residents.store import Clock, utc_now
from hub.residents.templates import FaceTemplateStore

COMPONENTS = (residents_schema.COMPONENT,)


class ResidentRegistry:
    """The resident registry: ``residents``, ``consents``, ``consent_texts``, ``faces``, ``credentials``,
    ``passes`` and erasure.

    ``on_audit(actor, action, details)`` is called after every manager action commits.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        keys: KeyRing,
        *,
        on_audit: AuditHook | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.conn = conn
        self.keys = keys
        self._on_audit = on_audit
        self._clock = clock
        self.residents = ResidentStore(conn, keys, on_audit=on_audit, clock=clock)
        self.consents = ConsentStore(conn, keys, on_audit=on_audit, clock=clock)
        self.consent_texts = ConsentTemplateStore(conn, keys, on_audit=on_audit, clock=clock)
        self.faces = FaceTemplateStore(conn, keys, on_audit=on_audit, clock=clock)
        self.credentials = CredentialStore(conn, keys, on_audit=on_audit, clock=clock)
        self.passes = VisitorPassStore(conn, keys, on_audit=on_audit, clock=clock)

    @classmethod
    def open(
        cls,
        db_path: str | os.PathLike[str],
        key_path: str | os.PathLike[str],
        *,
        on_audit: AuditHook | None = None,
        clock: Clock = utc_now,
    ) -> ResidentRegistry:
        """Open the database (residents and access components migrated) and the key file (created if absent)."""
        from hub.access import schema  # noqa: F401  (registers the access tables' migrations)

        keys = KeyRing.load_or_create(key_path)
        conn = open_database(Path(db_path), components=[*COMPONENTS, "access"])
        return cls(conn, keys, on_audit=on_audit, clock=clock)

    def remove_resident(self, actor: str, resident_id: str, *, also_erase: AlsoErase | None = None,
                        readers_paused: ReadersPaused = nullcontext) -> ErasureReceipt:
        """Erase a resident completely and return the receipt (see :mod:`hub.privacy.erasure`; the community
        erases the journal's copies in the same transaction, :meth:`hub.community.Community.erase_resident`)."""
        return erase_resident(self.conn, self.keys, actor, resident_id, now=self._clock(), on_audit=self._on_audit,
                              also_erase=also_erase, readers_paused=readers_paused)

    def remove_unfinished_import(self, actor: str, import_id: str, *, limit: int) -> int:
        """One small transaction of taking an unfinished import's residents out (see
        :func:`hub.privacy.erasure.remove_unfinished_import`); 0 once the import is gone."""
        return remove_unfinished_import(self.conn, actor, import_id, limit=limit, now=self._clock(),
                                        on_audit=self._on_audit)

    def unfinished_imports(self) -> list[str]:
        """Imports that started writing and never finished (a failure, or the hub stopped half-way)."""
        return [r[0] for r in self.conn.execute("SELECT import_id FROM resident_imports ORDER BY started_at")]

    def enrolled_face_count(self) -> int:
        """How many people have a face template enrolled."""
        return self.faces.enrolled_face_count()
