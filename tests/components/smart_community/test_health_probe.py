"""Cameras are probed in the background: a camera that stops answering becomes offline in device health (and its
entity unavailable) without anyone asking for a frame, and online again when it is back. Its outage is tracked as a
problem: opened, acknowledged by a manager with a note (audited with who did it; refused to a non-administrator),
resolved with a time to repair when the camera is back; the county gets the status and problem events; the weekly
report lists the problem. Real parts: the camera simulator on loopback, real SQLite, Home Assistant's ``hass``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
import voluptuous as vol
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.smart_community.const import DOMAIN
from devkit.sim.camera import CameraSim
from hub.health import HealthStore, ProblemState
from hub.journal import EventKind

from .conftest import wait_for_device_status

CAMERA = "CAM7"
ENTITY = "camera.north_gate_camera"


async def _until(hass: HomeAssistant, check: Callable[[], Awaitable[Any]], what: str, timeout: float = 15.0) -> Any:
    """Wait for a condition, with a deadline (no timing in the verdict)."""
    deadline = hass.loop.time() + timeout
    while hass.loop.time() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def _camera_and_community(hass: HomeAssistant, sim: CameraSim) -> tuple[MockConfigEntry, MockConfigEntry]:
    camera = MockConfigEntry(
        domain=DOMAIN, unique_id=CAMERA, title="North gate camera",
        data={"kind": "camera", "snapshot_url": sim.snapshot_url, "username": "admin", "password": "s3cret-pass",
              "auth": "digest"},
    )
    camera.add_to_hass(hass)
    assert await hass.config_entries.async_setup(camera.entry_id)
    community = MockConfigEntry(domain=DOMAIN, unique_id="community", title="Test Garden",
                                data={"kind": "community", "name": "Test Garden"})
    community.add_to_hass(hass)
    assert await hass.config_entries.async_setup(community.entry_id)
    await hass.async_block_till_done()
    return camera, community


def _probe(hass: HomeAssistant, community: MockConfigEntry) -> None:
    """Let the probe interval elapse (Home Assistant's clock moved on; the probe itself is a real request)."""
    seconds = community.runtime_data.health.probe_seconds
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds + 1))


async def test_probe_interval_is_an_option_with_a_minimum(hass: HomeAssistant, camera_sim: CameraSim) -> None:
    _, community = await _camera_and_community(hass, camera_sim)
    assert community.runtime_data.health.probe_seconds == 5  # the default
    flow = await hass.config_entries.options.async_init(community.entry_id)
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"next_step_id": "health"})
    with pytest.raises(vol.Invalid):
        await hass.config_entries.options.async_configure(
            flow["flow_id"], {"offline_repair_minutes": 30, "online_target_percent": 98, "camera_probe_seconds": 1})
    flow = await hass.config_entries.options.async_configure(
        flow["flow_id"], {"offline_repair_minutes": 30, "online_target_percent": 98, "camera_probe_seconds": 10})
    assert flow["type"] == "create_entry"
    await hass.async_block_till_done()
    assert community.options["camera_probe_seconds"] == 10
    assert community.runtime_data.health.probe_seconds == 10


