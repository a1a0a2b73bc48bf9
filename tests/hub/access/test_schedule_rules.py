"""Rule windows: all-day, crossing midnight, holiday-only rules, building-wide and everyone rules."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from hub.access.models import AccessRule, Reason, Subject
from hub.access.schedule import covering_rules, schedule_reason

TZ = ZoneInfo("Asia/Shanghai")
SUBJECT = Subject("r1", True, None, None, "3", True)
NIGHT = AccessRule(
    "night",
    frozenset({"d"}),
    weekdays=frozenset({4}),
    start=time(22),
    end=time(2),
    on_holidays=False,
    applies_to_all=True,
)


def test_window_crossing_midnight_belongs_to_the_starting_day() -> None:
    friday_late = datetime(2026, 3, 6, 23, 0, tzinfo=TZ)
    saturday_early = datetime(2026, 3, 7, 1, 0, tzinfo=TZ)
    saturday_late = datetime(2026, 3, 7, 23, 0, tzinfo=TZ)
    thursday_early = datetime(2026, 3, 5, 1, 0, tzinfo=TZ)
    assert schedule_reason([NIGHT], friday_late, frozenset()) is None
    assert schedule_reason([NIGHT], saturday_early, frozenset()) is None
    assert schedule_reason([NIGHT], saturday_late, frozenset()) is Reason.OUTSIDE_HOURS
    assert schedule_reason([NIGHT], thursday_early, frozenset()) is Reason.OUTSIDE_HOURS
    # Friday a holiday: the night window does not open, and the reason says so.
    assert schedule_reason([NIGHT], saturday_early, frozenset({date(2026, 3, 6)})) is Reason.HOLIDAY


def test_holiday_only_rule() -> None:
    holiday_hours = AccessRule(
        "hol",
        frozenset({"d"}),
        weekdays=frozenset(),
        start=time(9),
        end=time(17),
        on_holidays=True,
        applies_to_all=True,
    )
    may_day = datetime(2026, 5, 1, 10, 0, tzinfo=TZ)
    assert schedule_reason([holiday_hours], may_day, frozenset({date(2026, 5, 1)})) is None
    assert schedule_reason([holiday_hours], may_day, frozenset()) is Reason.OUTSIDE_HOURS
    assert schedule_reason([], may_day, frozenset()) is Reason.NO_ACCESS_TO_DOOR


def test_covering_rules_by_building_everyone_or_person() -> None:
    by_building = AccessRule("b3", frozenset({"d"}), buildings=frozenset({"3"}))
    other_building = AccessRule("b4", frozenset({"d"}), buildings=frozenset({"4"}))
    other_door = AccessRule("x", frozenset({"e"}), applies_to_all=True)
    person = AccessRule("p", frozenset({"d"}), resident_ids=frozenset({"r1"}))
    rules = [by_building, other_building, other_door, person, NIGHT]
    assert [r.rule_id for r in covering_rules(rules, SUBJECT, "d")] == ["b3", "p", "night"]
