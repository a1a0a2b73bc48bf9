"""The weekly health report: who failed, when and for how long, the rates, and pass/fail against the target."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .models import public_device_id
from .problems import ProblemEntry
from .timeutil import from_text, to_text

DEFAULT_TARGET_PERCENT = 98.0


@dataclass(frozen=True, kw_only=True)
class Outage:
    """One offline span of a device, clipped to the report's week.

    ``began_before_week``: the device was already offline at the week's start. ``continues_after_week``: it was
    still offline at the week's end (or at the time the report was built, for a week not over yet).
    """

    device_id: str
    kind: str
    start: datetime
    end: datetime
    began_before_week: bool
    continues_after_week: bool

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "kind": self.kind,
            "start": to_text(self.start),
            "end": to_text(self.end),
            "seconds": self.seconds,
            "began_before_week": self.began_before_week,
            "continues_after_week": self.continues_after_week,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outage:
        return cls(
            device_id=str(data["device_id"]),
            kind=str(data["kind"]),
            start=from_text(data["start"]),
            end=from_text(data["end"]),
            began_before_week=bool(data["began_before_week"]),
            continues_after_week=bool(data["continues_after_week"]),
        )


@dataclass(frozen=True, kw_only=True)
class DeviceWeek:
    """One device's week: online and observed seconds, its online percentage and whether it met the target."""

    device_id: str
    kind: str
    online_seconds: float
    observed_seconds: float
    online_percent: float | None
    outages: int
    meets_target: bool

    @property
    def offline_seconds(self) -> float:
        return self.observed_seconds - self.online_seconds

    def to_dict(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "kind": self.kind,
            "online_seconds": self.online_seconds,
            "observed_seconds": self.observed_seconds,
            "offline_seconds": self.offline_seconds,
            "online_percent": self.online_percent,
            "outages": self.outages,
            "meets_target": self.meets_target,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeviceWeek:
        percent = data["online_percent"]
        return cls(
            device_id=str(data["device_id"]),
            kind=str(data["kind"]),
            online_seconds=float(data["online_seconds"]),
            observed_seconds=float(data["observed_seconds"]),
            online_percent=None if percent is None else float(percent),
            outages=int(data["outages"]),
            meets_target=bool(data["meets_target"]),
        )


@dataclass(frozen=True, kw_only=True)
class WeeklyReport:
    """The report for the week Monday 00:00 to the next Monday 00:00 in ``tz`` (``start``/``end`` in UTC).

    ``online_percent`` is the community rate (total online seconds / total observed seconds, in percent);
    ``passed`` is whether it reached ``target_percent``. A week with no observed device never passes.
    ``problems`` are the device problems open at some time in the week (opened in it, or earlier and not yet
    resolved when it began), with their times to repair; a report kept by an earlier release has none.
    """

    week_start: date
    tz: str
    start: datetime
    end: datetime
    target_percent: float
    generated_at: datetime
    devices: list[DeviceWeek]
    outages: list[Outage]
    online_seconds: float
    observed_seconds: float
    online_percent: float | None
    mean_device_percent: float | None
    passed: bool
    problems: list[ProblemEntry] = field(default_factory=list)

    @property
    def mean_repair_seconds(self) -> float | None:
        """The mean time to repair of the problems resolved by the report's time (``None``: none resolved)."""
        times = [p.repair_seconds for p in self.problems if p.repair_seconds is not None]
        return sum(times) / len(times) if times else None

    @property
    def failed_devices(self) -> list[str]:
        """Ids of devices that were offline at least once in the week, in id order."""
        return sorted({o.device_id for o in self.outages})

    @property
    def devices_below_target(self) -> list[str]:
        """Ids of observed devices whose own online rate missed the target."""
        return [d.device_id for d in self.devices if not d.meets_target]

    def to_dict(self) -> dict[str, Any]:
        return {
            "week_start": self.week_start.isoformat(),
            "tz": self.tz,
            "start": to_text(self.start),
            "end": to_text(self.end),
            "target_percent": self.target_percent,
            "generated_at": to_text(self.generated_at),
            "online_seconds": self.online_seconds,
            "observed_seconds": self.observed_seconds,
            "online_percent": self.online_percent,
            "mean_device_percent": self.mean_device_percent,
            "passed": self.passed,
            "failed_devices": self.failed_devices,
            "devices": [d.to_dict() for d in self.devices],
            "outages": [o.to_dict() for o in self.outages],
            "problems": [p.to_dict() for p in self.problems],
            "mean_repair_seconds": self.mean_repair_seconds,
        }

    def upstream(self) -> dict[str, Any]:
        """:meth:`to_dict` as it goes to the county: device ids through :func:`public_device_id` (a camera known by
        its URL loses any credentials or query in it)."""
        data = self.to_dict()
        data["failed_devices"] = [public_device_id(d) for d in data["failed_devices"]]
        for key in ("devices", "outages", "problems"):
            data[key] = [{**item, "device_id": public_device_id(item["device_id"])} for item in data[key]]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WeeklyReport:
        percent = data["online_percent"]
        mean = data["mean_device_percent"]
        return cls(
            week_start=date.fromisoformat(data["week_start"]),
            tz=str(data["tz"]),
            start=from_text(data["start"]),
            end=from_text(data["end"]),
            target_percent=float(data["target_percent"]),
            generated_at=from_text(data["generated_at"]),
            devices=[DeviceWeek.from_dict(d) for d in data["devices"]],
            outages=[Outage.from_dict(o) for o in data["outages"]],
            online_seconds=float(data["online_seconds"]),
            observed_seconds=float(data["observed_seconds"]),
            online_percent=None if percent is None else float(percent),
            mean_device_percent=None if mean is None else float(mean),
            passed=bool(data["passed"]),
            problems=[ProblemEntry.from_dict(p) for p in data.get("problems", [])],
        )

    def to_markdown(self) -> str:
        """The report as markdown that also reads well as plain text (local times, in the report's zone)."""
        zone = ZoneInfo(self.tz)
        last_day = self.week_start + timedelta(days=6)
        verdict = "PASS" if self.passed else ("FAIL (no data)" if self.online_percent is None else "FAIL")
        lines = [
            f"# Device health, week of {self.week_start.isoformat()} to {last_day.isoformat()} ({self.tz})",
            "",
            f"**Result: {verdict}**. Community online rate {_percent(self.online_percent)}, "
            f"target {self.target_percent:g}%.",
            f"Mean of device rates {_percent(self.mean_device_percent)}; {len(self.devices)} device(s) observed, "
            f"{len(self.failed_devices)} with outages, {len(self.devices_below_target)} below target.",
            "",
            "## Devices",
            "",
        ]
        if self.devices:
            lines += ["| Device | Kind | Online | Offline | Outages | Target |", "|---|---|---|---|---|---|"]
            for d in self.devices:
                mark = "met" if d.meets_target else "MISSED"
                lines.append(
                    f"| {d.device_id} | {d.kind} | {_percent(d.online_percent)} | {_duration(d.offline_seconds)} "
                    f"| {d.outages} | {mark} |"
                )
        else:
            lines.append("No device was observed this week.")
        lines += ["", "## Outages", ""]
        if self.outages:
            lines += ["| Device | From | To | Duration |", "|---|---|---|---|"]
            for o in self.outages:
                start = o.start.astimezone(zone).strftime("%a %Y-%m-%d %H:%M")
                end = o.end.astimezone(zone).strftime("%a %Y-%m-%d %H:%M")
                if o.began_before_week:
                    start += " (already offline)"
                if o.continues_after_week:
                    end += " (still offline)"
                lines.append(f"| {o.device_id} | {start} | {end} | {_duration(o.seconds)} |")
        else:
            lines.append("No outages.")
        lines += ["", "## Problems", ""]
        if self.problems:
            mean = self.mean_repair_seconds
            lines += [
                f"{len(self.problems)} problem(s), {sum(p.resolved_at is not None for p in self.problems)} resolved; "
                f"mean time to repair {'n/a' if mean is None else _duration(mean)}.",
                "",
                "| # | Device | Opened | Acknowledged | Resolved | Time to repair |",
                "|---|---|---|---|---|---|",
            ]
            for p in self.problems:
                def local(moment: datetime | None) -> str:
                    return "-" if moment is None else moment.astimezone(zone).strftime("%a %Y-%m-%d %H:%M")

                repair = "still open" if p.repair_seconds is None else _duration(p.repair_seconds)
                lines.append(f"| {p.problem_id} | {p.device_id} | {local(p.opened_at)} | {local(p.acknowledged_at)} "
                             f"| {local(p.resolved_at)} | {repair} |")
        else:
            lines.append("No problems.")
        lines.append("")
        return "\n".join(lines)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}%"


def _duration(seconds: float) -> str:
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"
