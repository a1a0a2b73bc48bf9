"""The Smart Community integration: door controllers, gate sensors and cameras of a residential community, and
the community hub (residents, credentials, access decisions) that runs the gates."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Mapping
from typing import Any, cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME, EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from devices.camera import CameraAuthError, CameraClient
from devices.exceptions import DeviceError
from hub.doors import ControllerService
from hub.events import AlarmEvent
from hub.health import DeviceKind

from .camera import CameraConfigEntry, CameraRuntimeData
from .community import (
    CommunityRuntimeData,
    async_attach_controller,
    async_close_community,
    async_open_community,
    attachable_community,
    attachable_controllers,
    detach_controller,
)
from .const import (
    CONF_AUTH,
    CONF_HELD_OPEN_SECONDS,
    CONF_KIND,
    CONF_MJPEG_URL,
    CONF_SNAPSHOT_URL,
    DEFAULT_HELD_OPEN_SECONDS,
    DOMAIN,
    KIND_CAMERA,
    KIND_COMMUNITY,
)
from .coordinator import DoorControllerCoordinator, SmartCommunityConfigEntry, SmartCommunityRuntimeData
from .drivers import make_driver
from .entity import community_device_info, controller_device_info
from .gates import CONF_GATES, async_setup_gates, migrated_gates
from .health import async_report_device_status
from .panel import async_register_panel, async_remove_panel, async_setup_http
from .place_sync import PlaceNamesSync
from .push import DoorEventsCoordinator
from .qr_support import async_ensure_qr_decoder
from .repairs import async_remove_device_moved
from .services import async_setup_services
from .uplink import CONF_COMMUNITY_KEY, CONF_HUB_ID
from .vehicles import async_setup_vehicles
from .websocket_api import async_setup_websocket

_LOGGER = logging.getLogger(__name__)

CONTROLLER_PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.LOCK, Platform.SELECT]
COMMUNITY_PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.COVER, Platform.EVENT, Platform.SENSOR]
CAMERA_PLATFORMS: list[Platform] = [Platform.CAMERA]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

type CommunityConfigEntry = ConfigEntry[CommunityRuntimeData]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions (they find the community entry when called)."""
    async_setup_services(hass)
    async_setup_websocket(hass)
    async_setup_http(hass)
    return True


def _is_community(entry: ConfigEntry) -> bool:
    return entry.data.get(CONF_KIND) == KIND_COMMUNITY


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Set up a door controller or the community hub."""
    if _is_community(entry):
        return await _async_setup_community(hass, cast(CommunityConfigEntry, entry))
    if entry.data.get(CONF_KIND) == KIND_CAMERA:
        return await _async_setup_camera(hass, cast(CameraConfigEntry, entry))
    return await _async_setup_controller(hass, cast(SmartCommunityConfigEntry, entry))


def camera_client(hass: HomeAssistant, data: Mapping[str, Any]) -> CameraClient:
    """A camera client on Home Assistant's shared HTTP session."""
    return CameraClient(
        async_get_clientsession(hass),
        data[CONF_SNAPSHOT_URL],
        data.get(CONF_MJPEG_URL) or None,
        username=data.get(CONF_USERNAME) or None,
        password=data.get(CONF_PASSWORD) or None,
        auth=data.get(CONF_AUTH, "basic"),
    )


async def _async_setup_camera(hass: HomeAssistant, entry: CameraConfigEntry) -> bool:
    client = camera_client(hass, entry.data)
    try:
        await client.snapshot()
    except CameraAuthError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="camera_auth",
            translation_placeholders={"error": str(err)},
        ) from err
    except DeviceError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="camera_unreachable",
            translation_placeholders={"error": str(err)},
        ) from err
    entry.runtime_data = CameraRuntimeData(
        client=client, serial=entry.unique_id or entry.entry_id, model=entry.data.get("model", "IP camera")
    )
    await hass.config_entries.async_forward_entry_setups(entry, CAMERA_PLATFORMS)
    return True


async def _async_setup_community(hass: HomeAssistant, entry: CommunityConfigEntry) -> bool:
    if CONF_COMMUNITY_KEY not in entry.data or CONF_HUB_ID not in entry.data:
        # The community key makes the pseudonymous resident references; it never leaves the hub.
        hass.config_entries.async_update_entry(
            entry, data={CONF_COMMUNITY_KEY: secrets.token_hex(32), CONF_HUB_ID: f"hub-{entry.entry_id[-10:]}",
                         **entry.data}
        )
    runtime = await async_open_community(hass, entry)
    entry.runtime_data = runtime
    try:
        await _async_start_community(hass, entry, runtime)
    except BaseException:
        # Failed or cancelled half-way (Home Assistant runs no unload callbacks then): leave no writer thread,
        # worker or open database behind.
        with contextlib.suppress(Exception):
            await asyncio.shield(async_close_community(hass, runtime))
        raise
    return True


