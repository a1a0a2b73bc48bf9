"""The health store: status changes as online/offline spans, rates over windows, weekly reports, retention.

Blocking SQLite work: call it from an executor (Home Assistant: ``async_add_executor_job``).
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hub.db import open_database
from hub.exceptions import InvalidInputError, NotFoundError, StorageError

from . import schema
from .models import DeviceKind, DeviceRate, PurgeResult, RateSummary, meets, summarize
from .problems import DOOR_ALARMS, MAX_NOTE_CHARS, AlarmKind, Problem, ProblemEntry, StatusChange
from .report import DEFAULT_TARGET_PERCENT, DeviceWeek, Outage, WeeklyReport
from .timeutil import (
    day_window,
    from_text,
    monday_of,
    require_aware,
    resolve_tz,
    to_text,
    utc_now,
    week_window,
)


def open_health_database(path: str | Path) -> sqlite3.Connection:
    """Open the community database with the health tables up to date (WAL, ``synchronous=FULL``)."""
    return open_database(path, components=[schema.COMPONENT])


@dataclass(frozen=True, kw_only=True)
class DeviceStatus:
    """A device's current state and since when it has been in it."""

    device_id: str
    kind: str
    online: bool
    since: datetime


@dataclass(frozen=True)
class _Span:
    device_id: str
    kind: str
    online: bool
    start: datetime
    end: datetime | None


