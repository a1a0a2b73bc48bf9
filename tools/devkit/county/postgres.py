"""A throwaway PostgreSQL cluster for the county store's tests: Debian's ``postgresql`` binaries (``initdb``,
``pg_ctl``), a data directory in a temporary folder, listening on 127.0.0.1 only (a free port) and on a Unix
socket in that folder, password authentication over TCP (SCRAM). PostgreSQL refuses to run as root: as root, the
server runs as an unprivileged user (``nobody`` unless ``COMMUNITY_HUB_PG_USER`` names another) that owns the folder.

PostgreSQL is optional here (the county consumer stores in SQLite by default): install it with
``apt-get install postgresql`` to run the PostgreSQL cases, which skip without it.
"""

from __future__ import annotations

import os
import pwd
import random
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

import psycopg
from psycopg import sql

USER_ENV = "COMMUNITY_HUB_PG_USER"
BIN_ENV = "COMMUNITY_HUB_PG_BIN"
SUPERUSER = "postgres"


def postgres_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` ($COMMUNITY_HUB_PG_BIN, Debian's newest
    /usr/lib/postgresql/N/bin, or the PATH), or None when PostgreSQL is not installed."""
    candidates: list[Path] = []
    if os.environ.get(BIN_ENV):
        candidates.append(Path(os.environ[BIN_ENV]))
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = [p for p in debian.iterdir() if p.name.isdigit()]
        candidates.extend(p / "bin" for p in sorted(versions, key=lambda p: int(p.name), reverse=True))
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).parent)
    return next((c for c in candidates if os.access(c / "initdb", os.X_OK) and os.access(c / "pg_ctl", os.X_OK)),
                None)


class PostgresCluster:
    """One cluster in a folder of its own; :meth:`start` makes it (initdb) the first time, :meth:`stop` stops it
    (``-m immediate``: what is committed is on disk), :meth:`close` stops it and removes the folder."""

    def __init__(self, bin_dir: Path, *, password: str, port: int | None = None) -> None:
        self.bin_dir = bin_dir
        self.password = password
        self.port = port
        self.folder = Path(tempfile.mkdtemp(prefix="county-pg-"))
        self.data = self.folder / "data"
        self.socket_dir = self.folder / "sock"
        self.log = self.folder / "postgres.log"
        self._user = (os.environ.get(USER_ENV) or "nobody") if os.geteuid() == 0 else None
        self._databases = 0

    def __enter__(self) -> PostgresCluster:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def _run(self, *args: str, timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", self._user, "--"] if self._user else []
        return subprocess.run([*prefix, *args], cwd=self.folder, capture_output=True, text=True, timeout=timeout_s,
                              stdin=subprocess.DEVNULL, check=False)

    def _initdb(self) -> None:
        self.socket_dir.mkdir(exist_ok=True)
        pwfile = self.folder / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        if self._user:
            entry = pwd.getpwnam(self._user)
            for path in (self.folder, self.socket_dir, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        done = self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "-E", "UTF8",
                         "--no-locale", "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
                         "--no-sync")
        pwfile.unlink()
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}): {(done.stderr or done.stdout)[-2000:]}")

    def start(self, timeout_s: float = 60) -> None:
        """Start the server (making the cluster first) and wait until it accepts connections."""
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        for attempt in range(5):
            port = self.port or random.randint(20000, 60999)
            options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={self.socket_dir} "
                       "-c max_connections=40")
            done = self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                             "-t", str(int(timeout_s)), "-o", options, "start", timeout_s=timeout_s + 10)
            if done.returncode == 0:
                self.port = port
                return
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            if self.port is None and "could not bind" in log and attempt < 4:
                continue  # the random port was taken: another one
            raise RuntimeError(f"PostgreSQL did not start ({done.returncode}): {done.stderr[-1000:]}{log[-2000:]}")

    def url(self, dbname: str = SUPERUSER) -> str:
        """A ``postgresql://`` URL of database ``dbname`` (the superuser's password in it)."""
        assert self.port is not None
        return f"postgresql://{SUPERUSER}:{quote(self.password, safe='')}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, prefix: str = "county") -> str:
        """A new empty database; its URL."""
        self._databases += 1
        name = f"{prefix}_{self._databases}"
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def stop(self) -> None:
        """Stop the server at once (``pg_ctl stop -m immediate``): like a crash, the committed data stays."""
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def close(self) -> None:
        """Stop the server and remove the cluster."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
