"""Vehicle gates in Home Assistant: ANPR cameras and their lanes (configured in the community entry's options),
their push URLs, the vehicle service deciding at each lane, and what Home Assistant sees of it.

- Hikvision and Vzenith cameras push to Home Assistant's own HTTP server, ``/api/smart_community/anpr/<format>/
  <secret>``: a view without Home Assistant authentication (a camera has no HA token) whose URL carries the lane's
  own secret; the receiver (``devices.anpr.server``) then checks Basic credentials or the camera addresses.
- Dahua cameras post to fixed paths (``/NotificationInfo/TollgateInfo``) with Digest: a receiver of the hub's own
  on its own port.
- Frigate publishes its plate reads to an MQTT broker: the hub subscribes to ``<prefix>/tracked_object_update``.

Every decided read (repeats included, resends not) fires the lane's event entity with its reason and no plate,
and ``smart_community_vehicle_pass`` on Home Assistant's bus with the plate (custom bus events are admin-only to
subscribe to over the websocket API). Secrets are never logged.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

import voluptuous as vol
from aiohttp import web
from homeassistant.components.http import KEY_HASS, HomeAssistantView
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.network import NoURLAvailableError, get_url

from devices.anpr import BarrierReply, PlateRead
from devices.anpr.auth import check_secret
from devices.anpr.barrier import HikvisionBarrier
from devices.anpr.errors import AnprFormatError
from devices.anpr.frigate import FrigateConfig, FrigateLprSubscriber
from devices.anpr.redact import install_push_secret_filter
from devices.anpr.server import AnprReceiver, PushSource
from hub.access.models import TemporaryVehicleRule, VehicleDirection
from hub.doors import DoorId
from hub.exceptions import InvalidInputError, NotFoundError
from hub.residents import validation as v
from hub.uplink import LegalBasis
from hub.uplink.gat1400_client import Gat1400Client
from hub.uplink.gat1400_vehicles import post_tollgates
from hub.vehicles.barriers import (
    CameraRelayBarrier,
    DoorRelayBarrier,
    LaneBarriers,
    Releaser,
    VzenithReplyBarrier,
    barrier_reply,
)
from hub.vehicles.models import Entrance, Lane, VehicleDecision
from hub.vehicles.service import VehicleDecisionEvent, VehicleRules, VehicleService

from .community import CommunityRuntimeData, attachable_controllers
from .const import DOMAIN
from .gates import door_id_of_lock
from .uplink import (
    CONF_FIELD_OPTIONS,
    CONF_UPLINK_PROFILE,
    CONF_UPLINK_URL,
    CONF_WITHHELD_FIELDS,
    PROFILE_GAT1400,
    gat1400_config,
)

_LOGGER = logging.getLogger(__name__)

CONF_ANPR_LANES = "anpr_lanes"
CONF_ANPR_PORT = "anpr_port"
DEFAULT_ANPR_PORT = 8480
FORMATS = ("hikvision", "vzenith", "dahua", "frigate")
BARRIER_DOOR = "door"  # a door (relay output) of one of this integration's controllers
BARRIER_CAMERA = "camera"  # the camera's own relay over ISAPI (Hikvision)
BARRIER_REPLY = "reply"  # the reply to the push (Vzenith)
BARRIER_KINDS = (BARRIER_DOOR, BARRIER_CAMERA, BARRIER_REPLY)
PUSH_PATH = "/api/smart_community/anpr"
EVENT_VEHICLE_PASS = f"{DOMAIN}_vehicle_pass"
DATA_VEHICLES = f"{DOMAIN}_vehicles"
DATA_VIEW = f"{DOMAIN}_anpr_view"
# Lane options redacted in diagnostics: secrets, credentials, and where the cameras are.
LANE_REDACT = frozenset({"secret", "password", "username", "camera_password", "camera_username", "camera_url",
                         "broker_url", "allowed_addresses", "camera_id", "ca_file", "client_cert", "client_key"})


def signal_lane(entry_id: str) -> str:
    """The dispatcher signal a community entry's lane event entities listen to."""
    return f"{DOMAIN}_vehicle_lane_{entry_id}"


def lane_event_unique_id(entry_id: str, key: str) -> str:
    """The unique id of a lane's vehicle event entity."""
    return f"{entry_id}-lane-{key}-vehicle"