async def test_a_stopped_camera_is_found_offline_by_the_probe_and_tracked_as_a_problem(
    hass: HomeAssistant, camera_sim: CameraSim, hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    _, community = await _camera_and_community(hass, camera_sim)
    runtime = community.runtime_data
    store: HealthStore = runtime.health.store
    assert (await wait_for_device_status(hass, store, CAMERA)).online is True
    assert hass.states.get(ENTITY).state != "unavailable"

    # The camera stops answering; nobody asks it for a frame.
    await camera_sim.set_link(False)
    _probe(hass, community)
    status = await _until(hass, lambda: _offline(hass, store), "the probe found the camera offline")
    assert status.online is False
    await _until(hass, _async(lambda: hass.states.get(ENTITY).state == "unavailable"), "entity unavailable")
    problems = await hass.async_add_executor_job(lambda: store.problems(unresolved=True))
    assert [(p.device_id, p.state) for p in problems] == [(CAMERA, ProblemState.OPEN)]
    problem = problems[0]
    assert problem.opened_at == status.since

    # The county's events: the camera offline at the time it went down, and the problem opened; both queued.
    journal = runtime.community.journal
    events = await _until(hass, lambda: _health_events(hass, journal), "health events journalled")
    down = [e for e in events if e.kind == EventKind.DEVICE_STATUS and e.door == CAMERA]
    assert down[-1].payload["door_name"] == "North gate camera"  # its name in Home Assistant, for the county
    assert down[-1].payload["result"] == "offline" and down[-1].occurred_at == status.since.replace(
        microsecond=status.since.microsecond // 1000 * 1000)
    opened = [e for e in events if e.kind == EventKind.DEVICE_PROBLEM]
    assert opened[-1].payload["problem"]["state"] == "open" and opened[-1].door == CAMERA
    lane = await hass.async_add_executor_job(lambda: dict(journal.connection.execute(
        "SELECT seq, priority FROM outbox WHERE seq IN (?, ?)", (down[-1].seq, opened[-1].seq)).fetchall()))
    assert lane == {down[-1].seq: 1, opened[-1].seq: 1}  # both in the uplink's priority lane

    # A manager acknowledges it with a note, through the panel; a non-administrator cannot.
    user = await hass_ws_client(hass, hass_read_only_access_token)
    await user.send_json_auto_id({"type": f"{DOMAIN}/problems/acknowledge", "problem_id": problem.problem_id,
                                  "note": "not me"})
    assert (await user.receive_json())["error"]["code"] == "unauthorized"
    admin = await hass_ws_client(hass)
    await admin.send_json_auto_id({"type": f"{DOMAIN}/problems/list", "unresolved": True})
    listed = (await admin.receive_json())["result"]["problems"]
    assert [(p["problem_id"], p["name"], p["state"]) for p in listed] == [
        (problem.problem_id, "North gate camera", "open")]  # the device's name, not its id or URL
    await admin.send_json_auto_id({"type": f"{DOMAIN}/problems/acknowledge", "problem_id": problem.problem_id,
                                   "note": "Technician on the way: the PoE switch lost power"})
    reply = await admin.receive_json()
    assert reply["success"], reply
    assert reply["result"]["state"] == "acknowledged" and reply["result"]["acknowledged_at"] is not None
    # The action works too (an automation acts as the system), and refuses an unknown problem.
    await hass.services.async_call(DOMAIN, "acknowledge_device_problem",
                                   {"problem_id": problem.problem_id, "note": "switch replaced, waiting"},
                                   blocking=True)
    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(DOMAIN, "acknowledge_device_problem",
                                       {"problem_id": problem.problem_id + 50, "note": "x"}, blocking=True)
    assert refused.value.translation_key == "not_found"
    audit = await _until(hass, lambda: _acks(hass, journal), "acknowledgements audited")
    assert len(audit) == 2
    assert "(" in audit[0].actor and audit[0].actor != "system"  # the administrator's name and id
    assert audit[1].actor == "system"
    assert audit[0].details["note"] == "Technician on the way: the PoE switch lost power"
    kept = await hass.async_add_executor_job(store.problem, problem.problem_id)
    assert kept.note == "switch replaced, waiting" and kept.state is ProblemState.ACKNOWLEDGED
    assert "switch" not in str(kept.upstream())  # the note stays on the hub
    # Who acknowledged is kept for the panel's alarm list (as the audit log names them), never sent upstream.
    assert kept.acknowledged_by == audit[0].actor
    assert audit[0].actor.split(" (")[0] not in str(kept.upstream())

    # The camera is back: the next probe finds it; the problem resolves itself with its time to repair.
    await camera_sim.set_link(True)
    _probe(hass, community)
    await _until(hass, lambda: _online(hass, store), "the probe found the camera back")
    await _until(hass, _async(lambda: hass.states.get(ENTITY).state != "unavailable"), "entity available")
    resolved = await _until(hass, lambda: _resolved(hass, store, problem.problem_id), "problem resolved")
    assert resolved.repair_seconds is not None and resolved.repair_seconds > 0
    events = await _until(hass, lambda: _health_events(hass, journal, "resolved"), "resolution journalled")
    last = [e for e in events if e.kind == EventKind.DEVICE_PROBLEM][-1]
    assert last.payload["problem"]["repair_seconds"] == resolved.repair_seconds
    assert "note" not in last.payload["problem"]
    # The county gets the state and times; the note and who acknowledged never go upstream.
    from custom_components.smart_community.uplink import field_policy

    sent = field_policy(community).fields_for(last)
    assert sent["type"] == "device_problem" and sent["problem"]["state"] == "resolved" and sent["door"] == CAMERA

    # This week's report lists the problem with its time to repair.
    local = dt_util.as_local(dt_util.utcnow())
    monday = (local - timedelta(days=local.weekday())).date()
    report = await hass.async_add_executor_job(store.build_weekly_report, monday, hass.config.time_zone)
    assert [(p.problem_id, p.repair_seconds) for p in report.problems] == [
        (problem.problem_id, resolved.repair_seconds)]

    # The panel's chart data: the camera's spans, up, down and up again, under its name.
    await admin.send_json_auto_id({"type": f"{DOMAIN}/devices/history", "days": 2})
    history = (await admin.receive_json())["result"]
    camera = next(d for d in history["devices"] if d["device_id"] == CAMERA)
    assert camera["name"] == "North gate camera"
    assert [s["online"] for s in camera["spans"]] == [True, False, True]
    assert len(history["days"]) == 2 and history["target_percent"] == 98.0
    assert camera["day_percent"][-1] is not None and camera["day_percent"][-1] < 100


def _async(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def run() -> bool:
        return check()

    return run


async def _offline(hass: HomeAssistant, store: HealthStore) -> Any:
    status = await hass.async_add_executor_job(store.status, CAMERA)
    return status if not status.online else None


async def _online(hass: HomeAssistant, store: HealthStore) -> bool:
    return bool((await hass.async_add_executor_job(store.status, CAMERA)).online)


async def _resolved(hass: HomeAssistant, store: HealthStore, problem_id: int) -> Any:
    problem = await hass.async_add_executor_job(store.problem, problem_id)
    return problem if problem.state is ProblemState.RESOLVED else None


async def _health_events(hass: HomeAssistant, journal: Any, state: str = "open") -> Any:
    events = await hass.async_add_executor_job(lambda: journal.events(limit=1000))
    health = [e for e in events if e.kind in (EventKind.DEVICE_STATUS, EventKind.DEVICE_PROBLEM)]
    problems = [e for e in health if e.kind == EventKind.DEVICE_PROBLEM]
    return health if problems and problems[-1].payload["problem"]["state"] == state else None


async def _acks(hass: HomeAssistant, journal: Any) -> Any:
    entries = await hass.async_add_executor_job(lambda: journal.audit.entries(limit=100))
    acks = [e for e in entries if e.action == "acknowledge_device_problem"]
    return sorted(acks, key=lambda e: e.seq) if len(acks) >= 2 else None
