"""Push coordinators: no polling; the library's buses push into them, entities listen to them (Home Assistant's
coordinator/entity split) instead of to the library.

- :class:`DoorEventsCoordinator`, one per controller: its service's bus pushes its doors' alarms (from the first
  poll on); the community's bus pushes the access decisions at its doors while the controller is attached to the
  community (see ``community.py``).
- :class:`UplinkStatusCoordinator`, one per community with an uplink: the worker's bus pushes its status.
"""

from __future__ import annotations

import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from hub.events import AlarmEvent, DecisionEvent
from hub.uplink import UplinkStatus

from .const import DOMAIN
from .coordinator import SmartCommunityConfigEntry

_LOGGER = logging.getLogger(__name__)

type DoorEvent = AlarmEvent | DecisionEvent


class DoorEventsCoordinator(DataUpdateCoordinator[DoorEvent | None]):
    """The latest door event of one controller (``None`` until the first); every event is pushed to the
    listeners, even one equal to the last (two identical denials are two events)."""

    config_entry: SmartCommunityConfigEntry

    def __init__(self, hass: HomeAssistant, entry: SmartCommunityConfigEntry) -> None:
        super().__init__(
            hass, _LOGGER, config_entry=entry, name=f"{DOMAIN} {entry.title} door events", update_interval=None,
            always_update=True,
        )
        self.data = None

    async def _async_update_data(self) -> DoorEvent | None:
        # Nothing to fetch (``homeassistant.update_entity`` must not make the entities unavailable).
        return self.data


class UplinkStatusCoordinator(DataUpdateCoordinator[UplinkStatus | None]):
    """The uplink worker's latest status (``None`` until its first report)."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        super().__init__(
            hass, _LOGGER, config_entry=entry, name=f"{DOMAIN} {entry.title} uplink", update_interval=None,
            always_update=True,
        )
        self.data = None

    async def _async_update_data(self) -> UplinkStatus | None:
        return self.data
