"""Fixtures for the resident registry tests: a real database file and key file under tmp_path, a settable clock."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.residents.registry_hub import ResidentRegistry

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    folder = tmp_path / "secrets"
    folder.mkdir()
    return folder / "hub.key"


@pytest.fixture
def audit_log() -> list[tuple[str, str, dict[str, object]]]:
    return []


@pytest.fixture
def registry(
    tmp_path: Path, key_path: Path, clock: FakeClock, audit_log: list[tuple[str, str, dict[str, object]]]
) -> Iterator[ResidentRegistry]:
    def hook(actor: str, action: str, details: Mapping[str, object]) -> None:
        audit_log.append((actor, action, dict(details)))

    reg = ResidentRegistry.open(tmp_path / "hub.db", key_path, on_audit=hook, clock=clock)
    yield reg
    reg.conn.close()


def dump(conn: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table: compare before and after to prove nothing changed."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {t: [tuple(row) for row in conn.execute(f'SELECT * FROM "{t}" ORDER BY 1')] for t in tables}


@pytest.fixture
def snapshot() -> Callable[[sqlite3.Connection], dict[str, list[tuple[object, ...]]]]:
    return dump


@pytest.fixture
def doors(registry: ResidentRegistry) -> list[str]:
    """Doors the visitor-pass tests issue passes for (passes may only name configured doors)."""
    from hub.access.config import AccessConfigStore
    from hub.access.models import CredentialKind, Door

    store = AccessConfigStore(registry.conn)
    for door_id in ("gate-n-in", "d1"):
        store.put_door("installer", Door(door_id, door_id, accepts=frozenset({CredentialKind.CARD})))
    return ["gate-n-in", "d1"]
