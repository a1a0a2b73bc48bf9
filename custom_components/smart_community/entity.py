"""Base entities: one device per controller, one device per door (via its controller)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from homeassistant.config_entries import ConfigEntry
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from devices.exceptions import DeviceError, DeviceProtocolError
from hub.doors import DoorId, DoorView

from .compat import via_device
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


def community_device_info(entry: ConfigEntry) -> DeviceInfo:
    """The community hub's own device (residents, gates, uplink)."""
    return DeviceInfo(
        identifiers={(DOMAIN, f"community-{entry.entry_id}")},
        manufacturer="Smart Community",
        model="Community hub",
        name=entry.title,
        entry_type=DeviceEntryType.SERVICE,
    )


class DoorEntity(CoordinatorEntity[DoorControllerCoordinator]):
    """An entity of one door of a controller."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: DoorControllerCoordinator, door: int, key: str) -> None:
        super().__init__(coordinator)
        serial = coordinator.data.info.serial
        self.door = door
        self.door_id = DoorId.for_controller(serial, door)
        self._attr_unique_id = f"{self.door_id}-{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, str(self.door_id))},
            manufacturer="Smart Community",
            model=coordinator.data.info.model,
            name=f"{coordinator.data.info.serial} door {door + 1}",
            **via_device((DOMAIN, serial), coordinator.config_entry.runtime_data.device_id),
        )

    @property
    def view(self) -> DoorView:
        """This door's latest state."""
        return self.coordinator.data.doors[self.door]

    @property
    def available(self) -> bool:
        """Unavailable while the controller cannot be reached, or if the door vanished from it."""
        return super().available and self.door < len(self.coordinator.data.doors)


@asynccontextmanager
async def device_errors_as_ha_errors() -> AsyncIterator[None]:
    """Turn the device layer's errors into translated Home Assistant errors for a service call."""
    try:
        yield
    except DeviceProtocolError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="command_refused",
            translation_placeholders={"error": str(err)},
        ) from err
    except DeviceError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="controller_unreachable",
            translation_placeholders={"error": str(err)},
        ) from err


class ControllerEntity(CoordinatorEntity[DoorControllerCoordinator]):
    """An entity of the controller itself."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: DoorControllerCoordinator, key: str) -> None:
        super().__init__(coordinator)
        self._attr_unique_id = f"{coordinator.data.info.serial}-{key}"
        self._attr_device_info = controller_device_info(coordinator)
