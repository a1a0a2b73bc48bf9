"""Diagnostics: configuration and the controller's state, with credentials and secrets redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, cast

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .community import CommunityRuntimeData
from .const import CONF_KIND, KIND_COMMUNITY, KIND_CONTROLLER
from .coordinator import SmartCommunityConfigEntry
from .uplink import SECRET_OPTIONS
from .vehicles import LANE_REDACT

# Card numbers and PINs read at a door identify a person; the host names where the hub's devices live.
TO_REDACT = {
    CONF_HOST, CONF_PASSWORD, CONF_USERNAME, "last_credential", "serial", "serial_number", "snapshot_url",
    "mjpeg_url", "uplink_url", "ca_file", "device_id", *SECRET_OPTIONS, "gat_username", "hub_id",
    # The MQTT profile: where the hub's key pair lives, and the prefix (it names the county and the hub).
    "client_cert", "client_key", "mqtt_topic_prefix",
    # ANPR lanes: the push URL secret, camera credentials and where the cameras are.
    *LANE_REDACT,
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: SmartCommunityConfigEntry
) -> dict[str, Any]:
    """What a maintainer needs to see, and nothing that identifies residents."""
    kind = entry.data.get(CONF_KIND, KIND_CONTROLLER)
    if kind == KIND_COMMUNITY:
        community = cast(ConfigEntry[CommunityRuntimeData], entry).runtime_data
        status = community.uplink.status
        return async_redact_data(
            {
                "entry": {"data": dict(entry.data), "options": dict(entry.options)},
                "summary": await hass.async_add_executor_job(community.community.summary),
                "uplink": None if status is None else {**asdict(status), "last_error": status.last_error},
                "qr_decoder": None if community.qr is None else asdict(community.qr),
            },
            TO_REDACT,
        )
    if kind != KIND_CONTROLLER:
        return async_redact_data({"entry": {"data": dict(entry.data), "options": dict(entry.options)}}, TO_REDACT)
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
