"""Time helpers: UTC text for storage, validation of aware datetimes, local day and week windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.exceptions import InvalidInputError

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def to_text(moment: datetime) -> str:
    """UTC ISO-8601 with microseconds and a ``Z``: fixed width, so text order is time order."""
    return moment.astimezone(UTC).strftime(_FORMAT)


def from_text(text: str) -> datetime:
    """Inverse of :func:`to_text`."""
    return datetime.strptime(text, _FORMAT).replace(tzinfo=UTC)


def require_aware(moment: object, name: str) -> datetime:
    """Return ``moment`` in UTC, or raise :class:`InvalidInputError` if it is not an aware datetime."""
    if not isinstance(moment, datetime):
        raise InvalidInputError(f"{name} must be a datetime")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInputError(f"{name} must be timezone-aware (naive datetimes are refused)")
    return moment.astimezone(UTC)


def resolve_tz(tz: str | ZoneInfo) -> ZoneInfo:
    """An IANA time zone from its key (``"Asia/Shanghai"``) or a :class:`ZoneInfo`."""
    if isinstance(tz, ZoneInfo):
        return tz
    if not isinstance(tz, str) or not tz:
        raise InvalidInputError("tz must be an IANA time zone name such as 'Asia/Shanghai'")
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise InvalidInputError(f"unknown time zone {tz!r}") from err


def _local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def day_window(day: date, tz: str | ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants of local midnight of ``day`` and of the next day (23 or 25 hours apart across DST)."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise InvalidInputError("day must be a date")
    zone = resolve_tz(tz)
    return _local_midnight_utc(day, zone), _local_midnight_utc(day + timedelta(days=1), zone)


def week_window(week_start: date, tz: str | ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants of Monday 00:00 local time and of the next Monday 00:00; ``week_start`` must be a Monday."""
    if not isinstance(week_start, date) or isinstance(week_start, datetime):
        raise InvalidInputError("week_start must be a date")
    if week_start.weekday() != 0:
        raise InvalidInputError(f"week_start {week_start.isoformat()} is not a Monday")
    zone = resolve_tz(tz)
    return _local_midnight_utc(week_start, zone), _local_midnight_utc(week_start + timedelta(days=7), zone)


def monday_of(moment: datetime, tz: str | ZoneInfo) -> date:
    """The local date of the Monday starting the week that contains ``moment``."""
    local = require_aware(moment, "moment").astimezone(resolve_tz(tz)).date()
    return local - timedelta(days=local.weekday())