def new_secret() -> str:
    """A push URL secret: 32 URL-safe characters."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True, kw_only=True)
class LaneConfig:
    """One ANPR camera and the lane it watches, as the community entry's options keep it."""

    key: str
    format: str
    secret: str
    car_park: str
    entrance: str
    lane_no: int
    direction: VehicleDirection
    barrier: str
    lock: str | None = None
    camera_id: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    allowed_addresses: tuple[str, ...] = ()
    camera_url: str | None = None
    camera_username: str | None = None
    camera_password: str | None = field(default=None, repr=False)
    broker_url: str | None = None
    topic_prefix: str = "frigate"
    ca_file: str | None = None
    client_cert: str | None = None
    client_key: str | None = None

    @classmethod
    def from_options(cls, raw: dict[str, Any]) -> LaneConfig:
        """A lane from its stored options."""
        return cls(
            key=raw["key"], format=raw["format"], secret=raw["secret"], car_park=raw["car_park"],
            entrance=raw["entrance"], lane_no=int(raw["lane_no"]), direction=VehicleDirection(raw["direction"]),
            barrier=raw["barrier"], lock=raw.get("lock"), camera_id=raw.get("camera_id"),
            username=raw.get("username"), password=raw.get("password"),
            allowed_addresses=tuple(raw.get("allowed_addresses", ())), camera_url=raw.get("camera_url"),
            camera_username=raw.get("camera_username"), camera_password=raw.get("camera_password"),
            broker_url=raw.get("broker_url"), topic_prefix=raw.get("topic_prefix", "frigate"),
            ca_file=raw.get("ca_file"), client_cert=raw.get("client_cert"), client_key=raw.get("client_key"),
        )

    def frigate(self) -> FrigateConfig:
        """The Frigate subscription's broker settings."""
        return FrigateConfig(broker_url=self.broker_url or "", topic_prefix=self.topic_prefix,
                             username=self.username, password=self.password, ca_file=self.ca_file,
                             client_cert=self.client_cert, client_key=self.client_key)

    @property
    def lane(self) -> Lane:
        """The hub's lane (its ``barrier`` names this lane's barrier)."""
        return Lane(self.car_park, self.entrance, self.lane_no, self.direction, self.key)

    @property
    def name(self) -> str:
        """What the manager sees: car park, entrance and lane."""
        return f"{self.car_park} {self.entrance} lane {self.lane_no}"

    def source(self) -> PushSource:
        """The receiver's push source for this camera."""
        return PushSource(format=self.format, secret=self.secret,  # type: ignore[arg-type]
                          username=self.username, password=self.password,
                          allowed_addresses=self.allowed_addresses, camera_id=self.camera_id)


def lanes_of(entry: ConfigEntry) -> list[LaneConfig]:
    """The community's configured lanes."""
    return [LaneConfig.from_options(raw) for raw in entry.options.get(CONF_ANPR_LANES, [])]


def push_url(hass: HomeAssistant, entry: ConfigEntry, lane: LaneConfig, *, anpr_port: int | None = None) -> str:
    """Where the manager points the camera (the URL holds the lane's secret: show it to the manager only);
    ``anpr_port``: the hub's own receiver port about to be saved (else the stored one)."""
    try:
        base = get_url(hass, allow_external=False)
    except NoURLAvailableError:
        base = "http://<home-assistant>:8123"
    if lane.format in ("hikvision", "vzenith"):
        return f"{base}{PUSH_PATH}/{lane.format}/{lane.secret}"
    if lane.format == "dahua":
        host = base.split("://", 1)[-1].rsplit(":", 1)[0]
        port = anpr_port or int(entry.options.get(CONF_ANPR_PORT, DEFAULT_ANPR_PORT))
        return f"http://{host}:{port}/NotificationInfo/TollgateInfo"
    return f"{lane.broker_url} topic {lane.topic_prefix}/tracked_object_update"


@dataclass
class VehicleRuntime:
    """A loaded community's vehicle side."""

    service: VehicleService
    barriers: LaneBarriers
    lanes: dict[str, LaneConfig]
    receivers: dict[str, AnprReceiver] = field(default_factory=dict)  # lane key -> receiver (HA's HTTP server)
    dahua: AnprReceiver | None = None
    frigate: list[Any] = field(default_factory=list)


def vehicle_runtime(hass: HomeAssistant, entry_id: str) -> VehicleRuntime | None:
    """The vehicle side of a loaded community entry."""
    found: VehicleRuntime | None = hass.data.get(DATA_VEHICLES, {}).get(entry_id)
    return found


