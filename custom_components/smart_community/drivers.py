"""Which library driver serves a controller entry: the hub-native controller, or an I/O module's doors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PORT

from devices.door_controller import DoorController
from devices.io_module import DoorMapping, IoDoorController, IoModule
from hub.doors import DoorDriver, IoModuleDriver

from .const import (
    CONF_DOORS,
    CONF_INPUTS,
    CONF_PROFILE,
    CONF_RELAYS,
    CONF_SERIAL,
    CONF_UNIT_ID,
    PROFILE_IO_MODULE,
)

DEFAULT_IO_DOORS: list[dict[str, Any]] = [{"strike_relay": 0, "contact_input": 0}]


def door_mappings(options: Mapping[str, Any]) -> list[DoorMapping]:
    """The I/O module's doors as the options map them (one door on relay 0 / input 0 until mapped)."""
    def optional(door: Mapping[str, Any], key: str) -> int | None:
        value = door.get(key)
        return None if value is None else int(value)

    return [
        DoorMapping(
            strike_relay=int(door["strike_relay"]),
            contact_input=optional(door, "contact_input"),
            exit_input=optional(door, "exit_input"),
            tamper_input=optional(door, "tamper_input"),
            presence_input=optional(door, "presence_input"),
            barrier_input=optional(door, "barrier_input"),
            inverted_inputs=frozenset(int(i) for i in door.get("inverted_inputs", [])),
        )
        for door in options.get(CONF_DOORS) or DEFAULT_IO_DOORS
    ]


def make_driver(data: Mapping[str, Any], options: Mapping[str, Any], *, timeout: float = 2.0) -> DoorDriver:
    """The driver for a controller entry's data and options."""
    if data.get(CONF_PROFILE) == PROFILE_IO_MODULE:
        module = IoModule(
            data[CONF_HOST],
            data[CONF_PORT],
            unit_id=data.get(CONF_UNIT_ID, 1),
            relays=data[CONF_RELAYS],
            inputs=data[CONF_INPUTS],
            timeout=timeout,
        )
        return IoModuleDriver(IoDoorController(module, door_mappings(options)), serial=data[CONF_SERIAL])
    return DoorController(data[CONF_HOST], data[CONF_PORT], timeout=timeout)
