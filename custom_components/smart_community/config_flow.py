"""Config flow: add a door controller by host and port (tested before the entry is made), reconfigure it, tune
its options."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from homeassistant.util import dt as dt_util

from devices.camera import CameraAuthError, CameraClient
from devices.discovery import DeviceKind, DeviceProfile, DiscoveredDevice, parse_txt
from devices.door_controller import DoorController
from devices.exceptions import DeviceConnectionError, DeviceError
from devices.models import ControllerInfo
from hub.exceptions import InvalidInputError
from hub.journal import PLACE_NAME_FIELD
from hub.residents.secrets import DEFAULT_PIN_DIGITS, PIN_MAX_DIGITS, PIN_MIN_DIGITS
from hub.uplink import OPTIONAL_FIELDS, LegalBasis
from hub.uplink.mqtt_client import check_topic_prefix

from .compat import ReloadingOptionsFlow
from .const import (
    COMMUNITY_UNIQUE_ID,
    CONF_AUTH,
    CONF_COMMUNITY_NAME,
    CONF_DOOR_COUNT,
    CONF_DOOR_OPERATORS,
    CONF_DOORS,
    CONF_HELD_OPEN_SECONDS,
    CONF_INPUTS,
    CONF_KIND,
    CONF_MJPEG_URL,
    CONF_PIN_DIGITS,
    CONF_POLL_INTERVAL,
    CONF_PROFILE,
    CONF_RELAYS,
    CONF_RELEASE_SECONDS,
    CONF_SERIAL,
    CONF_SNAPSHOT_URL,
    CONF_UNIT_ID,
    DEFAULT_HELD_OPEN_SECONDS,
    DEFAULT_POLL_INTERVAL_MS,
    DEFAULT_PORT,
    DEFAULT_RELEASE_SECONDS,
    DOMAIN,
    DOOR_INPUT_KEYS,
    KIND_CAMERA,
    KIND_COMMUNITY,
    KIND_CONTROLLER,
    MAX_POLL_INTERVAL_MS,
    MIN_POLL_INTERVAL_MS,
    PROFILE_IO_MODULE,
)
from .drivers import make_driver
from .gates import (
    CONF_CAMERA,
    CONF_FACE_ASSURANCE,
    CONF_FACE_WINDOWS,
    CONF_FRAMES,
    CONF_GATES,
    CONF_LOCK,
    CONF_PRESENCE,
    DEFAULT_FRAMES,
    FACE_ASSURANCE_LEVELS,
    window_options,
)
from .health import (
    CONF_EVENTS_DAYS,
    CONF_OFFLINE_MINUTES,
    CONF_PROBE_SECONDS,
    CONF_TARGET,
    DEFAULT_EVENTS_DAYS,
    DEFAULT_OFFLINE_MINUTES,
    DEFAULT_PROBE_SECONDS,
    DEFAULT_TARGET,
    MAX_PROBE_SECONDS,
    MIN_PROBE_SECONDS,
)
from .repairs import async_device_announced
from .uplink import (
    CONF_AUDIT_DAYS,
    CONF_BACKLOG_LIMIT,
    CONF_CA_FILE,
    CONF_CLIENT_CERT,
    CONF_CLIENT_KEY,
    CONF_DEVICE_ID,
    CONF_FIELD_OPTIONS,
    CONF_GAT_PASSWORD,
    CONF_GAT_USERNAME,
    CONF_HUB_ID,
    CONF_KEEPALIVE,
    CONF_MQTT_TOPIC_PREFIX,
    CONF_PLACE_NAMES_UPSTREAM,
    CONF_UPLINK_PROFILE,
    CONF_UPLINK_SECRET,
    CONF_UPLINK_URL,
    CONF_WITHHELD_FIELDS,
    DEFAULT_BACKLOG_LIMIT,
    DEFAULT_MQTT_TOPIC_PREFIX,
    PROFILE_GAT1400,
    PROFILE_JSON,
    PROFILE_MQTT,
    SECRET_OPTIONS,
    UNENCRYPTED_SCHEMES,
)
from .vehicles import (
    CONF_ANPR_LANES,
    CONF_ANPR_PORT,
    LaneConfig,
    anpr_lane_from_input,
    anpr_lane_schema,
    anpr_port_from_input,
    edited_lane,
    push_url,
    vehicle_rules_from_input,
    vehicle_rules_schema,
)


async def _probe(host: str, port: int) -> ControllerInfo:
    """Connect once and read the controller's identity."""
    controller = DoorController(host, port, timeout=3.0)
    try:
        return await controller.read_info()
    finally:
        await controller.close()


def _connection_schema(host: str = "", port: int = DEFAULT_PORT) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_HOST, default=host): str,
            vol.Required(CONF_PORT, default=port): selector.NumberSelector(
                selector.NumberSelectorConfig(min=1, max=65535, mode=selector.NumberSelectorMode.BOX)
            ),
        }
    )


_CAMERA_AUTH_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_USERNAME): str,
        vol.Optional(CONF_PASSWORD): selector.TextSelector(
            selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
        ),
        vol.Required(CONF_AUTH, default="digest"): selector.SelectSelector(
            selector.SelectSelectorConfig(options=["basic", "digest"], translation_key="auth")
        ),
    }
)
_CAMERA_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_NAME): str,
        vol.Required(CONF_SNAPSHOT_URL): selector.TextSelector(
            selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
        ),
        vol.Optional(CONF_MJPEG_URL): selector.TextSelector(
            selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
        ),
    }
).extend(_CAMERA_AUTH_SCHEMA.schema)


class SmartCommunityConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a door controller, a camera, or the community hub."""

    VERSION = 1
    # 2: gates still on the old five-frame default take three (async_migrate_entry in __init__.py)
    MINOR_VERSION = 2
    _discovered: DiscoveredDevice

    async def _try(self, user_input: dict[str, Any]) -> tuple[ControllerInfo | None, dict[str, str]]:
        try:
            info = await _probe(user_input[CONF_HOST], int(user_input[CONF_PORT]))
        except DeviceConnectionError:
            return None, {"base": "cannot_connect"}
        except DeviceError:
            return None, {"base": "not_a_controller"}
        return info, {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Add a door controller, or (once) the community hub that runs the gates."""
        return self.async_show_menu(
            step_id="user", menu_options=["controller", "io_module", "camera", "community"]
        )

    async def async_step_io_module(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A generic Modbus relay/input module; its relays and inputs are mapped to doors in the options."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {
                CONF_KIND: KIND_CONTROLLER,
                CONF_PROFILE: PROFILE_IO_MODULE,
                CONF_HOST: user_input[CONF_HOST],
                CONF_PORT: int(user_input[CONF_PORT]),
                CONF_UNIT_ID: int(user_input[CONF_UNIT_ID]),
                CONF_RELAYS: int(user_input[CONF_RELAYS]),
                CONF_INPUTS: int(user_input[CONF_INPUTS]),
            }
            data[CONF_SERIAL] = f"IO-{data[CONF_HOST]}-{data[CONF_PORT]}-{data[CONF_UNIT_ID]}"
            await self.async_set_unique_id(data[CONF_SERIAL])
            self._abort_if_unique_id_configured()
            driver = make_driver(data, {}, timeout=3.0)
            try:
                await driver.read_info()
            except DeviceConnectionError:
                errors["base"] = "cannot_connect"
            except DeviceError:
                errors["base"] = "not_an_io_module"
            finally:
                await driver.close()
            if not errors:
                return self.async_create_entry(title=user_input[CONF_NAME], data=data)
        count = selector.NumberSelector(
            selector.NumberSelectorConfig(min=1, max=2000, mode=selector.NumberSelectorMode.BOX)
        )
        schema = vol.Schema(
            {
                vol.Required(CONF_NAME): str,
                vol.Required(CONF_HOST): str,
                vol.Required(CONF_PORT, default=DEFAULT_PORT): selector.NumberSelector(
                    selector.NumberSelectorConfig(min=1, max=65535, mode=selector.NumberSelectorMode.BOX)
                ),
                vol.Required(CONF_UNIT_ID, default=1): selector.NumberSelector(
                    selector.NumberSelectorConfig(min=0, max=247, mode=selector.NumberSelectorMode.BOX)
                ),
                vol.Required(CONF_RELAYS, default=4): count,
                vol.Required(CONF_INPUTS, default=8): count,
            }
        )
        return self.async_show_form(
            step_id="io_module",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=errors,
        )

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        """A device announced itself: offer it, keyed by its serial; a known one at a new address is only reported."""
        try:
            device = parse_txt(
                discovery_info.properties,
                host=discovery_info.host,
                port=discovery_info.port or 0,
                name=discovery_info.name,
                addresses=[str(a) for a in discovery_info.ip_addresses],
            )
        except DeviceError:
            return self.async_abort(reason="invalid_discovery")
        if device.profile is DeviceProfile.IO_MODULE:
            return self.async_abort(reason="io_module_manual")
        await self.async_set_unique_id(device.serial)
        known = self.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, device.serial)
        if known is not None:
            # mDNS is unauthenticated and serials are public: an announcement never moves a known device by itself
            # (no request goes to the new address); a repair issue asks an administrator (repairs.py).
            if async_device_announced(self.hass, known, device, discovery_info.hostname):
                return self.async_abort(reason="address_change_pending")
            return self.async_abort(reason="already_configured")
        self._discovered = device
        self.context["title_placeholders"] = {"name": f"{device.model} {device.serial}"}
        return await self.async_step_zeroconf_confirm()

    async def async_step_zeroconf_confirm(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Confirm a discovered device (a camera may need its user name and password)."""
        device = self._discovered
        errors: dict[str, str] = {}
        placeholders = {"model": device.model, "serial": device.serial, "host": device.host}
        if device.kind is DeviceKind.CAMERA:
            if user_input is not None:
                data = {
                    CONF_KIND: KIND_CAMERA,
                    "model": device.model,
                    CONF_SNAPSHOT_URL: device.snapshot_url,
                    CONF_MJPEG_URL: device.mjpeg_url,
                    **user_input,
                }
                errors = await self._check_camera(data)
                if not errors:
                    return self.async_create_entry(title=f"{device.model} {device.serial}", data=data)
            return self.async_show_form(
                step_id="zeroconf_confirm",
                data_schema=_CAMERA_AUTH_SCHEMA,
                description_placeholders=placeholders,
                errors=errors,
            )
        if user_input is not None:
            info, errors = await self._try({CONF_HOST: device.host, CONF_PORT: device.port})
            if info is not None:
                return self.async_create_entry(
                    title=f"{info.model} {info.serial}",
                    data={CONF_KIND: KIND_CONTROLLER, CONF_HOST: device.host, CONF_PORT: device.port},
                )
        return self.async_show_form(
            step_id="zeroconf_confirm", description_placeholders=placeholders, errors=errors
        )

    async def _check_camera(self, data: dict[str, Any]) -> dict[str, str]:
        client = CameraClient(
            async_get_clientsession(self.hass),
            data[CONF_SNAPSHOT_URL],
            data.get(CONF_MJPEG_URL) or None,
            username=data.get(CONF_USERNAME) or None,
            password=data.get(CONF_PASSWORD) or None,
            auth=data.get(CONF_AUTH, "basic"),
        )
        try:
            await client.snapshot()
        except CameraAuthError:
            return {"base": "invalid_auth"}
        except DeviceConnectionError:
            return {"base": "cannot_connect"}
        except DeviceError:
            return {"base": "not_a_camera"}
        return {}

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """A camera refused its stored credentials: ask for new ones."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """New user name and password for the camera, tested before they are saved."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **user_input}
            errors = await self._check_camera(data)
            if not errors:
                return self.async_update_reload_and_abort(entry, data=data)
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=self.add_suggested_values_to_schema(
                _CAMERA_AUTH_SCHEMA,
                {CONF_USERNAME: entry.data.get(CONF_USERNAME), CONF_AUTH: entry.data.get(CONF_AUTH)},
            ),
            description_placeholders={"name": entry.title},
            errors=errors,
        )

    async def async_step_camera(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """An IP camera by its snapshot URL (and MJPEG URL), tested before the entry is made."""
        errors: dict[str, str] = {}
        if user_input is not None:
            await self.async_set_unique_id(user_input[CONF_SNAPSHOT_URL])
            self._abort_if_unique_id_configured()
            data = {CONF_KIND: KIND_CAMERA, **user_input}
            errors = await self._check_camera(data)
            if not errors:
                return self.async_create_entry(title=user_input[CONF_NAME], data=data)
        return self.async_show_form(
            step_id="camera",
            data_schema=self.add_suggested_values_to_schema(_CAMERA_SCHEMA, user_input or {}),
            errors=errors,
        )

    async def async_step_community(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The community hub: residents, credentials, access rules and decisions. One per Home Assistant."""
        await self.async_set_unique_id(COMMUNITY_UNIQUE_ID)
        self._abort_if_unique_id_configured()
        if user_input is not None:
            name = user_input[CONF_COMMUNITY_NAME].strip()
            if name:
                return self.async_create_entry(
                    title=name, data={CONF_KIND: KIND_COMMUNITY, CONF_COMMUNITY_NAME: name}
                )
        return self.async_show_form(
            step_id="community",
            data_schema=vol.Schema({vol.Required(CONF_COMMUNITY_NAME): str}),
            errors={"base": "name_required"} if user_input is not None else {},
        )

    async def async_step_controller(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for host and port, and check a controller answers there."""
        errors: dict[str, str] = {}
        if user_input is not None:
            info, errors = await self._try(user_input)
            if info is not None:
                await self.async_set_unique_id(info.serial)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=f"{info.model} {info.serial}",
                    data={
                        CONF_KIND: KIND_CONTROLLER,
                        CONF_HOST: user_input[CONF_HOST],
                        CONF_PORT: int(user_input[CONF_PORT]),
                    },
                )
        defaults = user_input or {}
        return self.async_show_form(
            step_id="controller",
            data_schema=_connection_schema(defaults.get(CONF_HOST, ""), int(defaults.get(CONF_PORT, DEFAULT_PORT))),
            errors=errors,
        )

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Change the host or port of a configured controller (it must be the same controller)."""
        entry = self._get_reconfigure_entry()
        if entry.data.get(CONF_KIND) == KIND_COMMUNITY:
            return await self.async_step_reconfigure_community(user_input)
        if entry.data.get(CONF_KIND) == KIND_CAMERA:
            return await self.async_step_reconfigure_camera(user_input)
        errors: dict[str, str] = {}
        if user_input is not None:
            info, errors = await self._try(user_input)
            if info is not None:
                await self.async_set_unique_id(info.serial)
                self._abort_if_unique_id_mismatch(reason="wrong_controller")
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={CONF_HOST: user_input[CONF_HOST], CONF_PORT: int(user_input[CONF_PORT])},
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_connection_schema(entry.data[CONF_HOST], entry.data[CONF_PORT]),
            errors=errors,
        )

    async def async_step_reconfigure_camera(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Change a camera's URLs or credentials (tested before they are saved)."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **user_input}
            errors = await self._check_camera(data)
            if not errors:
                return self.async_update_reload_and_abort(entry, data=data)
        schema = vol.Schema(
            {k: v for k, v in _CAMERA_SCHEMA.schema.items() if k != CONF_NAME}
        )
        return self.async_show_form(
            step_id="reconfigure_camera",
            data_schema=self.add_suggested_values_to_schema(schema, dict(entry.data)),
            errors=errors,
        )

    async def async_step_reconfigure_community(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Rename the community."""
        entry = self._get_reconfigure_entry()
        if user_input is not None and user_input[CONF_COMMUNITY_NAME].strip():
            name = user_input[CONF_COMMUNITY_NAME].strip()
            return self.async_update_reload_and_abort(entry, title=name, data_updates={CONF_COMMUNITY_NAME: name})
        return self.async_show_form(
            step_id="reconfigure_community",
            data_schema=vol.Schema({vol.Required(CONF_COMMUNITY_NAME, default=entry.title): str}),
            errors={"base": "name_required"} if user_input is not None else {},
        )

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry) -> bool:
        """Door controllers and the community hub have options; cameras are reconfigured instead."""
        return config_entry.data.get(CONF_KIND) != KIND_CAMERA

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Controller options (poll rate, release time, ...) or the community's gates."""
        if config_entry.data.get(CONF_KIND) == KIND_COMMUNITY:
            return CommunityOptionsFlow()
        return SmartCommunityOptionsFlow()