def _controller_of(hass: HomeAssistant, serial: str) -> Releaser | None:
    for controller in attachable_controllers(hass):
        service = controller.runtime_data.service
        if service.info is not None and service.info.serial == serial:
            releaser: Releaser = service
            return releaser
    return None


class LockDoorBarrier:
    """The barrier wired as one of this integration's doors (named by its lock entity), looked up when it opens
    (the controller may connect after the community, or reconnect), then opened through the controller's release
    path (:class:`hub.vehicles.barriers.DoorRelayBarrier`)."""

    def __init__(self, hass: HomeAssistant, lock: str) -> None:
        self._hass = hass
        self._lock = lock

    async def open(self, lane: Lane) -> None:
        """Release the door for the barrier's pulse; NotFoundError while its controller is not there."""
        door = door_id_of_lock(self._hass, self._lock)
        parsed = DoorId.try_parse(door) if door else None
        if parsed is None:
            raise NotFoundError(f"the barrier's door {self._lock} is not one of this integration's doors")
        serial = parsed.serial
        await DoorRelayBarrier(lambda: _controller_of(self._hass, serial), parsed.index).open(lane)


def _barrier_for(hass: HomeAssistant, lane: LaneConfig) -> Any:
    if lane.barrier == BARRIER_DOOR and lane.lock:
        return LockDoorBarrier(hass, lane.lock)
    if lane.barrier == BARRIER_CAMERA and lane.camera_url:
        return CameraRelayBarrier(HikvisionBarrier(async_get_clientsession(hass), lane.camera_url,
                                                   lane.camera_username or "", lane.camera_password or ""))
    return VzenithReplyBarrier()


async def async_setup_vehicles(hass: HomeAssistant, entry: ConfigEntry[CommunityRuntimeData]) -> VehicleRuntime:
    """Build the lanes' barriers, the vehicle service, the receivers; route decisions to HA."""
    runtime = entry.runtime_data
    lanes = {lane.key: lane for lane in lanes_of(entry)}
    barriers = LaneBarriers({key: _barrier_for(hass, lane) for key, lane in lanes.items()})
    service = VehicleService(runtime.community, barriers, rules=vehicle_rules(entry))
    vehicles = VehicleRuntime(service=service, barriers=barriers, lanes=lanes)
    tz = runtime.community.timezone

    def on_read_at(lane: LaneConfig) -> Any:
        async def on_read(read: PlateRead) -> BarrierReply:
            return barrier_reply(await service.handle(read, lane.lane))
        return on_read

    for key, lane in lanes.items():
        if lane.format in ("hikvision", "vzenith"):
            vehicles.receivers[key] = AnprReceiver([lane.source()], on_read_at(lane), local_tz=tz)
    dahua = [lane for lane in lanes.values() if lane.format == "dahua"]
    if dahua:
        by_camera = {lane.camera_id: lane for lane in dahua if lane.camera_id}

        async def on_dahua(read: PlateRead) -> BarrierReply:
            lane = by_camera.get(read.camera_id) or (dahua[0] if len(dahua) == 1 else None)
            if lane is None:
                raise LookupError("a Dahua read from a camera no lane names")
            return barrier_reply(await service.handle(read, lane.lane))

        receiver = AnprReceiver([lane.source() for lane in dahua], on_dahua, local_tz=tz)
        try:
            await receiver.start("0.0.0.0", int(entry.options.get(CONF_ANPR_PORT, DEFAULT_ANPR_PORT)))
            vehicles.dahua = receiver
        except OSError as err:
            _LOGGER.error("the Dahua ANPR receiver could not listen on its port: %s", err)
    for lane in lanes.values():
        if lane.format == "frigate" and lane.broker_url:
            subscriber = FrigateLprSubscriber(lane.frigate(), on_read_at(lane))
            subscriber.start()
            vehicles.frigate.append(subscriber)

    @callback
    def on_decision(event: VehicleDecisionEvent) -> None:
        _async_publish(hass, entry, event.outcome)
        outcome = event.outcome
        if outcome.decision.alarm and not outcome.resend:  # a blacklisted plate: an alarm for the managers
            runtime.health.async_vehicle_alarm(outcome.lane.lane_id, outcome.plate, outcome.at)

    unsubscribe = runtime.community.events.subscribe(VehicleDecisionEvent, on_decision)
    hass.data.setdefault(DATA_VEHICLES, {})[entry.entry_id] = vehicles
    if not hass.data.get(DATA_VIEW):
        # Home Assistant's HTTP server logs request paths (aiohttp's access log at INFO, its view logger at
        # DEBUG): the push URLs' secrets are redacted there.
        install_push_secret_filter()
        hass.http.register_view(AnprPushView())
        hass.data[DATA_VIEW] = True

    async def stop() -> None:
        unsubscribe()
        hass.data.get(DATA_VEHICLES, {}).pop(entry.entry_id, None)
        if vehicles.dahua is not None:
            await vehicles.dahua.stop()
        for subscriber in vehicles.frigate:
            await subscriber.stop()

    entry.async_on_unload(stop)
    if lanes and entry.options.get(CONF_UPLINK_PROFILE) == PROFILE_GAT1400 and entry.options.get(CONF_UPLINK_URL):
        entry.async_create_background_task(hass, async_post_tollgates(hass, entry, list(lanes.values())),
                                           f"{DOMAIN} tollgates upstream")
    return vehicles


