"""The community config entry: the hub's database (residents, credentials, access rules) and the gate path,
attached to every loaded door controller entry of the integration."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import CALLBACK_TYPE, Context, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from devices.models import ControllerInfo
from hub.community import Community
from hub.doors import ControllerService, DoorId, ReleaseReason
from hub.events import AlarmEvent, CredentialReadEvent, DecisionEvent, ManagerActionEvent
from hub.face_gate import CommunityFaces
from hub.frame_ring import FrameRing
from hub.gate import AccessPoint, Actor, GateKeeper
from hub.health import DeviceKind, WeeklyReport
from hub.journal import EventKind
from hub.residents.qr import QrDecoderStatus
from hub.residents.secrets import DEFAULT_PIN_DIGITS

from .actors import async_actor, async_require_door_operator
from .const import (
    CONF_DOOR_OPERATORS,
    CONF_KIND,
    CONF_PIN_DIGITS,
    CONF_RELEASE_SECONDS,
    DEFAULT_RELEASE_SECONDS,
    DOMAIN,
    KIND_COMMUNITY,
    KIND_CONTROLLER,
)
from .health import HealthRuntime, async_report_device_status
from .places import async_ha_places, place_name
from .staging import PhotoStaging
from .uplink import CONF_HUB_ID, UplinkRuntime

if TYPE_CHECKING:
    from .place_sync import PlaceNamesSync

_LOGGER = logging.getLogger(__name__)
# A controller that has not answered for this long is offline (health, alarms, the county); a shorter gap in its
# fast poll is not an outage.
CONTROLLER_OFFLINE_AFTER = timedelta(seconds=3)


@dataclass
class CommunityRuntimeData:
    """What a loaded community entry holds."""

    community: Community
    gatekeeper: GateKeeper
    faces: CommunityFaces
    uplink: UplinkRuntime
    health: HealthRuntime
    points: dict[str, AccessPoint] = field(default_factory=dict)
    face_doors: set[str] = field(default_factory=set)
    detach: dict[str, Callable[[], None]] = field(default_factory=dict)
    staging: PhotoStaging = field(default_factory=PhotoStaging)
    qr: QrDecoderStatus | None = None  # known once qr_support has looked (in the background, after set-up)
    closed: bool = False
    # Set once its gate path runs, while the entry may still be setting up: controllers may attach from then on.
    attachable: bool = False
    attaching: set[str] = field(default_factory=set)
    # Pushes the places' names into the hub (place_sync.py); set once the community has started.
    place_names: PlaceNamesSync | None = None
    # Each gate's ring buffer of its camera's frames, by lock entity (gates.py; this integration's cameras only).
    gate_rings: dict[str, FrameRing] = field(default_factory=dict)


async def _stop_partial(
    hass: HomeAssistant, community: Community, uplink: UplinkRuntime, health: HealthRuntime
) -> None:
    await uplink.async_stop()
    await health.async_stop()
    await hass.async_add_executor_job(community.close)


async def async_close_community(hass: HomeAssistant, runtime: CommunityRuntimeData) -> None:
    """Stop the uplink worker and the health store, then run the writer's queued jobs and close the database.

    Called on unload, on a set-up that fails after the database opened, and when Home Assistant stops (which
    does not unload config entries): each path may meet the others, so only the first one closes.
    """
    if runtime.closed:
        return
    runtime.closed = True
    try:
        await runtime.gatekeeper.close()  # faces waiting for a card or PIN are recorded before the database closes
    except Exception:
        _LOGGER.exception("could not record the faces waiting for a second factor")
    await _stop_partial(hass, runtime.community, runtime.uplink, runtime.health)


def storage_paths(hass: HomeAssistant, entry: ConfigEntry) -> tuple[Path, Path]:
    """The community database and its key file: in Home Assistant's storage folder, the key outside the DB."""
    folder = Path(hass.config.path(".storage", DOMAIN))
    return folder / f"{entry.entry_id}.db", folder / "keys" / f"{entry.entry_id}.key"


def door_id(serial: str, index: int) -> str:
    """The access-control id of a controller's door (as the database and the entities' unique ids keep it)."""
    return str(DoorId.for_controller(serial, index))


def loaded_community(hass: HomeAssistant) -> ConfigEntry[CommunityRuntimeData] | None:
    """The community entry, if one is loaded."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.data.get(CONF_KIND) == KIND_COMMUNITY and entry.state is ConfigEntryState.LOADED:
            return entry
    return None


def attachable_community(hass: HomeAssistant) -> ConfigEntry[CommunityRuntimeData] | None:
    """The community entry a controller's doors can attach to: loaded, or still setting up with its gate path
    already running (at start-up Home Assistant sets every entry up at once, in no fixed order)."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.data.get(CONF_KIND) != KIND_COMMUNITY:
            continue
        runtime = getattr(entry, "runtime_data", None)
        if entry.state is ConfigEntryState.LOADED or (
            entry.state is ConfigEntryState.SETUP_IN_PROGRESS
            and isinstance(runtime, CommunityRuntimeData) and runtime.attachable and not runtime.closed
        ):
            return cast("ConfigEntry[CommunityRuntimeData]", entry)
    return None


