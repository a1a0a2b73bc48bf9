"""Diagnostics: configuration and the controller's state, with credentials and secrets redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .coordinator import SmartCommunityConfigEntry

# Card numbers and PINs read at a door identify a person; the host names where the hub's devices live.
TO_REDACT = {CONF_HOST, CONF_PASSWORD, CONF_USERNAME, "last_credential", "serial", "serial_number"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: SmartCommunityConfigEntry
) -> dict[str, Any]:
    """What a maintainer needs to see, and nothing that identifies residents."""
    coordinator = entry.runtime_data.coordinator
    snapshot = coordinator.data
    return async_redact_data(
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options)},
            "last_update_success": coordinator.last_update_success,
            "unrequested_releases": entry.runtime_data.service.unrequested_releases,
            "controller": asdict(snapshot.info),
            "doors": [
                {**asdict(view.status), "alarms": sorted(view.alarms)} for view in snapshot.doors
            ],
        },
        TO_REDACT,
    )
