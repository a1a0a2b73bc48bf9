"""The automation blueprints: each one is valid for Home Assistant's blueprint schema, and each one runs end to end
against the real integration and the simulated door controller (real socket, real time, short waits).

Notifications are captured with a mocked ``notify.test`` action; sirens and lights are ``input_boolean`` helpers.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.yaml import load_yaml
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from custom_components.smart_community.const import CONF_HELD_OPEN_SECONDS, DOMAIN
from devkit.sim.door_controller import DoorControllerSim

from .conftest import wait_for_event, wait_for_state

BLUEPRINTS = Path(__file__).resolve().parents[3] / "blueprints" / "automation" / "smart_community"
FILES = sorted(path.name for path in BLUEPRINTS.glob("*.yaml"))
SOURCE = "https://github.com/smart-community-hub/smart-community-hub/blob/main/blueprints/automation/smart_community/"
# Every blueprint must have its end-to-end test below.
TESTED = {
    "door_held_open_notify.yaml",
    "forced_door_siren_snapshot.yaml",
    "night_lockdown.yaml",
    "repeated_face_denials.yaml",
    "visitor_pass_notify.yaml",
    "device_offline_notify.yaml",
    "blacklisted_vehicle_notify.yaml",  # end to end in test_vehicles_blueprint.py
}
NOTIFY = [{"action": "notify.test", "data": {"title": "{{ title }}", "message": "{{ message }}"}}]
DOOR1 = "simdc0042_door_1"


@pytest.fixture(autouse=True)
def blueprint_config_dir(hass: HomeAssistant, tmp_path: Path) -> None:
    """A throw-away config folder holding this repository's blueprints, where ``use_blueprint`` looks for them.

    (The test ``hass`` otherwise uses the shared ``testing_config`` folder inside the installed test package.)
    """
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(BLUEPRINTS, Path(hass.config.path("blueprints", "automation", "smart_community")))


@pytest.fixture
async def notifications(hass: HomeAssistant) -> AsyncIterator[list[ServiceCall]]:
    """Every ``notify.test`` call the blueprints make.

    Afterwards the automations are turned off (before the simulator stops), so no trigger timer outlives the test.
    """
    yield async_mock_service(hass, "notify", "test")
    if hass.services.has_service("automation", "turn_off"):
        await hass.services.async_call("automation", "turn_off", {"entity_id": "all"}, blocking=True)


async def _use_blueprint(hass: HomeAssistant, file: str, inputs: dict[str, Any]) -> None:
    """Set up one automation from the blueprint, as the UI would store it (entity ``automation.<file>_yaml``)."""
    await _use_blueprints(hass, {file.removesuffix(".yaml") + "_yaml": (file, inputs)})


async def _use_blueprints(hass: HomeAssistant, automations: dict[str, tuple[str, dict[str, Any]]]) -> None:
    """Set up automations from blueprints: object id -> (blueprint file, inputs)."""
    config = [
        {"id": object_id, "alias": object_id, "use_blueprint": {"path": f"{DOMAIN}/{file}", "input": inputs}}
        for object_id, (file, inputs) in automations.items()
    ]
    assert await async_setup_component(hass, "automation", {"automation": config})
    await hass.async_block_till_done()
    for object_id in automations:
        state = hass.states.get(f"automation.{object_id}")
        assert state is not None, f"automation.{object_id} was not created"
        assert state.state == STATE_ON


async def _wait_for(predicate: Any, timeout: float = 5.0, what: str = "condition") -> None:
    """Poll (real time) until ``predicate()`` is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


# --- Valid blueprints ---------------------------------------------------------------------------------------------


def test_every_blueprint_is_tested() -> None:
    """The blueprint folder and the end-to-end tests below cover the same files."""
    assert set(FILES) == TESTED