def _validate_id(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{name} must be a non-empty string")
    return value


def _validate_target(target: object) -> float:
    if isinstance(target, bool) or not isinstance(target, int | float):
        raise InvalidInputError("target must be a number of percent")
    value = float(target)
    if not math.isfinite(value) or not 0.0 <= value <= 100.0:
        raise InvalidInputError(f"target must be between 0 and 100 percent, got {target!r}")
    return value


class HealthStore:
    """Records device status changes and answers rate, report, repair and retention questions.

    Only *changes* are stored: each device has a sequence of contiguous spans (online or offline), the last one
    open. A device is "observed" from its first recorded status onwards; the open span lasts until "now" (the
    ``now`` argument, or the clock). Thread-safe: one lock serializes use of the shared connection.
    """

    def __init__(self, conn: sqlite3.Connection, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._conn = conn
        self._clock = clock
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: str | Path, *, clock: Callable[[], datetime] = utc_now) -> HealthStore:
        """Open (creating if needed) the database at ``path`` and return a store on it."""
        try:
            return cls(open_health_database(path), clock=clock)
        except sqlite3.Error as err:
            raise StorageError(f"cannot open health database {path}: {err}") from err

    @property
    def connection(self) -> sqlite3.Connection:
        return self._conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- plumbing -------------------------------------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._lock:
                yield self._conn
        except sqlite3.Error as err:
            raise StorageError(f"health database read failed: {err}") from err

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as err:
                raise StorageError(f"health database write failed: {err}") from err
            try:
                yield self._conn
            except BaseException as err:
                self._conn.execute("ROLLBACK")
                if isinstance(err, sqlite3.Error):
                    raise StorageError(f"health database write failed: {err}") from err
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as err:
                self._conn.execute("ROLLBACK")
                raise StorageError(f"health database commit failed: {err}") from err

    def _now(self, now: datetime | None) -> datetime:
        return require_aware(self._clock() if now is None else now, "now")

    # -- recording ------------------------------------------------------------------------------------------------

    def record(self, device_id: str, kind: DeviceKind | str, online: bool, at: datetime) -> bool:
        """Record that ``device_id`` (of ``kind``) was sampled online/offline at ``at``.

        Returns ``True`` if this was a change (a new span started), ``False`` if it repeated the current state
        (ignored; only the kind is updated if it differs). A change dated before the current span's start is
        refused with :class:`InvalidInputError`: history is never rewritten. See :meth:`record_change`.
        """
        return self.record_change(device_id, kind, online, at) is not None

    def record_change(
        self,
        device_id: str,
        kind: DeviceKind | str,
        online: bool,
        at: datetime,
        *,
        also: Callable[[StatusChange], object] | None = None,
    ) -> StatusChange | None:
        """:meth:`record`, saying what changed: ``None`` for a repeat of the current state, else the new state and
        the problem it opened (the device went offline) or resolved (it is back), in the same transaction.

        ``also`` runs inside that transaction with the change (the hub journals the health events there, on the
        same connection, so the change and its upstream events commit together or not at all)."""
        device_id = _validate_id(device_id, "device_id")
        kind_text = str(_validate_id(kind, "kind"))
        if not isinstance(online, bool):
            raise InvalidInputError("online must be a bool")
        moment = require_aware(at, "at")
        at_text = to_text(moment)
        with self._write() as conn:
            row = conn.execute(
                "SELECT kind, online, since FROM health_devices WHERE device_id = ?", (device_id,)
            ).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO health_devices (device_id, kind, online, since) VALUES (?, ?, ?, ?)",
                    (device_id, kind_text, int(online), at_text),
                )
            else:
                if row["kind"] != kind_text:
                    conn.execute("UPDATE health_devices SET kind = ? WHERE device_id = ?", (kind_text, device_id))
                if bool(row["online"]) == online:
                    return None
                if at_text < row["since"]:
                    raise InvalidInputError(
                        f"status of {device_id} at {at_text} is earlier than its current state's start "
                        f"{row['since']}"
                    )
                conn.execute(
                    "UPDATE health_spans SET end_at = ? WHERE device_id = ? AND end_at IS NULL", (at_text, device_id)
                )
                conn.execute(
                    "UPDATE health_devices SET online = ?, since = ? WHERE device_id = ?",
                    (int(online), at_text, device_id),
                )
            conn.execute(
                "INSERT INTO health_spans (device_id, online, start_at, end_at) VALUES (?, ?, ?, NULL)",
                (device_id, int(online), at_text),
            )
            problem = self._problem_follows(conn, device_id, kind_text, online, at_text)
            change = StatusChange(device_id=device_id, kind=kind_text, online=online, at=moment, problem=problem)
            if also is not None:
                also(change)
        return change

    @staticmethod
    def _problem_follows(
        conn: sqlite3.Connection, device_id: str, kind: str, online: bool, at_text: str
    ) -> Problem | None:
        """Inside the change's transaction: open a problem when the device went offline, resolve it when back."""
        unresolved = conn.execute(
            "SELECT * FROM health_problems WHERE device_id = ? AND alarm = ? AND resolved_at IS NULL",
            (device_id, AlarmKind.DEVICE_OFFLINE.value),
        ).fetchone()
        if online:
            if unresolved is None:
                return None
            problem_id = int(unresolved["problem_id"])
            conn.execute("UPDATE health_problems SET resolved_at = ? WHERE problem_id = ?",
                         (max(at_text, unresolved["opened_at"]), problem_id))
        elif unresolved is None:
            cur = conn.execute(
                "INSERT INTO health_problems (device_id, kind, opened_at) VALUES (?, ?, ?)", (device_id, kind, at_text)
            )
            problem_id = int(cur.lastrowid or 0)
        else:
            return _problem(unresolved)  # still the same problem (a device first recorded offline again)
        row = conn.execute("SELECT * FROM health_problems WHERE problem_id = ?", (problem_id,)).fetchone()
        return _problem(row)

    def status(self, device_id: str) -> DeviceStatus:
        """The device's current state; :class:`NotFoundError` if it was never recorded."""
        device_id = _validate_id(device_id, "device_id")
        with self._read() as conn:
            row = conn.execute(
                "SELECT device_id, kind, online, since FROM health_devices WHERE device_id = ?", (device_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no health record for device {device_id!r}")
        return _status(row)

    def statuses(self) -> list[DeviceStatus]:
        """Every known device's current state, in id order."""
        with self._read() as conn:
            rows = conn.execute("SELECT device_id, kind, online, since FROM health_devices ORDER BY device_id")
            return [_status(r) for r in rows.fetchall()]

    # -- problems -------------------------------------------------------------------------------------------------

    def record_alarm(
        self,
        door_id: str,
        alarm: AlarmKind | str,
        active: bool,
        at: datetime,
        *,
        also: Callable[[Problem], object] | None = None,
    ) -> Problem | None:
        """A door raised (``active``) or cleared an alarm (forced open, held open, tamper): a raise opens an alarm
        (``None`` if that door already has that alarm unresolved), a clear resolves it (``None`` if there was none).
        The alarm stays listed until a manager closes it. ``also`` runs inside the transaction with the problem (the
        hub journals the door-alarm event there)."""
        door_id = _validate_id(door_id, "door_id")
        try:
            kind = AlarmKind(alarm)
        except ValueError:
            raise InvalidInputError(f"unknown door alarm {alarm!r}") from None
        if kind not in DOOR_ALARMS:
            raise InvalidInputError(f"{kind} is not a door alarm")
        if not isinstance(active, bool):
            raise InvalidInputError("active must be a bool")
        at_text = to_text(require_aware(at, "at"))
        with self._write() as conn:
            row = conn.execute(
                "SELECT * FROM health_problems WHERE device_id = ? AND alarm = ? AND resolved_at IS NULL",
                (door_id, kind.value),
            ).fetchone()
            if active:
                if row is not None:
                    return None
                cur = conn.execute(
                    "INSERT INTO health_problems (device_id, kind, opened_at, alarm) VALUES (?, 'door', ?, ?)",
                    (door_id, at_text, kind.value),
                )
                problem_id = int(cur.lastrowid or 0)
            else:
                if row is None:
                    return None
                problem_id = int(row["problem_id"])
                conn.execute("UPDATE health_problems SET resolved_at = ? WHERE problem_id = ?",
                             (max(at_text, row["opened_at"]), problem_id))
            problem = _problem(conn.execute("SELECT * FROM health_problems WHERE problem_id = ?",
                                            (problem_id,)).fetchone())
            if also is not None:
                also(problem)
        return problem

    def record_vehicle_alarm(self, lane_id: str, plate: str, at: datetime, *,
                             also: Callable[[Problem], object] | None = None) -> Problem:
        """A blacklisted vehicle was refused at a lane (``at``: when the camera saw it, a back-filled pass's original
        time): an alarm, resolved at once (the car was seen; nothing to clear), that stays until a manager closes it.
        ``plate`` is kept as the alarm's subject, for the managers' panel only. Every call opens a new alarm: the
        caller raises it once per pass (a camera's resend is no new pass)."""
        lane_id = _validate_id(lane_id, "lane_id")
        if not isinstance(plate, str) or len(plate) > 32:
            raise InvalidInputError("plate must be text of at most 32 characters")
        at_text = to_text(require_aware(at, "at"))
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO health_problems (device_id, kind, opened_at, resolved_at, alarm, subject)"
                " VALUES (?, 'vehicle', ?, ?, ?, ?)",
                (lane_id, at_text, at_text, AlarmKind.BLACKLISTED_VEHICLE.value, plate or None),
            )
            problem = _problem(conn.execute("SELECT * FROM health_problems WHERE problem_id = ?",
                                            (int(cur.lastrowid or 0),)).fetchone())
            if also is not None:
                also(problem)
        return problem

    @staticmethod
    def _checked_note(note: object) -> str:
        if not isinstance(note, str) or not note.strip():
            raise InvalidInputError("say what is being done about it: the note must not be empty")
        text = note.strip()
        if len(text) > MAX_NOTE_CHARS:
            raise InvalidInputError(f"the note may have at most {MAX_NOTE_CHARS} characters")
        return text

    def acknowledge(self, problem_id: int, note: str, at: datetime, *, actor: str | None = None) -> Problem:
        """A manager has seen the problem and says what is being done (``note``, 1 to 500 characters).

        The first acknowledgement's time (and ``actor``, the manager as the audit log names them) is kept; a later
        one replaces the note. An alarm that has cleared can still be acknowledged (it stays until closed); a closed
        one is refused (:class:`InvalidInputError`), an unknown one is :class:`NotFoundError`.
        """
        if isinstance(problem_id, bool) or not isinstance(problem_id, int):
            raise InvalidInputError("problem_id must be an integer")
        text = self._checked_note(note)
        at_text = to_text(require_aware(at, "at"))
        with self._write() as conn:
            row = conn.execute("SELECT * FROM health_problems WHERE problem_id = ?", (problem_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no device problem {problem_id}")
            if row["closed_at"] is not None:
                raise InvalidInputError(f"alarm {problem_id} is already closed")
            conn.execute(
                "UPDATE health_problems SET acknowledged_at = COALESCE(acknowledged_at, ?),"
                " acknowledged_by = COALESCE(acknowledged_by, ?), note = ? WHERE problem_id = ?",
                (max(at_text, row["opened_at"]), actor, text, problem_id),
            )
            updated = conn.execute("SELECT * FROM health_problems WHERE problem_id = ?", (problem_id,)).fetchone()
        return _problem(updated)

    def close_alarm(self, problem_id: int, at: datetime, *, actor: str, note: str | None = None) -> Problem:
        """A manager closes an acknowledged alarm (with an optional closing note that replaces the note): it leaves
        the open list. An alarm not acknowledged yet is refused (say what was done first), as is a closed one."""
        if isinstance(problem_id, bool) or not isinstance(problem_id, int):
            raise InvalidInputError("problem_id must be an integer")
        text = None if note is None or (isinstance(note, str) and not note.strip()) else self._checked_note(note)
        actor = _validate_id(actor, "actor")
        at_text = to_text(require_aware(at, "at"))
        with self._write() as conn:
            row = conn.execute("SELECT * FROM health_problems WHERE problem_id = ?", (problem_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no device problem {problem_id}")
            if row["closed_at"] is not None:
                raise InvalidInputError(f"alarm {problem_id} is already closed")
            if row["acknowledged_at"] is None:
                raise InvalidInputError(f"acknowledge alarm {problem_id} with a note before closing it")
            conn.execute(
                "UPDATE health_problems SET closed_at = ?, closed_by = ?, note = COALESCE(?, note)"
                " WHERE problem_id = ?",
                (max(at_text, row["acknowledged_at"]), actor, text, problem_id),
            )
            updated = conn.execute("SELECT * FROM health_problems WHERE problem_id = ?", (problem_id,)).fetchone()
        return _problem(updated)

    def alarms(self, *, include_closed: bool = False, limit: int = 100) -> list[Problem]:
        """Alarms of every kind, those not closed first (newest first), then, with ``include_closed``, closed ones."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInputError("limit must be a positive integer")
        sql = "SELECT * FROM health_problems"
        if not include_closed:
            sql += " WHERE closed_at IS NULL"
        sql += " ORDER BY closed_at IS NOT NULL, opened_at DESC, problem_id DESC LIMIT ?"
        with self._read() as conn:
            return [_problem(r) for r in conn.execute(sql, (limit,)).fetchall()]

    def open_alarm_count(self) -> int:
        """How many alarms no manager has closed yet (the panel's badge, the open-alarms sensor)."""
        with self._read() as conn:
            (count,) = conn.execute("SELECT COUNT(*) FROM health_problems WHERE closed_at IS NULL").fetchone()
        return int(count)

    def problem(self, problem_id: int) -> Problem:
        """One problem; :class:`NotFoundError` if there is none with that id."""
        with self._read() as conn:
            row = conn.execute("SELECT * FROM health_problems WHERE problem_id = ?", (problem_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no device problem {problem_id}")
        return _problem(row)

    def problems(self, *, unresolved: bool = False, limit: int = 100) -> list[Problem]:
        """Devices' offline problems newest first; only those not resolved yet with ``unresolved`` (door alarms:
        :meth:`alarms`)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInputError("limit must be a positive integer")
        sql = "SELECT * FROM health_problems WHERE alarm = 'device_offline'"
        if unresolved:
            sql += " AND resolved_at IS NULL"
        sql += " ORDER BY opened_at DESC, problem_id DESC LIMIT ?"
        with self._read() as conn:
            return [_problem(r) for r in conn.execute(sql, (limit,)).fetchall()]

    def problems_between(self, start: datetime, end: datetime) -> list[Problem]:
        """Problems open at some time in ``[start, end)``: opened before ``end``, not resolved before ``start``;
        oldest first."""
        start_text = to_text(require_aware(start, "start"))
        end_text = to_text(require_aware(end, "end"))
        with self._read() as conn:
            rows = conn.execute(
                "SELECT * FROM health_problems WHERE alarm = 'device_offline' AND opened_at < ?"
                " AND (resolved_at IS NULL OR resolved_at >= ?) ORDER BY opened_at, problem_id",
                (end_text, start_text),
            ).fetchall()
        return [_problem(r) for r in rows]

    # -- history --------------------------------------------------------------------------------------------------

    def timeline(
        self, start: datetime, end: datetime, *, now: datetime | None = None
    ) -> dict[str, list[tuple[bool, datetime, datetime]]]:
        """Each device's spans in ``[start, end)`` clipped to the window and to ``now``: ``(online, from, to)``,
        in time order (what the panel draws as a timeline of up and down)."""
        start, end, at = self._window(start, end, now)
        limit = min(end, at)
        out: dict[str, list[tuple[bool, datetime, datetime]]] = {}
        if limit <= start:
            return out
        for span in self._spans(start, limit):
            span_end = limit if span.end is None else min(span.end, limit)
            span_start = max(span.start, start)
            if span_end > span_start:
                out.setdefault(span.device_id, []).append((span.online, span_start, span_end))
        return out

    # -- rates ----------------------------------------------------------------------------------------------------

    def _spans(self, start: datetime, end: datetime, device_id: str | None = None) -> list[_Span]:
        sql = (
            "SELECT s.device_id, d.kind, s.online, s.start_at, s.end_at FROM health_spans s"
            " JOIN health_devices d ON d.device_id = s.device_id"
            " WHERE s.start_at < ? AND (s.end_at IS NULL OR s.end_at > ?)"
        )
        params: list[Any] = [to_text(end), to_text(start)]
        if device_id is not None:
            sql += " AND s.device_id = ?"
            params.append(device_id)
        sql += " ORDER BY s.device_id, s.start_at, s.span_id"
        with self._read() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [
            _Span(
                r["device_id"],
                r["kind"],
                bool(r["online"]),
                from_text(r["start_at"]),
                None if r["end_at"] is None else from_text(r["end_at"]),
            )
            for r in rows
        ]

    def _window(self, start: datetime, end: datetime, now: datetime | None) -> tuple[datetime, datetime, datetime]:
        start = require_aware(start, "start")
        end = require_aware(end, "end")
        if end <= start:
            raise InvalidInputError("end must be after start")
        return start, end, self._now(now)

    def _device_rates(self, start: datetime, end: datetime, now: datetime, device_id: str | None) -> list[DeviceRate]:
        limit = min(end, now)
        totals: dict[str, tuple[str, float, float]] = {}
        if limit > start:
            for span in self._spans(start, limit, device_id):
                span_end = limit if span.end is None else min(span.end, limit)
                seconds = max(0.0, (span_end - max(span.start, start)).total_seconds())
                kind, online_s, observed_s = totals.get(span.device_id, (span.kind, 0.0, 0.0))
                totals[span.device_id] = (kind, online_s + (seconds if span.online else 0.0), observed_s + seconds)
        return [
            DeviceRate(device_id=d, kind=k, online_seconds=on, observed_seconds=obs)
            for d, (k, on, obs) in sorted(totals.items())
        ]

    def device_rate(
        self, device_id: str, start: datetime, end: datetime, *, now: datetime | None = None
    ) -> DeviceRate:
        """One device's online time over ``[start, end)``, clipped to ``now``; NotFoundError if never recorded."""
        current = self.status(device_id)
        start, end, at = self._window(start, end, now)
        found = self._device_rates(start, end, at, device_id)
        if found:
            return found[0]
        return DeviceRate(device_id=device_id, kind=current.kind, online_seconds=0.0, observed_seconds=0.0)

    def rates(self, start: datetime, end: datetime, *, now: datetime | None = None) -> RateSummary:
        """Per-device and community rates over ``[start, end)`` (clipped to ``now``), observed devices only."""
        start, end, at = self._window(start, end, now)
        return summarize(start, end, self._device_rates(start, end, at, None))

    def day_rates(self, day: date, tz: str | ZoneInfo, *, now: datetime | None = None) -> RateSummary:
        """Rates over one local calendar day in ``tz``."""
        start, end = day_window(day, tz)
        return self.rates(start, end, now=now)

    def week_rates(self, week_start: date, tz: str | ZoneInfo, *, now: datetime | None = None) -> RateSummary:
        """Rates over one local week (Monday 00:00 to next Monday 00:00) in ``tz``."""
        start, end = week_window(week_start, tz)
        return self.rates(start, end, now=now)

    # -- weekly reports -------------------------------------------------------------------------------------------

    def build_weekly_report(
        self,
        week_start: date,
        tz: str | ZoneInfo,
        target: float = DEFAULT_TARGET_PERCENT,
        *,
        now: datetime | None = None,
    ) -> WeeklyReport:
        """Compute the report for a week without storing it (a week not over yet is clipped to ``now``)."""
        target_percent = _validate_target(target)
        zone = resolve_tz(tz)
        start, end = week_window(week_start, zone)
        at = self._now(now)
        limit = max(start, min(end, at))
        rates = self._device_rates(start, end, at, None)
        spans = self._spans(start, limit) if limit > start else []
        outages: list[Outage] = []
        counts: dict[str, int] = {}
        for span in spans:
            if span.online:
                continue
            clipped_start = max(span.start, start)
            clipped_end = limit if span.end is None else min(span.end, limit)
            if clipped_end <= clipped_start:
                continue
            outages.append(
                Outage(
                    device_id=span.device_id,
                    kind=span.kind,
                    start=clipped_start,
                    end=clipped_end,
                    began_before_week=span.start < start,
                    continues_after_week=span.end is None or span.end > limit,
                )
            )
            counts[span.device_id] = counts.get(span.device_id, 0) + 1
        outages.sort(key=lambda o: (o.start, o.device_id))
        summary = summarize(start, end, rates)
        devices = [
            DeviceWeek(
                device_id=r.device_id,
                kind=r.kind,
                online_seconds=r.online_seconds,
                observed_seconds=r.observed_seconds,
                online_percent=None if r.rate is None else r.rate * 100.0,
                outages=counts.get(r.device_id, 0),
                meets_target=meets(r.online_seconds, r.observed_seconds, target_percent),
            )
            for r in summary.devices
        ]
        community = summary.community
        problems = [ProblemEntry.of(p) for p in self.problems_between(start, limit)] if limit > start else []
        return WeeklyReport(
            week_start=week_start,
            tz=zone.key,
            start=start,
            end=end,
            target_percent=target_percent,
            generated_at=at,
            devices=devices,
            outages=outages,
            online_seconds=community.online_seconds,
            observed_seconds=community.observed_seconds,
            online_percent=None if community.rate is None else community.rate * 100.0,
            mean_device_percent=None if community.mean_device_rate is None else community.mean_device_rate * 100.0,
            passed=meets(community.online_seconds, community.observed_seconds, target_percent),
            problems=problems,
        )

    def generate_weekly_report(
        self,
        week_start: date,
        tz: str | ZoneInfo,
        target: float = DEFAULT_TARGET_PERCENT,
        *,
        now: datetime | None = None,
    ) -> WeeklyReport:
        """Compute and keep the report of a finished week (replacing an earlier one of the same week).

        Refuses (InvalidInputError) a week that has not ended by ``now``: a kept report is final.
        """
        target_percent = _validate_target(target)
        start, end = week_window(week_start, tz)
        at = self._now(now)
        if at < end:
            raise InvalidInputError(f"the week of {week_start.isoformat()} is not over yet (ends {to_text(end)})")
        report = self.build_weekly_report(week_start, tz, target_percent, now=at)
        payload = json.dumps(report.to_dict(), sort_keys=True, separators=(",", ":"))
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO health_reports"
                " (week_start, tz, start_at, end_at, target, passed, generated_at, report)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    week_start.isoformat(),
                    report.tz,
                    to_text(start),
                    to_text(end),
                    target_percent,
                    int(report.passed),
                    to_text(report.generated_at),
                    payload,
                ),
            )
        return report

    def latest_reports(self, n: int = 10) -> list[WeeklyReport]:
        """The ``n`` kept reports of the most recent weeks, newest first."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise InvalidInputError("n must be a non-negative integer")
        with self._read() as conn:
            rows = conn.execute(
                "SELECT report FROM health_reports ORDER BY week_start DESC LIMIT ?", (n,)
            ).fetchall()
        return [WeeklyReport.from_dict(json.loads(r["report"])) for r in rows]

    def get_report(self, week_start: date) -> WeeklyReport:
        """The kept report of the week starting ``week_start``; NotFoundError if there is none."""
        if not isinstance(week_start, date) or isinstance(week_start, datetime):
            raise InvalidInputError("week_start must be a date")
        with self._read() as conn:
            row = conn.execute(
                "SELECT report FROM health_reports WHERE week_start = ?", (week_start.isoformat(),)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no health report for the week of {week_start.isoformat()}")
        return WeeklyReport.from_dict(json.loads(row["report"]))

    def due_reports(self, now: datetime, tz: str | ZoneInfo) -> list[date]:
        """Mondays of finished weeks (ended by ``now``) that have status data but no kept report, oldest first.

        Weeks start from the one holding the oldest kept span, so after a restart or a gap every missed week is
        listed once; a scheduler calls :meth:`generate_weekly_report` for each (see :meth:`generate_due_reports`).
        """
        at = require_aware(now, "now")
        zone = resolve_tz(tz)
        with self._read() as conn:
            first = conn.execute("SELECT MIN(start_at) FROM health_spans").fetchone()[0]
            kept = {r[0] for r in conn.execute("SELECT week_start FROM health_reports").fetchall()}
        if first is None:
            return []
        due: list[date] = []
        monday = monday_of(from_text(first), zone)
        while True:
            _, end = week_window(monday, zone)
            if end > at:
                break
            if monday.isoformat() not in kept:
                due.append(monday)
            monday += timedelta(days=7)
        return due

    def generate_due_reports(
        self, now: datetime, tz: str | ZoneInfo, target: float = DEFAULT_TARGET_PERCENT
    ) -> list[WeeklyReport]:
        """Generate and keep every report :meth:`due_reports` lists; returns them oldest first."""
        target_percent = _validate_target(target)
        return [self.generate_weekly_report(m, tz, target_percent, now=now) for m in self.due_reports(now, tz)]

    # -- repairs and retention ------------------------------------------------------------------------------------

    def long_offline(self, now: datetime, threshold: timedelta) -> list[tuple[str, datetime]]:
        """Devices offline for at least ``threshold`` at ``now``: ``(device_id, offline_since)``, longest first."""
        at = require_aware(now, "now")
        if not isinstance(threshold, timedelta) or threshold < timedelta(0):
            raise InvalidInputError("threshold must be a non-negative timedelta")
        with self._read() as conn:
            rows = conn.execute(
                "SELECT device_id, since FROM health_devices WHERE online = 0 AND since <= ?"
                " ORDER BY since, device_id",
                (to_text(at - threshold),),
            ).fetchall()
        return [(r["device_id"], from_text(r["since"])) for r in rows]

    def purge(self, before: datetime) -> PurgeResult:
        """Remove status history and kept reports older than ``before``.

        Spans that ended at or before ``before`` are deleted; a span straddling it is trimmed to start at
        ``before`` (so time before it is no longer "observed"). Reports of weeks that ended at or before
        ``before`` are deleted. Devices' current states are kept. ``before`` may not be in the future.
        """
        cutoff = require_aware(before, "before")
        if cutoff > self._now(None):
            raise InvalidInputError("before must not be in the future")
        text = to_text(cutoff)
        with self._write() as conn:
            deleted = conn.execute(
                "DELETE FROM health_spans WHERE end_at IS NOT NULL AND end_at <= ?", (text,)
            ).rowcount
            trimmed = conn.execute(
                "UPDATE health_spans SET start_at = ? WHERE start_at < ? AND (end_at IS NULL OR end_at > ?)",
                (text, text, text),
            ).rowcount
            reports = conn.execute("DELETE FROM health_reports WHERE end_at <= ?", (text,)).rowcount
            problems = conn.execute(
                "DELETE FROM health_problems WHERE resolved_at IS NOT NULL AND resolved_at <= ?"
                " AND (closed_at IS NOT NULL AND closed_at <= ?)", (text, text)
            ).rowcount
        return PurgeResult(spans_deleted=deleted, spans_trimmed=trimmed, reports_deleted=reports,
                           problems_deleted=problems)


def _problem(row: sqlite3.Row) -> Problem:
    acked, resolved, closed = row["acknowledged_at"], row["resolved_at"], row["closed_at"]
    return Problem(
        problem_id=int(row["problem_id"]),
        device_id=row["device_id"],
        kind=row["kind"],
        opened_at=from_text(row["opened_at"]),
        acknowledged_at=None if acked is None else from_text(acked),
        note=row["note"],
        resolved_at=None if resolved is None else from_text(resolved),
        alarm=row["alarm"],
        acknowledged_by=row["acknowledged_by"],
        closed_at=None if closed is None else from_text(closed),
        closed_by=row["closed_by"],
        subject=row["subject"],
    )


def _status(row: sqlite3.Row) -> DeviceStatus:
    return DeviceStatus(
        device_id=row["device_id"], kind=row["kind"], online=bool(row["online"]), since=from_text(row["since"])
    )
