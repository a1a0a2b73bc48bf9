"""Doors as lock entities: unlocking releases the door for the configured time, then it relocks by itself."""

from __future__ import annotations

from typing import Any

from homeassistant.components.lock import LockEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from hub.doors import ReleaseReason

from .actors import async_actor
from .community import async_door_change, loaded_community
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

        Through the community's hub when there is one: the release is journalled with who asked (the user, or
        the automation or script) before the door moves, and goes upstream like a decision.
        """
        seconds = int(self.coordinator.config_entry.options.get(CONF_RELEASE_SECONDS, DEFAULT_RELEASE_SECONDS))
        service = self.coordinator.service

        async def release() -> None:
            await service.release(self.door, seconds, ReleaseReason.MANAGER)

        community = loaded_community(self.hass)
        point = community.runtime_data.points.get(str(self.door_id)) if community is not None else None
        async with device_errors_as_ha_errors():
            if community is None or point is None:
                await release()  # no community entry: no hub to journal it (the controller's own log only)
            else:
                actor = await async_actor(self.hass, self._context)
                await community.runtime_data.gatekeeper.manager_release(point, actor, release)
        await self.coordinator.async_refresh()

    async def async_lock(self, **kwargs: Any) -> None:
        """End a running release at once (audited with who asked, through the hub when there is one)."""
        async def relock() -> None:
            await self.coordinator.service.relock(self.door)

        async with device_errors_as_ha_errors():
            await async_door_change(self.hass, self._context, self.door_id, "door.relock", {}, relock)
        await self.coordinator.async_refresh()
