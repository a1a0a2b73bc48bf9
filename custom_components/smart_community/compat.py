"""The few things that differ between the Home Assistant releases this integration supports.

From 2025.4.4 to the newest release pytest-homeassistant-custom-component supports (2026.10.x when written).
Each difference is detected by what the running Home Assistant offers, not by its version number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant import config_entries
from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.helpers.device_registry import DeviceInfo

# What a repairs flow's steps return: a RepairsFlowResult from the releases that have one, a FlowResult before.
try:
    from homeassistant.components.repairs.models import (  # type: ignore[attr-defined,unused-ignore]
        RepairsFlowResult as RepairsFlowResult,
    )
except ImportError:
    from homeassistant.data_entry_flow import (  # type: ignore[assignment,no-redef,unused-ignore]
        FlowResult as RepairsFlowResult,  # noqa: F401 (used by repairs.py)
    )

# 2026.8 deprecates DeviceInfo's via_device (an identifier) for via_device_id (the registry's id).
DEVICE_INFO_HAS_VIA_DEVICE_ID = "via_device_id" in DeviceInfo.__annotations__


def via_device(parent_identifier: tuple[str, str], parent_device_id: str | None) -> DeviceInfo:
    """The DeviceInfo fields that hang a device off its parent, in the form this Home Assistant wants."""
    if DEVICE_INFO_HAS_VIA_DEVICE_ID and parent_device_id is not None:
        return DeviceInfo(via_device_id=parent_device_id)  # type: ignore[typeddict-unknown-key,unused-ignore]
    return DeviceInfo(via_device=parent_identifier)  # type: ignore[typeddict-unknown-key,unused-ignore]



class _ManualReloadOptionsFlow(OptionsFlow):
    """What OptionsFlowWithReload does, for Home Assistant releases before it: store, then reload if changed."""

    def async_create_entry(self, *args: Any, **kwargs: Any) -> ConfigFlowResult:
        data = kwargs.get("data", args[0] if args else None)
        if data is not None and self.hass.config_entries.async_update_entry(self.config_entry, options=data):
            self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)
        return super().async_create_entry(*args, **kwargs)


# An options flow that reloads its entry when the options changed. Home Assistant 2025.8 and later have one; an
# update listener that reloads is deprecated from 2026.6 (an error from 2026.12), so none is used.
if TYPE_CHECKING:
    ReloadingOptionsFlow = OptionsFlow
else:
    ReloadingOptionsFlow = getattr(config_entries, "OptionsFlowWithReload", _ManualReloadOptionsFlow)