def entrances_of(lanes: list[LaneConfig]) -> list[Entrance]:
    """The car parks' entrances as GA/T 1400 tollgates, each with its number of lanes."""
    counts: dict[tuple[str, str], int] = {}
    for lane in lanes:
        key = (lane.car_park, lane.entrance)
        counts[key] = max(counts.get(key, 0), lane.lane_no)
    return [Entrance(car_park, entrance, f"{car_park} {entrance}", n) for (car_park, entrance), n in counts.items()]


async def async_post_tollgates(hass: HomeAssistant, entry: ConfigEntry, lanes: list[LaneConfig], *,
                               attempts: int = 5, retry_s: float = 60.0) -> dict[str, bool]:
    """At start-up: tell the GA/T 1400 platform about the entrances (``Tollgate`` objects with ``LaneNum``);
    retried a few times while the platform cannot be reached. The answer per TollgateID is returned and logged."""
    client = Gat1400Client(gat1400_config(entry.options), session=async_get_clientsession(hass))
    entrances = entrances_of(lanes)
    for attempt in range(attempts):
        try:
            accepted = await post_tollgates(client, entrances)
        except Exception as err:
            _LOGGER.warning("the tollgates could not be sent to the GA/T 1400 platform (%s)", type(err).__name__)
            if attempt + 1 < attempts:
                await asyncio.sleep(retry_s)
            continue
        refused = sorted(tid for tid, ok in accepted.items() if not ok)
        if refused:
            _LOGGER.warning("the GA/T 1400 platform refused tollgates %s", ", ".join(refused))
        return accepted
    return {}


@callback
def _async_publish(hass: HomeAssistant, entry: ConfigEntry, outcome: VehicleDecision) -> None:
    """The lane's event entity (no plate), and the bus event (with the plate, for automations)."""
    async_dispatcher_send(hass, signal_lane(entry.entry_id), outcome)
    decision = outcome.decision
    lane = outcome.lane
    entity_id = er.async_get(hass).async_get_entity_id("event", DOMAIN, lane_event_unique_id(entry.entry_id,
                                                                                            lane.barrier))
    hass.bus.async_fire(EVENT_VEHICLE_PASS, {
        "entity_id": entity_id,
        "plate": outcome.plate,
        "plate_color": int(outcome.plate_color),
        "lane": lane.barrier,
        "lane_id": lane.lane_id,
        "car_park": lane.car_park,
        "entrance": lane.entrance,
        "lane_no": lane.lane_no,
        "direction": lane.direction.value,
        "result": "granted" if decision.granted else "denied",
        "reason": decision.reason.value,
        "blacklisted": decision.alarm,
        "resident_id": decision.resident_id,
        "invited_by": decision.issued_by,
        "near_match": decision.near_match_of is not None,
        "backfilled": outcome.backfilled,
        "opened": outcome.opened,
        "at": outcome.at.isoformat(),
    })


