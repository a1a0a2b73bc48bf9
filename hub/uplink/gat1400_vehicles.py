"""GA/T 1400 vehicle objects: a vehicle pass as a ``MotorVehicleObject`` (``/VIID/MotorVehicles``), a car park's
entrances as ``TollgateObject``s (``/VIID/Tollgates``).

Only the fields the field policy let through are used: without ``plate`` no ``PlateNo`` is sent, and pictures go as a
``SubImageList`` only when ``vehicle_images`` was allowed. Codes marked ⚠ are assumptions documented in
docs/uplink-protocol.md (each county's interface document has the last word).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from hub.exceptions import InvalidInputError
from hub.journal.models import utc_now
from hub.vehicles.models import Entrance

from .gat1400_client import Gat1400Client, status_code
from .gat1400_config import TOLLGATES, Gat1400Config
from .gat1400_ids import IMAGE_SUBTYPE, check_device_id, viid_time
from .transport import OutgoingEvent

# ⚠ Plate classes (GA 24.7): 01 large vehicle (yellow), 02 small vehicle (blue), 51/52 large/small new energy
# (green), 99 other.
_PLATE_CLASS_BY_COLOR = {6: "01", 5: "02"}
# ⚠ Body colours (GA 24.8): A white, B grey, C yellow, D pink, E red, F purple, G green, H blue, I brown, J black,
# Z other.
_VEHICLE_COLORS = {"white": "A", "gray": "B", "grey": "B", "silver": "B", "yellow": "C", "pink": "D", "red": "E",
                   "purple": "F", "green": "G", "blue": "H", "brown": "I", "black": "J"}
# ⚠ Picture types: 01 the vehicle's scene picture, 02 the plate crop.
_IMAGE_TYPES = {"scene": "01", "plate": "02"}
# Hub fields carried as profile extensions (only those the field policy let through).
_EXTENSIONS = {"result": "AccessResult", "reason": "AccessReason", "resident_ref": "ResidentRef",
               "backfilled": "Backfilled", "dwell_s": "DwellTime", "near_match": "NearMatch",
               "door_name": "LaneName"}


def plate_class(color: object, plate: object) -> str:
    """The GA/T plate class from the colour code (and the plate's length for green new-energy plates)."""
    if color == 9:
        return "51" if isinstance(plate, str) and len(plate) == 8 and plate[-1].isalpha() else "52"
    return _PLATE_CLASS_BY_COLOR.get(color if isinstance(color, int) else -1, "99")


def vehicle_color(value: object) -> str:
    """A camera's colour word as the GA 24.8 body-colour code (Z when unknown)."""
    return _VEHICLE_COLORS.get(str(value or "").strip().lower(), "Z")


def motor_vehicle_object(config: Gat1400Config, item: OutgoingEvent, object_id: str, source_id: str,
                         device_id: str) -> dict[str, Any]:
    """One vehicle pass as a ``MotorVehicleObject``."""
    fields = item.fields
    when = viid_time(item.event.occurred_at, config.zone)
    car_park, entrance = str(fields.get("car_park", "")), str(fields.get("entrance", ""))
    obj: dict[str, Any] = {
        "MotorVehicleID": object_id, "InfoKind": 1, "SourceID": source_id, "DeviceID": device_id,
        "TollgateID": config.tollgate_for(car_park, entrance),
        "LaneNo": int(fields.get("lane_no") or 0),
        "StorageUrl1": "", "LeftTopX": 0, "LeftTopY": 0, "RightBtmX": 0, "RightBtmY": 0,
        "HasPlate": "0" if fields.get("reason") == "no_plate" else "1",
        "PlateClass": plate_class(fields.get("plate_color"), fields.get("plate")),
        "PlateColor": str(fields.get("plate_color", 99)),
        "VehicleClass": "X99",  # ⚠ GA 24.4 "other": cameras name vehicle types in their own words
        "VehicleColor": vehicle_color(fields.get("vehicle_color")),
        "Direction": config.direction_codes.get(str(fields.get("direction", "")), "9"),
        "PassTime": when,
    }
    if fields.get("plate"):
        obj["PlateNo"] = fields["plate"]
    for name, key in _EXTENSIONS.items():
        if name in fields:
            obj[key] = fields[name]
    images = fields.get("vehicle_images")
    if isinstance(images, list) and images:
        obj["SubImageList"] = {"SubImageInfoObject": [
            _sub_image(image, device_id, when, n, item.event.seq) for n, image in enumerate(images, start=1)
            if isinstance(image, Mapping)]}
    return obj


def _sub_image(image: Mapping[str, Any], device_id: str, when: str, n: int, seq: int) -> dict[str, Any]:
    # An image's own 41-character ID: its serial is the event's, with the picture's number in front of it.
    serial = (n * 10000 + seq) % 100000
    return {"ImageID": f"{device_id}{IMAGE_SUBTYPE}{when}{serial:05d}", "EventSort": 0, "DeviceID": device_id,
            "StoragePath": "", "Type": _IMAGE_TYPES.get(str(image.get("kind")), "01"), "FileFormat": "Jpeg",
            "ShotTime": when, "Width": 0, "Height": 0, "Data": str(image.get("data", ""))}


def tollgate_object(config: Gat1400Config, entrance: Entrance, active_since: datetime) -> dict[str, Any]:
    """A car park's entrance as a ``TollgateObject``."""
    if entrance.lanes < 1:
        raise InvalidInputError("an entrance has at least one lane")
    obj: dict[str, Any] = {
        "TollgateID": check_device_id(config.tollgate_for(entrance.car_park, entrance.entrance)),
        "Name": entrance.name, "PlaceCode": entrance.place_code, "Status": "1",
        "TollgateCat": "99",  # ⚠ "other": a residential car park is none of the road categories
        "LaneNum": entrance.lanes, "OrgCode": entrance.org_code,
        "ActiveTime": viid_time(active_since, config.zone),
    }
    if entrance.longitude is not None and entrance.latitude is not None:
        obj["Longitude"] = round(entrance.longitude, 6)
        obj["Latitude"] = round(entrance.latitude, 6)
    return obj


async def post_tollgates(client: Gat1400Client, entrances: Sequence[Entrance], *,
                         active_since: datetime | None = None) -> dict[str, bool]:
    """Tell the platform about the car park's entrances (at start-up, and when they change): TollgateID -> whether
    the platform accepted it. Raises the client's errors when the platform cannot be reached."""
    since = active_since or utc_now()
    objects = [tollgate_object(client.config, e, since) for e in entrances]
    if not objects:
        return {}
    data = await client.request("POST", TOLLGATES.path, {TOLLGATES.list_key: {TOLLGATES.object_key: objects}})
    accepted = dict.fromkeys((o["TollgateID"] for o in objects), False)
    wrapper = data.get("ResponseStatusListObject") or data.get("ResponseStatusList") if isinstance(data, dict) else None
    items = wrapper.get("ResponseStatusObject", []) if isinstance(wrapper, dict) else []
    for status in [items] if isinstance(items, dict) else items:
        if isinstance(status, dict) and str(status.get("Id")) in accepted:
            accepted[str(status["Id"])] = status_code(status.get("StatusCode")) == 0
    return accepted
