"""Device problems: opened when a device goes offline, acknowledged with a note, resolved with a time to repair when
it is back; listed in the weekly report; kept through an upgrade of the health schema; purged with the history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.db import open_database
from hub.exceptions import InvalidInputError, NotFoundError
from hub.health import AlarmState, DeviceKind, HealthStore, ProblemState, WeeklyReport
from hub.health import schema as health_schema

SHANGHAI = ZoneInfo("Asia/Shanghai")
CLOCK = datetime(2027, 1, 1, tzinfo=UTC)
MONDAY = date(2026, 6, 1)


def cst(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def store(tmp_path: Path) -> HealthStore:
    return HealthStore.open(tmp_path / "hub.db", clock=lambda: CLOCK)


def test_offline_opens_a_problem_acknowledge_then_back_resolves_it(store: HealthStore) -> None:
    assert store.record_change("cam-1", DeviceKind.CAMERA, True, cst(1, 8)) is not None  # online: no problem
    assert store.problems() == []
    down = store.record_change("cam-1", DeviceKind.CAMERA, False, cst(1, 9))
    assert down is not None and down.problem is not None and not down.online
    problem = down.problem
    assert problem.state is ProblemState.OPEN and problem.opened_at == cst(1, 9) and problem.repair_seconds is None
    assert store.record_change("cam-1", DeviceKind.CAMERA, False, cst(1, 9, 30)) is None  # a repeat: nothing new
    assert [p.problem_id for p in store.problems(unresolved=True)] == [problem.problem_id]

    acked = store.acknowledge(problem.problem_id, "  technician sent, cable cut by roadworks ", cst(1, 9, 5))
    assert acked.state is ProblemState.ACKNOWLEDGED and acked.acknowledged_at == cst(1, 9, 5)
    assert acked.note == "technician sent, cable cut by roadworks"
    again = store.acknowledge(problem.problem_id, "cable ordered", cst(1, 9, 40))
    assert again.acknowledged_at == cst(1, 9, 5) and again.note == "cable ordered"  # first time kept, note updated

    back = store.record_change("cam-1", DeviceKind.CAMERA, True, cst(1, 11, 15))
    assert back is not None and back.problem is not None
    resolved = back.problem
    assert resolved.problem_id == problem.problem_id and resolved.state is ProblemState.RESOLVED
    assert resolved.resolved_at == cst(1, 11, 15) and resolved.repair_seconds == 2 * 3600 + 15 * 60
    assert store.problems(unresolved=True) == []
    # Resolved, the alarm stays until a manager closes it; once closed it cannot be acknowledged again.
    assert store.acknowledge(problem.problem_id, "cable replaced", cst(1, 12)).alarm_state is AlarmState.ACKNOWLEDGED
    store.close_alarm(problem.problem_id, cst(1, 12, 5), actor="Manager (u1)")
    with pytest.raises(InvalidInputError):
        store.acknowledge(problem.problem_id, "too late", cst(1, 13))
    # The county's copy has no note (a manager's free text stays on the hub).
    assert "note" not in resolved.upstream() and resolved.upstream()["state"] == "resolved"

    # The next outage is a new problem.
    second = store.record_change("cam-1", DeviceKind.CAMERA, False, cst(2, 3))
    assert second is not None and second.problem is not None
    assert second.problem.problem_id != problem.problem_id
    assert [p.problem_id for p in store.problems()] == [second.problem.problem_id, problem.problem_id]


def test_a_device_first_seen_offline_has_a_problem(store: HealthStore) -> None:
    change = store.record_change("ctrl-1", DeviceKind.DOOR_CONTROLLER, False, cst(1))
    assert change is not None and change.problem is not None and change.problem.kind == "door_controller"


def test_acknowledge_refuses_bad_input_and_changes_nothing(store: HealthStore) -> None:
    change = store.record_change("cam-1", DeviceKind.CAMERA, False, cst(1))
    assert change is not None and change.problem is not None
    pid = change.problem.problem_id
    for note in ("", "   ", "x" * 501):
        with pytest.raises(InvalidInputError):
            store.acknowledge(pid, note, cst(1, 1))
    with pytest.raises(InvalidInputError):
        store.acknowledge(pid, "ok", datetime(2026, 6, 1, 1))  # naive
    with pytest.raises(NotFoundError):
        store.acknowledge(pid + 99, "ok", cst(1, 1))
    assert store.problem(pid).state is ProblemState.OPEN and store.problem(pid).note is None


def test_weekly_report_lists_problems_with_times_to_repair(store: HealthStore) -> None:
    # Already down before the week began, back on Tuesday; a second one within the week; a third still open.
    store.record("cam-1", "camera", True, cst(1) - timedelta(days=3))
    store.record("cam-1", "camera", False, cst(1) - timedelta(hours=2))
    store.record("cam-1", "camera", True, cst(2, 10))
    store.record("cam-2", "camera", True, cst(1))
    down = store.record_change("cam-2", "camera", False, cst(3, 14))
    assert down is not None and down.problem is not None
    store.acknowledge(down.problem.problem_id, "power supply replaced", cst(3, 14, 20))
    store.record("cam-2", "camera", True, cst(3, 15))
    store.record("ctrl-1", "door_controller", True, cst(1))
    store.record("ctrl-1", "door_controller", False, cst(7, 20))
    # A problem resolved in the week before is not this week's.
    store.record("cam-3", "camera", True, cst(1) - timedelta(days=5))
    store.record("cam-3", "camera", False, cst(1) - timedelta(days=4))
    store.record("cam-3", "camera", True, cst(1) - timedelta(days=4) + timedelta(minutes=5))

    report = store.generate_weekly_report(MONDAY, SHANGHAI)
    entries = {p.device_id: p for p in report.problems}
    assert sorted(entries) == ["cam-1", "cam-2", "ctrl-1"]
    assert entries["cam-1"].repair_seconds == (cst(2, 10) - (cst(1) - timedelta(hours=2))).total_seconds()
    assert entries["cam-2"].repair_seconds == 3600 and entries["cam-2"].acknowledged_at == cst(3, 14, 20)
    assert entries["ctrl-1"].repair_seconds is None and entries["ctrl-1"].resolved_at is None
    assert report.mean_repair_seconds == (entries["cam-1"].repair_seconds + 3600) / 2  # type: ignore[operator]
    kept = store.get_report(MONDAY)
    assert kept.problems == report.problems  # stored and read back
    data = report.to_dict()
    assert [p["device_id"] for p in data["problems"]] == ["cam-1", "cam-2", "ctrl-1"]
    assert all("note" not in p for p in data["problems"])  # the report goes upstream: no manager's text
    text = report.to_markdown()
    assert "## Problems" in text and "power supply replaced" not in text
    assert "| cam-2 | Wed 2026-06-03 14:00 | Wed 2026-06-03 14:20 | Wed 2026-06-03 15:00 | 1h 00m |" in text
    assert "still open" in text and "mean time to repair" in text


def test_a_report_kept_by_an_earlier_release_reads_without_problems(store: HealthStore) -> None:
    store.record("cam-1", "camera", True, cst(1))
    data = store.build_weekly_report(MONDAY, SHANGHAI).to_dict()
    del data["problems"], data["mean_repair_seconds"]
    assert WeeklyReport.from_dict(data).problems == []


def test_upgrade_from_the_first_health_schema_keeps_history(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = open_database(path, components=[])
    conn.executescript(health_schema._V1)
    conn.execute("INSERT INTO schema_migrations (component, version) VALUES ('health', 1)")
    conn.execute("INSERT INTO health_devices VALUES ('cam-1', 'camera', 0, '2026-06-01T00:00:00.000000Z')")
    conn.execute("INSERT INTO health_spans (device_id, online, start_at) VALUES"
                 " ('cam-1', 0, '2026-06-01T00:00:00.000000Z')")
    conn.close()
    store = HealthStore.open(path, clock=lambda: CLOCK)
    try:
        # Offline since before the upgrade: no problem was opened then; coming back opens none and resolves none.
        change = store.record_change("cam-1", "camera", True, cst(2))
        assert change is not None and change.problem is None
        down = store.record_change("cam-1", "camera", False, cst(3))
        assert down is not None and down.problem is not None
    finally:
        store.close()


def test_purge_drops_problems_resolved_and_closed_before_the_cutoff(store: HealthStore) -> None:
    store.record("cam-1", "camera", False, cst(1))
    store.record("cam-1", "camera", True, cst(1, 1))
    store.record("cam-2", "camera", False, cst(1))  # still open: kept whatever its age
    store.record("cam-3", "camera", False, cst(1))
    store.record("cam-3", "camera", True, cst(1, 1))  # resolved but never closed: the alarm stays
    cam1 = next(p for p in store.problems() if p.device_id == "cam-1")
    store.acknowledge(cam1.problem_id, "switch replaced", cst(1, 2), actor="m")
    store.close_alarm(cam1.problem_id, cst(1, 3), actor="m")
    result = store.purge(cst(10))
    assert result.problems_deleted == 1
    assert sorted(p.device_id for p in store.problems()) == ["cam-2", "cam-3"]


def test_timeline_clips_spans_to_the_window(store: HealthStore) -> None:
    store.record("cam-1", "camera", True, cst(1, 6))
    store.record("cam-1", "camera", False, cst(1, 9))
    store.record("cam-1", "camera", True, cst(1, 10))
    spans = store.timeline(cst(1, 8), cst(2), now=cst(1, 12))["cam-1"]
    assert spans == [(True, cst(1, 8), cst(1, 9)), (False, cst(1, 9), cst(1, 10)), (True, cst(1, 10), cst(1, 12))]


def test_a_camera_known_by_its_url_goes_upstream_without_credentials(store: HealthStore) -> None:
    from hub.health import public_device_id

    url = "http://admin:s3cret@192.0.2.7:8080/snapshot.jpg?token=abc"
    assert public_device_id(url) == "http://192.0.2.7:8080/snapshot.jpg"
    assert public_device_id("http://[2001:db8::1]/snap.jpg") == "http://[2001:db8::1]/snap.jpg"
    assert public_device_id("SIMDC0042") == "SIMDC0042" and public_device_id("uplink") == "uplink"
    down = store.record_change(url, "camera", False, cst(1, 9))
    assert down is not None and down.problem is not None
    assert down.problem.upstream()["device_id"] == "http://192.0.2.7:8080/snapshot.jpg"
    assert down.problem.to_dict()["device_id"] == url  # the hub's own view keeps its id
    store.record(url, "camera", True, cst(1, 10))
    upstream = store.build_weekly_report(MONDAY, SHANGHAI).upstream()
    assert "s3cret" not in str(upstream) and "token" not in str(upstream)
    assert upstream["devices"][0]["device_id"] == "http://192.0.2.7:8080/snapshot.jpg"