@pytest.mark.parametrize("file", FILES)
def test_blueprint_is_valid(file: str) -> None:
    """Home Assistant's loader reads it (``!input`` included) and the automation blueprint schema accepts it; every
    ``!input`` it uses is declared."""
    data = load_yaml(BLUEPRINTS / file)
    blueprint = Blueprint(
        data, expected_domain="automation", path=f"{DOMAIN}/{file}", schema=AUTOMATION_BLUEPRINT_SCHEMA
    )
    meta = blueprint.metadata
    assert meta["source_url"] == SOURCE + file
    assert meta["name"]
    assert len(meta["description"]) > 80  # says what it does, for a property manager
    for name, spec in meta["input"].items():
        assert spec.get("name"), f"input {name} of {file} has no name"
        assert "selector" in spec, f"input {name} of {file} has no selector"


# --- End to end ---------------------------------------------------------------------------------------------------


async def test_held_open_notifies_and_reminds_until_closed(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: DoorControllerSim,
    notifications: list[ServiceCall],
) -> None:
    """A released door left open past the held-open time: a notification, a reminder per interval, none after
    it is closed."""
    hass.config_entries.async_update_entry(
        init_integration, options={**init_integration.options, CONF_HELD_OPEN_SECONDS: 1}
    )
    # Stored directly (the form's minimum is longer than a test wants), so reloaded here as the options flow does.
    await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    await wait_for_state(hass, f"lock.{DOOR1}", "locked")
    await _use_blueprint(
        hass,
        "door_held_open_notify.yaml",
        {
            "held_open_sensors": [f"binary_sensor.{DOOR1}_held_open"],
            "reminder_interval": {"seconds": 1},
            "max_reminders": 5,
            "notify_action": NOTIFY,
        },
    )

    await hass.services.async_call("lock", "unlock", {"entity_id": f"lock.{DOOR1}"}, blocking=True)
    simulator.set_door_open(0, True)
    await wait_for_state(hass, f"binary_sensor.{DOOR1}_held_open", STATE_ON, timeout=5)
    assert hass.states.get(f"binary_sensor.{DOOR1}_forced_open").state == STATE_OFF
    await _wait_for(lambda: len(notifications) >= 2, timeout=4, what="the first reminder")
    first, reminder = notifications[0].data, notifications[1].data
    assert first["title"] == "Door held open"
    assert first["message"].startswith("SIMDC0042 door 1 has been held open (alarm since ")
    assert "held open" in first["message"]
    assert reminder["title"] == "Door still open"
    assert "reminder 1" in reminder["message"]

    simulator.set_door_open(0, False)
    await wait_for_state(hass, f"binary_sensor.{DOOR1}_held_open", STATE_OFF)
    sent = len(notifications)
    await asyncio.sleep(1.5)  # longer than the reminder interval
    assert len(notifications) == sent


async def test_forced_door_turns_on_siren_snapshots_and_notifies(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: DoorControllerSim,
    notifications: list[ServiceCall],
) -> None:
    """A door opened with no release: the siren (a helper here) turns on, a snapshot is taken, a notification."""
    # homeassistant.turn_on (always loaded in a real install) switches the siren and light.
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "input_boolean", {"input_boolean": {"siren": {}, "floodlight": {}}})
    # There is no camera entity in this test: the camera.snapshot action is mocked to capture the call.
    snapshots = async_mock_service(hass, "camera", "snapshot")
    await _use_blueprint(
        hass,
        "forced_door_siren_snapshot.yaml",
        {
            "forced_open_sensors": [f"binary_sensor.{DOOR1}_forced_open", "binary_sensor.simdc0042_door_2_forced_open"],
            "alarm_target": {"entity_id": ["input_boolean.siren", "input_boolean.floodlight"]},
            "snapshot_camera": "camera.gate_1",
            "snapshot_filename": "/media/forced/{{ door_slug }}.jpg",
            "notify_action": NOTIFY,
        },
    )
    assert hass.states.get("input_boolean.siren").state == STATE_OFF

    simulator.set_door_open(0, True)
    await wait_for_state(hass, f"binary_sensor.{DOOR1}_forced_open", STATE_ON)
    await _wait_for(lambda: notifications, what="the notification")

    assert hass.states.get("input_boolean.siren").state == STATE_ON
    assert hass.states.get("input_boolean.floodlight").state == STATE_ON
    assert len(snapshots) == 1
    assert snapshots[0].data["entity_id"] == ["camera.gate_1"]
    assert snapshots[0].data["filename"] == "/media/forced/simdc0042_door_1.jpg"
    assert len(notifications) == 1
    assert notifications[0].data["title"] == "Door forced open"
    assert "SIMDC0042 door 1 was forced open" in notifications[0].data["message"]
    assert "/media/forced/simdc0042_door_1.jpg" in notifications[0].data["message"]
    simulator.set_door_open(0, False)
    await wait_for_state(hass, f"binary_sensor.{DOOR1}_forced_open", STATE_OFF)


