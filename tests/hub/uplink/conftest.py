"""Fixtures for the uplink tests: a journal database file, secrets, a running reference receiver (which knows the
test hub and its secret, and opens its read API to the read token); for the MQTT profile a Mosquitto with its
PKI; for the county consumer's store, each store test on SQLite and on a throwaway PostgreSQL cluster."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from devkit.county.broker import Mosquitto, Pki, mosquitto_binary
from devkit.county.postgres import PostgresCluster, postgres_bin_dir
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


@pytest.fixture(scope="module")
def mosquitto_bin() -> str:
    """Debian's mosquitto; without it the tests skip, except under CI, where that is a failure."""
    binary = mosquitto_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but mosquitto is not installed (scripts/system-packages.sh installs it)")
        pytest.skip("mosquitto is not installed: apt-get install mosquitto (make system-packages)")
    return binary


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    """A CA, the broker's certificate, a CRL."""
    return Pki(tmp_path / "pki")


@pytest.fixture
def broker(mosquitto_bin: str, tmp_path: Path, pki: Pki, socket_enabled: None) -> Iterator[Mosquitto]:
    """A running broker, killed at the end."""
    running = Mosquitto(mosquitto_bin, tmp_path / "broker", pki)
    running.start()
    yield running
    running.kill()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL cluster for the session (Debian's postgresql, in a temporary folder, on 127.0.0.1
    and a free port, with a password that a URL must quote), stopped and removed at the end whatever happened.
    PostgreSQL is optional, unlike mosquitto: without it these cases skip, under CI too."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed; it is optional (the county store defaults to SQLite): "
                    "apt-get install postgresql to run the county store's PostgreSQL cases")
    cluster = PostgresCluster(bin_dir, password=f"pw:{secrets.token_hex(8)}@/?")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """A new empty database of the session's cluster (its URL holds the password)."""
    return postgres_cluster.create_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def county_db(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a county store test stores: a SQLite file, or a new PostgreSQL database (skipped without one)."""
    if request.param == "sqlite":
        return tmp_path / "county.db"
    url: str = request.getfixturevalue("postgres_url")
    return url