class AnprPushView(HomeAssistantView):
    """Cameras' pushes on Home Assistant's own HTTP server. No Home Assistant login (a camera has no token): the
    lane's secret in the URL picks the lane, then its receiver checks the camera's credentials or address."""

    url = PUSH_PATH + "/{format}/{secret}"
    name = "api:smart_community:anpr"
    requires_auth = False

    async def post(self, request: web.Request, format: str, secret: str) -> web.StreamResponse:
        """Route the push to its lane's receiver; an unknown URL is 404 and reaches nothing."""
        hass: HomeAssistant = request.app[KEY_HASS]
        receiver: AnprReceiver | None = None
        for vehicles in list(hass.data.get(DATA_VEHICLES, {}).values()):
            for key, lane in vehicles.lanes.items():  # every secret compared: the time does not tell which
                if check_secret(secret, lane.secret) and lane.format == format and key in vehicles.receivers:
                    receiver = vehicles.receivers[key]
        if receiver is None:
            return web.Response(status=HTTPStatus.NOT_FOUND, text="unknown push URL\n")
        return await receiver.handle(request)


# ---- the config flow's lane form ----------------------------------------------------------------------------------

_TEXT_FIELDS = ("camera_id", "username", "password", "allowed_addresses", "camera_url", "camera_username",
                "camera_password", "broker_url", "ca_file", "client_cert", "client_key", "tollgate_id", "ape_id")


def anpr_lane_schema(defaults: dict[str, Any] | None = None, *, editing: bool = False) -> vol.Schema:
    """The form for one ANPR camera and its lane. ``editing``: filled in with the stored lane (passwords never
    shown: left blank, the stored one is kept), with a "new push secret" switch."""
    d = dict(defaults or {})
    if isinstance(d.get("allowed_addresses"), list | tuple):
        d["allowed_addresses"] = ", ".join(d["allowed_addresses"])

    def select(options: tuple[str, ...], key: str) -> selector.SelectSelector:
        return selector.SelectSelector(selector.SelectSelectorConfig(options=list(options), translation_key=key))

    password = selector.TextSelector(selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD))
    schema: dict[Any, Any] = {
        vol.Required("format", default=d.get("format", "hikvision")): select(FORMATS, "anpr_format"),
        vol.Required("car_park", default=d.get("car_park", "")): str,
        vol.Required("entrance", default=d.get("entrance", "")): str,
        vol.Required("lane_no", default=d.get("lane_no", 1)): selector.NumberSelector(
            selector.NumberSelectorConfig(min=1, max=99, mode=selector.NumberSelectorMode.BOX)),
        vol.Required("direction", default=d.get("direction", "entry")): select(("entry", "exit"), "anpr_direction"),
        vol.Required("barrier", default=d.get("barrier", BARRIER_DOOR)): select(BARRIER_KINDS, "anpr_barrier"),
        vol.Optional("lock", description={"suggested_value": d.get("lock")}): selector.EntitySelector(
            selector.EntitySelectorConfig(domain="lock", integration=DOMAIN)),
    }
    for key in _TEXT_FIELDS:
        if key.endswith("password"):
            schema[vol.Optional(key)] = password
        else:
            schema[vol.Optional(key, description={"suggested_value": d.get(key)})] = str
    schema[vol.Optional(CONF_ANPR_PORT, description={"suggested_value": d.get(CONF_ANPR_PORT)})] = \
        selector.NumberSelector(selector.NumberSelectorConfig(min=1, max=65535, mode=selector.NumberSelectorMode.BOX))
    if editing:
        schema[vol.Required("rotate_secret", default=False)] = bool
    return vol.Schema(schema)


def anpr_port_from_input(user_input: dict[str, Any]) -> tuple[int | None, dict[str, str]]:
    """The hub's own receiver port (Dahua's fixed paths) if the form gives one, or the form's error. It is the
    community's one port for every Dahua lane."""
    raw = user_input.get(CONF_ANPR_PORT)
    if raw in (None, ""):
        return None, {}
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return None, {CONF_ANPR_PORT: "invalid_port"}
    if not number.is_integer() or not 1 <= number <= 65535:
        return None, {CONF_ANPR_PORT: "invalid_port"}
    port = int(number)
    return port, {}


# What the lane form sets: on an edit, everything else the stored lane has (e.g. the topic prefix) is kept.
LANE_FORM_KEYS = frozenset({"format", "car_park", "entrance", "lane_no", "direction", "barrier", "lock",
                            *_TEXT_FIELDS})