async def test_night_lockdown_locks_down_and_returns_to_normal(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: DoorControllerSim,
    notifications: list[ServiceCall],
) -> None:
    """At the lockdown time the chosen door's mode goes to lockdown on the controller; in the morning, normal.

    The integration polls a real socket on real time, so rather than freezing the clock the two times are set a
    few seconds ahead of now and the test waits for them.
    """
    modes = ["select.simdc0042_door_1_mode"]
    now = dt_util.now().replace(microsecond=0)
    lockdown_at, normal_at = now + timedelta(seconds=2), now + timedelta(seconds=4)
    await _use_blueprint(
        hass,
        "night_lockdown.yaml",
        {
            "door_modes": modes,
            "lockdown_time": lockdown_at.strftime("%H:%M:%S"),
            "normal_time": normal_at.strftime("%H:%M:%S"),
            "notify_action": NOTIFY,
        },
    )
    assert hass.states.get(modes[0]).state == "normal"

    await wait_for_state(hass, modes[0], "lockdown", timeout=5)
    assert simulator.doors[0].mode.name == "LOCKDOWN"
    assert simulator.doors[1].mode.name == "NORMAL"  # not chosen
    await _wait_for(lambda: notifications, what="the lockdown notification")
    assert notifications[0].data["title"] == "Night lockdown"
    assert "locked down" in notifications[0].data["message"]

    await wait_for_state(hass, modes[0], "normal", timeout=5)
    assert simulator.doors[0].mode.name == "NORMAL"
    await _wait_for(lambda: len(notifications) == 2, what="the morning notification")
    assert notifications[1].data["title"] == "Doors back to normal"


async def test_night_lockdown_run_by_hand_applies_the_current_mode(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: DoorControllerSim,
    notifications: list[ServiceCall],
) -> None:
    """Run by hand (as at start-up) inside the night window the doors are locked down; outside it, normal. The
    window may cross midnight."""
    modes = ["select.simdc0042_door_1_mode", "select.simdc0042_door_2_mode"]
    now = dt_util.now()

    def window(start: timedelta, end: timedelta) -> dict[str, Any]:
        times = {"lockdown_time": (now + start).strftime("%H:%M:%S"), "normal_time": (now + end).strftime("%H:%M:%S")}
        return {"door_modes": modes, **times}

    await _use_blueprints(
        hass,
        {
            "inside_window": ("night_lockdown.yaml", window(timedelta(hours=-1), timedelta(hours=1))),
            "outside_window": ("night_lockdown.yaml", window(timedelta(hours=1), timedelta(hours=2))),
        },
    )
    await hass.services.async_call("automation", "trigger", {"entity_id": "automation.inside_window"}, blocking=True)
    for mode in modes:
        await wait_for_state(hass, mode, "lockdown")
    assert [door.mode.name for door in simulator.doors] == ["LOCKDOWN", "LOCKDOWN"]
    assert notifications == []  # the notification is optional and not given here

    await hass.services.async_call("automation", "trigger", {"entity_id": "automation.outside_window"}, blocking=True)
    for mode in modes:
        await wait_for_state(hass, mode, "normal")
    assert [door.mode.name for door in simulator.doors] == ["NORMAL", "NORMAL"]


