"""Long-offline detection for repair issues, retention purge, and invalid input that must change nothing."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.exceptions import InvalidInputError
from hub.health import HealthStore

SHANGHAI = ZoneInfo("Asia/Shanghai")
CLOCK = datetime(2027, 1, 1, tzinfo=UTC)
HOUR = 3600


def cst(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def store(tmp_path: Path) -> HealthStore:
    return HealthStore.open(tmp_path / "hub.db", clock=lambda: CLOCK)


def _dump(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for table in ("health_devices", "health_spans", "health_reports"):
        rows += [(table, *tuple(r)) for r in conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()]
    return rows


def test_long_offline_lists_devices_past_the_threshold(store: HealthStore) -> None:
    now = cst(11, 10, 12)
    store.record("door-1", "door_controller", True, cst(11, 1))
    store.record("door-1", "door_controller", False, now - timedelta(hours=3))
    store.record("cam-1", "camera", False, now - timedelta(minutes=30))
    store.record("uplink", "uplink", False, cst(11, 9))
    store.record("uplink", "uplink", True, now - timedelta(hours=1))
    store.record("cam-2", "camera", False, now - timedelta(hours=1))  # exactly at the threshold

    assert store.long_offline(now, timedelta(hours=1)) == [
        ("door-1", now - timedelta(hours=3)),
        ("cam-2", now - timedelta(hours=1)),
    ]
    assert store.long_offline(now, timedelta(hours=4)) == []
    # Repeated offline samples do not reset "offline since".
    store.record("door-1", "door_controller", False, now)
    assert store.long_offline(now, timedelta(hours=2)) == [("door-1", now - timedelta(hours=3))]
    with pytest.raises(InvalidInputError):
        store.long_offline(datetime(2026, 11, 10), timedelta(hours=1))
    with pytest.raises(InvalidInputError):
        store.long_offline(now, timedelta(hours=-1))


def test_purge_removes_old_spans_and_reports(store: HealthStore) -> None:
    store.record("door-1", "door_controller", True, cst(10, 1))
    store.record("door-1", "door_controller", False, cst(10, 5))
    store.record("door-1", "door_controller", True, cst(10, 6))  # open span straddles the cutoff
    store.record("cam-1", "camera", True, cst(10, 1))
    store.record("cam-1", "camera", False, cst(10, 20))
    store.record("cam-1", "camera", True, cst(11, 3))
    for monday in (date(2026, 10, 5), date(2026, 10, 12), date(2026, 10, 19), date(2026, 10, 26)):
        store.generate_weekly_report(monday, SHANGHAI)

    result = store.purge(cst(10, 19))
    # door-1's Oct 1 and Oct 5 spans ended before; door-1's open span and cam-1's Oct 1..20 span straddle.
    assert result.spans_deleted == 2
    assert result.spans_trimmed == 2
    assert result.reports_deleted == 2  # the weeks of Oct 5 and Oct 12 ended by Oct 19 00:00
    assert [r.week_start for r in store.latest_reports(10)] == [date(2026, 10, 26), date(2026, 10, 19)]
    first = store.connection.execute("SELECT MIN(start_at) FROM health_spans").fetchone()[0]
    assert first == "2026-10-18T16:00:00.000000Z"
    # Nothing is observed before the cutoff any more; current states are kept.
    assert store.rates(cst(10, 1), cst(10, 19)).devices == []
    assert store.status("door-1").online is True
    assert store.status("door-1").since == cst(10, 6)
    # Purged weeks are not "due" again: due weeks start from the oldest kept span.
    assert store.due_reports(cst(11, 2), SHANGHAI) == []
    # And rates after the cutoff are unchanged.
    (cam,) = [d for d in store.week_rates(date(2026, 10, 19), SHANGHAI).devices if d.device_id == "cam-1"]
    assert cam.offline_seconds == pytest.approx(6 * 86400)  # Tue 10-20 00:00 to Mon 10-26 00:00


def test_purge_keeps_long_offline_since(store: HealthStore) -> None:
    store.record("cam-1", "camera", False, cst(10, 1))
    store.purge(cst(10, 15))
    assert store.long_offline(cst(11, 1), timedelta(days=7)) == [("cam-1", cst(10, 1))]


def test_purge_refuses_future_and_naive_dates(store: HealthStore) -> None:
    store.record("cam-1", "camera", True, cst(10, 1))
    before = _dump(store.connection)
    with pytest.raises(InvalidInputError):
        store.purge(CLOCK + timedelta(seconds=1))
    with pytest.raises(InvalidInputError):
        store.purge(datetime(2026, 10, 15))
    assert _dump(store.connection) == before


@pytest.mark.parametrize(
    ("device_id", "kind", "online", "at"),
    [
        ("", "camera", True, cst(11, 2)),
        ("   ", "camera", True, cst(11, 2)),
        ("cam-1", "", True, cst(11, 2)),
        ("cam-1", "camera", 1, cst(11, 2)),
        ("cam-1", "camera", False, datetime(2026, 11, 2, 12)),  # naive
        ("cam-1", "camera", False, "2026-11-02T12:00:00+08:00"),
        ("cam-1", "door_controller", False, cst(11, 1, 23)),  # a change dated before the current state began
        (None, "camera", True, cst(11, 2)),
    ],
)
def test_invalid_record_changes_nothing(
    store: HealthStore, device_id: object, kind: object, online: object, at: object
) -> None:
    store.record("cam-1", "camera", True, cst(11, 2))
    store.generate_weekly_report(date(2026, 11, 2), SHANGHAI)
    before = _dump(store.connection)
    with pytest.raises(InvalidInputError):
        store.record(device_id, kind, online, at)  # type: ignore[arg-type]
    assert _dump(store.connection) == before
    assert store.status("cam-1").kind == "camera"
    # The connection is usable afterwards (no transaction left open).
    assert store.record("cam-1", "camera", False, cst(11, 3)) is True


def test_invalid_report_input_changes_nothing(store: HealthStore) -> None:
    store.record("cam-1", "camera", True, cst(11, 2))
    before = _dump(store.connection)
    for call in (
        lambda: store.generate_weekly_report(date(2026, 11, 2), SHANGHAI, 101),
        lambda: store.generate_weekly_report(date(2026, 11, 2), SHANGHAI, -1),
        lambda: store.generate_weekly_report(date(2026, 11, 4), SHANGHAI),
        lambda: store.generate_weekly_report(date(2026, 11, 2), SHANGHAI, now=datetime(2027, 1, 1)),
        lambda: store.generate_weekly_report(date(2026, 11, 2), ""),
    ):
        with pytest.raises(InvalidInputError):
            call()
    assert _dump(store.connection) == before