def _seconds(minimum: int, maximum: int, unit: str = "s") -> selector.NumberSelector:
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=minimum, max=maximum, step=1, unit_of_measurement=unit, mode=selector.NumberSelectorMode.BOX
        )
    )


class SmartCommunityOptionsFlow(ReloadingOptionsFlow):
    """Tune how the integration drives the controller; map an I/O module's relays and inputs to doors."""

    def __init__(self) -> None:
        self._options: dict[str, Any] = {}
        self._doors: list[dict[str, Any]] = []
        self._door_count = 0

    @property
    def _is_io_module(self) -> bool:
        return self.config_entry.data.get(CONF_PROFILE) == PROFILE_IO_MODULE

    async def async_step_door(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One door of an I/O module: which relay drives its strike, which inputs are its contact and buttons."""
        data = self.config_entry.data
        if user_input is not None:
            door: dict[str, Any] = {"strike_relay": int(user_input["strike_relay"])}
            for key in DOOR_INPUT_KEYS:
                if user_input.get(key) not in (None, ""):
                    door[key] = int(user_input[key])
            door["inverted_inputs"] = [int(i) for i in user_input.get("inverted_inputs", [])]
            # The selectors bound every number to the module's relays and inputs, so the mapping fits.
            self._doors.append(door)
            if len(self._doors) >= self._door_count:
                return self.async_create_entry(data={**self._options, CONF_DOORS: self._doors})
        number = len(self._doors) + 1
        existing = (self.config_entry.options.get(CONF_DOORS) or [])
        defaults: dict[str, Any] = existing[number - 1] if len(existing) >= number else {"strike_relay": number - 1}
        relay = selector.NumberSelector(
            selector.NumberSelectorConfig(min=0, max=data[CONF_RELAYS] - 1, mode=selector.NumberSelectorMode.BOX)
        )
        an_input = selector.NumberSelector(
            selector.NumberSelectorConfig(min=0, max=data[CONF_INPUTS] - 1, mode=selector.NumberSelectorMode.BOX)
        )
        fields: dict[vol.Marker, Any] = {vol.Required("strike_relay"): relay}
        fields.update({vol.Optional(key): an_input for key in DOOR_INPUT_KEYS})
        fields[vol.Optional("inverted_inputs", default=[])] = selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=[str(i) for i in range(data[CONF_INPUTS])],
                multiple=True,
                mode=selector.SelectSelectorMode.DROPDOWN,
            )
        )
        suggested = {k: v for k, v in defaults.items() if k != "inverted_inputs"}
        suggested["inverted_inputs"] = [str(i) for i in defaults.get("inverted_inputs", [])]
        return self.async_show_form(
            step_id="door",
            data_schema=self.add_suggested_values_to_schema(vol.Schema(fields), suggested),
            description_placeholders={"door": str(number), "doors": str(self._door_count)},
        )

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One form with every option (and, for an I/O module, how many doors it drives)."""
        if user_input is not None:
            values = {key: int(value) for key, value in user_input.items()}
            if self._is_io_module:
                self._door_count = values.pop(CONF_DOOR_COUNT)
                self._options = values
                self._doors = []
                return await self.async_step_door()
            return self.async_create_entry(data=values)
        options = self.config_entry.options
        fields: dict[vol.Marker, Any] = {}
        if self._is_io_module:
            fields[vol.Required(CONF_DOOR_COUNT, default=len(options.get(CONF_DOORS) or [1]))] = (
                selector.NumberSelector(
                    selector.NumberSelectorConfig(
                        min=1, max=self.config_entry.data[CONF_RELAYS], mode=selector.NumberSelectorMode.BOX
                    )
                )
            )
        schema = vol.Schema(
            {
                **fields,
                vol.Required(
                    CONF_RELEASE_SECONDS, default=options.get(CONF_RELEASE_SECONDS, DEFAULT_RELEASE_SECONDS)
                ): _seconds(1, 600),
                vol.Required(
                    CONF_HELD_OPEN_SECONDS, default=options.get(CONF_HELD_OPEN_SECONDS, DEFAULT_HELD_OPEN_SECONDS)
                ): _seconds(1, 3600),
                vol.Required(
                    CONF_POLL_INTERVAL, default=options.get(CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL_MS)
                ): _seconds(MIN_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS, "ms"),
            }
        )
        return self.async_show_form(step_id="init", data_schema=schema)


def _gat1400_complete(user_input: dict[str, Any], current: Mapping[str, Any]) -> bool:
    """A GA/T 1400 uplink needs a 20-digit device id, a user name and a password."""
    device_id = str(user_input.get(CONF_DEVICE_ID, ""))
    password = user_input.get(CONF_GAT_PASSWORD) or current.get(CONF_GAT_PASSWORD)
    return len(device_id) == 20 and device_id.isdigit() and bool(user_input.get(CONF_GAT_USERNAME)) and bool(password)


def _mqtt_errors(hass: HomeAssistant, user_input: dict[str, Any], hub_id: str) -> dict[str, str]:
    """An MQTT uplink: a topic prefix ending with the hub's id; for mqtts://, the hub's certificate and key; every
    file on the Home Assistant host, in a folder it may read (allowlist_external_dirs), and there."""
    url = (user_input.get(CONF_UPLINK_URL) or "").strip()
    try:
        check_topic_prefix(user_input.get(CONF_MQTT_TOPIC_PREFIX) or DEFAULT_MQTT_TOPIC_PREFIX, hub_id)
    except InvalidInputError:
        return {CONF_MQTT_TOPIC_PREFIX: "mqtt_prefix_invalid"}
    cert, key = user_input.get(CONF_CLIENT_CERT), user_input.get(CONF_CLIENT_KEY)
    if url.startswith("mqtts://") and not (cert and key):
        return {"base": "mqtt_client_cert_required"}
    if bool(cert) != bool(key):
        return {"base": "mqtt_client_cert_required"}
    for option in (CONF_CA_FILE, CONF_CLIENT_CERT, CONF_CLIENT_KEY):
        path = user_input.get(option)
        if path and not hass.config.is_allowed_path(str(path)):
            return {option: "path_not_allowed"}
        if path and not Path(str(path)).is_file():
            return {option: "file_not_found"}
    return {}


CONF_WINDOW_LEVEL = "window_level"
CONF_WINDOW_START = "window_start"
CONF_WINDOW_END = "window_end"
_NO_WINDOW = "none"


def _face_assurance_schema(gate: Mapping[str, Any]) -> dict[Any, Any]:
    """The face assurance fields of a gate form, defaulting to the gate's current setting (a new gate: a face
    plus a second factor). One optional window with another level, every day (e.g. second factor at night)."""
    windows = gate.get(CONF_FACE_WINDOWS) or []
    window = windows[0] if windows else {}
    level = selector.SelectSelector(selector.SelectSelectorConfig(
        options=FACE_ASSURANCE_LEVELS, translation_key="face_assurance", mode=selector.SelectSelectorMode.LIST,
    ))
    window_level = selector.SelectSelector(selector.SelectSelectorConfig(
        options=[_NO_WINDOW, *FACE_ASSURANCE_LEVELS], translation_key="face_assurance_window",
    ))
    fields: dict[Any, Any] = {
        vol.Required(CONF_FACE_ASSURANCE,
                     default=gate.get(CONF_FACE_ASSURANCE, "face_and_second_factor")): level,
        vol.Required(CONF_WINDOW_LEVEL, default=window.get("level", _NO_WINDOW)): window_level,
    }
    start = vol.Optional(CONF_WINDOW_START, description={"suggested_value": window["start"]}) if window else \
        vol.Optional(CONF_WINDOW_START)
    end = vol.Optional(CONF_WINDOW_END, description={"suggested_value": window["end"]}) if window else \
        vol.Optional(CONF_WINDOW_END)
    fields[start] = selector.TimeSelector()
    fields[end] = selector.TimeSelector()
    return fields


def _face_assurance_input(user_input: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The gate options for the face assurance fields, or the form's errors."""
    level = user_input.get(CONF_FACE_ASSURANCE, "face_and_second_factor")
    window_level = user_input.get(CONF_WINDOW_LEVEL, _NO_WINDOW)
    if level not in FACE_ASSURANCE_LEVELS:
        return {}, {CONF_FACE_ASSURANCE: "invalid_face_assurance"}
    windows: list[dict[str, str]] = []
    if window_level != _NO_WINDOW:
        start, end = user_input.get(CONF_WINDOW_START), user_input.get(CONF_WINDOW_END)
        if not start or not end:
            return {}, {CONF_WINDOW_START: "window_times_required"}
        try:
            windows.append(window_options(window_level, start, end))
        except ValueError:
            return {}, {CONF_WINDOW_START: "window_times_required"}
    return {CONF_FACE_ASSURANCE: level, CONF_FACE_WINDOWS: windows}, {}


class CommunityOptionsFlow(ReloadingOptionsFlow):
    """The community's gates: which door, which camera (any camera entity), which presence sensor, and what a
    face may do there."""

    _insecure_uplink: dict[str, Any] | None = None
    _editing: str | None = None

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Gates, the uplink to the county platform, what may be sent, how long things are kept."""
        options = ["add_gate"]
        if self.config_entry.options.get(CONF_GATES):
            options += ["edit_gate", "remove_gate"]
        options += ["door_operators", "keypad", "uplink", "field_policy", "retention", "health"]
        options.append("add_anpr_lane")
        if self.config_entry.options.get(CONF_ANPR_LANES):
            options += ["edit_anpr_lane", "remove_anpr_lane"]
        options.append("vehicle_rules")
        return self.async_show_menu(step_id="init", menu_options=options)

    async def async_step_vehicle_rules(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Near-match plates, temporary vehicles, anti-passback, and whether plates and pictures go upstream
        (pictures with a legal basis); the change goes into the audit log (see vehicles.py)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            user_id = str(self.context.get("user_id") or "unknown")
            options, errors, audit = vehicle_rules_from_input(self.config_entry.options, user_input, user_id,
                                                              dt_util.utcnow().isoformat())
            if options is not None:
                community = self.config_entry.runtime_data.community
                await self.hass.async_add_executor_job(community.record_action, user_id, "vehicles.rules", audit)
                return self.async_create_entry(data=options)
        return self.async_show_form(step_id="vehicle_rules", data_schema=vehicle_rules_schema(
            self.config_entry.options), errors=errors)

    _new_lane: dict[str, Any] | None = None

    async def async_step_add_anpr_lane(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """An ANPR camera and the car-park lane it watches; then its push URL is shown (see vehicles.py)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._anpr_port, errors = anpr_port_from_input(user_input)
            lane = None
            if not errors:
                lane, errors = anpr_lane_from_input(self.hass, self.config_entry, user_input)
            if lane is not None:
                self._new_lane = lane
                return await self.async_step_anpr_push_url()
        return self.async_show_form(step_id="add_anpr_lane", data_schema=anpr_lane_schema(user_input),
                                    errors=errors)

    _edit_lane_key: str | None = None
    _anpr_port: int | None = None
    _edit_audit: dict[str, Any] | None = None

    def _lane_choice(self) -> selector.SelectSelector:
        lanes = self.config_entry.options.get(CONF_ANPR_LANES, [])
        return selector.SelectSelector(selector.SelectSelectorConfig(options=[
            selector.SelectOptionDict(value=lane["key"], label=LaneConfig.from_options(lane).name) for lane in lanes]))

    async def async_step_edit_anpr_lane(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Which camera's lane to change."""
        if user_input is not None:
            self._edit_lane_key = str(user_input["lane"])
            return await self.async_step_edit_anpr_lane_settings()
        return self.async_show_form(step_id="edit_anpr_lane",
                                    data_schema=vol.Schema({vol.Required("lane"): self._lane_choice()}))

    async def async_step_edit_anpr_lane_settings(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The lane's settings, filled in (name, direction, barrier, camera addresses and credentials), and a new push
        secret if asked; bad input is refused with the field's error and nothing changes. Then the push URL is
        shown (a new one after a new secret) before the lane is saved; the change is audited with who made it."""
        lanes = self.config_entry.options.get(CONF_ANPR_LANES, [])
        stored = next((lane for lane in lanes if lane["key"] == self._edit_lane_key), None)
        if stored is None:
            return self.async_abort(reason="lane_not_found")
        errors: dict[str, str] = {}
        if user_input is not None:
            form = dict(user_input)
            rotate = bool(form.pop("rotate_secret", False))
            self._anpr_port, errors = anpr_port_from_input(form)
            lane = None
            if not errors:
                lane, errors = anpr_lane_from_input(self.hass, self.config_entry, form, editing=stored)
            if lane is not None:
                self._new_lane, changed = edited_lane(stored, lane, rotate_secret=rotate)
                self._edit_audit = {"lane": LaneConfig.from_options(self._new_lane).name, "lane_key": stored["key"],
                                    "changed": changed, "secret_rotated": rotate}
                return await self.async_step_anpr_push_url()
        defaults = user_input or {**stored, CONF_ANPR_PORT: self.config_entry.options.get(CONF_ANPR_PORT)}
        return self.async_show_form(step_id="edit_anpr_lane_settings",
                                    data_schema=anpr_lane_schema(defaults, editing=True), errors=errors,
                                    description_placeholders={"lane": LaneConfig.from_options(stored).name})

    async def async_step_anpr_push_url(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Where to point the camera: shown once before the lane is saved (the URL carries its secret)."""
        lane = self._new_lane
        assert lane is not None
        if user_input is not None:
            current = self.config_entry.options.get(CONF_ANPR_LANES, [])
            if self._edit_audit is not None:  # an edit: the lane replaced where it was
                lanes = [lane if other["key"] == lane["key"] else other for other in current]
                user_id = str(self.context.get("user_id") or "unknown")
                community = self.config_entry.runtime_data.community
                await self.hass.async_add_executor_job(community.record_action, user_id, "vehicles.edit_lane",
                                                       self._edit_audit)
            else:
                lanes = [*current, lane]
            options = {**self.config_entry.options, CONF_ANPR_LANES: lanes}
            if self._anpr_port is not None:
                options[CONF_ANPR_PORT] = self._anpr_port
            return self.async_create_entry(data=options)
        url = push_url(self.hass, self.config_entry, LaneConfig.from_options(lane), anpr_port=self._anpr_port)
        return self.async_show_form(step_id="anpr_push_url", data_schema=vol.Schema({}),
                                    description_placeholders={"url": url, "format": lane["format"]})

    async def async_step_remove_anpr_lane(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Stop receiving a camera (its past passes stay in the vehicle log)."""
        lanes = self.config_entry.options.get(CONF_ANPR_LANES, [])
        if user_input is not None:
            kept = [lane for lane in lanes if lane["key"] != user_input["lane"]]
            return self.async_create_entry(data={**self.config_entry.options, CONF_ANPR_LANES: kept})
        return self.async_show_form(step_id="remove_anpr_lane",
                                    data_schema=vol.Schema({vol.Required("lane"): self._lane_choice()}))

    async def async_step_door_operators(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Who besides administrators may release doors and change their mode (automations always may)."""
        users = [user for user in await self.hass.auth.async_get_users()
                 if user.is_active and not user.system_generated and not user.is_admin]
        if user_input is not None:
            known = {user.id for user in users}
            chosen = [user_id for user_id in user_input.get(CONF_DOOR_OPERATORS, []) if user_id in known]
            return self.async_create_entry(data={**self.config_entry.options, CONF_DOOR_OPERATORS: chosen})
        current = [u for u in self.config_entry.options.get(CONF_DOOR_OPERATORS, []) if u in {x.id for x in users}]
        choice = selector.SelectSelector(selector.SelectSelectorConfig(
            options=[selector.SelectOptionDict(value=user.id, label=user.name or user.id)
                     for user in sorted(users, key=lambda u: (u.name or "").casefold())],
            multiple=True, mode=selector.SelectSelectorMode.LIST,
        ))
        schema = vol.Schema({vol.Optional(CONF_DOOR_OPERATORS, default=current): choice})
        return self.async_show_form(step_id="door_operators", data_schema=schema)

    async def async_step_keypad(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """How many digits a PIN has (6 by default; fewer are easier to guess, see docs/privacy.md)."""
        if user_input is not None:
            digits = int(user_input[CONF_PIN_DIGITS])
            return self.async_create_entry(data={**self.config_entry.options, CONF_PIN_DIGITS: digits})
        current = int(self.config_entry.options.get(CONF_PIN_DIGITS, DEFAULT_PIN_DIGITS))
        schema = vol.Schema({
            vol.Required(CONF_PIN_DIGITS, default=current): selector.NumberSelector(selector.NumberSelectorConfig(
                min=PIN_MIN_DIGITS, max=PIN_MAX_DIGITS, step=1, mode=selector.NumberSelectorMode.BOX
            )),
        })
        return self.async_show_form(step_id="keypad", data_schema=schema)

    async def async_step_uplink_unencrypted(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """An http:// uplink: say what it exposes, and store it only when the manager confirms."""
        merged = self._insecure_uplink
        assert merged is not None
        if user_input is not None:
            return await self._async_store_uplink(merged)
        return self.async_show_form(step_id="uplink_unencrypted", data_schema=vol.Schema({}),
                                    description_placeholders={"url": str(merged.get(CONF_UPLINK_URL, ""))})

    async def _async_store_uplink(self, merged: dict[str, Any]) -> ConfigFlowResult:
        """Store the uplink's options; whether places' names go upstream changed: into the audit log first."""
        before = PLACE_NAME_FIELD not in self.config_entry.options.get(CONF_WITHHELD_FIELDS, [])
        after = PLACE_NAME_FIELD not in merged.get(CONF_WITHHELD_FIELDS, [])
        if before != after:
            await self.hass.async_add_executor_job(
                self.config_entry.runtime_data.community.record_action, str(self.context.get("user_id") or "unknown"),
                "uplink.place_names", {"upstream": after},
            )
        return self.async_create_entry(data=merged)

    async def async_step_uplink(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Where and how events go upstream (an empty URL turns the uplink off), and whether places' names go with
        them (a default field the operator may withhold)."""
        errors: dict[str, str] = {}
        current = self.config_entry.options
        if user_input is not None:
            user_input = dict(user_input)
            names_upstream = bool(user_input.pop(CONF_PLACE_NAMES_UPSTREAM, True))
            withheld = [f for f in current.get(CONF_WITHHELD_FIELDS, []) if f != PLACE_NAME_FIELD]
            if not names_upstream:
                withheld.append(PLACE_NAME_FIELD)
            merged = {**current, **user_input, CONF_WITHHELD_FIELDS: withheld}
            url = (user_input.get(CONF_UPLINK_URL) or "").strip()
            profile = user_input.get(CONF_UPLINK_PROFILE, PROFILE_JSON)
            if not url:
                merged.pop(CONF_UPLINK_URL, None)
            elif profile == PROFILE_MQTT and not url.startswith(("mqtt://", "mqtts://")):
                errors[CONF_UPLINK_URL] = "invalid_mqtt_url"
            elif profile != PROFILE_MQTT and not url.startswith(("http://", "https://")):
                errors[CONF_UPLINK_URL] = "invalid_url"
            elif profile in (PROFILE_JSON, PROFILE_MQTT) and len(
                (user_input.get(CONF_UPLINK_SECRET) or current.get(CONF_UPLINK_SECRET) or "").encode()
            ) < 16:
                errors[CONF_UPLINK_SECRET] = "secret_too_short"
            elif profile == PROFILE_GAT1400 and not _gat1400_complete(user_input, current):
                errors["base"] = "gat1400_incomplete"
            elif profile == PROFILE_MQTT:
                hub_id = str(self.config_entry.data.get(CONF_HUB_ID, ""))
                errors.update(await self.hass.async_add_executor_job(_mqtt_errors, self.hass, user_input, hub_id))
            if not errors:
                for secret in (CONF_UPLINK_SECRET, CONF_GAT_PASSWORD):
                    if not user_input.get(secret) and current.get(secret):
                        merged[secret] = current[secret]  # left blank: keep the stored one
                if url.startswith(UNENCRYPTED_SCHEMES):
                    self._insecure_uplink = merged
                    return await self.async_step_uplink_unencrypted()
                return await self._async_store_uplink(merged)
        password = selector.TextSelector(selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD))
        schema = vol.Schema(
            {
                vol.Optional(CONF_UPLINK_URL): selector.TextSelector(
                    selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
                ),
                vol.Required(CONF_UPLINK_PROFILE, default=PROFILE_JSON): selector.SelectSelector(
                    selector.SelectSelectorConfig(options=[PROFILE_JSON, PROFILE_GAT1400, PROFILE_MQTT],
                                                  translation_key="profile")
                ),
                vol.Optional(CONF_UPLINK_SECRET): password,
                vol.Optional(CONF_CA_FILE): str,
                vol.Optional(CONF_MQTT_TOPIC_PREFIX): str,
                vol.Optional(CONF_CLIENT_CERT): str,
                vol.Optional(CONF_CLIENT_KEY): str,
                vol.Optional(CONF_DEVICE_ID): str,
                vol.Optional(CONF_GAT_USERNAME): str,
                vol.Optional(CONF_GAT_PASSWORD): password,
                vol.Required(CONF_KEEPALIVE, default=30): selector.NumberSelector(
                    selector.NumberSelectorConfig(min=10, max=3600, unit_of_measurement="s",
                                                  mode=selector.NumberSelectorMode.BOX)
                ),
                vol.Required(CONF_BACKLOG_LIMIT, default=DEFAULT_BACKLOG_LIMIT): selector.NumberSelector(
                    selector.NumberSelectorConfig(min=100, max=10_000_000, mode=selector.NumberSelectorMode.BOX)
                ),
                vol.Required(CONF_PLACE_NAMES_UPSTREAM,
                             default=PLACE_NAME_FIELD not in current.get(CONF_WITHHELD_FIELDS, [])): bool,
            }
        )
        shown = {k: v for k, v in current.items() if k not in SECRET_OPTIONS}
        return self.async_show_form(
            step_id="uplink", data_schema=self.add_suggested_values_to_schema(schema, shown), errors=errors,
            description_placeholders={"hub_id": str(self.config_entry.data.get(CONF_HUB_ID, ""))},
        )

    async def async_step_field_policy(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Allow (with a stated legal basis) or withdraw one extra field; the change goes into the audit log."""
        errors: dict[str, str] = {}
        fields = {f["field"]: f for f in self.config_entry.options.get(CONF_FIELD_OPTIONS, [])}
        if user_input is not None:
            name = user_input["field"]
            if not user_input["allow"]:
                fields.pop(name, None)
            elif len(user_input.get("reference", "").strip()) < 5 or not user_input.get("legal_basis"):
                errors["base"] = "legal_basis_required"
            else:
                fields[name] = {
                    "field": name,
                    "legal_basis": user_input["legal_basis"],
                    "reference": user_input["reference"].strip(),
                    "enabled_by": self.context.get("user_id") or "unknown",
                    "enabled_at": dt_util.utcnow().isoformat(),
                }
            if not errors:
                options = {**self.config_entry.options, CONF_FIELD_OPTIONS: list(fields.values())}
                community = self.config_entry.runtime_data.community
                await self.hass.async_add_executor_job(
                    community.record_action, str(self.context.get("user_id") or "unknown"),
                    "uplink.field_policy", {"field": name, "allowed": bool(user_input["allow"]),
                                            "legal_basis": user_input.get("legal_basis"),
                                            "reference": user_input.get("reference")},
                )
                return self.async_create_entry(data=options)
        schema = vol.Schema(
            {
                vol.Required("field"): selector.SelectSelector(
                    selector.SelectSelectorConfig(options=sorted(OPTIONAL_FIELDS), translation_key="uplink_field")
                ),
                vol.Required("allow", default=True): bool,
                vol.Optional("legal_basis"): selector.SelectSelector(
                    selector.SelectSelectorConfig(options=[b.value for b in LegalBasis], translation_key="legal_basis")
                ),
                vol.Optional("reference"): str,
            }
        )
        allowed = ", ".join(sorted(fields)) or "-"
        return self.async_show_form(
            step_id="field_policy", data_schema=schema, errors=errors,
            description_placeholders={"allowed": allowed},
        )

    async def async_step_health(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """How often cameras are probed, when a device counts as down for a repair issue, and the online-rate target
        of the weekly report."""
        if user_input is not None:
            return self.async_create_entry(data={**self.config_entry.options, **user_input})
        options = self.config_entry.options
        schema = vol.Schema(
            {
                vol.Required(CONF_OFFLINE_MINUTES, default=options.get(CONF_OFFLINE_MINUTES, DEFAULT_OFFLINE_MINUTES)):
                    vol.All(vol.Coerce(int), vol.Range(min=1, max=10_080)),
                vol.Required(CONF_TARGET, default=options.get(CONF_TARGET, DEFAULT_TARGET)):
                    vol.All(vol.Coerce(float), vol.Range(min=50, max=100)),
                vol.Required(CONF_PROBE_SECONDS, default=options.get(CONF_PROBE_SECONDS, DEFAULT_PROBE_SECONDS)):
                    vol.All(vol.Coerce(int), vol.Range(min=MIN_PROBE_SECONDS, max=MAX_PROBE_SECONDS)),
            }
        )
        return self.async_show_form(step_id="health", data_schema=schema)

    async def async_step_retention(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """How long events and the audit log are kept before the automatic purge."""
        if user_input is not None:
            return self.async_create_entry(
                data={**self.config_entry.options, **{k: int(v) for k, v in user_input.items()}}
            )
        days = selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=1, max=3650, unit_of_measurement="d", mode=selector.NumberSelectorMode.BOX
            )
        )
        options = self.config_entry.options
        schema = vol.Schema(
            {
                vol.Required(CONF_EVENTS_DAYS, default=options.get(CONF_EVENTS_DAYS, DEFAULT_EVENTS_DAYS)): days,
                vol.Required(CONF_AUDIT_DAYS, default=options.get(CONF_AUDIT_DAYS, 1095)): days,
            }
        )
        return self.async_show_form(step_id="retention", data_schema=schema)

    async def async_step_add_gate(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A door of this integration, the camera that watches it, what tells someone is there, and what a face
        may do there (a face plus a card or PIN of the same resident unless the manager chooses otherwise)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            assurance, errors = _face_assurance_input(user_input)
            if not errors:
                gate = {
                    CONF_LOCK: user_input[CONF_LOCK],
                    CONF_CAMERA: user_input[CONF_CAMERA],
                    CONF_PRESENCE: user_input.get(CONF_PRESENCE),
                    CONF_FRAMES: int(user_input[CONF_FRAMES]),
                    **assurance,
                }
                gates = [g for g in self.config_entry.options.get(CONF_GATES, []) if g[CONF_LOCK] != gate[CONF_LOCK]]
                return self.async_create_entry(data={**self.config_entry.options, CONF_GATES: [*gates, gate]})
        schema = vol.Schema(
            {
                vol.Required(CONF_LOCK): selector.EntitySelector(
                    selector.EntitySelectorConfig(domain="lock", integration=DOMAIN)
                ),
                vol.Required(CONF_CAMERA): selector.EntitySelector(selector.EntitySelectorConfig(domain="camera")),
                vol.Optional(CONF_PRESENCE): selector.EntitySelector(
                    selector.EntitySelectorConfig(domain="binary_sensor")
                ),
                vol.Required(CONF_FRAMES, default=DEFAULT_FRAMES): selector.NumberSelector(
                    selector.NumberSelectorConfig(min=DEFAULT_FRAMES, max=10, mode=selector.NumberSelectorMode.BOX)
                ),
                **_face_assurance_schema({}),
            }
        )
        return self.async_show_form(step_id="add_gate", data_schema=schema, errors=errors)

    async def async_step_edit_gate(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """What a face may do at a gate already watched: the level, and optionally another level in a window."""
        gates = self.config_entry.options.get(CONF_GATES, [])
        if user_input is not None:
            self._editing = user_input[CONF_LOCK]
            return await self.async_step_edit_gate_level()
        schema = vol.Schema(
            {vol.Required(CONF_LOCK): selector.SelectSelector(
                selector.SelectSelectorConfig(options=[g[CONF_LOCK] for g in gates])
            )}
        )
        return self.async_show_form(step_id="edit_gate", data_schema=schema)

    async def async_step_edit_gate_level(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The chosen gate's face assurance."""
        gates = self.config_entry.options.get(CONF_GATES, [])
        current = next((g for g in gates if g[CONF_LOCK] == self._editing), None)
        if current is None:
            return self.async_abort(reason="gate_not_found")
        errors: dict[str, str] = {}
        if user_input is not None:
            assurance, errors = _face_assurance_input(user_input)
            if not errors:
                edited = [{**g, **assurance} if g[CONF_LOCK] == self._editing else g for g in gates]
                return self.async_create_entry(data={**self.config_entry.options, CONF_GATES: edited})
        return self.async_show_form(
            step_id="edit_gate_level", data_schema=vol.Schema(_face_assurance_schema(current)), errors=errors,
            description_placeholders={"gate": self._editing or ""},
        )

    async def async_step_remove_gate(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Stop watching a gate (the door keeps working with cards, PINs and passes)."""
        gates = self.config_entry.options.get(CONF_GATES, [])
        if user_input is not None:
            kept = [g for g in gates if g[CONF_LOCK] != user_input[CONF_LOCK]]
            return self.async_create_entry(data={**self.config_entry.options, CONF_GATES: kept})
        schema = vol.Schema(
            {vol.Required(CONF_LOCK): selector.SelectSelector(
                selector.SelectSelectorConfig(options=[g[CONF_LOCK] for g in gates])
            )}
        )
        return self.async_show_form(step_id="remove_gate", data_schema=schema)