async def test_repeated_denials_alert_once_per_burst(
    hass: HomeAssistant,
    community_entry: MockConfigEntry,
    simulator: DoorControllerSim,
    notifications: list[ServiceCall],
) -> None:
    """Three denials within the window alert the manager once; a fourth does not alert again; when the window
    has passed the counter is back to zero.

    The simulator has no face engine, so the denials are unknown cards: the blueprint's credential filter is an
    input (face by default) and is set to card here. A granted card is not counted, and a second automation left
    at the default (faces) counts none of these card denials.
    """
    counters = {"gate_1_denials": {"initial": 0, "restore": False}, "gate_1_faces": {"initial": 0, "restore": False}}
    assert await async_setup_component(hass, "counter", {"counter": counters})
    counter, face_counter = "counter.gate_1_denials", "counter.gate_1_faces"
    common = {"access_events": [f"event.{DOOR1}_access"], "threshold": 3, "notify_action": NOTIFY}
    await _use_blueprints(
        hass,
        {
            "card_denials": (
                "repeated_face_denials.yaml",
                {**common, "credential": "card", "denial_counter": counter, "window": {"seconds": 3}},
            ),
            "face_denials": ("repeated_face_denials.yaml", {**common, "denial_counter": face_counter}),
        },
    )
    await hass.services.async_call(
        DOMAIN, "add_resident", {"resident_id": "r-001", "full_name": "Li Wei"}, blocking=True
    )
    await hass.services.async_call(DOMAIN, "add_card", {"resident_id": "r-001", "card_number": "4242"}, blocking=True)
    await hass.services.async_call(
        DOMAIN,
        "add_access_rule",
        {"rule_id": "all", "name": "All", "doors": [f"lock.{DOOR1}"], "everyone": True},
        blocking=True,
    )
    simulator.swipe_card(0, 4242)
    await wait_for_event(hass, f"event.{DOOR1}_access", "granted")
    await asyncio.sleep(0.1)
    assert hass.states.get(counter).state == "0"

    for expected in ("1", "2"):
        simulator.swipe_card(0, 999)
        await wait_for_state(hass, counter, expected)
    assert notifications == []
    simulator.swipe_card(0, 999)
    await wait_for_state(hass, counter, "3")
    await _wait_for(lambda: notifications, what="the alert")
    assert notifications[0].data["title"] == "Repeated denials at SIMDC0042 door 1"
    assert notifications[0].data["message"].startswith("3 card attempts were denied at SIMDC0042 door 1 within 3 s")
    assert hass.states.get(f"event.{DOOR1}_access").attributes["reason"] in ("unknown_card", "locked_out")

    simulator.swipe_card(0, 999)
    await wait_for_state(hass, counter, "4")
    await asyncio.sleep(0.3)
    assert len(notifications) == 1  # still the same burst

    await wait_for_state(hass, counter, "0", timeout=6)  # every denial leaves the window
    assert len(notifications) == 1
    assert hass.states.get(face_counter).state == "0"  # faces only by default: card denials not counted


