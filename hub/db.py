"""The community's SQLite database: one file, WAL, ``synchronous=FULL``, versioned migrations per component.

Each component (residents, journal, health, ...) owns its tables and registers an ordered list of migrations
under its own name; :func:`open_database` applies the ones a file has not seen yet, each in its own transaction,
and records them in ``schema_migrations``.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

Migration = Callable[[sqlite3.Connection], None] | str

_MIGRATIONS: dict[str, Sequence[Migration]] = {}


def register_migrations(component: str, migrations: Sequence[Migration]) -> None:
    """Declare a component's migrations, oldest first. Never reorder or edit a released one: append."""
    _MIGRATIONS[component] = migrations


def _owner_only(path: Path) -> None:
    """The database holds personal data: mode 0600, made so before SQLite first opens it (SQLite gives its -wal
    and -shm files the database file's mode). A file made by an earlier release is tightened too.

    An existing file is never opened here: closing any descriptor of a file drops every POSIX lock this process
    holds on it, including those of a connection already open on the database.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if stat.S_IMODE(path.stat().st_mode) != 0o600:
            path.chmod(0o600)
    else:
        os.close(fd)  # a new, empty file: nothing has it open yet


def open_database(path: str | Path, *, components: Sequence[str] | None = None) -> sqlite3.Connection:
    """Open (creating if needed) the database at ``path`` and bring the named components up to date.

    The connection is in autocommit mode (``isolation_level=None``): callers open transactions explicitly with
    ``BEGIN IMMEDIATE`` so that a journal row and its outbox row land together or not at all.
    """
    _owner_only(Path(path))
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    # Deleted and overwritten content is zeroed in the page (and freed pages are zeroed), on every connection:
    # an erasure must leave nothing behind, and neither may an earlier edit of the same person's rows.
    conn.execute("PRAGMA secure_delete=ON")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " component TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL DEFAULT"
        " (strftime('%Y-%m-%dT%H:%M:%fZ','now')), PRIMARY KEY (component, version))"
    )
    for component in components if components is not None else sorted(_MIGRATIONS):
        migrate(conn, component)
    return conn


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    """Whether the database has table ``name`` (components migrate independently: one may not be there)."""
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def checkpoint_truncate(conn: sqlite3.Connection, *, attempts: int = 3) -> bool:
    """Copy every WAL frame into the database file and truncate the WAL to zero bytes (``wal_checkpoint(TRUNCATE)``).

    SQLite waits (the connection's busy timeout) for readers on other connections to finish what they are
    reading; the caller keeps its own readers out meanwhile. Returns ``False`` when a reader still held an older
    snapshot after ``attempts`` tries, so the WAL could not be reset (old page images may remain there until the
    next checkpoint)."""
    for _ in range(attempts):
        busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if int(busy) == 0:
            return True
    return False


def migrate(conn: sqlite3.Connection, component: str) -> int:
    """Apply the component's pending migrations; returns the schema version it is at afterwards."""
    migrations = _MIGRATIONS[component]
    row = conn.execute(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?", (component,)
    ).fetchone()
    current = int(row[0])
    if current > len(migrations):
        raise RuntimeError(
            f"database has {component} schema version {current}, newer than this software ({len(migrations)})"
        )
    for version in range(current + 1, len(migrations) + 1):
        step = migrations[version - 1]
        conn.execute("BEGIN IMMEDIATE")
        try:
            if isinstance(step, str):
                for statement in step.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            else:
                step(conn)
            conn.execute(
                "INSERT INTO schema_migrations (component, version) VALUES (?, ?)", (component, version)
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return len(migrations)