def attachable_controllers(hass: HomeAssistant) -> list[ConfigEntry]:
    """Controller entries whose doors can be attached now: loaded, or setting up with their connection made."""
    found = []
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.data.get(CONF_KIND, KIND_CONTROLLER) != KIND_CONTROLLER:
            continue
        ready = entry.state is ConfigEntryState.SETUP_IN_PROGRESS and hasattr(getattr(entry, "runtime_data", None),
                                                                             "service")
        if entry.state is ConfigEntryState.LOADED or ready:
            found.append(entry)
    return found


async def async_open_community(hass: HomeAssistant, entry: ConfigEntry) -> CommunityRuntimeData:
    """Open the database (in the executor: SQLite and key files are blocking) and build the gate path."""
    db_path, key_path = storage_paths(hass, entry)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    timezone = await hass.async_add_executor_job(ZoneInfo, hass.config.time_zone)
    community = await hass.async_add_executor_job(
        lambda: Community(
            db_path,
            key_path,
            timezone=timezone,
            hub_id=entry.data[CONF_HUB_ID],
            pin_digits=int(entry.options.get(CONF_PIN_DIGITS, DEFAULT_PIN_DIGITS)),
        )
    )
    faces = CommunityFaces(community)
    gatekeeper = GateKeeper(community, hass.async_add_executor_job, faces=faces)
    uplink = UplinkRuntime(hass, entry, db_path, community)
    health = HealthRuntime(hass, entry, db_path, community)
    # The weekly device report goes upstream as an event (device ids and rates only: no personal data).
    health.events.subscribe(
        WeeklyReport, lambda report: uplink.record(EventKind.HEALTH_REPORT, None, {"report": report.upstream()})
    )
    try:
        await uplink.async_start()
        await health.async_start()
    except BaseException:
        # Set-up failed or was cancelled half-way: leave no worker, retention job or open database behind.
        with contextlib.suppress(Exception):
            await asyncio.shield(_stop_partial(hass, community, uplink, health))
        raise
    community.events.subscribe(ManagerActionEvent, uplink.record_manager_action)
    # Decisions reach the entities through each attached controller's door-events coordinator (below).
    return CommunityRuntimeData(
        community=community, gatekeeper=gatekeeper, faces=faces, uplink=uplink, health=health,
    )


async def async_door_action(
    hass: HomeAssistant,
    context: Context | None,
    door_id: DoorId,
    entity_id: str | None,
    run: Callable[[GateKeeper, AccessPoint, Actor], Awaitable[None]],
    direct: Callable[[], Awaitable[None]],
) -> None:
    """A release or a mode change asked for through Home Assistant: only a door operator may
    (:func:`async_require_door_operator`); through the hub (``run``), which journals or audits it with who asked
    first; without a community entry there is no hub to record it, and ``direct`` acts alone (the controller's own
    log only)."""
    community = loaded_community(hass)
    actor = await async_actor(hass, context)
    operators = community.options.get(CONF_DOOR_OPERATORS, []) if community is not None else []
    await async_require_door_operator(hass, context, actor, operators, entity_id)
    point = community.runtime_data.points.get(str(door_id)) if community is not None else None
    if community is None or point is None:
        await direct()
        return
    await run(community.runtime_data.gatekeeper, point, actor)


async def async_door_change(
    hass: HomeAssistant,
    context: Context | None,
    door_id: DoorId,
    entity_id: str | None,
    action: str,
    details: Mapping[str, object],
    apply: Callable[[], Awaitable[None]],
) -> None:
    """A door operator's change to a door other than a release (its mode): audited with who asked before it is
    applied (see :meth:`hub.gate.GateKeeper.manager_door_change`)."""
    async def through_hub(gatekeeper: GateKeeper, point: AccessPoint, actor: Actor) -> None:
        await gatekeeper.manager_door_change(point, actor, action, details, apply)

    await async_door_action(hass, context, door_id, entity_id, through_hub, apply)


def erase_resident(runtime: CommunityRuntimeData, actor: str, resident_id: str) -> dict[str, Any]:
    """Blocking: erase a resident from the registry and, in the same transaction, their id from the journal (the
    receipt counts both); see :meth:`hub.community.Community.erase_resident`."""
    receipt = runtime.community.erase_resident(actor, resident_id)
    return {
        "receipt_id": receipt.receipt_id,
        "resident_id": receipt.resident_id,
        "erased_at": receipt.erased_at.isoformat(),
        "erased": dict(receipt.erased),
        "receipt_hash": receipt.receipt_hash,
        "journal_events_anonymised": receipt.erased.get("journal_events", 0),
    }


