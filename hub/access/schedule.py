"""Pure evaluation of access rules against a local time: which rules cover a person and door, and whether the
moment falls in one of their windows, telling holidays and plain off-hours apart."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from hub.access.models import AccessRule, Reason, Subject


def covering_rules(rules: Iterable[AccessRule], subject: Subject, door_id: str) -> list[AccessRule]:
    """Rules that name this door and apply to this resident (directly, by building, or to everyone)."""
    return [
        r
        for r in rules
        if door_id in r.door_ids
        and (
            r.applies_to_all
            or subject.resident_id in r.resident_ids
            or (subject.building is not None and subject.building in r.buildings)
        )
    ]


def _applies_on(rule: AccessRule, day: date, holidays: frozenset[date]) -> bool:
    return rule.on_holidays if day in holidays else day.weekday() in rule.weekdays


def _in_window(rule: AccessRule, local: datetime, holidays: frozenset[date]) -> bool:
    today, now = local.date(), local.time()
    if rule.start == rule.end:
        return _applies_on(rule, today, holidays)
    if rule.start < rule.end:
        return rule.start <= now < rule.end and _applies_on(rule, today, holidays)
    # Crosses midnight: the evening part belongs to today, the early-morning part to yesterday.
    if now >= rule.start:
        return _applies_on(rule, today, holidays)
    return now < rule.end and _applies_on(rule, today - timedelta(days=1), holidays)


def schedule_reason(rules: list[AccessRule], local: datetime, holidays: frozenset[date]) -> Reason | None:
    """``None`` if some rule's window contains ``local``; else HOLIDAY or OUTSIDE_HOURS (or NO_ACCESS_TO_DOOR
    when there are no rules at all)."""
    if not rules:
        return Reason.NO_ACCESS_TO_DOOR
    if any(_in_window(r, local, holidays) for r in rules):
        return None
    # Say HOLIDAY when the holiday is what stands in the way: a rule would have let them in on a normal day.
    near_holiday = local.date() in holidays or (local.date() - timedelta(days=1)) in holidays
    if near_holiday and any(_in_window(r, local, frozenset()) for r in rules):
        return Reason.HOLIDAY
    return Reason.OUTSIDE_HOURS


def parse_hhmm(value: str) -> time:
    """``"HH:MM"`` to a time (as stored in the database)."""
    return time.fromisoformat(value)


def weekly_window_contains(start: time, end: time, weekdays: frozenset[int], local: datetime) -> bool:
    """Whether a weekly window (the rules' conventions, no holiday calendar) contains the local moment."""
    window = AccessRule(rule_id="window", door_ids=frozenset(), weekdays=weekdays, start=start, end=end)
    return _in_window(window, local, frozenset())