def edited_lane(stored: dict[str, Any], lane: dict[str, Any], *, rotate_secret: bool) -> tuple[dict[str, Any],
                                                                                               list[str]]:
    """The stored lane changed by the edit form's ``lane`` (from :func:`anpr_lane_from_input` with ``editing``),
    with a new push secret if asked; and which settings changed, for the audit log (names only, never values: some
    are secrets or camera addresses)."""
    new = {**{k: v for k, v in stored.items() if k not in LANE_FORM_KEYS}, **lane}
    if rotate_secret:
        new["secret"] = new_secret()
    changed = sorted(k for k in set(stored) | set(new)
                     if k not in ("key", "secret") and stored.get(k) != new.get(k) and (stored.get(k) or new.get(k)))
    if rotate_secret:
        changed.append("secret")
    return new, changed


def anpr_lane_from_input(hass: HomeAssistant, entry: ConfigEntry, user_input: dict[str, Any], *,
                         editing: dict[str, Any] | None = None) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The lane's options, or the form's errors; nothing is stored on an error. A new lane gets a new key and
    secret; ``editing`` (the stored lane) keeps its key, its secret and the stored passwords left blank. The
    Frigate broker's certificate files must be files in a folder Home Assistant may read
    (``allowlist_external_dirs``), as the uplink's are."""
    raw = {key: str(value).strip() for key, value in user_input.items() if key in _TEXT_FIELDS and value}
    fmt = str(user_input.get("format"))
    barrier = str(user_input.get("barrier"))
    try:
        car_park = v.identifier(str(user_input.get("car_park", "")).strip(), "car_park")
        entrance = v.identifier(str(user_input.get("entrance", "")).strip(), "entrance")
    except InvalidInputError:
        return None, {"car_park": "invalid_name"}
    try:
        lane_no = int(user_input.get("lane_no", 1))
    except (TypeError, ValueError):
        return None, {"lane_no": "invalid_lane_no"}
    if not 1 <= lane_no <= 99:
        return None, {"lane_no": "invalid_lane_no"}
    if str(user_input.get("direction", "entry")) not in ("entry", "exit"):
        return None, {"direction": "invalid_direction"}
    for other in lanes_of(entry):
        if editing is not None and other.key == editing["key"]:
            continue
        if (other.car_park, other.entrance, other.lane_no) == (car_park, entrance, lane_no):
            return None, {"lane_no": "lane_exists"}
    if editing is not None:
        for key in ("password", "camera_password"):  # a password field left blank keeps the stored one
            if key not in raw and editing.get(key):
                raw[key] = editing[key]
    for key in ("ca_file", "client_cert", "client_key"):
        path = raw.get(key)
        if path and not hass.config.is_allowed_path(path):
            return None, {key: "path_not_allowed"}
        if path and not Path(path).is_file():
            return None, {key: "file_not_found"}
    if fmt not in FORMATS:
        return None, {"format": "invalid_format"}
    if barrier == BARRIER_DOOR and not user_input.get("lock"):
        return None, {"lock": "barrier_lock_required"}
    if barrier == BARRIER_CAMERA and ("camera_url" not in raw or fmt != "hikvision"):
        return None, {"camera_url": "barrier_camera_required"}
    if barrier == BARRIER_REPLY and fmt != "vzenith":
        return None, {"barrier": "barrier_reply_vzenith"}
    addresses = tuple(a.strip() for a in raw.pop("allowed_addresses", "").split(",") if a.strip())
    lane: dict[str, Any] = {
        "key": editing["key"] if editing else secrets.token_hex(4), "format": fmt,
        "secret": editing["secret"] if editing else new_secret(), "car_park": car_park,
        "entrance": entrance, "lane_no": lane_no, "direction": str(user_input.get("direction", "entry")),
        "barrier": barrier, "lock": user_input.get("lock"), "allowed_addresses": list(addresses), **raw,
    }
    for key in ("tollgate_id", "ape_id"):
        if key in raw and not (len(raw[key]) == 20 and raw[key].isdigit()):
            return None, {key: "gat1400_id"}
    try:
        config = LaneConfig.from_options(lane)
        if fmt == "frigate":
            if not config.broker_url:
                return None, {"broker_url": "broker_required"}
            config.frigate()
        else:
            config.source()  # the receiver's own checks: Dahua needs credentials, Vzenith addresses
    except (ValueError, AnprFormatError):
        return None, {"base": f"{fmt}_settings"}
    return lane, {}


# ---- the operator's vehicle rules (the options flow's "Vehicle rules" step) ----------------------------------------

CONF_VEHICLE_RULES = "vehicle_rules"
IMAGES_FIELD = "vehicle_images"  # the field policy's optional field for the cameras' pictures
PLATE_FIELD = "plate"  # a default field the operator may withhold


