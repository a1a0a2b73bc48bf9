"""Weekly reports: contents, pass/fail against the target, kept and listed, due weeks after a gap."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.exceptions import InvalidInputError, NotFoundError
from hub.health import HealthStore, WeeklyReport

SHANGHAI = ZoneInfo("Asia/Shanghai")
CLOCK = datetime(2027, 1, 1, tzinfo=UTC)
WEEK = 7 * 86400
HOUR = 3600
MONDAY = date(2026, 11, 2)


def cst(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def store(tmp_path: Path) -> HealthStore:
    return HealthStore.open(tmp_path / "hub.db", clock=lambda: CLOCK)


def _populate(store: HealthStore) -> None:
    """Three devices watched from before the week; door-1 down 2 h on Tuesday, uplink down 30 min on Friday."""
    for device, kind in (("door-1", "door_controller"), ("cam-1", "camera"), ("uplink", "uplink")):
        store.record(device, kind, True, cst(10, 30))
    store.record("door-1", "door_controller", False, cst(11, 3, 9))
    store.record("door-1", "door_controller", True, cst(11, 3, 11))
    store.record("uplink", "uplink", False, cst(11, 6, 23, 45))
    store.record("uplink", "uplink", True, cst(11, 7, 0, 15))


def test_report_lists_failures_rates_and_passes_default_target(store: HealthStore) -> None:
    _populate(store)
    report = store.generate_weekly_report(MONDAY, "Asia/Shanghai")
    assert report.target_percent == 98.0
    assert report.start == datetime(2026, 11, 1, 16, tzinfo=UTC)
    assert report.end == datetime(2026, 11, 8, 16, tzinfo=UTC)
    assert report.failed_devices == ["door-1", "uplink"]
    first, second = report.outages
    assert (first.device_id, first.start, first.end, first.seconds) == ("door-1", cst(11, 3, 9), cst(11, 3, 11), 7200)
    assert (second.device_id, second.start, second.seconds) == ("uplink", cst(11, 6, 23, 45), 1800)
    assert not first.began_before_week and not first.continues_after_week
    devices = {d.device_id: d for d in report.devices}
    assert devices["cam-1"].online_percent == 100.0
    assert devices["door-1"].online_percent == pytest.approx(100 * (1 - 7200 / WEEK))
    assert devices["door-1"].outages == 1
    assert all(d.meets_target for d in report.devices)
    assert report.observed_seconds == 3 * WEEK
    assert report.online_percent == pytest.approx(100 * (1 - 9000 / (3 * WEEK)))
    assert report.passed is True
    text = report.to_markdown()
    assert "Result: PASS" in text
    assert "door-1" in text and "Tue 2026-11-03 09:00" in text and "2h 00m" in text


def test_report_fails_against_a_higher_target(store: HealthStore) -> None:
    _populate(store)
    report = store.generate_weekly_report(MONDAY, SHANGHAI, target=99.9)
    assert report.passed is False
    assert report.devices_below_target == ["door-1", "uplink"]
    assert "Result: FAIL" in report.to_markdown()


def test_exactly_at_target_passes(store: HealthStore) -> None:
    store.record("door-1", "door_controller", True, cst(11, 2))
    down = cst(11, 4, 12)
    store.record("door-1", "door_controller", False, down)
    store.record("door-1", "door_controller", True, down + timedelta(seconds=WEEK * 0.02))  # 3 h 21 min 36 s
    report = store.build_weekly_report(MONDAY, SHANGHAI, 98)
    assert report.online_percent == pytest.approx(98.0)
    assert report.passed is True
    assert report.devices[0].meets_target is True
    assert store.build_weekly_report(MONDAY, SHANGHAI, 98.01).passed is False


def test_outages_are_clipped_to_the_week(store: HealthStore) -> None:
    store.record("cam-1", "camera", True, cst(10, 20))
    store.record("cam-1", "camera", False, cst(11, 1, 20))  # Sunday before the week
    store.record("cam-1", "camera", True, cst(11, 2, 1))
    store.record("cam-1", "camera", False, cst(11, 8, 23))  # Sunday night, into the next week
    store.record("cam-1", "camera", True, cst(11, 9, 2))
    report = store.generate_weekly_report(MONDAY, SHANGHAI)
    first, last = report.outages
    assert (first.start, first.end, first.began_before_week, first.continues_after_week) == (
        cst(11, 2), cst(11, 2, 1), True, False
    )
    assert (last.start, last.end, last.began_before_week, last.continues_after_week) == (
        cst(11, 8, 23), cst(11, 9), False, True
    )
    assert report.devices[0].offline_seconds == 2 * HOUR
    text = report.to_markdown()
    assert "(already offline)" in text and "(still offline)" in text


def test_never_online_device_and_empty_week(store: HealthStore) -> None:
    empty = store.build_weekly_report(MONDAY, SHANGHAI)
    assert empty.devices == [] and empty.online_percent is None and empty.passed is False
    assert "no data" in empty.to_markdown()
    store.record("cam-dead", "camera", False, cst(11, 5))
    report = store.build_weekly_report(MONDAY, SHANGHAI)
    assert report.online_percent == 0.0
    assert report.outages[0].continues_after_week is True
    assert report.outages[0].seconds == 4 * 86400
    assert report.passed is False


def test_reports_are_kept_listed_and_survive_reopening(tmp_path: Path) -> None:
    store = HealthStore.open(tmp_path / "hub.db", clock=lambda: CLOCK)
    _populate(store)
    for monday in (date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)):
        store.generate_weekly_report(monday, SHANGHAI)
    store.close()

    reopened = HealthStore.open(tmp_path / "hub.db", clock=lambda: CLOCK)
    latest = reopened.latest_reports(2)
    assert [r.week_start for r in latest] == [date(2026, 11, 16), date(2026, 11, 9)]
    kept = reopened.get_report(MONDAY)
    assert kept.failed_devices == ["door-1", "uplink"]
    assert kept.to_dict() == WeeklyReport.from_dict(json.loads(json.dumps(kept.to_dict()))).to_dict()
    stored = reopened.connection.execute("SELECT report FROM health_reports WHERE week_start = '2026-11-02'")
    assert json.loads(stored.fetchone()[0])["week_start"] == "2026-11-02"
    with pytest.raises(NotFoundError):
        reopened.get_report(date(2026, 10, 26))

    # Regenerating a week replaces its report (one per week).
    replaced = reopened.generate_weekly_report(MONDAY, SHANGHAI, target=99.9)
    assert replaced.passed is False
    assert len(reopened.latest_reports(10)) == 3
    assert reopened.get_report(MONDAY).target_percent == 99.9


def test_unfinished_week_is_not_kept(store: HealthStore) -> None:
    _populate(store)
    with pytest.raises(InvalidInputError):
        store.generate_weekly_report(MONDAY, SHANGHAI, now=cst(11, 8, 23, 59))
    assert store.latest_reports(5) == []
    preview = store.build_weekly_report(MONDAY, SHANGHAI, now=cst(11, 3, 10))
    assert preview.outages[0].continues_after_week is True
    assert preview.outages[0].seconds == HOUR


def test_due_reports_after_a_gap_of_weeks(store: HealthStore) -> None:
    assert store.due_reports(cst(11, 30, 10), SHANGHAI) == []
    _populate(store)  # data from Friday 2026-10-30, i.e. the week of Monday 10-26
    store.generate_weekly_report(date(2026, 10, 26), SHANGHAI)
    store.generate_weekly_report(MONDAY, SHANGHAI)
    # The hub was down for weeks; on restart on Monday 2026-11-30 10:00 local, three finished weeks are missing.
    now = cst(11, 30, 10)
    assert store.due_reports(now, "Asia/Shanghai") == [date(2026, 11, 9), date(2026, 11, 16), date(2026, 11, 23)]
    # A week is due exactly when it ends (Monday 00:00 local), not before.
    assert store.due_reports(cst(11, 29, 23, 59), SHANGHAI)[-1] == date(2026, 11, 16)
    assert store.due_reports(cst(11, 30), SHANGHAI)[-1] == date(2026, 11, 23)
    made = store.generate_due_reports(now, SHANGHAI, target=99)
    assert [r.week_start for r in made] == [date(2026, 11, 9), date(2026, 11, 16), date(2026, 11, 23)]
    assert all(r.passed and r.target_percent == 99 for r in made)
    assert store.due_reports(now, SHANGHAI) == []
    assert store.latest_reports(1)[0].week_start == date(2026, 11, 23)


@pytest.mark.parametrize("target", [-0.1, 100.01, float("nan"), True, "98"])
def test_invalid_target_changes_nothing(store: HealthStore, target: object) -> None:
    _populate(store)
    with pytest.raises(InvalidInputError):
        store.generate_weekly_report(MONDAY, SHANGHAI, target)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        store.generate_due_reports(cst(11, 30), SHANGHAI, target)  # type: ignore[arg-type]
    assert store.latest_reports(10) == []


def test_bad_week_arguments(store: HealthStore) -> None:
    with pytest.raises(InvalidInputError):
        store.generate_weekly_report(date(2026, 11, 3), SHANGHAI)  # a Tuesday
    with pytest.raises(InvalidInputError):
        store.generate_weekly_report(MONDAY, "Not/AZone")
    with pytest.raises(InvalidInputError):
        store.due_reports(datetime(2026, 11, 30), SHANGHAI)  # naive
    with pytest.raises(InvalidInputError):
        store.latest_reports(-1)
    assert store.latest_reports(10) == []
