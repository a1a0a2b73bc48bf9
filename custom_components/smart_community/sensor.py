"""Community sensors: how many residents, and how many faces are enrolled (regulation wants that count visible;
a filing is due above 100,000)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from hub.uplink import UplinkStatus

from .community import CommunityRuntimeData
from .const import SIGNAL_COMMUNITY_CHANGED
from .entity import community_device_info
from .uplink import SIGNAL_UPLINK

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class CommunitySensorDescription(SensorEntityDescription):
    """How to read one count from the community's summary."""

    value_fn: Callable[[dict[str, Any]], int]


DESCRIPTIONS = (
    CommunitySensorDescription(
        key="enrolled_faces",
        translation_key="enrolled_faces",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda summary: int(summary["enrolled_faces"]),
    ),
    CommunitySensorDescription(
        key="residents",
        translation_key="residents",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda summary: int(summary["residents"]),
    ),
)


@dataclass(frozen=True, kw_only=True)
class UplinkSensorDescription(SensorEntityDescription):
    """How to read one figure from the uplink's status."""

    value_fn: Callable[[UplinkStatus], StateType | datetime]


UPLINK_DESCRIPTIONS = (
    UplinkSensorDescription(
        key="uplink_backlog",
        translation_key="uplink_backlog",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda status: status.backlog,
    ),
    UplinkSensorDescription(
        key="uplink_last_success",
        translation_key="uplink_last_success",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda status: status.last_success,
    ),
    UplinkSensorDescription(
        key="uplink_oldest_unsent",
        translation_key="uplink_oldest_unsent",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda status: None if status.oldest_unsent_age_s is None else round(status.oldest_unsent_age_s),
    ),
    UplinkSensorDescription(
        key="uplink_failed",
        translation_key="uplink_failed",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda status: status.failed,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry[CommunityRuntimeData],
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The community's count sensors, and the uplink's when one is configured."""
    entities: list[SensorEntity] = [CommunityCountSensor(entry, description) for description in DESCRIPTIONS]
    if entry.runtime_data.uplink.worker is not None:
        entities.extend(UplinkSensor(entry, description) for description in UPLINK_DESCRIPTIONS)
    async_add_entities(entities)


class UplinkSensor(SensorEntity):
    """A figure of the uplink to the county platform, pushed by the worker."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: UplinkSensorDescription

    def __init__(self, entry: ConfigEntry[CommunityRuntimeData], description: UplinkSensorDescription) -> None:
        self.entity_description = description
        self._entry = entry
        self._attr_unique_id = f"community-{entry.entry_id}-{description.key}"
        self._attr_device_info = community_device_info(entry)

    async def async_added_to_hass(self) -> None:
        """Follow the worker's status."""
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, SIGNAL_UPLINK.format(self._entry.entry_id), self.async_write_ha_state
            )
        )

    @property
    def native_value(self) -> StateType | datetime:
        """The figure from the worker's latest status."""
        status = self._entry.runtime_data.uplink.status
        return None if status is None else self.entity_description.value_fn(status)


class CommunityCountSensor(SensorEntity):
    """A count over the community's registry, refreshed whenever a manager action or decision changes it."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: CommunitySensorDescription

    def __init__(self, entry: ConfigEntry[CommunityRuntimeData], description: CommunitySensorDescription) -> None:
        self.entity_description = description
        self._community = entry.runtime_data.community
        self._attr_unique_id = f"community-{entry.entry_id}-{description.key}"
        self._attr_device_info = community_device_info(entry)

    async def async_added_to_hass(self) -> None:
        """Read the count now and after every change."""
        self.async_on_remove(
            async_dispatcher_connect(self.hass, SIGNAL_COMMUNITY_CHANGED, self._schedule_refresh)
        )
        await self._refresh()

    @callback
    def _schedule_refresh(self) -> None:
        self.hass.async_create_task(self._refresh())

    async def _refresh(self) -> None:
        summary = await self.hass.async_add_executor_job(self._community.summary)
        self._attr_native_value = self.entity_description.value_fn(summary)
        self.async_write_ha_state()
