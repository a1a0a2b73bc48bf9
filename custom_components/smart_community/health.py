"""Device health in Home Assistant: controllers, cameras and the uplink are recorded online/offline as they
change; cameras are probed in the background so their online rate is measured; each change and each device problem
(opened when a device goes down, acknowledged by a manager, resolved when it is back) is journalled for the county
in the uplink's priority lane; door alarms (forced open, held open, tamper) kept with the device problems as alarms
that stay until a manager acknowledges and closes them, each with a persistent notification while it is not closed
(door and device names only, never a resident's); online rates for today and this week, computed in one place
(:func:`online_rates`) for the sensors and the panel; a repair issue for a device offline longer
than the set time (cleared when it returns); the weekly report generated once a week and kept."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect, async_dispatcher_send
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from devices.exceptions import DeviceError
from hub.bus import EventBus
from hub.community import Community
from hub.events import DeviceStatusEvent
from hub.exceptions import StorageError
from hub.health import (
    EVENT_ALARMS,
    AlarmKind,
    AlarmState,
    DeviceKind,
    HealthStore,
    Problem,
    RateSummary,
    StatusChange,
    public_device_id,
)
from hub.journal import EventKind, NewEvent

from .const import CONF_KIND, DOMAIN, KIND_CAMERA

if TYPE_CHECKING:
    from .camera import CameraRuntimeData

_LOGGER = logging.getLogger(__name__)

CONF_OFFLINE_MINUTES = "offline_repair_minutes"
CONF_TARGET = "online_target_percent"
DEFAULT_OFFLINE_MINUTES = 30
DEFAULT_TARGET = 98.0
SIGNAL_DEVICE_STATUS = "smart_community_device_status"
SIGNAL_HEALTH = "smart_community_health_{}"
# A new online-rate figure was computed (HealthRuntime.current_rates): the rate sensors show it.
SIGNAL_RATES = "smart_community_rates_{}"
# How long one online-rate figure stands before it is computed again (sooner after a health change). The panel reads
# every 5 s and the sensors on their scan and on health changes: within this time all show the same figure.
RATES_FRESH_FOR = timedelta(seconds=30)
# A camera's status as the probe (or a frame) found it, for its entity's availability: the camera's serial.
SIGNAL_CAMERA_STATUS = "smart_community_camera_status_{}"
# Cameras are probed in the background (one snapshot with a short timeout) every this many seconds.
CONF_PROBE_SECONDS = "camera_probe_seconds"
DEFAULT_PROBE_SECONDS = 5  # found within 7.5 s (interval + timeout), upstream within 10 s
MIN_PROBE_SECONDS = 2
MAX_PROBE_SECONDS = 3600
PROBE_TIMEOUT_S = 5.0
PROBE_CONCURRENCY = 16
CHECK_EVERY = timedelta(minutes=1)
PURGE_EVERY = timedelta(hours=1)
# Retention of events (the journal, in uplink.py) and of device-health history.
CONF_EVENTS_DAYS = "events_days"
DEFAULT_EVENTS_DAYS = 90
# A persistent notification per alarm not closed yet: its problem id.
ALARM_NOTIFICATION = f"{DOMAIN}_alarm_{{}}"
ALARMS_PATH = "/smart-community/alarms"
ALARM_TITLES = {
    AlarmKind.DEVICE_OFFLINE: "Device offline",
    AlarmKind.FORCED_OPEN: "Door forced open",
    AlarmKind.HELD_OPEN: "Door held open",
    AlarmKind.TAMPER: "Reader tampered with",
    AlarmKind.BLACKLISTED_VEHICLE: "Blacklisted vehicle",
}
ALARM_WORDS = {
    AlarmKind.DEVICE_OFFLINE: "went offline",
    AlarmKind.FORCED_OPEN: "was forced open",
    AlarmKind.HELD_OPEN: "was held open too long",
    AlarmKind.TAMPER: "reported its reader's tamper switch open",
    AlarmKind.BLACKLISTED_VEHICLE: "refused a blacklisted vehicle",
}


def online_rates(store: HealthStore, tz: str, now: datetime) -> tuple[RateSummary, RateSummary]:
    """The devices' online rates today and this week (local days in ``tz``, weeks from Monday): the one place the
    figures are computed. The sensors and the panel take them from :meth:`HealthRuntime.current_rates`, which
    computes them once for both."""
    local = dt_util.as_local(now)
    day = store.day_rates(local.date(), tz, now=now)
    week = store.week_rates((local - timedelta(days=local.weekday())).date(), tz, now=now)
    return day, week


def lane_name(lane_id: str) -> str:
    """A car-park lane as the manager knows it: ``north:main:1`` is "Car park north, main lane 1"."""
    parts = lane_id.split(":")
    if len(parts) == 3:
        return f"Car park {parts[0]}, {parts[1]} lane {parts[2]}"
    return lane_id


def percent(rate: float | None) -> float | None:
    """A rate in 0..1 as the percent figure shown everywhere (two decimals)."""
    return None if rate is None else round(rate * 100, 2)


def alarm_message(problem: Problem, name: str) -> str:
    """A notification's text: the door, device or lane by name, what happened and when, and where to deal with it
    (no personal data: a door alarm names no one, a blacklisted-vehicle alarm not the plate, which only the
    admin-only panel shows: persistent notifications are visible to every Home Assistant user)."""
    kind = AlarmKind(problem.alarm)
    when = dt_util.as_local(problem.opened_at).strftime("%Y-%m-%d %H:%M:%S")
    lines = [f"{name} {ALARM_WORDS[kind]} at {when}."]
    if kind in EVENT_ALARMS:
        lines.append("The barrier stayed down; the plate is in the alarm list.")
    elif problem.resolved_at is not None:
        back = "is back online" if kind is AlarmKind.DEVICE_OFFLINE else "has cleared"
        lines.append(f"It {back} since {dt_util.as_local(problem.resolved_at).strftime('%H:%M:%S')}.")
    if problem.alarm_state is AlarmState.ACKNOWLEDGED:
        lines.append("A manager has acknowledged it.")
    lines.append(f"Acknowledge and close it in the [Community panel's alarm list]({ALARMS_PATH}).")
    return " ".join(lines)


@callback
def async_report_device_status(hass: HomeAssistant, device_id: str, kind: DeviceKind, online: bool,
                               at: datetime | None = None) -> None:
    """Any part of the integration reports a device going online or offline (Home Assistant's own view of a
    device, e.g. a camera entity or a coordinator's last update: a dispatcher signal, not a library bus), ``at``
    the moment it changed (default: now)."""
    event = DeviceStatusEvent(device_id=device_id, kind=kind, online=online, at=at or dt_util.utcnow())
    async_dispatcher_send(hass, SIGNAL_DEVICE_STATUS, event)


@callback
def async_device_name(hass: HomeAssistant, device_id: str) -> str:
    """A device as Home Assistant names it (the hub knows it by serial, a camera added by hand by its URL)."""
    # Looked up through the integration's own entries: async_get_device is deprecated from 2026.x (identifiers
    # are no longer unique across entries) and its replacement does not exist on 2025.4.
    registry = dr.async_get(hass)
    for entry in hass.config_entries.async_entries(DOMAIN):
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            if (DOMAIN, device_id) in device.identifiers:
                return device.name_by_user or device.name or device_id
    return "the uplink to the county" if device_id == "uplink" else device_id


def probe_timeout(interval_s: float) -> float:
    """A probe must end well before the next one: at most 5 s, at most half the interval."""
    return min(PROBE_TIMEOUT_S, interval_s / 2)


@callback
def async_camera_status(hass: HomeAssistant, runtime: CameraRuntimeData, online: bool) -> None:
    """A camera was found online or offline (by the background probe or by a frame): when that is a change, its
    entity's availability follows and device health records it, whichever found it."""
    if runtime.online == online:
        return
    runtime.online = online
    async_dispatcher_send(hass, SIGNAL_CAMERA_STATUS.format(runtime.serial), online)
    async_report_device_status(hass, runtime.serial, DeviceKind.CAMERA, online)


def health_events(change: StatusChange) -> list[NewEvent]:
    """The events the county receives for a status change: ``device_status`` (the device, online or offline, at
    the time it changed) and, when it opened or resolved a problem, ``device_problem``."""
    events = [NewEvent(kind=EventKind.DEVICE_STATUS, door=public_device_id(change.device_id), occurred_at=change.at,
                       payload={"result": "online" if change.online else "offline", "device_kind": change.kind})]
    if change.problem is not None:
        events.append(problem_event(change.problem, change.at))
    return events


def problem_event(problem: Problem, at: datetime) -> NewEvent:
    """A problem's ``device_problem`` event (its state and times; never the note or who acknowledged it)."""
    return NewEvent(kind=EventKind.DEVICE_PROBLEM, door=public_device_id(problem.device_id), occurred_at=at,
                    payload={"problem": problem.upstream()})


class HealthRuntime:
    """The community's health store and its periodic checks."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, db_path: Path, community: Community) -> None:
        self.hass = hass
        self.entry = entry
        self.db_path = db_path
        self.community = community
        # Reads (rates, statuses, reports) on the store's own connection; writes as jobs on the community's
        # writer, the database's one writer.
        self.store: HealthStore | None = None
        self._writes: HealthStore | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._issues: set[str] = set()
        self._purged_at: datetime | None = None
        self.events = EventBus("device health")  # publishes each new WeeklyReport, on the event loop
        self._check_lock = asyncio.Lock()
        self._probing: asyncio.Task[None] | None = None
        # The online-rate figure everything shows: when it was computed, today's and this week's rates.
        self._rates: tuple[datetime, RateSummary, RateSummary] | None = None
        self._rates_lock = threading.Lock()

    async def async_start(self) -> None:
        """Open the store, listen for status changes, check offline devices and due reports every minute."""
        self.store = await self.hass.async_add_executor_job(HealthStore.open, self.db_path)
        self._writes = await self.hass.async_add_executor_job(self.community.health_writes)
        self._unsubscribe.append(async_dispatcher_connect(self.hass, SIGNAL_DEVICE_STATUS, self._on_status))
        self._unsubscribe.append(async_track_time_interval(self.hass, self._async_check, CHECK_EVERY))
        self._unsubscribe.append(async_track_time_interval(
            self.hass, self._async_probe_tick, timedelta(seconds=self.probe_seconds), name="camera probes"))
        await self._async_restore_notifications()

    @property
    def probe_seconds(self) -> int:
        """How often the cameras are probed (the ``health`` option)."""
        seconds = int(self.entry.options.get(CONF_PROBE_SECONDS, DEFAULT_PROBE_SECONDS))
        return max(MIN_PROBE_SECONDS, min(MAX_PROBE_SECONDS, seconds))

    @callback
    def _async_probe_tick(self, _now: object = None) -> None:
        """Start a round of camera probes in the background, unless the last round is still running."""
        if self._probing is not None and not self._probing.done():
            return
        self._probing = self.entry.async_create_background_task(
            self.hass, self.async_probe_cameras(), f"{DOMAIN} camera probes")

    async def async_probe_cameras(self) -> None:
        """Probe every loaded camera once, a few at a time (one snapshot each, with a short timeout); each result
        goes through :func:`async_camera_status`, as a frame's would."""
        timeout = probe_timeout(self.probe_seconds)
        cameras: list[tuple[str, CameraRuntimeData]] = [
            (entry.title, entry.runtime_data) for entry in self.hass.config_entries.async_loaded_entries(DOMAIN)
            if entry.data.get(CONF_KIND) == KIND_CAMERA
        ]
        limit = asyncio.Semaphore(PROBE_CONCURRENCY)

        async def probe(title: str, camera: CameraRuntimeData) -> None:
            async with limit:
                try:
                    await camera.client.probe(timeout)
                except DeviceError as err:
                    # By its title: a camera's id may be its URL, and the error's text names the URL too.
                    if camera.online:
                        _LOGGER.info("camera %s did not answer its probe (%s)", title, type(err).__name__)
                    online = False
                else:
                    online = True
            if self.store is not None:
                async_camera_status(self.hass, camera, online)

        await asyncio.gather(*(probe(title, camera) for title, camera in cameras))

    async def async_stop(self) -> None:
        """Stop listening and probing, and close the store."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        if self._probing is not None:
            self._probing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probing
            self._probing = None
        # A check under way uses the store across executor jobs: it finishes before the store closes, and checks
        # started later find no store.
        async with self._check_lock:
            store, self.store = self.store, None  # status reports arriving from now on are dropped
            self._writes = None
        if store is not None:
            await self.hass.async_add_executor_job(store.close)

    @callback
    def _on_status(self, event: DeviceStatusEvent) -> None:
        writes = self._writes
        if writes is None:
            return
        device_id, kind, online, at = event.device_id, event.kind, event.online, event.at

        journal = self.community.journal

        def journalled(change: StatusChange) -> None:
            # In the change's transaction, on the same connection: the county hears of every change recorded.
            if journal is not None:
                for new in health_events(change):
                    journal.append_in_transaction(new)

        def record() -> StatusChange | None:
            change = writes.record_change(device_id, kind, online, at, also=journalled)
            if change is not None and journal is not None:
                journal.notify()  # after the COMMIT: the uplink sends it ahead of the backlog
            return change

        def write() -> StatusChange | None:
            if self._writes is None:
                return None  # unloading: the last status of a closing controller is not recorded
            try:
                return self.community.call(record)
            except StorageError as err:
                _LOGGER.debug("device status of %s not recorded: %s", device_id, err)
                return None

        def done(future: asyncio.Future[StatusChange | None]) -> None:
            change = None if future.cancelled() or future.exception() else future.result()
            if change is not None and change.problem is not None:
                self._async_notify(change.problem, async_device_name(self.hass, change.device_id))
            self._async_changed()

        self.hass.async_add_executor_job(write).add_done_callback(
            lambda future: self.hass.loop.call_soon_threadsafe(done, future)
        )

    @callback
    def async_door_alarm(self, door_id: str | None, door_name: str, alarm: str, active: bool) -> None:
        """A door raised or cleared an alarm: journalled for the county (``door_alarm``, as before) and, in the same
        transaction, kept as an alarm (opened on a raise, resolved on a clear) that stays until a manager closes
        it; a new alarm gets a persistent notification."""
        writes, journal = self._writes, self.community.journal
        at = dt_util.utcnow()
        payload = {"alarm": alarm, "active": active}

        def journalled(_problem: Problem) -> None:
            if journal is not None:
                journal.append_in_transaction(NewEvent(kind=EventKind.DOOR_ALARM, door=door_id, occurred_at=at,
                                                       payload=payload))

        def record() -> Problem | None:
            problem = None
            if writes is not None and door_id is not None and self._writes is not None:
                problem = writes.record_alarm(door_id, alarm, active, at, also=journalled)
            if problem is None and journal is not None:  # no alarm changed (a repeat after a restart): journal it
                journal.append_many([NewEvent(kind=EventKind.DOOR_ALARM, door=door_id, occurred_at=at,
                                              payload=payload)])
            if journal is not None:
                journal.notify()
            return problem

        def write() -> Problem | None:
            try:
                return self.community.call(record)
            except StorageError as err:
                _LOGGER.debug("door alarm at %s not recorded: %s", door_name, err)
                return None

        def done(future: asyncio.Future[Problem | None]) -> None:
            problem = None if future.cancelled() or future.exception() else future.result()
            if problem is not None:
                self._async_notify(problem, door_name)
            self._async_changed()

        self.hass.async_add_executor_job(write).add_done_callback(
            lambda future: self.hass.loop.call_soon_threadsafe(done, future)
        )

    @callback
    def async_vehicle_alarm(self, lane_id: str, plate: str, at: datetime) -> None:
        """A blacklisted vehicle was refused at a lane (once per pass, resends excluded): an alarm that stays until a
        manager closes it, with the plate as its subject for the panel, and a persistent notification naming the
        lane only. (The county hears of it as the pass's ``vehicle_alarm`` event, journalled with the pass.)"""
        writes = self._writes

        def write() -> Problem | None:
            if writes is None or self._writes is None:
                return None
            try:
                return self.community.call(writes.record_vehicle_alarm, lane_id, plate, at)
            except StorageError as err:
                _LOGGER.warning("a blacklisted-vehicle alarm at lane %s was not recorded: %s", lane_id, err)
                return None

        def done(future: asyncio.Future[Problem | None]) -> None:
            problem = None if future.cancelled() or future.exception() else future.result()
            if problem is not None:
                self._async_notify(problem, lane_name(problem.device_id))
            self._async_changed()

        self.hass.async_add_executor_job(write).add_done_callback(
            lambda future: self.hass.loop.call_soon_threadsafe(done, future)
        )

    @callback
    def _async_notify(self, problem: Problem, name: str) -> None:
        """The alarm's persistent notification: created for a new alarm, updated as it clears or is acknowledged,
        dismissed once it is closed."""
        notification_id = ALARM_NOTIFICATION.format(problem.problem_id)
        if problem.alarm_state is AlarmState.CLOSED:
            persistent_notification.async_dismiss(self.hass, notification_id)
            return
        persistent_notification.async_create(self.hass, alarm_message(problem, name),
                                             title=ALARM_TITLES[AlarmKind(problem.alarm)],
                                             notification_id=notification_id)

    def alarm_names(self, problems: list[Problem]) -> dict[str, str]:
        """Blocking: the doors' names of door alarms, from the community's door list."""
        doors = {d.door_id: d.name for d in self.community.read(self.community.reads.access_config.list_doors)}
        return {p.device_id: doors.get(p.device_id, p.device_id) for p in problems if p.kind == "door"}

    @callback
    def async_alarm_name(self, problem: Problem, door_names: dict[str, str]) -> str:
        """What an alarm's door or device is called (a door by the community's door name, a device as Home
        Assistant names it)."""
        if problem.kind == "door":
            return door_names.get(problem.device_id, problem.device_id)
        if problem.kind == "vehicle":
            return lane_name(problem.device_id)
        return async_device_name(self.hass, problem.device_id)

    async def _async_restore_notifications(self) -> None:
        """Home Assistant keeps no notification across a restart: every alarm not closed gets its own again."""
        store = self.store
        if store is None:
            return
        alarms = await self.hass.async_add_executor_job(lambda: store.alarms(limit=500))
        names = await self.hass.async_add_executor_job(self.alarm_names, alarms)
        for problem in alarms:
            self._async_notify(problem, self.async_alarm_name(problem, names))

    @callback
    def _async_changed(self) -> None:
        self._rates = None  # a device's status changed: the rates are computed anew
        async_dispatcher_send(self.hass, SIGNAL_HEALTH.format(self.entry.entry_id))
        self.hass.async_create_task(self._async_check())

    async def _async_check(self, _now: object = None) -> None:
        """Repair issues for devices offline too long; the weekly reports that are due.

        One check at a time (the timer and status changes both start one), so a due report is made and sent once.
        """
        async with self._check_lock:
            await self._async_check_once()

    async def _async_check_once(self) -> None:
        store, writes = self.store, self._writes
        if store is None or writes is None:
            return
        now = dt_util.utcnow()
        minutes = int(self.entry.options.get(CONF_OFFLINE_MINUTES, DEFAULT_OFFLINE_MINUTES))
        offline = await self.hass.async_add_executor_job(store.long_offline, now, timedelta(minutes=minutes))
        current = {f"device_offline_{device_id}": (device_id, since) for device_id, since in offline}
        for issue_id, (device_id, since) in current.items():
            ir.async_create_issue(
                self.hass, DOMAIN, issue_id, is_fixable=False, severity=ir.IssueSeverity.WARNING,
                translation_key="device_offline",
                translation_placeholders={"device": async_device_name(self.hass, device_id),
                                          "since": dt_util.as_local(since).strftime("%c"),
                                          "minutes": str(minutes)},
            )
        for issue_id in self._issues - set(current):
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        self._issues = set(current)
        target = float(self.entry.options.get(CONF_TARGET, DEFAULT_TARGET))
        made = await self.hass.async_add_executor_job(
            self.community.call, writes.generate_due_reports, now, self.hass.config.time_zone, target
        )
        for report in made:
            _LOGGER.info("weekly device report for the week of %s: %s", report.week_start,
                         "target met" if report.passed else "target missed")
            self.events.publish(report)
        if self._purged_at is None or now - self._purged_at >= PURGE_EVERY:
            # Health history follows the events' retention period.
            days = int(self.entry.options.get(CONF_EVENTS_DAYS, DEFAULT_EVENTS_DAYS))
            await self.hass.async_add_executor_job(self.community.call, writes.purge, now - timedelta(days=days))
            self._purged_at = now

    async def async_acknowledge(self, actor: str, problem_id: int, note: str) -> Problem:
        """A manager acknowledges a problem with a note: the problem's record (no name), the audit log (who) and the
        county's ``device_problem`` event, on the writer. Raises the store's errors (unknown, resolved, bad note)."""
        writes, journal = self._writes, self.community.journal
        if writes is None:
            raise StorageError("device health is not running")
        at = dt_util.utcnow()

        def acknowledge() -> Problem:
            # One writer job: the problem, then the audit entry naming who (nothing can come in between).
            problem = writes.acknowledge(problem_id, note, at, actor=actor)
            self.community.record_action(actor, "acknowledge_device_problem",
                                         {"problem_id": problem.problem_id, "device": problem.device_id,
                                          "alarm": problem.alarm, "note": problem.note or ""})
            if journal is not None and problem.alarm == AlarmKind.DEVICE_OFFLINE:
                journal.append_many([problem_event(problem, at)])
            return problem

        problem = await self.hass.async_add_executor_job(self.community.call, acknowledge)
        await self._async_after_manager(problem)
        return problem

    async def async_close(self, actor: str, problem_id: int, note: str | None) -> Problem:
        """A manager closes an acknowledged alarm (audited with who); its notification is dismissed. Raises the
        store's errors (unknown, not acknowledged yet, already closed, bad note)."""
        writes = self._writes
        if writes is None:
            raise StorageError("device health is not running")
        at = dt_util.utcnow()

        def close() -> Problem:
            problem = writes.close_alarm(problem_id, at, actor=actor, note=note)
            self.community.record_action(actor, "close_alarm",
                                         {"problem_id": problem.problem_id, "device": problem.device_id,
                                          "alarm": problem.alarm, "note": problem.note or ""})
            return problem

        problem = await self.hass.async_add_executor_job(self.community.call, close)
        await self._async_after_manager(problem)
        return problem

    async def _async_after_manager(self, problem: Problem) -> None:
        names = await self.hass.async_add_executor_job(self.alarm_names, [problem])
        self._async_notify(problem, self.async_alarm_name(problem, names))
        async_dispatcher_send(self.hass, SIGNAL_HEALTH.format(self.entry.entry_id))

    def open_alarms(self) -> int | None:
        """Blocking: how many alarms no manager has closed yet."""
        return None if self.store is None else self.store.open_alarm_count()

    def current_rates(self) -> tuple[RateSummary, RateSummary] | None:
        """Blocking: the online rates today and this week (per device and the community's) that the sensors and the
        panel show. One figure for all: computed at most every :data:`RATES_FRESH_FOR` (and after a device's status
        changed), kept, and given to whoever asks meanwhile; a newly computed one is pushed to the rate sensors, so
        the Overview shows what the panel shows at the same moment. ``None`` once the store is closed."""
        store = self.store
        if store is None:
            return None
        now = dt_util.utcnow()
        with self._rates_lock:
            kept = self._rates
            if kept is not None and timedelta(0) <= now - kept[0] < RATES_FRESH_FOR:
                return kept[1], kept[2]
            day, week = online_rates(store, self.hass.config.time_zone, now)
            self._rates = (now, day, week)
        self.hass.loop.call_soon_threadsafe(async_dispatcher_send, self.hass, SIGNAL_RATES.format(self.entry.entry_id))
        return day, week

    def rates(self) -> tuple[float | None, float | None]:
        """Blocking: the community's online rate (percent) today and this week, in Home Assistant's time zone (the
        figure of :meth:`current_rates`)."""
        rates = self.current_rates()
        if rates is None:
            return None, None
        day, week = rates
        return percent(day.community.rate), percent(week.community.rate)
