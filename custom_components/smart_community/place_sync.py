"""Places' names for the hub: the names a manager gives doors, cameras and controllers in Home Assistant (and the
car park's lanes), pushed into the hub (:meth:`hub.community.Community.set_place_names`) so that every event it
journals records its place's name at that moment, and the uplink sends it beside the id (``door_name``, when the
field policy lets it; see docs/uplink-protocol.md).

The names are :func:`places.place_name`'s, the same as the panel, the CSV and the audit view show. They are pushed
when the community starts, when a controller's doors are attached, and whenever Home Assistant's device or entity
registry changes (a device renamed, a device added or removed). Only Home Assistant knows these names: the hub keeps
the latest copy in memory, by the id the journal gives the place (a camera known by its snapshot URL by that URL
without credentials, as it leaves the hub).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from hub.community import CommunityReads
from hub.exceptions import InvalidInputError, StorageError
from hub.health.models import public_device_id
from hub.journal import MAX_PLACE_NAME

from .places import async_ha_places, display_names, resolve_places
from .vehicles import vehicle_runtime

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

    from .community import CommunityRuntimeData

_LOGGER = logging.getLogger(__name__)


def upstream_names(names: Mapping[str, str]) -> dict[str, str]:
    """Place names keyed as the journal keys places (a camera's URL without its credentials or query), each cut to
    what the hub keeps."""
    shown: dict[str, str] = {}
    for place_id, name in names.items():
        name = name.strip()
        if len(name) > MAX_PLACE_NAME:
            name = name[: MAX_PLACE_NAME - 1].rstrip() + "…"
        shown.setdefault(public_device_id(place_id), name)
    return shown


def _hub_door_names(reads: CommunityReads) -> dict[str, str]:
    return {door.door_id: door.name for door in reads.access_config.list_doors()}


class PlaceNamesSync:
    """Keeps the hub's copy of the places' names in step with Home Assistant's registries (one per community)."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[CommunityRuntimeData]) -> None:
        self.hass = hass
        self.entry = entry
        self._running = False
        self._again = False
        self.pushed: dict[str, str] = {}

    @callback
    def async_start(self) -> None:
        """Listen to the registries (until the entry unloads) and push the names now."""
        for event_type in (dr.EVENT_DEVICE_REGISTRY_UPDATED, er.EVENT_ENTITY_REGISTRY_UPDATED):
            self.entry.async_on_unload(self.hass.bus.async_listen(event_type, self._registry_updated))
        self.async_request()

    @callback
    def _registry_updated(self, _event: Event[Any]) -> None:
        self.async_request()

    @callback
    def async_request(self) -> None:
        """Push the names again soon (a burst of registry updates, e.g. at start-up, makes one or two pushes)."""
        if self._running:
            self._again = True
            return
        self._running = True
        self.entry.async_create_task(self.hass, self._async_push(), "smart_community place names")

    async def _async_push(self) -> None:
        try:
            while True:
                self._again = False
                await self.async_push()
                if not self._again:
                    return
        finally:
            self._running = False

    async def async_push(self) -> None:
        """Read the names (Home Assistant's registries on the event loop, the hub's door names off it) and hand
        them to the hub."""
        runtime = self.entry.runtime_data
        community = runtime.community
        if runtime.closed:
            return
        ha = async_ha_places(self.hass)
        try:
            hub_doors = await self.hass.async_add_executor_job(community.read, _hub_door_names, community.reads)
        except (StorageError, sqlite3.Error):  # closing
            return
        names = display_names(resolve_places(ha, hub_doors, ha))
        vehicles = vehicle_runtime(self.hass, self.entry.entry_id)
        if vehicles is not None:
            for lane in vehicles.lanes.values():
                names.setdefault(lane.lane.lane_id, lane.name)
        shown = upstream_names(names)
        try:
            community.set_place_names(shown)
        except InvalidInputError as err:  # not expected: the names were checked above
            _LOGGER.warning("places' names not passed to the hub: %s", err)
            return
        if shown != self.pushed:
            _LOGGER.debug("places' names passed to the hub: %d", len(shown))
        self.pushed = shown
