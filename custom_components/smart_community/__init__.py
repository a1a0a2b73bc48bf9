"""The Smart Community integration: door controllers, gate sensors and cameras of a residential community."""

from __future__ import annotations

from homeassistant.const import CONF_HOST, CONF_PORT, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr

from devices.door_controller import DoorController
from devices.exceptions import DeviceError
from hub.doors import ControllerService

from .const import CONF_HELD_OPEN_SECONDS, DEFAULT_HELD_OPEN_SECONDS, DOMAIN
from .coordinator import DoorControllerCoordinator, SmartCommunityConfigEntry, SmartCommunityRuntimeData
from .entity import controller_device_info

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.LOCK, Platform.SELECT]


async def async_setup_entry(hass: HomeAssistant, entry: SmartCommunityConfigEntry) -> bool:
    """Connect to a door controller and set up its entities."""
    service = ControllerService(
        DoorController(entry.data[CONF_HOST], entry.data[CONF_PORT]),
        held_open_timeout=entry.options.get(CONF_HELD_OPEN_SECONDS, DEFAULT_HELD_OPEN_SECONDS),
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
    entry.runtime_data = SmartCommunityRuntimeData(
        service=service, coordinator=coordinator, options=dict(entry.options)
    )
    # The controller's own device first: every door device hangs off it (via_device).
    dr.async_get(hass).async_get_or_create(config_entry_id=entry.entry_id, **controller_device_info(coordinator))
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def _async_options_updated(hass: HomeAssistant, entry: SmartCommunityConfigEntry) -> None:
    """Options changed (poll rate, held-open timeout): reload so every part picks them up.

    Data changes come from the reconfigure flow, which reloads the entry itself.
    """
    if dict(entry.options) != entry.runtime_data.options:
        hass.config_entries.async_schedule_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: SmartCommunityConfigEntry) -> bool:
    """Unload the entities and close the connection."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.service.close()
    return unloaded
