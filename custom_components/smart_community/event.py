"""Door alarms and access decisions as event entities.

Every Home Assistant user can read entity states and the recorder keeps them, so an access event carries no
resident id, name, card or pass id: only a per-community pseudonymous reference (a keyed hash with the community
key, which never leaves the hub; administrators see who in the panel). Automations that need who (the visitor-pass
blueprint tells the resident who issued the pass) get it from the ``smart_community_access`` event on Home
Assistant's bus, which only administrators can subscribe to over the websocket API.
"""

from __future__ import annotations

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from hub.events import AlarmEvent, DecisionEvent
from hub.uplink import Secret, pseudonymous_ref

from .community import loaded_community
from .const import CONF_KIND, DOMAIN, KIND_COMMUNITY
from .coordinator import DoorControllerCoordinator, SmartCommunityConfigEntry
from .entity import DoorEntity
from .uplink import CONF_COMMUNITY_KEY
from .vehicle_event import async_setup_lane_events

PARALLEL_UPDATES = 0

CLEARED = "cleared"
# On Home Assistant's bus, with who: custom events are admin-only to subscribe to over the websocket API.
EVENT_ACCESS = f"{DOMAIN}_access"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartCommunityConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One alarm event entity per door (a controller); one vehicle event entity per lane (the community)."""
    if entry.data.get(CONF_KIND) == KIND_COMMUNITY:
        await async_setup_lane_events(hass, entry, async_add_entities)  # type: ignore[arg-type]
        return
    coordinator = entry.runtime_data.coordinator
    entities: list[EventEntity] = []
    for view in coordinator.data.doors:
        entities.append(DoorAlarmEvent(coordinator, view.status.index))
        entities.append(DoorAccessEvent(coordinator, view.status.index))
    async_add_entities(entities)


class DoorAlarmEvent(DoorEntity, EventEntity):
    """Fires ``forced_open``, ``held_open`` or ``tamper`` when an alarm is raised, ``cleared`` when it ends."""

    _attr_translation_key = "door_alarm"
    _attr_event_types = ["forced_open", "held_open", "tamper", CLEARED]

    def __init__(self, coordinator: DoorControllerCoordinator, door: int) -> None:
        super().__init__(coordinator, door, "alarm")

    async def async_added_to_hass(self) -> None:
        """Listen to the controller's pushed door events (and stop when removed)."""
        await super().async_added_to_hass()
        events = self.coordinator.config_entry.runtime_data.events
        self.async_on_remove(events.async_add_listener(lambda: self._on_alarm(events.data)))

    @callback
    def _on_alarm(self, event: AlarmEvent | DecisionEvent | None) -> None:
        if not isinstance(event, AlarmEvent) or event.door != self.door:
            return
        if event.active:
            self._trigger_event(event.kind.value)
        else:
            self._trigger_event(CLEARED, {"alarm": event.kind.value})
        self.async_write_ha_state()


class DoorAccessEvent(DoorEntity, EventEntity):
    """Fires ``granted`` or ``denied`` for every access decision at the door, with its reason (never an image)."""

    _attr_translation_key = "door_access"
    _attr_event_types = ["granted", "denied"]

    def __init__(self, coordinator: DoorControllerCoordinator, door: int) -> None:
        super().__init__(coordinator, door, "access")

    async def async_added_to_hass(self) -> None:
        """Listen to the community's decisions for this door, pushed through the controller's door events."""
        await super().async_added_to_hass()
        events = self.coordinator.config_entry.runtime_data.events
        self.async_on_remove(events.async_add_listener(lambda: self._on_decision(events.data)))

    @callback
    def _on_decision(self, event: AlarmEvent | DecisionEvent | None) -> None:
        if not isinstance(event, DecisionEvent) or event.door != str(self.door_id):
            return
        decision = event.decision
        event_type = "granted" if decision.granted else "denied"
        refs = self._refs(decision.resident_id, decision.issued_by)
        self._trigger_event(
            event_type,
            {
                "reason": decision.reason.value,
                "message": decision.message,
                "credential": decision.kind.value,
                "resident_ref": refs.get(decision.resident_id),
                "issued_by_ref": refs.get(decision.issued_by),
                "released": event.released,
            },
        )
        self.async_write_ha_state()
        self.hass.bus.async_fire(EVENT_ACCESS, {
            "entity_id": self.entity_id,
            "door_id": event.door,
            "event_type": event_type,
            "reason": decision.reason.value,
            "credential": decision.kind.value,
            "resident_id": decision.resident_id,
            "pass_id": decision.pass_id,
            "issued_by": decision.issued_by,
            "released": event.released,
        })

    def _refs(self, *resident_ids: str | None) -> dict[str | None, str]:
        community = loaded_community(self.hass)
        key = community.data.get(CONF_COMMUNITY_KEY) if community is not None else None
        if not key:
            return {}
        secret = Secret(key)
        return {rid: pseudonymous_ref(secret, rid) for rid in resident_ids if rid}
