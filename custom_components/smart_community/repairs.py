"""Repairs: a configured device announced itself at a new address, and only an administrator may move it.

Zeroconf (mDNS) announcements are not authenticated, and a device's serial number, the only thing an
announcement offers to recognise it by, is public (every real announcement carries it). So an announcement never
changes an entry by itself: that would let any device on the LAN re-point a camera entry to itself, after which
Home Assistant sends it the camera's password, or a controller entry, after which door releases go to it.

Instead the config flow's zeroconf step (:func:`async_device_announced`) raises one fixable repair issue per
entry, naming the device by its entry's title with its old and new address (never a password, never a URL's
credentials or query). A newer announcement at yet another address updates that issue; the device announcing
itself at its configured address again, or the entry's removal, deletes it. The fix flow shows the address it
was created with and, when the administrator confirms, applies exactly that one and reloads the entry; no request
goes to the new address before that. The administrator may also ignore the issue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import SOURCE_IGNORE, ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from yarl import URL

from devices.discovery import DeviceKind, DiscoveredDevice

from .compat import RepairsFlowResult
from .const import CONF_KIND, CONF_MJPEG_URL, CONF_SNAPSHOT_URL, DOMAIN, KIND_CAMERA, KIND_CONTROLLER

ISSUE_DEVICE_MOVED = "device_moved"
# What the issue's data carries besides the entry id and the two addresses as shown.
_ADDRESS_KEYS = {KIND_CONTROLLER: (CONF_HOST, CONF_PORT), KIND_CAMERA: (CONF_SNAPSHOT_URL, CONF_MJPEG_URL)}

type IssueData = dict[str, str | int | float | None]


def moved_issue_id(entry_id: str) -> str:
    """The one device-moved issue of an entry."""
    return f"{ISSUE_DEVICE_MOVED}_{entry_id}"


def _host_port(host: str, port: int | None) -> str:
    host = host.lower().rstrip(".").strip("[]")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _endpoint(url: str | None) -> str | None:
    """``host:port`` of a camera URL: where requests (and the password) go. No user info, path or query."""
    if not url:
        return None
    parsed = URL(url)
    return None if parsed.host is None else _host_port(parsed.host, parsed.port)


def _shown_address(kind: str, data: Mapping[str, Any]) -> str:
    """The address as the administrator sees it: ``host:port`` (each distinct one, for a camera)."""
    if kind == KIND_CAMERA:
        endpoints = [_endpoint(data.get(CONF_SNAPSHOT_URL)), _endpoint(data.get(CONF_MJPEG_URL))]
        return ", ".join(dict.fromkeys(e for e in endpoints if e is not None))
    return _host_port(str(data[CONF_HOST]), int(data[CONF_PORT]))


def _advertised(device: DiscoveredDevice) -> IssueData:
    """The entry data an announcement asks for."""
    if device.kind is DeviceKind.CAMERA:
        return {CONF_SNAPSHOT_URL: device.snapshot_url, CONF_MJPEG_URL: device.mjpeg_url}
    return {CONF_HOST: device.host, CONF_PORT: device.port}


def _same_address(kind: str, data: Mapping[str, Any], device: DiscoveredDevice, hostname: str | None) -> bool:
    """Whether the announcement puts the device where the entry already talks to it.

    A controller: the same port, and the entry's host is the announced address, one of the device's announced
    addresses, or its announced host name. A camera: its URLs point at the same ``host:port`` set (paths aside).
    """
    if kind == KIND_CAMERA:
        ours = {e for e in (_endpoint(data.get(CONF_SNAPSHOT_URL)), _endpoint(data.get(CONF_MJPEG_URL))) if e}
        theirs = {e for e in (_endpoint(device.snapshot_url), _endpoint(device.mjpeg_url)) if e}
        return ours == theirs
    names = {device.host, *device.addresses, *([hostname] if hostname else [])}
    known = {_host_port(name, device.port) for name in names}
    return _host_port(str(data.get(CONF_HOST, "")), int(data.get(CONF_PORT, 0))) in known


@callback
def async_device_announced(
    hass: HomeAssistant, entry: ConfigEntry, device: DiscoveredDevice, hostname: str | None = None
) -> bool:
    """A configured device (its entry found by the announced serial) announced itself; change no entry.

    Returns ``True`` when the device asks to be moved: its one repair issue is raised or updated to this
    announcement. Returns ``False`` when there is nothing to ask: it is where the entry already has it (a pending
    issue is deleted: it came back), the entry is an ignored discovery, or the announcement is of another kind of
    device than the entry (a "camera" with a controller's serial moves nothing either).
    """
    kind = entry.data.get(CONF_KIND, KIND_CONTROLLER)
    if entry.source == SOURCE_IGNORE or kind not in _ADDRESS_KEYS or kind != (
        KIND_CAMERA if device.kind is DeviceKind.CAMERA else KIND_CONTROLLER
    ):
        return False
    if _same_address(kind, entry.data, device, hostname):
        ir.async_delete_issue(hass, DOMAIN, moved_issue_id(entry.entry_id))
        return False
    updates = _advertised(device)
    old, new = _shown_address(kind, entry.data), _shown_address(kind, updates)
    _async_raise(hass, entry, updates, old, new)
    return True


@callback
def _async_raise(hass: HomeAssistant, entry: ConfigEntry, updates: IssueData, old: str, new: str) -> None:
    ir.async_create_issue(
        hass, DOMAIN, moved_issue_id(entry.entry_id), is_fixable=True, is_persistent=False,
        severity=ir.IssueSeverity.WARNING, translation_key=ISSUE_DEVICE_MOVED,
        translation_placeholders={"title": entry.title, "old": old, "new": new},
        data={"entry_id": entry.entry_id, "old": old, "new": new, **updates},
    )


@callback
def async_remove_device_moved(hass: HomeAssistant, entry_id: str) -> None:
    """The entry is gone: so is its pending move."""
    ir.async_delete_issue(hass, DOMAIN, moved_issue_id(entry_id))


def _updates_of(data: Mapping[str, Any], kind: str) -> IssueData:
    return {key: data.get(key) for key in _ADDRESS_KEYS[kind]}


class DeviceMovedRepairFlow(RepairsFlow):
    """Confirm a device's move to the address this flow was opened with (and shows), and only that one."""

    def __init__(self, data: IssueData) -> None:
        """Keep the announcement as it was when the administrator opened the issue."""
        self._entry_id = str(data["entry_id"])
        self._old = str(data["old"])
        self._new = str(data["new"])
        self._shown = dict(data)

    async def async_step_init(self, user_input: dict[str, str] | None = None) -> RepairsFlowResult:
        """The first step: the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(self, user_input: dict[str, str] | None = None) -> RepairsFlowResult:
        """Show the device, its old and new address; on confirmation move the entry there and reload it."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_removed")
        placeholders = {"title": entry.title, "old": self._old, "new": self._new}
        if user_input is None:
            return self.async_show_form(
                step_id="confirm", data_schema=vol.Schema({}), description_placeholders=placeholders
            )
        issue = ir.async_get(self.hass).async_get_issue(DOMAIN, self.issue_id)
        if issue is None:
            # Withdrawn while the form was open: the device announced its configured address again.
            return self.async_abort(reason="withdrawn", description_placeholders=placeholders)
        kind = entry.data.get(CONF_KIND, KIND_CONTROLLER)
        applied = _updates_of(self._shown, kind)
        self.hass.config_entries.async_update_entry(entry, data={**entry.data, **applied})
        self.hass.config_entries.async_schedule_reload(entry.entry_id)
        if issue.data is not None and _updates_of(issue.data, kind) != applied:
            # Another announcement came while the form was open: the shown address is the one applied, and the
            # newer one is asked about afresh, as a move from the address just confirmed.
            pending = _updates_of(issue.data, kind)
            _async_raise(self.hass, entry, pending, self._new, _shown_address(kind, pending))
            return self.async_abort(reason="moved_again", description_placeholders=placeholders)
        return self.async_create_entry(data={})


async def async_create_fix_flow(hass: HomeAssistant, issue_id: str, data: IssueData | None) -> RepairsFlow:
    """The fix flow of a device-moved issue."""
    if not issue_id.startswith(f"{ISSUE_DEVICE_MOVED}_") or data is None:
        raise ValueError(f"no fix flow for issue {issue_id}")
    return DeviceMovedRepairFlow(data)
