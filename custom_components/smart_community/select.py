"""A door's operating mode as a select: normal, locked down, free passage."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from devices.hub_native_map import DoorMode

from .community import async_door_change
from .coordinator import DoorControllerCoordinator, SmartCommunityConfigEntry
from .entity import DoorEntity, device_errors_as_ha_errors

PARALLEL_UPDATES = 1

OPTIONS = {mode.name.lower(): mode for mode in DoorMode}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartCommunityConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One mode select per door."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(DoorModeSelect(coordinator, view.status.index) for view in coordinator.data.doors)


class DoorModeSelect(DoorEntity, SelectEntity):
    """Normal, locked down (no releases at all) or free passage (held unlocked)."""

    _attr_translation_key = "door_mode"
    _attr_entity_category = EntityCategory.CONFIG
    _attr_options = list(OPTIONS)

    def __init__(self, coordinator: DoorControllerCoordinator, door: int) -> None:
        super().__init__(coordinator, door, "mode")

    @property
    def current_option(self) -> str:
        """The mode the controller reports."""
        return self.view.status.mode.name.lower()

    async def async_select_option(self, option: str) -> None:
        """Change the door's mode on the controller: through the community's hub when there is one, which
        writes the change to the audit log with who asked (the user, or the automation or script) first."""
        mode = OPTIONS[option]

        async def apply() -> None:
            await self.coordinator.service.set_mode(self.door, mode)

        async with device_errors_as_ha_errors():
            await async_door_change(self.hass, self._context, self.door_id, self.entity_id, "door.mode",
                                    {"mode": option}, apply)
        await self.coordinator.async_refresh()