async def async_attach_controller(hass: HomeAssistant, runtime: CommunityRuntimeData, entry: ConfigEntry) -> None:
    """Make a controller's doors access points: register them and route their reader's reads to the gate path."""
    service = entry.runtime_data.service
    info = service.info
    if info is None or entry.entry_id in runtime.detach or entry.entry_id in runtime.attaching:
        return
    runtime.attaching.add(entry.entry_id)  # both sides of a start-up may try: the first one attaches
    try:
        await _async_attach(hass, runtime, entry, service, info)
    finally:
        runtime.attaching.discard(entry.entry_id)


async def _async_attach(
    hass: HomeAssistant, runtime: CommunityRuntimeData, entry: ConfigEntry, service: ControllerService,
    info: ControllerInfo,
) -> None:
    seconds = int(entry.options.get(CONF_RELEASE_SECONDS, DEFAULT_RELEASE_SECONDS))
    points: dict[int, AccessPoint] = {}
    for index in range(info.door_count):
        point = AccessPoint(
            door_id=door_id(info.serial, index),
            name=f"{info.serial} door {index + 1}",
            release=partial(service.release, index, seconds, ReleaseReason.DECISION),
        )
        points[index] = point
        runtime.points[point.door_id] = point
        await hass.async_add_executor_job(
            partial(runtime.community.ensure_door, point.door_id, point.name, face=point.door_id in runtime.face_doors)
        )
    if runtime.place_names is not None:  # the new doors' names, for the events journalled at them
        runtime.place_names.async_request()

    @callback
    def on_read(event: CredentialReadEvent) -> None:
        point = points.get(event.door)
        if point is not None:
            entry.async_create_background_task(
                hass, runtime.gatekeeper.credential_read(point, event.read), f"{DOMAIN} credential at {point.name}"
            )

    door_events = entry.runtime_data.events
    door_ids = {point.door_id for point in points.values()}

    @callback
    def on_decision(event: DecisionEvent) -> None:
        # The hub journalled the decision with its attempt, in one transaction; the glue only forwards it.
        if event.door in door_ids:
            door_events.async_set_updated_data(event)

    @callback
    def on_alarm(event: AlarmEvent) -> None:
        # Journalled for the county and kept as an alarm until a manager closes it (with a notification).
        point = points.get(event.door)
        name = point.name if point else f"{info.serial} door {event.door + 1}"
        if point is not None:  # by the name a manager gave the door in Home Assistant, if any (places.py)
            name = place_name(point.door_id, async_ha_places(hass).get(point.door_id), point.name)
        runtime.health.async_door_alarm(point.door_id if point else None, name, event.kind.value, event.active)

    coordinator = entry.runtime_data.coordinator
    # What device health was last told; a controller is offline once it has stayed unreachable for
    # CONTROLLER_OFFLINE_AFTER (one missed fast poll, e.g. while the machine is busy, is not an outage).
    online = [coordinator.last_update_success]
    down_since: list[datetime | None] = [None]
    pending: list[CALLBACK_TYPE | None] = [None]

    async_report_device_status(hass, info.serial, DeviceKind.DOOR_CONTROLLER, coordinator.last_update_success)

    @callback
    def confirm_offline(_now: datetime) -> None:
        pending[0] = None
        if not coordinator.last_update_success and online[0]:
            online[0] = False
            # Device health records the change, at the moment it went down, and journals it for the county
            # (with the problem it opens).
            async_report_device_status(hass, info.serial, DeviceKind.DOOR_CONTROLLER, False, down_since[0])

    @callback
    def on_update() -> None:
        if not coordinator.last_update_success:
            if down_since[0] is None:
                down_since[0] = dt_util.utcnow()
                pending[0] = async_call_later(hass, CONTROLLER_OFFLINE_AFTER, confirm_offline)
            return
        down_since[0] = None
        if pending[0] is not None:
            pending[0]()
            pending[0] = None
        if not online[0]:
            online[0] = True
            async_report_device_status(hass, info.serial, DeviceKind.DOOR_CONTROLLER, True)

    unsubscribe = [
        service.events.subscribe(CredentialReadEvent, on_read),
        service.events.subscribe(AlarmEvent, on_alarm),
        runtime.community.events.subscribe(DecisionEvent, on_decision),
        coordinator.async_add_listener(on_update),
    ]

    def detach() -> None:
        for remove in unsubscribe:
            remove()
        if pending[0] is not None:
            pending[0]()
        for point in points.values():
            runtime.points.pop(point.door_id, None)

    runtime.detach[entry.entry_id] = detach


def detach_controller(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """A controller entry is unloading: stop routing its reads."""
    community = loaded_community(hass)
    if community is not None:
        detach = community.runtime_data.detach.pop(entry.entry_id, None)
        if detach is not None:
            detach()
