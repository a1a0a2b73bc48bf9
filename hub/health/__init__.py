"""Device health: online/offline spans of door controllers, cameras and the uplink, their online rates, the kept
weekly report against the operator's target, device problems tracked from offline to back (with their time to
repair), long-offline detection for repair issues, and retention.

Only status *changes* are stored, as contiguous spans per device, so online time is exact rather than estimated
from polling samples. Everything here is blocking SQLite work: call it from an executor (Home Assistant:
``async_add_executor_job``), never from the event loop. See ``docs/device-health.md``.
"""

from .models import CommunityRate, DeviceKind, DeviceRate, PurgeResult, RateSummary, public_device_id
from .problems import (
    DOOR_ALARMS,
    EVENT_ALARMS,
    AlarmKind,
    AlarmState,
    Problem,
    ProblemEntry,
    ProblemState,
    StatusChange,
)
from .report import DEFAULT_TARGET_PERCENT, DeviceWeek, Outage, WeeklyReport
from .schema import COMPONENT
from .store import DeviceStatus, HealthStore, open_health_database
from .timeutil import day_window, monday_of, week_window

__all__ = [
    "COMPONENT",
    "DEFAULT_TARGET_PERCENT",
    "DOOR_ALARMS",
    "EVENT_ALARMS",
    "AlarmKind",
    "AlarmState",
    "CommunityRate",
    "DeviceKind",
    "DeviceRate",
    "DeviceStatus",
    "DeviceWeek",
    "HealthStore",
    "Outage",
    "Problem",
    "ProblemEntry",
    "ProblemState",
    "PurgeResult",
    "RateSummary",
    "StatusChange",
    "WeeklyReport",
    "day_window",
    "monday_of",
    "open_health_database",
    "public_device_id",
    "week_window",
]