def vehicle_rules(entry: ConfigEntry) -> VehicleRules:
    """The rules the lanes decide with: near-match plates, temporary vehicles, anti-passback, and whether the
    cameras' pictures are kept with the pass (only when the operator lets them go upstream)."""
    raw = entry.options.get(CONF_VEHICLE_RULES, {})
    return VehicleRules(
        temporary=TemporaryVehicleRule(raw.get("temporary", TemporaryVehicleRule.REFUSE.value)),
        near_match_opens=bool(raw.get("near_match_opens", False)),
        anti_passback=bool(raw.get("anti_passback", False)),
        keep_images=images_upstream(entry.options),
    )


def images_upstream(options: Any) -> bool:
    """Whether the cameras' pictures may leave the hub (a field option with its legal basis is stored)."""
    return any(raw.get("field") == IMAGES_FIELD for raw in options.get(CONF_FIELD_OPTIONS, []))


def vehicle_rules_schema(options: Any) -> vol.Schema:
    """The "Vehicle rules" form, showing what is in force."""
    raw = options.get(CONF_VEHICLE_RULES, {})
    temporary = selector.SelectSelector(selector.SelectSelectorConfig(
        options=[r.value for r in TemporaryVehicleRule], translation_key="vehicle_temporary"))
    basis = selector.SelectSelector(selector.SelectSelectorConfig(
        options=[b.value for b in LegalBasis], translation_key="legal_basis"))
    return vol.Schema({
        vol.Required("near_match_opens", default=bool(raw.get("near_match_opens", False))): bool,
        vol.Required("temporary", default=raw.get("temporary", TemporaryVehicleRule.REFUSE.value)): temporary,
        vol.Required("anti_passback", default=bool(raw.get("anti_passback", False))): bool,
        vol.Required("plate_upstream", default=PLATE_FIELD not in options.get(CONF_WITHHELD_FIELDS, [])): bool,
        vol.Required("images_upstream", default=images_upstream(options)): bool,
        vol.Optional("legal_basis"): basis,
        vol.Optional("reference"): str,
    })


def vehicle_rules_from_input(options: Any, user_input: dict[str, Any], user_id: str, now: str) -> tuple[
        dict[str, Any] | None, dict[str, str], dict[str, Any]]:
    """The entry's new options, the form's errors, and what the audit log records. Turning the pictures on needs a
    legal basis and a reference (the order, contract or consent record); nothing is changed on an error. Pictures
    already allowed stay allowed under their recorded basis unless a new one is given."""
    temporary = str(user_input.get("temporary", TemporaryVehicleRule.REFUSE.value))
    if temporary not in {r.value for r in TemporaryVehicleRule}:
        return None, {"temporary": "invalid_temporary"}, {}
    fields = [raw for raw in options.get(CONF_FIELD_OPTIONS, []) if raw.get("field") != IMAGES_FIELD]
    current = [raw for raw in options.get(CONF_FIELD_OPTIONS, []) if raw.get("field") == IMAGES_FIELD]
    images = bool(user_input.get("images_upstream", False))
    basis = str(user_input.get("legal_basis") or "")
    reference = str(user_input.get("reference") or "").strip()
    if images and (basis or reference or not current):
        if basis not in {b.value for b in LegalBasis} or len(reference) < 5:
            return None, {"base": "images_legal_basis_required"}, {}
        current = [{"field": IMAGES_FIELD, "legal_basis": basis, "reference": reference, "enabled_by": user_id,
                    "enabled_at": now}]
    if images:
        fields += current
    withheld = [f for f in options.get(CONF_WITHHELD_FIELDS, []) if f != PLATE_FIELD]
    if not user_input.get("plate_upstream", True):
        withheld.append(PLATE_FIELD)
    rules = {"near_match_opens": bool(user_input.get("near_match_opens", False)), "temporary": temporary,
             "anti_passback": bool(user_input.get("anti_passback", False))}
    new = {**options, CONF_VEHICLE_RULES: rules, CONF_FIELD_OPTIONS: fields, CONF_WITHHELD_FIELDS: withheld}
    audit = {**rules, "plate_upstream": PLATE_FIELD not in withheld, "images_upstream": images,
             "legal_basis": current[0]["legal_basis"] if images else None,
             "reference": current[0]["reference"] if images else None}
    return new, {}, audit
