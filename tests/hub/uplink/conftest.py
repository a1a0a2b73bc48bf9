"""Fixtures for the uplink tests: a journal database file, secrets, a running reference receiver (which knows the
test hub and its secret, and opens its read API to the read token)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devkit.receiver import ReferenceReceiver
from hub.journal import Journal, open_journal_database
from hub.privacy.keys import KeyRing
from hub.uplink import FieldPolicy, Secret

# The community's audit keys, as the hub derives them from its key file.
AUDIT_KEYS = KeyRing.from_master_key(bytes(range(32))).audit

HUB_ID = "hub-test-0001"


@pytest.fixture
def hub_id() -> str:
    """The hub's id in these tests."""
    return HUB_ID


@pytest.fixture
def secret() -> Secret:
    """The test hub's own secret, known to it and to the receiver."""
    return Secret("test-shared-secret-0123456789abcdef")


@pytest.fixture
def read_token() -> Secret:
    """The bearer token of the receiver's read API."""
    return Secret("test-read-token-0123456789abcdef")


@pytest.fixture
def policy() -> FieldPolicy:
    """The default field policy with a test community key."""
    return FieldPolicy(Secret("community-key-for-tests-0123456789"))


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    """Where the hub's database lives."""
    return tmp_path / "hub.db"


@pytest.fixture
def journal(journal_path: Path) -> Journal:
    """A journal on a real SQLite file."""
    return Journal(open_journal_database(journal_path), HUB_ID, audit_keys=AUDIT_KEYS)


@pytest.fixture
async def receiver(tmp_path: Path, secret: Secret, read_token: Secret,
                   socket_enabled: None) -> AsyncIterator[ReferenceReceiver]:
    """A reference receiver on 127.0.0.1, port 0, accepting the test hub."""
    running = ReferenceReceiver(tmp_path / "county.db", {HUB_ID: secret}, read_token=read_token)
    await running.start()
    yield running
    await running.stop()
