"""A vehicle event entity per lane: fires ``granted`` or ``denied`` on every decided pass (a repeat is a new pass;
a resend of a record the hub already has is not), with the reason and never the plate: entity states are readable
by every user and kept by the recorder. The plate reaches automations on the ``smart_community_vehicle_pass`` bus
event only."""

from __future__ import annotations

from homeassistant.components.event import EventEntity
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from hub.vehicles.models import VehicleDecision

from .community import CommunityRuntimeData
from .entity import community_device_info
from .vehicles import LaneConfig, lane_event_unique_id, signal_lane, vehicle_runtime


async def async_setup_lane_events(
    hass: HomeAssistant,
    entry: ConfigEntry[CommunityRuntimeData],
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One vehicle event entity per configured lane of the community."""
    vehicles = vehicle_runtime(hass, entry.entry_id)
    if vehicles is not None:
        async_add_entities(LaneVehicleEvent(entry, lane) for lane in vehicles.lanes.values())


class LaneVehicleEvent(EventEntity):
    """Every pass at one lane, with its reason (no plate, no resident)."""

    _attr_has_entity_name = True
    _attr_translation_key = "vehicle_pass"
    _attr_event_types = ["granted", "denied"]

    def __init__(self, entry: ConfigEntry[CommunityRuntimeData], lane: LaneConfig) -> None:
        self._entry = entry
        self._lane = lane
        self._attr_unique_id = lane_event_unique_id(entry.entry_id, lane.key)
        self._attr_device_info = community_device_info(entry)
        self._attr_translation_placeholders = {"lane": lane.name}

    async def async_added_to_hass(self) -> None:
        """Listen to the community's vehicle decisions."""
        await super().async_added_to_hass()
        self.async_on_remove(async_dispatcher_connect(
            self.hass, signal_lane(self._entry.entry_id), self._on_decision))

    @callback
    def _on_decision(self, outcome: VehicleDecision) -> None:
        if outcome.lane.barrier != self._lane.key:
            return
        decision = outcome.decision
        self._trigger_event("granted" if decision.granted else "denied", {
            "reason": decision.reason.value,
            "message": decision.message,
            "direction": outcome.lane.direction.value,
            "near_match": decision.near_match_of is not None,
            "backfilled": outcome.backfilled,
            "opened": outcome.opened,
            "alarm": decision.alarm,
            "dwell_s": outcome.dwell_s,
        })
        self.async_write_ha_state()
