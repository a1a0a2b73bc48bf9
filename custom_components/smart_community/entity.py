"""Base entities: one device per controller, one device per door (via its controller)."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from hub.doors import DoorView

from .const import DOMAIN
from .coordinator import DoorControllerCoordinator


def controller_device_info(coordinator: DoorControllerCoordinator) -> DeviceInfo:
    """The controller's device entry."""
    info = coordinator.data.info
    return DeviceInfo(
        identifiers={(DOMAIN, info.serial)},
        manufacturer="Smart Community",
        model=info.model,
        serial_number=info.serial,
        sw_version=info.firmware,
        name=f"Door controller {info.serial}",
        configuration_url=None,
    )


class DoorEntity(CoordinatorEntity[DoorControllerCoordinator]):
    """An entity of one door of a controller."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: DoorControllerCoordinator, door: int, key: str) -> None:
        super().__init__(coordinator)
        serial = coordinator.data.info.serial
        self.door = door
        self._attr_unique_id = f"{serial}-door{door}-{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{serial}-door{door}")},
            manufacturer="Smart Community",
            model=coordinator.data.info.model,
            name=f"{coordinator.data.info.serial} door {door + 1}",
            via_device=(DOMAIN, serial),
        )

    @property
    def view(self) -> DoorView:
        """This door's latest state."""
        return self.coordinator.data.doors[self.door]

    @property
    def available(self) -> bool:
        """Unavailable while the controller cannot be reached, or if the door vanished from it."""
        return super().available and self.door < len(self.coordinator.data.doors)
