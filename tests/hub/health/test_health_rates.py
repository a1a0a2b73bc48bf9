"""Online rates from status-change spans: day and week boundaries in Asia/Shanghai, repeats, never-online devices."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.exceptions import InvalidInputError, NotFoundError
from hub.health import DeviceKind, HealthStore, day_window, monday_of, week_window

SHANGHAI = ZoneInfo("Asia/Shanghai")
CLOCK = datetime(2027, 1, 1, tzinfo=UTC)
WEEK = 7 * 86400
HOUR = 3600


def cst(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def store(tmp_path: Path) -> HealthStore:
    return HealthStore.open(tmp_path / "hub.db", clock=lambda: CLOCK)


def test_windows_are_local_midnights_in_utc() -> None:
    assert day_window(date(2026, 11, 3), "Asia/Shanghai") == (
        datetime(2026, 11, 2, 16, tzinfo=UTC),
        datetime(2026, 11, 3, 16, tzinfo=UTC),
    )
    assert week_window(date(2026, 11, 2), SHANGHAI) == (
        datetime(2026, 11, 1, 16, tzinfo=UTC),
        datetime(2026, 11, 8, 16, tzinfo=UTC),
    )
    # Sunday 23:00 local is still the week of the Monday before; Monday 00:00 local starts the next one.
    assert monday_of(cst(11, 8, 23), SHANGHAI) == date(2026, 11, 2)
    assert monday_of(cst(11, 9, 0), SHANGHAI) == date(2026, 11, 9)
    with pytest.raises(InvalidInputError):
        week_window(date(2026, 11, 3), SHANGHAI)


def test_span_crossing_local_midnight_is_split_between_days(store: HealthStore) -> None:
    assert store.record("door-1", DeviceKind.DOOR_CONTROLLER, True, cst(11, 2, 20))
    assert store.record("door-1", DeviceKind.DOOR_CONTROLLER, False, cst(11, 3, 2))
    assert store.record("door-1", DeviceKind.DOOR_CONTROLLER, True, cst(11, 3, 4))

    first = store.day_rates(date(2026, 11, 2), "Asia/Shanghai")
    (door,) = first.devices
    assert door.observed_seconds == 4 * HOUR  # observed only since the first record, 20:00 local
    assert door.online_seconds == 4 * HOUR
    assert door.rate == 1.0

    second = store.day_rates(date(2026, 11, 3), "Asia/Shanghai")
    (door,) = second.devices
    assert door.observed_seconds == 24 * HOUR
    assert door.online_seconds == 22 * HOUR
    assert door.rate == pytest.approx(22 / 24)
    assert second.community.rate == pytest.approx(22 / 24)


def test_offline_span_crossing_the_week_boundary(store: HealthStore) -> None:
    store.record("cam-1", "camera", True, cst(11, 2, 0))
    store.record("cam-1", "camera", False, cst(11, 8, 22))  # Sunday 22:00 local
    store.record("cam-1", "camera", True, cst(11, 9, 3))  # Monday 03:00 local

    week1 = store.week_rates(date(2026, 11, 2), SHANGHAI)
    (cam,) = week1.devices
    assert cam.observed_seconds == WEEK
    assert cam.offline_seconds == 2 * HOUR
    week2 = store.week_rates(date(2026, 11, 9), SHANGHAI)
    (cam,) = week2.devices
    assert cam.observed_seconds == WEEK
    assert cam.offline_seconds == 3 * HOUR
    assert cam.rate == pytest.approx(1 - 3 * HOUR / WEEK)


def test_device_never_online_has_rate_zero_and_counts_in_community(store: HealthStore) -> None:
    store.record("door-1", "door_controller", True, cst(11, 2))
    store.record("cam-dead", "camera", False, cst(11, 2))
    summary = store.week_rates(date(2026, 11, 2), SHANGHAI)
    rates = {d.device_id: d.rate for d in summary.devices}
    assert rates == {"cam-dead": 0.0, "door-1": 1.0}
    assert summary.community.rate == pytest.approx(0.5)
    assert store.device_rate("cam-dead", *week_window(date(2026, 11, 2), SHANGHAI)).online_seconds == 0.0


def test_repeated_same_state_is_ignored(store: HealthStore) -> None:
    assert store.record("uplink", "uplink", True, cst(11, 2, 0)) is True
    assert store.record("uplink", "uplink", True, cst(11, 2, 5)) is False
    assert store.record("uplink", "uplink", False, cst(11, 2, 6)) is True
    assert store.record("uplink", "uplink", False, cst(11, 2, 7)) is False
    assert store.record("uplink", "uplink", False, cst(11, 2, 6, 30)) is False  # a late repeat too
    assert store.record("uplink", "uplink", True, cst(11, 2, 8)) is True
    count = store.connection.execute("SELECT COUNT(*) FROM health_spans").fetchone()[0]
    assert count == 3
    status = store.status("uplink")
    assert status.online is True
    assert status.since == cst(11, 2, 8)
    rate = store.device_rate("uplink", *day_window(date(2026, 11, 2), SHANGHAI))
    assert rate.offline_seconds == 2 * HOUR


def test_community_rate_is_time_weighted_mean_given_for_information(store: HealthStore) -> None:
    store.record("door-1", "door_controller", True, cst(11, 2))
    store.record("door-new", "door_controller", False, cst(11, 8))  # watched one day (Sun), never online
    summary = store.week_rates(date(2026, 11, 2), SHANGHAI)
    assert summary.community.devices == 2
    assert summary.community.observed_seconds == 8 * 86400
    assert summary.community.rate == pytest.approx(7 / 8)
    assert summary.community.mean_device_rate == pytest.approx(0.5)


def test_window_is_clipped_to_now(store: HealthStore) -> None:
    store.record("door-1", "door_controller", True, cst(11, 2))
    store.record("door-1", "door_controller", False, cst(11, 3))
    summary = store.week_rates(date(2026, 11, 2), SHANGHAI, now=cst(11, 3, 6))
    (door,) = summary.devices
    assert door.observed_seconds == 30 * HOUR
    assert door.online_seconds == 24 * HOUR
    # Before the first record there is nothing observed.
    empty = store.rates(cst(10, 1), cst(10, 2))
    assert empty.devices == []
    assert empty.community.rate is None
    assert store.device_rate("door-1", cst(10, 1), cst(10, 2)).rate is None


def test_unknown_device_and_bad_windows(store: HealthStore) -> None:
    with pytest.raises(NotFoundError):
        store.device_rate("ghost", cst(11, 1), cst(11, 2))
    store.record("door-1", "door_controller", True, cst(11, 2))
    with pytest.raises(InvalidInputError):
        store.rates(cst(11, 2), cst(11, 1))
    with pytest.raises(InvalidInputError):
        store.rates(datetime(2026, 11, 1), cst(11, 2))  # naive
    with pytest.raises(InvalidInputError):
        store.day_rates(date(2026, 11, 2), "Mars/Olympus_Mons")


def test_kind_follows_latest_record(store: HealthStore) -> None:
    store.record("dev-1", "camera", True, cst(11, 2))
    assert store.record("dev-1", "door_controller", True, cst(11, 2, 1)) is False
    assert store.status("dev-1").kind == "door_controller"
    assert [s.device_id for s in store.statuses()] == ["dev-1"]


def test_day_rates_use_exact_seconds_without_sampling(store: HealthStore) -> None:
    start = cst(11, 4)
    store.record("cam-1", "camera", True, start)
    store.record("cam-1", "camera", False, start + timedelta(hours=1, seconds=7, microseconds=250_000))
    store.record("cam-1", "camera", True, start + timedelta(hours=1, seconds=19))
    (cam,) = store.day_rates(date(2026, 11, 4), SHANGHAI).devices
    assert cam.offline_seconds == pytest.approx(11.75)
