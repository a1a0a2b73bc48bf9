"""Constants of the Smart Community integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DOMAIN: Final = "smart_community"

CONF_RELEASE_SECONDS: Final = "release_seconds"
CONF_POLL_INTERVAL: Final = "poll_interval"
CONF_HELD_OPEN_SECONDS: Final = "held_open_seconds"

DEFAULT_PORT: Final = 502
DEFAULT_RELEASE_SECONDS: Final = 5
DEFAULT_POLL_INTERVAL_MS: Final = 100
DEFAULT_HELD_OPEN_SECONDS: Final = 30

MIN_POLL_INTERVAL_MS: Final = 50
MAX_POLL_INTERVAL_MS: Final = 10_000


def poll_interval(ms: int) -> timedelta:
    """The coordinator's update interval for a poll rate in milliseconds."""
    return timedelta(milliseconds=ms)

CONF_KIND: Final = "kind"
KIND_CONTROLLER: Final = "controller"
KIND_COMMUNITY: Final = "community"
CONF_COMMUNITY_NAME: Final = "name"
# Users (ids) besides administrators who may release doors and change their mode.
CONF_DOOR_OPERATORS: Final = "door_operators"
CONF_PIN_DIGITS: Final = "pin_digits"
COMMUNITY_UNIQUE_ID: Final = "community"

SIGNAL_COMMUNITY_CHANGED: Final = "smart_community_community_changed"
KIND_CAMERA: Final = "camera"
CONF_SERIAL: Final = "serial"
CONF_SNAPSHOT_URL: Final = "snapshot_url"
CONF_MJPEG_URL: Final = "mjpeg_url"
CONF_AUTH: Final = "auth"
CONF_PROFILE: Final = "profile"
PROFILE_HUB_NATIVE: Final = "hub-native"
PROFILE_IO_MODULE: Final = "io-module"
CONF_UNIT_ID: Final = "unit_id"
CONF_RELAYS: Final = "relays"
CONF_INPUTS: Final = "inputs"
CONF_DOORS: Final = "doors"
CONF_DOOR_COUNT: Final = "door_count"
DOOR_INPUT_KEYS: Final = ("contact_input", "exit_input", "tamper_input", "presence_input", "barrier_input")