async def _async_start_community(
    hass: HomeAssistant, entry: CommunityConfigEntry, runtime: CommunityRuntimeData
) -> None:
    entry.async_on_unload(lambda: async_close_community(hass, runtime))

    async def _close_on_stop(_event: Event) -> None:
        # Home Assistant stops without unloading entries: flush the writer's queue and close the database.
        await async_close_community(hass, runtime)

    entry.async_on_unload(hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, _close_on_stop))
    dr.async_get(hass).async_get_or_create(config_entry_id=entry.entry_id, **community_device_info(entry))
    # From here on controllers attach themselves (see attachable_community); the ones already connected are
    # attached now. Both happen on the event loop with no await in between, so at start-up, when every entry is
    # set up at once, no controller falls between the two.
    runtime.attachable = True
    controllers = attachable_controllers(hass)
    for controller in controllers:
        await async_attach_controller(hass, runtime, controller)
    for loaded in hass.config_entries.async_loaded_entries(DOMAIN):
        if loaded.data.get(CONF_KIND) == KIND_CAMERA:  # loaded before the community: its status is recorded now
            camera = cast(CameraConfigEntry, loaded).runtime_data
            async_report_device_status(hass, camera.serial, DeviceKind.CAMERA, camera.online)
    await async_setup_vehicles(hass, entry)  # before the platforms: the lanes' entities need its runtime
    # The places' names, for the events the hub journals (and the uplink sends): now, and on every rename.
    runtime.place_names = PlaceNamesSync(hass, entry)
    runtime.place_names.async_start()
    await hass.config_entries.async_forward_entry_setups(entry, COMMUNITY_PLATFORMS)
    await async_setup_gates(hass, entry)

    async def _qr_decoder() -> None:
        runtime.qr = await async_ensure_qr_decoder(hass, runtime.community)

    # In the background: installing the decoder may wait on the network, and the gates are already deciding.
    entry.async_create_background_task(hass, _qr_decoder(), "smart_community QR decoder")
    await async_register_panel(hass)
    entry.async_on_unload(lambda: async_remove_panel(hass))
    entry.async_on_unload(runtime.staging.clear)



async def _async_setup_controller(hass: HomeAssistant, entry: SmartCommunityConfigEntry) -> bool:
    try:
        driver = make_driver(entry.data, entry.options)
    except DeviceError as err:  # a mapping that no longer fits the module
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="bad_mapping",
            translation_placeholders={"error": str(err)},
        ) from err
    service = ControllerService(
        driver, held_open_timeout=entry.options.get(CONF_HELD_OPEN_SECONDS, DEFAULT_HELD_OPEN_SECONDS)
    )
    try:
        await service.connect()
    except DeviceError as err:
        await service.close()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="controller_unreachable",
            translation_placeholders={"error": str(err)},
        ) from err
    coordinator = DoorControllerCoordinator(hass, entry, service)
    try:
        await coordinator.async_config_entry_first_refresh()
    except ConfigEntryNotReady:
        await service.close()
        raise
    # The controller's own device first: every door device hangs off it.
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **controller_device_info(coordinator)
    )
    events = DoorEventsCoordinator(hass, entry)
    entry.async_on_unload(service.events.subscribe(AlarmEvent, events.async_set_updated_data))
    entry.runtime_data = SmartCommunityRuntimeData(
        service=service, coordinator=coordinator, device_id=device.id, events=events
    )
    await hass.config_entries.async_forward_entry_setups(entry, CONTROLLER_PLATFORMS)
    # A community already running its gate path (loaded, or still setting up at start-up) gets the doors now;
    # one that is not there yet attaches this controller when it is (see _async_start_community).
    community = attachable_community(hass)
    if community is not None:
        await async_attach_controller(hass, community.runtime_data, entry)
    return True



async def async_migrate_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Entries of earlier releases. Minor version 2: gates saved with the old default of five frames take the
    gates' three (what the liveness limits and the measured figures are for; see docs/face-verification.md)."""
    if entry.version > 1:
        return False  # made by a newer release: leave it alone
    if entry.minor_version < 2:
        options = dict(entry.options)
        gates, moved = migrated_gates(options.get(CONF_GATES) or [])
        if moved:
            options[CONF_GATES] = gates
            _LOGGER.info("%s: %d gate(s) saved with the old default of five frames now take three",
                         entry.title, moved)
        hass.config_entries.async_update_entry(entry, options=options, minor_version=2)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Unload the entities and close the connection or the database."""
    if _is_community(entry):
        for detach in entry.runtime_data.detach.values():
            detach()
        entry.runtime_data.detach.clear()
        unloaded = await hass.config_entries.async_unload_platforms(entry, COMMUNITY_PLATFORMS)
        if unloaded:
            await async_close_community(hass, entry.runtime_data)
        return unloaded
    if entry.data.get(CONF_KIND) == KIND_CAMERA:
        return await hass.config_entries.async_unload_platforms(entry, CAMERA_PLATFORMS)
    detach_controller(hass, entry)
    unloaded = await hass.config_entries.async_unload_platforms(entry, CONTROLLER_PLATFORMS)
    if unloaded:
        await entry.runtime_data.service.close()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """A removed device has no pending move left to confirm."""
    async_remove_device_moved(hass, entry.entry_id)
