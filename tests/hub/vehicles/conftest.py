"""Fixtures for the vehicle tests: a community on a real SQLite file (journal on), its vehicle service with a
recording barrier, and the service's clock (helpers in vehicle_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from vehicle_helpers import Clock, RecordingBarrier, make_service

from hub.community import Community
from hub.vehicles.service import VehicleService


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "community.db"


@pytest.fixture
def community(db: Path, tmp_path: Path) -> Iterator[Community]:
    c = Community(db, tmp_path / "keys" / "hub.key", timezone=ZoneInfo("Asia/Shanghai"), hub_id="hub-test")
    c.call(c.registry.residents.add_resident, "manager", "r-001", "Li Wei")
    yield c
    c.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def barrier() -> RecordingBarrier:
    return RecordingBarrier()


@pytest.fixture
def service(community: Community, barrier: RecordingBarrier, clock: Clock) -> VehicleService:
    return make_service(community, barrier, clock)
