"""The vehicle registry's admin operations in the command table (``commands.py`` appends them to ``COMMANDS``):
residents' vehicles, monthly vehicles, visitor-vehicle invitations, the white and black lists, and the vehicle log
with its filters and CSV. Every one is admin-only (plates are personal data) and audited by the registry."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from enum import Enum
from typing import Any

import voluptuous as vol
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import VolDictType
from homeassistant.util import dt as dt_util

from devices.anpr import PlateColor
from hub.vehicles.log import MAX_ROWS, VehicleLogFilter, vehicle_log, vehicle_log_csv

from .commands import Command, CommandContext, Fields, Result, aware

# The table's validators, made here again: commands.py imports this module at its end (an import cycle), and the
# types of its module constants are not known to this one yet.
AWARE_DATETIME = vol.All(cv.datetime, aware)
OPTIONAL_DATETIME = vol.Any(None, AWARE_DATETIME)
OPTIONAL_TEXT = vol.Any(None, cv.string)

_COLOR = vol.All(vol.Coerce(int), vol.In([int(c) for c in PlateColor]))
_PLATE: VolDictType = {vol.Required("plate"): cv.string}
_VEHICLE_ID: VolDictType = {vol.Required("vehicle_id"): cv.string}
_LOG_FIELDS: VolDictType = {
    vol.Optional("plate"): OPTIONAL_TEXT,
    vol.Optional("lane_id"): OPTIONAL_TEXT,
    vol.Optional("car_park"): OPTIONAL_TEXT,
    vol.Optional("since"): OPTIONAL_DATETIME,
    vol.Optional("until"): OPTIONAL_DATETIME,
    vol.Optional("result"): vol.Any(None, vol.In(["granted", "denied"])),
    vol.Optional("before"): vol.Any(None, vol.All(vol.Coerce(int), vol.Range(min=1))),
    vol.Optional("limit", default=50): vol.All(vol.Coerce(int), vol.Range(min=1, max=MAX_ROWS)),
    vol.Optional("format", default="json"): vol.In(["json", "csv"]),
}


def _plain(record: object) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in asdict(record).items():  # type: ignore[call-overload]
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Enum):
            value = value.value if not isinstance(value, PlateColor) else int(value)
        out[key] = value
    return out


def _add_vehicle(ctx: CommandContext, data: Fields) -> Result:
    return _plain(ctx.community.vehicles.add_resident_vehicle(ctx.actor, data["resident_id"], data["plate"],
                                                              data["plate_color"]))


def _remove_vehicle(ctx: CommandContext, data: Fields) -> Result:
    ctx.community.vehicles.remove_resident_vehicle(ctx.actor, data["vehicle_id"])
    return None


def _add_monthly(ctx: CommandContext, data: Fields) -> Result:
    return _plain(ctx.community.vehicles.add_monthly_vehicle(
        ctx.actor, data["plate"], data["plate_color"], valid_from=data["valid_from"],
        valid_until=data["valid_until"], holder=data.get("holder")))


def _remove_monthly(ctx: CommandContext, data: Fields) -> Result:
    ctx.community.vehicles.remove_monthly_vehicle(ctx.actor, data["vehicle_id"])
    return None


def _invite(ctx: CommandContext, data: Fields) -> Result:
    return _plain(ctx.community.vehicles.invite_vehicle(
        ctx.actor, data["resident_id"], data["plate"], data["plate_color"],
        valid_from=data.get("valid_from") or dt_util.utcnow(), valid_until=data["valid_until"]))


def _revoke(ctx: CommandContext, data: Fields) -> Result:
    return _plain(ctx.community.vehicles.revoke_invitation(ctx.actor, data["invitation_id"]))


def _list_plate(ctx: CommandContext, data: Fields) -> Result:
    return _plain(ctx.community.vehicles.list_plate(ctx.actor, data["plate"], data["list"], data.get("note")))


def _unlist_plate(ctx: CommandContext, data: Fields) -> Result:
    ctx.community.vehicles.unlist_plate(ctx.actor, data["plate"])
    return None


def _vehicles(ctx: CommandContext, data: Fields) -> Result:
    vehicles = ctx.community.vehicles
    return {
        "resident_vehicles": [_plain(x) for x in vehicles.resident_vehicles(data.get("resident_id"))],
        "monthly_vehicles": [_plain(x) for x in vehicles.monthly_vehicles()],
        "invitations": [_plain(x) for x in vehicles.invitations(data.get("resident_id"))],
        "listed_plates": [_plain(x) for x in vehicles.listed_plates()],
    }


def _log(ctx: CommandContext, data: Fields) -> Result:
    filters = VehicleLogFilter(plate=data.get("plate"), lane_id=data.get("lane_id"), car_park=data.get("car_park"),
                               since=data.get("since"), until=data.get("until"), result=data.get("result"))
    entries = vehicle_log(ctx.community.registry.conn, filters, limit=data["limit"], before=data.get("before"))
    if data["format"] == "csv":
        stamp = dt_util.now().strftime("%Y%m%d-%H%M")
        return {"csv": vehicle_log_csv(entries), "filename": f"vehicle-log-{stamp}.csv", "rows": len(entries)}
    more = len(entries) == data["limit"]
    return {"entries": entries, "next_before": entries[-1]["pass_id"] if more and entries else None}


VEHICLE_COMMANDS: tuple[Command, ...] = (
    Command(websocket="vehicles/list", run=_vehicles, fields={vol.Optional("resident_id"): OPTIONAL_TEXT}),
    Command(service="add_vehicle", websocket="vehicles/add", run=_add_vehicle, changes=True, fields={
        vol.Required("resident_id"): cv.string, **_PLATE, vol.Optional("plate_color", default=5): _COLOR,
    }),
    Command(service="remove_vehicle", websocket="vehicles/remove", run=_remove_vehicle, changes=True,
            returns=False, fields=_VEHICLE_ID),
    Command(service="add_monthly_vehicle", websocket="vehicles/monthly/add", run=_add_monthly, changes=True, fields={
        **_PLATE, vol.Optional("plate_color", default=5): _COLOR, vol.Required("valid_from"): AWARE_DATETIME,
        vol.Required("valid_until"): AWARE_DATETIME, vol.Optional("holder"): OPTIONAL_TEXT,
    }),
    Command(service="remove_monthly_vehicle", websocket="vehicles/monthly/remove", run=_remove_monthly,
            changes=True, returns=False, fields=_VEHICLE_ID),
    Command(service="invite_vehicle", websocket="vehicles/invite", run=_invite, changes=True, fields={
        vol.Required("resident_id"): cv.string, **_PLATE, vol.Optional("plate_color", default=5): _COLOR,
        vol.Optional("valid_from"): OPTIONAL_DATETIME, vol.Required("valid_until"): AWARE_DATETIME,
    }),
    Command(service="revoke_vehicle_invitation", websocket="vehicles/revoke", run=_revoke, changes=True,
            fields={vol.Required("invitation_id"): cv.string}),
    Command(service="list_plate", websocket="vehicles/lists/add", run=_list_plate, changes=True, fields={
        **_PLATE, vol.Required("list"): vol.In(["white", "black"]), vol.Optional("note"): OPTIONAL_TEXT,
    }),
    Command(service="unlist_plate", websocket="vehicles/lists/remove", run=_unlist_plate, changes=True,
            returns=False, fields=_PLATE),
    Command(service="vehicle_log", websocket="vehicles/log", run=_log, fields=_LOG_FIELDS),
)
