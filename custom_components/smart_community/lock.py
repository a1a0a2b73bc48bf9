"""Doors as lock entities: unlocking releases the door for the configured time, then it relocks by itself."""

from __future__ import annotations

from typing import Any

from homeassistant.components.lock import LockEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from hub.doors import ReleaseReason
from hub.gate import AccessPoint, Actor, GateKeeper

from .community import async_door_action, async_door_change
from .const import CONF_RELEASE_SECONDS, DEFAULT_RELEASE_SECONDS
from .coordinator import DoorControllerCoordinator, SmartCommunityConfigEntry
from .entity import DoorEntity, device_errors_as_ha_errors

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartCommunityConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One lock per door of the controller."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(DoorLock(coordinator, view.status.index) for view in coordinator.data.doors)


class DoorLock(DoorEntity, LockEntity):
    """A door's electric strike."""

    _attr_translation_key = "door_lock"
    _attr_name = None

    def __init__(self, coordinator: DoorControllerCoordinator, door: int) -> None:
        super().__init__(coordinator, door, "lock")

    @property
    def is_locked(self) -> bool:
        """Locked unless a release (or free passage) holds it open."""
        return self.view.status.locked

    async def async_unlock(self, **kwargs: Any) -> None:
        """Release the door (a manager's command) for the configured number of seconds.

        Only a door operator may (an administrator, a user the manager named, an automation or script). Through
        the community's hub when there is one: the release is journalled with who asked (the user, or the
        automation or script) before the door moves, and goes upstream like a decision.
        """
        seconds = int(self.coordinator.config_entry.options.get(CONF_RELEASE_SECONDS, DEFAULT_RELEASE_SECONDS))
        service = self.coordinator.service

        async def release() -> None:
            await service.release(self.door, seconds, ReleaseReason.MANAGER)

        async def through_hub(gatekeeper: GateKeeper, point: AccessPoint, actor: Actor) -> None:
            await gatekeeper.manager_release(point, actor, release)

        async with device_errors_as_ha_errors():
            await async_door_action(self.hass, self._context, self.door_id, self.entity_id, through_hub, release)
        await self.coordinator.async_refresh()

    async def async_lock(self, **kwargs: Any) -> None:
        """End a running release at once (audited with who asked, through the hub when there is one)."""
        async def relock() -> None:
            await self.coordinator.service.relock(self.door)

        async with device_errors_as_ha_errors():
            await async_door_change(self.hass, self._context, self.door_id, self.entity_id, "door.relock", {}, relock)
        await self.coordinator.async_refresh()
