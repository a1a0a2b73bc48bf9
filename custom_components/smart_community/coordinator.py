"""Coordinator polling one door controller through the hub's controller service."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from devices.exceptions import DeviceError
from hub.doors import ControllerService, ControllerSnapshot

from .const import CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL_MS, DOMAIN, poll_interval

if TYPE_CHECKING:
    from .push import DoorEventsCoordinator

_LOGGER = logging.getLogger(__name__)


@dataclass
class SmartCommunityRuntimeData:
    """What a config entry holds while it is loaded."""

    service: ControllerService
    coordinator: DoorControllerCoordinator
    device_id: str  # the controller's device in the registry: its doors' devices hang off it
    events: DoorEventsCoordinator  # its doors' alarms and access decisions, pushed (no polling)


type SmartCommunityConfigEntry = ConfigEntry[SmartCommunityRuntimeData]


class DoorControllerCoordinator(DataUpdateCoordinator[ControllerSnapshot]):
    """Polls a controller's doors; entities go unavailable while it cannot be reached.

    The base class logs the loss of the device once and its recovery once; ``always_update=False`` means
    entities are only written when something actually changed, which keeps a fast poll cheap.
    """

    config_entry: SmartCommunityConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: SmartCommunityConfigEntry, service: ControllerService
    ) -> None:
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=poll_interval(entry.options.get(CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL_MS)),
            always_update=False,
        )
        self.service = service

    async def _async_update_data(self) -> ControllerSnapshot:
        try:
            return await self.service.poll()
        except DeviceError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="controller_unreachable",
                translation_placeholders={"error": str(err)},
            ) from err
