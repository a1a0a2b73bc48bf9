"""Configuration of the GA/T 1400 profile: one place for every detail that varies between county platforms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from hub.exceptions import InvalidInputError

from .gat1400_ids import ObjectType, check_device_id
from .secret import Secret


@dataclass(frozen=True, kw_only=True)
class Collection:
    """Where a kind of record goes: URL path, list wrapper, object key, ID field, object-type code."""

    path: str
    list_key: str
    object_key: str
    id_field: str
    object_type: str = ""


PERSONS = Collection(path="/VIID/Persons", list_key="PersonListObject", object_key="PersonObject",
                     id_field="PersonID", object_type=ObjectType.PERSON)
APES = Collection(path="/VIID/APEs", list_key="APEListObject", object_key="APEObject", id_field="ApeID")
MOTOR_VEHICLES = Collection(path="/VIID/MotorVehicles", list_key="MotorVehicleListObject",
                            object_key="MotorVehicleObject", id_field="MotorVehicleID",
                            object_type=ObjectType.MOTOR_VEHICLE)
TOLLGATES = Collection(path="/VIID/Tollgates", list_key="TollgateListObject", object_key="TollgateObject",
                       id_field="TollgateID")


@dataclass(frozen=True, kw_only=True)
class Gat1400Config:
    """How the hub talks to one GA/T 1400 platform."""

    base_url: str
    device_id: str
    username: str
    password: Secret
    keepalive_interval_s: float = 30.0
    timezone: str = "Asia/Shanghai"
    ape_ids: Mapping[str, str] = field(default_factory=dict)
    access_collection: Collection = PERSONS
    status_collection: Collection = APES
    online_value: str = "1"
    offline_value: str = "2"
    ca_file: str | Path | None = None
    timeout_s: float = 15.0
    # Status codes a platform uses for "busy, try later": those items stay queued instead of being set aside.
    transient_codes: frozenset[int] = frozenset({2, 9})
    # Vehicle passes (hub/vehicles) as MotorVehicleObjects; each car park entrance is a tollgate, keyed
    # ``<car park>:<entrance>`` -> its 20-digit TollgateID (the hub's own DeviceID when none is configured).
    vehicle_collection: Collection = MOTOR_VEHICLES
    tollgate_ids: Mapping[str, str] = field(default_factory=dict)
    # ⚠ The standard's Direction is a compass heading; which codes stand for a lane's entry and exit is the
    # county's to say (docs/uplink-protocol.md).
    direction_codes: Mapping[str, str] = field(default_factory=lambda: {"entry": "1", "exit": "2"})

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInputError("the platform URL must be http:// or https:// with a host")
        check_device_id(self.device_id)
        for ape in self.ape_ids.values():
            check_device_id(ape)
        for tollgate in self.tollgate_ids.values():
            check_device_id(tollgate)
        if not self.username:
            raise InvalidInputError("a username is needed for digest authentication")
        if self.keepalive_interval_s <= 0:
            raise InvalidInputError("the keepalive interval must be positive")
        ZoneInfo(self.timezone)

    @property
    def zone(self) -> ZoneInfo:
        """The platform's local time zone."""
        return ZoneInfo(self.timezone)

    def tollgate_for(self, car_park: str, entrance: str) -> str:
        """The 20-digit TollgateID of a car park's entrance (the hub's own ID when none is configured)."""
        return self.tollgate_ids.get(f"{car_park}:{entrance}", self.device_id)

    def ape_for(self, door: str | None) -> str:
        """The 20-digit ID of the device behind ``door`` (the hub's own ID when none is configured)."""
        return self.ape_ids.get(door or "", self.device_id)
