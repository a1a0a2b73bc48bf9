"""Door alarms as event entities: forced open, held open, tamper, and their clearing."""

from __future__ import annotations

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from hub.events import AlarmEvent, DecisionEvent

from .coordinator import DoorControllerCoordinator, SmartCommunityConfigEntry
from .entity import DoorEntity

PARALLEL_UPDATES = 0

CLEARED = "cleared"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartCommunityConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One alarm event entity per door."""
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
        self._trigger_event(
            "granted" if decision.granted else "denied",
            {
                "reason": decision.reason.value,
                "message": decision.message,
                "credential": decision.kind.value,
                "resident_id": decision.resident_id,
                "pass_id": decision.pass_id,
                "issued_by": decision.issued_by,
                "released": event.released,
            },
        )
        self.async_write_ha_state()
