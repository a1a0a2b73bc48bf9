"""A door's inputs as binary sensors: contact, exit button, tamper, gate presence; alarm states."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from hub.doors import AlarmKind, DoorView

from .community import CommunityRuntimeData
from .const import CONF_KIND, KIND_COMMUNITY
from .coordinator import DoorControllerCoordinator, SmartCommunityConfigEntry
from .entity import ControllerEntity, DoorEntity, community_device_info
from .push import UplinkStatusCoordinator

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class DoorBinarySensorDescription(BinarySensorEntityDescription):
    """How to read one binary sensor from a door's state."""

    value_fn: Callable[[DoorView], bool]


DESCRIPTIONS: tuple[DoorBinarySensorDescription, ...] = (
    DoorBinarySensorDescription(
        key="contact",
        translation_key="door_contact",
        device_class=BinarySensorDeviceClass.DOOR,
        value_fn=lambda view: view.status.door_open,
    ),
    DoorBinarySensorDescription(
        key="exit_button",
        translation_key="exit_button",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda view: view.status.exit_button,
    ),
    DoorBinarySensorDescription(
        key="tamper",
        translation_key="tamper",
        device_class=BinarySensorDeviceClass.TAMPER,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda view: view.status.tamper,
    ),
    DoorBinarySensorDescription(
        key="presence",
        translation_key="presence",
        device_class=BinarySensorDeviceClass.OCCUPANCY,
        entity_registry_enabled_default=False,
        value_fn=lambda view: view.status.presence,
    ),
    DoorBinarySensorDescription(
        key="barrier",
        translation_key="barrier",
        device_class=BinarySensorDeviceClass.OPENING,
        entity_registry_enabled_default=False,
        value_fn=lambda view: view.status.barrier_open,
    ),
    DoorBinarySensorDescription(
        key="forced_open",
        translation_key="forced_open",
        device_class=BinarySensorDeviceClass.PROBLEM,
        value_fn=lambda view: AlarmKind.FORCED_OPEN in view.alarms,
    ),
    DoorBinarySensorDescription(
        key="held_open",
        translation_key="held_open",
        device_class=BinarySensorDeviceClass.PROBLEM,
        value_fn=lambda view: AlarmKind.HELD_OPEN in view.alarms,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartCommunityConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The binary sensors of every door of the controller (or the community's uplink connection)."""
    if entry.data.get(CONF_KIND) == KIND_COMMUNITY:
        community = cast(ConfigEntry[CommunityRuntimeData], entry)
        if community.runtime_data.uplink.worker is not None:
            async_add_entities([UplinkConnected(community)])
        return
    coordinator = entry.runtime_data.coordinator
    entities: list[BinarySensorEntity] = [ControllerConnectivity(coordinator)]
    entities.extend(
        DoorBinarySensor(coordinator, view.status.index, description)
        for view in coordinator.data.doors
        for description in DESCRIPTIONS
    )
    async_add_entities(entities)


class DoorBinarySensor(DoorEntity, BinarySensorEntity):
    """One binary input or alarm of a door."""

    entity_description: DoorBinarySensorDescription

    def __init__(
        self, coordinator: DoorControllerCoordinator, door: int, description: DoorBinarySensorDescription
    ) -> None:
        super().__init__(coordinator, door, description.key)
        self.entity_description = description

    @property
    def is_on(self) -> bool:
        """The input's or alarm's current state."""
        return self.entity_description.value_fn(self.view)


class ControllerConnectivity(ControllerEntity, BinarySensorEntity):
    """Whether the controller answers: stays available itself, so automations can see the outage."""

    _attr_translation_key = "connectivity"
    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, coordinator: DoorControllerCoordinator) -> None:
        super().__init__(coordinator, "connectivity")

    @property
    def available(self) -> bool:
        """Always available: its state is the availability of the controller."""
        return True

    @property
    def is_on(self) -> bool:
        """Connected while the last poll succeeded."""
        return self.coordinator.last_update_success


class UplinkConnected(CoordinatorEntity[UplinkStatusCoordinator], BinarySensorEntity):
    """Whether the county platform acknowledges the hub's uploads right now (pushed by the worker)."""

    _attr_has_entity_name = True
    _attr_translation_key = "uplink_connected"
    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY

    def __init__(self, entry: ConfigEntry[CommunityRuntimeData]) -> None:
        super().__init__(entry.runtime_data.uplink.status_coordinator)
        self._entry = entry
        self._attr_unique_id = f"community-{entry.entry_id}-uplink_connected"
        self._attr_device_info = community_device_info(entry)

    @property
    def available(self) -> bool:
        """Before the first exchange with the platform there is nothing to say: unavailable, not "disconnected"
        (nothing is wrong yet)."""
        status = self._entry.runtime_data.uplink.status
        return super().available and status is not None and (
            status.last_success is not None or status.last_error is not None)

    @property
    def is_on(self) -> bool | None:
        """Connected while the last exchange with the platform succeeded."""
        status = self._entry.runtime_data.uplink.status
        return None if status is None else status.connected
