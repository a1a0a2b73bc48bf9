"""Car-park barriers as covers of device class ``gate`` that can only be opened.

Why a cover and not a lock: a barrier arm is raised and falls back by itself once the car has passed (or on the
controller's pulse); nothing locks it. Home Assistant models gates, garage doors and barriers that open and close
as ``cover`` (device class ``gate``), and voice assistants and dashboards treat them so; a ``lock`` would claim a
locked/unlocked state the barrier does not have. The state is assumed closed (the hub cannot see the arm).

Opening by hand is a door operator's (administrators, the users the manager named, automations and scripts), and
is journalled with who asked before the barrier moves, like a door released by hand.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from homeassistant.components.cover import CoverDeviceClass, CoverEntity, CoverEntityFeature
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from hub.gate import AccessPoint

from .actors import async_actor, async_require_door_operator
from .community import CommunityRuntimeData
from .const import CONF_DOOR_OPERATORS, DOMAIN
from .entity import community_device_info
from .vehicles import BARRIER_REPLY, LaneConfig, vehicle_runtime

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry[CommunityRuntimeData],
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One barrier per configured lane that Home Assistant can open (a Vzenith camera's relay follows only the
    reply to its own push, so a lane whose barrier is that reply has no cover)."""
    vehicles = vehicle_runtime(hass, entry.entry_id)
    if vehicles is not None:
        async_add_entities(VehicleBarrier(entry, lane) for lane in vehicles.lanes.values()
                           if lane.barrier != BARRIER_REPLY)


class VehicleBarrier(CoverEntity):
    """A lane's barrier: open only."""

    _attr_has_entity_name = True
    _attr_device_class = CoverDeviceClass.GATE
    _attr_supported_features = CoverEntityFeature.OPEN
    _attr_assumed_state = True
    _attr_is_closed = True
    _attr_translation_key = "vehicle_barrier"

    def __init__(self, entry: ConfigEntry[CommunityRuntimeData], lane: LaneConfig) -> None:
        self._entry = entry
        self._lane = lane
        self._attr_unique_id = f"{entry.entry_id}-lane-{lane.key}-barrier"
        self._attr_device_info = community_device_info(entry)
        self._attr_translation_placeholders = {"lane": lane.name}

    async def async_open_cover(self, **kwargs: Any) -> None:
        """Raise the barrier once, journalled with who asked (refused for anyone but a door operator)."""
        actor = await async_actor(self.hass, self._context)
        operators = self._entry.options.get(CONF_DOOR_OPERATORS, [])
        await async_require_door_operator(self.hass, self._context, actor, operators, self.entity_id)
        vehicles = vehicle_runtime(self.hass, self._entry.entry_id)
        if vehicles is None:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="vehicles_not_loaded")
        lane = self._lane.lane
        point = AccessPoint(door_id=lane.lane_id, name=self._lane.name, release=partial(vehicles.barriers.open, lane))
        try:
            await self._entry.runtime_data.gatekeeper.manager_release(point, actor)
        except HomeAssistantError:
            raise
        except Exception as err:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="barrier_failed",
                                     translation_placeholders={"error": type(err).__name__}) from err
