"""Alarms that stay: a door's forced-open, held-open and tamper alarms and a device offline are listed from the
moment they happen until a manager has acknowledged them with a note and closed them, whether or not the condition
has cleared in the meantime."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.exceptions import InvalidInputError, NotFoundError
from hub.health import AlarmKind, AlarmState, DeviceKind, HealthStore

SHANGHAI = ZoneInfo("Asia/Shanghai")
CLOCK = datetime(2027, 1, 1, tzinfo=SHANGHAI)


def cst(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def store(tmp_path: Path) -> HealthStore:
    return HealthStore.open(tmp_path / "hub.db", clock=lambda: CLOCK)


def test_a_forced_door_stays_listed_after_it_clears_until_a_manager_closes_it(store: HealthStore) -> None:
    raised = store.record_alarm("DC-01-door0", AlarmKind.FORCED_OPEN, True, cst(1, 2))
    assert raised is not None and raised.alarm == "forced_open" and raised.kind == "door"
    assert raised.alarm_state is AlarmState.OPEN and raised.active
    assert store.record_alarm("DC-01-door0", "forced_open", True, cst(1, 2, 1)) is None  # still the same alarm
    cleared = store.record_alarm("DC-01-door0", "forced_open", False, cst(1, 2, 3))
    assert cleared is not None and not cleared.active and cleared.alarm_state is AlarmState.OPEN
    # Cleared, it is still there: nobody has dealt with it.
    assert [a.problem_id for a in store.alarms()] == [raised.problem_id]
    assert store.open_alarm_count() == 1

    with pytest.raises(InvalidInputError, match="acknowledge"):
        store.close_alarm(raised.problem_id, cst(1, 3), actor="Li Na (u1)")  # say what was done first
    acked = store.acknowledge(raised.problem_id, "Guard checked: delivery van hit the gate", cst(1, 3),
                              actor="Li Na (u1)")
    assert acked.alarm_state is AlarmState.ACKNOWLEDGED and acked.acknowledged_by == "Li Na (u1)"
    closed = store.close_alarm(raised.problem_id, cst(1, 4), actor="Zhang Wei (u2)", note="Gate repaired")
    assert closed.alarm_state is AlarmState.CLOSED and closed.closed_by == "Zhang Wei (u2)"
    assert closed.closed_at == cst(1, 4) and closed.note == "Gate repaired"
    assert closed.acknowledged_by == "Li Na (u1)"
    assert store.alarms() == [] and store.open_alarm_count() == 0
    assert [a.problem_id for a in store.alarms(include_closed=True)] == [raised.problem_id]
    with pytest.raises(InvalidInputError, match="already closed"):
        store.close_alarm(raised.problem_id, cst(1, 5), actor="Li Na (u1)")
    # The managers' names never go upstream.
    assert "Li Na" not in str(closed.upstream()) and "note" not in closed.upstream()


def test_each_alarm_kind_of_a_door_is_its_own_and_offline_devices_are_alarms_too(store: HealthStore) -> None:
    store.record_alarm("DC-01-door0", AlarmKind.HELD_OPEN, True, cst(1, 1))
    store.record_alarm("DC-01-door0", AlarmKind.TAMPER, True, cst(1, 2))
    down = store.record_change("cam-1", DeviceKind.CAMERA, False, cst(1, 3))
    assert down is not None and down.problem is not None and down.problem.alarm == "device_offline"
    assert [a.alarm for a in store.alarms()] == ["device_offline", "tamper", "held_open"]  # newest first
    # The devices' problem list and the weekly report keep to devices offline.
    assert [p.device_id for p in store.problems()] == ["cam-1"]
    # A closed alarm that raises again is a new alarm.
    tamper = next(a for a in store.alarms() if a.alarm == "tamper")
    store.acknowledge(tamper.problem_id, "cover screwed back", cst(1, 4), actor="m")
    store.close_alarm(tamper.problem_id, cst(1, 5), actor="m")
    store.record_alarm("DC-01-door0", AlarmKind.TAMPER, False, cst(1, 6))
    again = store.record_alarm("DC-01-door0", AlarmKind.TAMPER, True, cst(1, 7))
    assert again is not None and again.problem_id != tamper.problem_id
    assert store.open_alarm_count() == 3


def test_bad_alarm_input_is_refused_and_changes_nothing(store: HealthStore) -> None:
    for door, alarm in (("", "forced_open"), ("d", "device_offline"), ("d", "fire")):
        with pytest.raises(InvalidInputError):
            store.record_alarm(door, alarm, True, cst(1))
    with pytest.raises(InvalidInputError):
        store.record_alarm("d", "tamper", True, datetime(2026, 6, 1))  # naive time
    with pytest.raises(NotFoundError):
        store.close_alarm(404, cst(1), actor="m")
    raised = store.record_alarm("d", "tamper", True, cst(1))
    assert raised is not None
    store.acknowledge(raised.problem_id, "seen", cst(1, 1), actor="m")
    with pytest.raises(InvalidInputError):
        store.close_alarm(raised.problem_id, cst(1, 2), actor="m", note="x" * 501)
    assert store.alarms()[0].alarm_state is AlarmState.ACKNOWLEDGED


def test_a_blacklisted_vehicle_alarm_keeps_its_plate_locally_and_stays_until_closed(store: HealthStore) -> None:
    first = store.record_vehicle_alarm("p1:north:1", "沪C44444", cst(2, 8))
    second = store.record_vehicle_alarm("p1:north:1", "沪C44444", cst(2, 9))  # the car again: a new alarm
    assert first.problem_id != second.problem_id
    assert first.alarm == AlarmKind.BLACKLISTED_VEHICLE and first.kind == "vehicle" and first.subject == "沪C44444"
    assert not first.active and first.alarm_state is AlarmState.OPEN  # seen, nothing to clear, not dealt with
    assert store.open_alarm_count() == 2
    assert first.to_dict()["subject"] == "沪C44444"
    assert "沪C44444" not in str(first.upstream())
    store.acknowledge(first.problem_id, "Police told", cst(2, 10), actor="Li (u1)")
    closed = store.close_alarm(first.problem_id, cst(2, 11), actor="Li (u1)")
    assert closed.alarm_state is AlarmState.CLOSED and closed.subject == "沪C44444"
    assert [a.problem_id for a in store.alarms()] == [second.problem_id]
    # Door alarms and offline problems have no subject.
    door = store.record_alarm("DC-01-door0", AlarmKind.TAMPER, True, cst(2, 12))
    assert door is not None and door.subject is None
    with pytest.raises(InvalidInputError):
        store.record_vehicle_alarm("", "沪C44444", cst(2, 8))
    with pytest.raises(InvalidInputError):
        store.record_vehicle_alarm("p1:north:1", "X" * 40, cst(2, 8))