async def test_visitor_pass_entry_notifies(
    hass: HomeAssistant,
    community_entry: MockConfigEntry,
    simulator: DoorControllerSim,
    notifications: list[ServiceCall],
) -> None:
    """A visitor comes in with a valid pass: the resident who issued it is told on their own notifier; a pass
    issued by a resident with no notifier of their own goes to the fallback notification, naming door and time.
    """
    resident_phone = async_mock_service(hass, "notify", "mobile_app_chen_phone")
    await hass.services.async_call(
        DOMAIN, "add_resident", {"resident_id": "r-004", "full_name": "Chen Jie"}, blocking=True
    )
    issued = await hass.services.async_call(
        DOMAIN,
        "issue_visitor_pass",
        {
            "issued_by": "r-004",
            "visitor_name": "Plumber",
            "doors": [f"lock.{DOOR1}"],
            "valid_until": (dt_util.now() + timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S"),
        },
        blocking=True,
        return_response=True,
    )
    await _use_blueprint(
        hass,
        "visitor_pass_notify.yaml",
        {
            "access_events": [f"event.{DOOR1}_access", "event.simdc0042_door_2_access"],
            "resident_notifiers": {"r-004": "notify.mobile_app_chen_phone"},
            "fallback_action": NOTIFY,
        },
    )

    runtime = community_entry.runtime_data
    outcome = await runtime.gatekeeper.visitor_pass(runtime.points["SIMDC0042-door0"], issued["token"])
    assert outcome.decision.granted
    granted = await wait_for_event(hass, f"event.{DOOR1}_access", "granted")
    # The entity's state, which every user reads, names nobody: a pseudonymous reference only.
    assert granted["credential"] == "pass" and granted["issued_by_ref"].startswith("r1_")
    assert "r-004" not in str(granted) and "pass_id" not in granted
    await _wait_for(lambda: resident_phone, what="the issuing resident's notification")
    assert resident_phone[0].data["message"].startswith("Your visitor")
    assert notifications == []

    # A pass issued by a resident without a notifier of their own: the fallback notification.
    await hass.services.async_call(
        DOMAIN, "add_resident", {"resident_id": "r-005", "full_name": "Zhou Min"}, blocking=True
    )
    issued = await hass.services.async_call(
        DOMAIN,
        "issue_visitor_pass",
        {
            "issued_by": "r-005",
            "visitor_name": "Courier",
            "doors": [f"lock.{DOOR1}"],
            "valid_until": (dt_util.now() + timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S"),
        },
        blocking=True,
        return_response=True,
    )
    await runtime.gatekeeper.visitor_pass(runtime.points["SIMDC0042-door0"], issued["token"])
    await _wait_for(lambda: notifications, what="the visitor notification")
    message = notifications[0].data["message"]
    assert notifications[0].data["title"] == "Visitor arrived"
    assert "came in with a visitor pass at SIMDC0042 door 1 at " in message
    assert dt_util.now().strftime("%H:") in message or dt_util.now().strftime("%H:%M") in message
    assert len(resident_phone) == 1

    # The same pass a second time is used up: denied, so no notification.
    await runtime.gatekeeper.visitor_pass(runtime.points["SIMDC0042-door0"], issued["token"])
    await wait_for_event(hass, f"event.{DOOR1}_access", "denied")
    await asyncio.sleep(0.2)
    assert len(notifications) == 1


async def test_device_offline_notifies_after_the_delay_and_when_back(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: DoorControllerSim,
    notifications: list[ServiceCall],
) -> None:
    """The controller's link is cut: after the offline time a notification; when it is back, another."""
    connection = "binary_sensor.door_controller_simdc0042_connection"
    await _use_blueprint(
        hass,
        "device_offline_notify.yaml",
        {"connection_sensors": [connection], "offline_for": {"seconds": 1}, "notify_action": NOTIFY},
    )

    await simulator.set_link(False)
    await wait_for_state(hass, connection, STATE_OFF)
    await asyncio.sleep(0.5)
    assert notifications == []  # not yet offline long enough
    await _wait_for(lambda: notifications, timeout=3, what="the offline notification")
    assert notifications[0].data["title"].endswith(" is offline")
    assert "has not answered since" in notifications[0].data["message"]

    await simulator.set_link(True)
    await wait_for_state(hass, connection, STATE_ON, timeout=15)
    await _wait_for(lambda: len(notifications) == 2, what="the back-online notification")
    assert notifications[1].data["title"].endswith(" is back online")
