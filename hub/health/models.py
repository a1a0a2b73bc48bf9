"""Value types of device health: device kinds, online rates over a window, purge results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit


class DeviceKind(StrEnum):
    """The kinds of device the hub watches. Other non-empty strings are accepted too (stored as given)."""

    DOOR_CONTROLLER = "door_controller"
    CAMERA = "camera"
    UPLINK = "uplink"


def public_device_id(device_id: str) -> str:
    """A device id as it may leave the hub. A camera added by hand is known by its snapshot URL, which may carry a
    user name and password (``http://user:pass@host/...``) or a token in its query: those are dropped, the scheme,
    host, port and path (what identifies the camera) stay. Any other id is returned as it is."""
    try:
        parts = urlsplit(device_id)
    except ValueError:
        return device_id
    if not parts.scheme or not parts.netloc:
        return device_id
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def ratio(online_seconds: float, observed_seconds: float) -> float | None:
    """Online seconds over observed seconds, ``None`` when nothing was observed."""
    if observed_seconds <= 0:
        return None
    return online_seconds / observed_seconds


def meets(online_seconds: float, observed_seconds: float, target_percent: float) -> bool:
    """Whether ``online / observed >= target%`` (compared without dividing; nothing observed never meets it)."""
    if observed_seconds <= 0:
        return False
    # A microsecond of slack absorbs float error from summing durations; it is far below any real outage.
    return online_seconds * 100.0 >= target_percent * observed_seconds - 1e-6 * 100.0


@dataclass(frozen=True, kw_only=True)
class DeviceRate:
    """One device's online time over a window.

    ``observed_seconds`` counts only time since the device's first recorded status (and, for the current
    span, up to "now"); ``rate`` is ``online_seconds / observed_seconds`` in 0..1, ``None`` when not observed.
    """

    device_id: str
    kind: str
    online_seconds: float
    observed_seconds: float

    @property
    def rate(self) -> float | None:
        return ratio(self.online_seconds, self.observed_seconds)

    @property
    def offline_seconds(self) -> float:
        return self.observed_seconds - self.online_seconds


@dataclass(frozen=True, kw_only=True)
class CommunityRate:
    """All devices together over a window.

    ``rate`` is time-weighted: total online seconds over total observed seconds of every device (each
    device-second counts the same, so a device added mid-window weighs by the time it was watched).
    ``mean_device_rate`` is the plain mean of the per-device rates, given for information.
    """

    online_seconds: float
    observed_seconds: float
    devices: int
    mean_device_rate: float | None

    @property
    def rate(self) -> float | None:
        return ratio(self.online_seconds, self.observed_seconds)


@dataclass(frozen=True, kw_only=True)
class RateSummary:
    """Per-device and community rates over ``[start, end)`` (UTC), devices observed in it only."""

    start: datetime
    end: datetime
    devices: list[DeviceRate]
    community: CommunityRate


def summarize(start: datetime, end: datetime, devices: list[DeviceRate]) -> RateSummary:
    """Build a :class:`RateSummary` from per-device rates (devices never observed in the window are dropped)."""
    observed = [d for d in devices if d.observed_seconds > 0]
    rates = [r for r in (d.rate for d in observed) if r is not None]
    community = CommunityRate(
        online_seconds=sum(d.online_seconds for d in observed),
        observed_seconds=sum(d.observed_seconds for d in observed),
        devices=len(observed),
        mean_device_rate=sum(rates) / len(rates) if rates else None,
    )
    return RateSummary(start=start, end=end, devices=observed, community=community)


@dataclass(frozen=True, kw_only=True)
class PurgeResult:
    """What :meth:`HealthStore.purge` removed."""

    spans_deleted: int
    spans_trimmed: int
    reports_deleted: int
    problems_deleted: int = 0
