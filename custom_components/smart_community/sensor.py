"""Community sensors: how many residents, how many people have a face enrolled (regulation wants that count visible;
a filing is due above 100,000), how many alarms no manager has closed yet, the uplink's figures and the devices'
online rates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from homeassistant.util import slugify

from hub.uplink import UplinkStatus

from .community import CommunityRuntimeData
from .const import SIGNAL_COMMUNITY_CHANGED
from .entity import community_device_info
from .health import SIGNAL_HEALTH, SIGNAL_RATES
from .push import UplinkStatusCoordinator

PARALLEL_UPDATES = 0
SCAN_INTERVAL = timedelta(minutes=5)


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
        # Nothing waiting is 0 s old, not unknown.
        value_fn=lambda status: 0 if status.backlog == 0 else
        None if status.oldest_unsent_age_s is None else round(status.oldest_unsent_age_s),
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
    entities.extend(OnlineRateSensor(entry, key) for key in ("online_rate_today", "online_rate_week"))
    entities.append(OpenAlarmsSensor(entry))
    async_add_entities(entities)


class _HealthSensor(SensorEntity):
    """A figure of device health on the community's device: recomputed when health changes (a device's status, an
    alarm opened, acknowledged or closed) and every scan interval, and at once when added (never "unknown" until
    the first scan)."""

    _attr_has_entity_name = True
    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, entry: ConfigEntry[CommunityRuntimeData], key: str) -> None:
        self._entry = entry
        self._attr_translation_key = key
        self._attr_unique_id = f"community-{entry.entry_id}-{key}"
        self._attr_device_info = community_device_info(entry)

    async def async_added_to_hass(self) -> None:
        """Follow health changes; a figure at once."""
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, SIGNAL_HEALTH.format(self._entry.entry_id), self.async_schedule_update_ha_state
            )
        )
        self.async_schedule_update_ha_state(True)

    @callback
    def async_schedule_update_ha_state(self, force_refresh: bool = True) -> None:
        """Recompute (the dispatcher's signal carries no figure)."""
        super().async_schedule_update_ha_state(force_refresh)


class OpenAlarmsSensor(_HealthSensor):
    """How many alarms (doors forced or held open, tamper, devices offline) no manager has closed yet: a count, never
    who or which resident."""

    def __init__(self, entry: ConfigEntry[CommunityRuntimeData]) -> None:
        super().__init__(entry, "open_alarms")

    async def async_update(self) -> None:
        """Count the alarms not closed (blocking: executor)."""
        self._attr_native_value = await self.hass.async_add_executor_job(self._entry.runtime_data.health.open_alarms)


class OnlineRateSensor(_HealthSensor):
    """The community's devices' online rate (time-weighted) today or this week, against the operator's target."""

    _attr_native_unit_of_measurement = PERCENTAGE
    _attr_suggested_display_precision = 2

    def __init__(self, entry: ConfigEntry[CommunityRuntimeData], key: str) -> None:
        super().__init__(entry, key)
        self._key = key

    async def async_added_to_hass(self) -> None:
        """Also follow new figures computed for someone else (the panel): the Overview shows the same one."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, SIGNAL_RATES.format(self._entry.entry_id), self.async_schedule_update_ha_state
            )
        )

    async def async_update(self) -> None:
        """The rates everything shows (HealthRuntime.current_rates; blocking: executor)."""
        today, week = await self.hass.async_add_executor_job(self._entry.runtime_data.health.rates)
        self._attr_native_value = today if self._key == "online_rate_today" else week


class UplinkSensor(CoordinatorEntity[UplinkStatusCoordinator], SensorEntity):
    """A figure of the uplink to the county platform, pushed by the worker."""

    _attr_has_entity_name = True
    entity_description: UplinkSensorDescription

    def __init__(self, entry: ConfigEntry[CommunityRuntimeData], description: UplinkSensorDescription) -> None:
        super().__init__(entry.runtime_data.uplink.status_coordinator)
        self.entity_description = description
        self._entry = entry
        self._attr_unique_id = f"community-{entry.entry_id}-{description.key}"
        self._attr_device_info = community_device_info(entry)

    @property
    def available(self) -> bool:
        """The last success has no value before the first exchange with the platform: unavailable then rather than
        "unknown" (nothing is wrong; the panel says "nothing sent yet")."""
        if self.entity_description.key != "uplink_last_success":
            return super().available
        status = self._entry.runtime_data.uplink.status
        return super().available and status is not None and (
            status.last_success is not None or status.last_error is not None)

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
        self._removed = False
        self._attr_unique_id = f"community-{entry.entry_id}-{description.key}"
        self._attr_device_info = community_device_info(entry)
        if description.key == "enrolled_faces":
            # Now named "People enrolled" (it counts people, not templates); the entity id stays the one it had.
            self.entity_id = f"sensor.{slugify(entry.title)}_enrolled_faces"

    async def async_added_to_hass(self) -> None:
        """Read the count now and after every change."""
        self.async_on_remove(
            async_dispatcher_connect(self.hass, SIGNAL_COMMUNITY_CHANGED, self._schedule_refresh)
        )
        await self._refresh()

    async def async_will_remove_from_hass(self) -> None:
        """No more refreshes: the community's database closes once the platforms are unloaded."""
        self._removed = True

    def _gone(self) -> bool:
        return self._removed

    @callback
    def _schedule_refresh(self) -> None:
        if not self._gone():
            self.hass.async_create_task(self._refresh())

    async def _refresh(self) -> None:
        if self._gone():
            return
        try:
            summary = await self.hass.async_add_executor_job(self._community.summary)
        except Exception:
            if self._gone():  # a change signalled just before an unload, read after the database closed
                return
            raise
        if self._gone():
            return
        self._attr_native_value = self.entity_description.value_fn(summary)
        self.async_write_ha_state()
