"""Door alarms as event entities: forced open, held open, tamper, and their clearing."""

from __future__ import annotations

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from hub.doors import AlarmEvent
from hub.gate import GateOutcome

from .const import SIGNAL_ACCESS
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
        """Listen to the door's alarms (and stop when removed)."""
        await super().async_added_to_hass()
        listeners = self.coordinator.service.alarm_listeners
        listeners.append(self._on_alarm)
        self.async_on_remove(lambda: listeners.remove(self._on_alarm))

    @callback
    def _on_alarm(self, event: AlarmEvent) -> None:
        if event.door != self.door:
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
        self._door_id = f"{coordinator.data.info.serial}-door{door}"

    async def async_added_to_hass(self) -> None:
        """Listen to the community's decisions for this door."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(self.hass, SIGNAL_ACCESS.format(self._door_id), self._on_decision)
        )

    @callback
    def _on_decision(self, outcome: GateOutcome) -> None:
        decision = outcome.decision
        self._trigger_event(
            "granted" if decision.granted else "denied",
            {
                "reason": decision.reason.value,
                "message": decision.message,
                "credential": decision.kind.value,
                "resident_id": decision.resident_id,
                "pass_id": decision.pass_id,
                "issued_by": decision.issued_by,
                "released": outcome.released,
            },
        )
        self.async_write_ha_state()
