"""The community's journal and uplink through Home Assistant, against the real reference receiver on loopback:
decisions arrive upstream with only the allowed fields; status entities; the audit log; secrets stay out of
diagnostics; extra fields need a legal basis."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smart_community.const import DOMAIN
from devkit.receiver import ReferenceReceiver
from devkit.receiver.client import fetch_received
from devkit.sim.door_controller import DoorControllerSim
from hub.uplink import Secret

from .conftest import wait_for_device_status, wait_for_event, wait_for_state

SECRET = "a-long-shared-secret-for-tests-0123456789"
READ_TOKEN = Secret("read-token-of-the-test-county-0123456789")


@pytest.fixture
async def receiver(tmp_path: Path, community_entry: MockConfigEntry,
                   socket_enabled: None) -> AsyncIterator[ReferenceReceiver]:
    """The county, accepting this community's hub (by the id its entry was given) with SECRET."""
    rx = ReferenceReceiver(tmp_path / "county.db", {community_entry.data["hub_id"]: Secret(SECRET)},
                           read_token=READ_TOKEN, port=0)
    await rx.start()
    yield rx
    await rx.stop()


async def _options(hass: HomeAssistant, entry: MockConfigEntry, step: str, data: dict) -> dict:
    """One options step; an http:// uplink's warning is confirmed (tests/.. check the warning itself)."""
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"next_step_id": step})
    result = await hass.config_entries.options.async_configure(flow["flow_id"], data)
    if result.get("step_id") == "uplink_unencrypted":
        result = await hass.config_entries.options.async_configure(flow["flow_id"], {})
    return result


async def test_decisions_reach_the_county_with_allowed_fields_only(
    hass: HomeAssistant,
    community_entry: MockConfigEntry,
    simulator: DoorControllerSim,
    receiver: ReferenceReceiver,
    hass_client: ClientSessionGenerator,
) -> None:
    result = await _options(hass, community_entry, "uplink", {"uplink_url": receiver.url, "uplink_profile": "json",
                                                              "uplink_secret": "short"})
    assert result["errors"] == {"uplink_secret": "secret_too_short"}
    # The reference receiver is plain http:// on loopback: the flow warns first and stores it only when confirmed.
    flow = await hass.config_entries.options.async_init(community_entry.entry_id)
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"next_step_id": "uplink"})
    flow = await hass.config_entries.options.async_configure(
        flow["flow_id"], {"uplink_url": receiver.url, "uplink_profile": "json", "uplink_secret": SECRET})
    assert flow["type"] == "form" and flow["step_id"] == "uplink_unencrypted"
    assert "uplink_url" not in community_entry.options  # nothing stored before the confirmation
    result = await hass.config_entries.options.async_configure(flow["flow_id"], {})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "uplink_unencrypted")
    assert issue is not None and issue.translation_placeholders == {"host": "127.0.0.1"}

    await hass.services.async_call(DOMAIN, "add_resident", {"resident_id": "r-001", "full_name": "Li Wei"},
                                   blocking=True)
    await hass.services.async_call(DOMAIN, "add_card", {"resident_id": "r-001", "card_number": "12345678"},
                                   blocking=True)
    await hass.services.async_call(DOMAIN, "add_access_rule", {"rule_id": "all", "name": "All",
                                                               "doors": ["lock.simdc0042_door_1"], "everyone": True},
                                   blocking=True)
    simulator.swipe_card(0, 12345678)
    await wait_for_event(hass, "event.simdc0042_door_1_access", "granted")

    decisions: list[dict] = []
    for _ in range(200):
        events = await fetch_received(receiver.url, READ_TOKEN)
        decisions = [e["event"] for e in events if e["event"].get("type") == "decision"]
        if decisions:
            break
        await asyncio.sleep(0.05)
    assert decisions, f"the decision never reached the receiver: {events}"
    upstream = json.dumps(decisions)
    assert "r-001" not in upstream and "Li Wei" not in upstream and "12345678" not in upstream
    assert decisions[0]["result"] == "granted"
    assert decisions[0]["resident_ref"]
    await wait_for_state(hass, "sensor.test_garden_uplink_backlog", "0")
    # Device health counts the uplink from its first attempt on: now online, never offline before it.
    store = community_entry.runtime_data.health.store
    assert (await wait_for_device_status(hass, store, "uplink")).online is True
    history = await hass.async_add_executor_job(
        lambda: store.connection.execute("SELECT online FROM health_spans WHERE device_id = 'uplink'").fetchall())
    assert [row[0] for row in history] == [1]
    await wait_for_state(hass, "binary_sensor.test_garden_uplink", "on")

    journal = community_entry.runtime_data.uplink.journal
    verification = await hass.async_add_executor_job(journal.audit.verify)
    assert verification.ok
    assert verification.checked >= 3  # the resident, the card and the rule

    diagnostics = json.dumps(await get_diagnostics_for_config_entry(hass, hass_client, community_entry))
    assert SECRET not in diagnostics
    assert community_entry.data["community_key"] not in diagnostics


async def test_extra_fields_need_a_legal_basis(hass: HomeAssistant, community_entry: MockConfigEntry) -> None:
    result = await _options(hass, community_entry, "field_policy", {"field": "unit", "allow": True})
    assert result["errors"] == {"base": "legal_basis_required"}
    result = await _options(hass, community_entry, "field_policy",
                            {"field": "unit", "allow": True, "legal_basis": "legal_obligation",
                             "reference": "County order 2026-17"})
    assert result["type"] == "create_entry"
    assert community_entry.options["field_options"][0]["field"] == "unit"
    await hass.async_block_till_done()
    journal = community_entry.runtime_data.uplink.journal
    entries = await hass.async_add_executor_job(lambda: journal.audit.entries(after_seq=0, limit=100))
    assert any(e.action == "uplink.field_policy" for e in entries)
    result = await _options(hass, community_entry, "retention", {"events_days": 30, "audit_days": 730})
    assert community_entry.options["events_days"] == 30
    await hass.async_block_till_done()  # the reload the new options started
    assert community_entry.state is ConfigEntryState.LOADED


async def test_unreachable_platform_raises_a_repair_when_the_backlog_grows(
    hass: HomeAssistant, community_entry: MockConfigEntry, simulator: DoorControllerSim
) -> None:
    await _options(hass, community_entry, "uplink", {"uplink_url": "http://127.0.0.1:9", "uplink_profile": "json",
                                                     "uplink_secret": SECRET, "backlog_limit": 100})
    await hass.async_block_till_done()
    community = community_entry.runtime_data.community
    journal = community.journal
    assert journal is not None
    from hub.journal import EventKind, NewEvent

    # Written as the hub writes: a job on the community's writer, which wakes the worker after the commit.
    await hass.async_add_executor_job(
        community.call, journal.append_many,
        [NewEvent(kind=EventKind.DEVICE_STATUS, door=None, payload={"online": True})] * 150,
    )
    issues = ir.async_get(hass)
    for _ in range(200):
        if issues.async_get_issue(DOMAIN, "uplink_backlog"):
            break
        await asyncio.sleep(0.05)
    assert issues.async_get_issue(DOMAIN, "uplink_backlog") is not None
    assert hass.states.get("binary_sensor.test_garden_uplink").state == "off"


async def test_an_http_uplink_keeps_a_repair_issue_until_it_is_https(
    hass: HomeAssistant, community_entry: MockConfigEntry
) -> None:
    await _options(hass, community_entry, "uplink", {"uplink_url": "http://county.example:8080/events",
                                                     "uplink_profile": "json", "uplink_secret": SECRET})
    await hass.async_block_till_done()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "uplink_unencrypted")
    assert issue is not None and issue.translation_placeholders == {"host": "county.example"}
    result = await _options(hass, community_entry, "uplink", {"uplink_url": "https://county.example/events",
                                                              "uplink_profile": "json", "uplink_secret": SECRET})
    assert result["type"] == "create_entry"  # https: no warning step
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, "uplink_unencrypted") is None


async def _decisions_upstream(receiver: ReferenceReceiver, count: int) -> list[dict]:
    decisions: list[dict] = []
    for _ in range(200):
        decisions = [e["event"] for e in await fetch_received(receiver.url, READ_TOKEN)
                     if e["event"].get("type") == "decision"]
        if len(decisions) >= count:
            return decisions
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} decision(s) never reached the receiver: {decisions}")


def _rename_door(hass: HomeAssistant, identifier: str, name: str) -> None:
    """As a manager does on the door's device page (Rename)."""
    registry = dr.async_get(hass)
    device = next(d for entry in hass.config_entries.async_entries(DOMAIN)
                  for d in dr.async_entries_for_config_entry(registry, entry.entry_id)
                  if (DOMAIN, identifier) in d.identifiers)
    registry.async_update_device(device.id, name_by_user=name)


async def test_a_door_renamed_in_home_assistant_is_named_so_upstream_from_then_on(
    hass: HomeAssistant, community_entry: MockConfigEntry, simulator: DoorControllerSim, receiver: ReferenceReceiver
) -> None:
    """The uplink sends each decision's door name beside its id: the hub's name, then, after the manager renames
    the door's device in Home Assistant, the new one (the events already sent keep theirs); with places' names
    turned off in the uplink's options (audited), ids only."""
    result = await _options(hass, community_entry, "uplink", {"uplink_url": receiver.url, "uplink_profile": "json",
                                                              "uplink_secret": SECRET})
    assert result["type"] == "create_entry" and "door_name" not in community_entry.options["withheld_fields"]
    await hass.async_block_till_done()
    await hass.services.async_call(DOMAIN, "add_resident", {"resident_id": "r-001", "full_name": "Li Wei"},
                                   blocking=True)
    await hass.services.async_call(DOMAIN, "add_card", {"resident_id": "r-001", "card_number": "12345678"},
                                   blocking=True)
    await hass.services.async_call(DOMAIN, "add_access_rule", {"rule_id": "all", "name": "All",
                                                               "doors": ["lock.simdc0042_door_1"], "everyone": True},
                                   blocking=True)
    simulator.swipe_card(0, 12345678)
    (first,) = await _decisions_upstream(receiver, 1)
    assert (first["door"], first["door_name"]) == ("SIMDC0042-door0", "SIMDC0042 door 1")

    _rename_door(hass, "SIMDC0042-door0", "North gate")
    await hass.async_block_till_done()  # the names reach the hub
    simulator.swipe_card(0, 12345678)
    earlier, later = await _decisions_upstream(receiver, 2)
    assert earlier["door_name"] == "SIMDC0042 door 1"  # as it was when it happened
    assert (later["door"], later["door_name"]) == ("SIMDC0042-door0", "North gate")

    result = await _options(hass, community_entry, "uplink", {"uplink_url": receiver.url, "uplink_profile": "json",
                                                              "place_names_upstream": False})
    assert result["type"] == "create_entry" and community_entry.options["withheld_fields"] == ["door_name"]
    assert "place_names_upstream" not in community_entry.options and community_entry.options["uplink_secret"] == SECRET
    await hass.async_block_till_done()  # the reload the new options started
    journal = community_entry.runtime_data.uplink.journal
    entries = await hass.async_add_executor_job(lambda: journal.audit.entries(after_seq=0, limit=100))
    assert [e.details for e in entries if e.action == "uplink.place_names"] == [{"upstream": False}]
    simulator.swipe_card(0, 12345678)
    *_, last = await _decisions_upstream(receiver, 3)
    assert last["door"] == "SIMDC0042-door0" and "door_name" not in last


async def test_before_the_first_answer_the_uplink_shows_neither_unknown_nor_disconnected(
    hass: HomeAssistant, community_entry: MockConfigEntry, socket_enabled: None
) -> None:
    """While the platform has not answered yet (a platform on loopback that accepts the connection and says
    nothing), the Overview shows no "Disconnected" and no "Unknown": the uplink's connectivity and last success are
    unavailable, the backlog and the oldest unsent age are figures; the online rates are figures too."""
    held: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # read nothing, answer nothing (the hub's request times out after 15 s)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        result = await _options(hass, community_entry, "uplink", {"uplink_url": f"http://127.0.0.1:{port}",
                                                                  "uplink_profile": "json", "uplink_secret": SECRET})
        assert result["type"] == "create_entry"
        await hass.async_block_till_done()
        for _ in range(200):  # the controller's status change is journalled and its request is on the wire
            if held:
                break
            await asyncio.sleep(0.05)
        assert held, "the hub never connected to the platform"
        assert hass.states.get("binary_sensor.test_garden_uplink").state == "unavailable"
        assert hass.states.get("sensor.test_garden_uplink_last_success").state == "unavailable"
        assert hass.states.get("sensor.test_garden_uplink_backlog").state.isdigit()
        assert hass.states.get("sensor.test_garden_oldest_unsent_event").state.isdigit()
        for sensor in ("sensor.test_garden_device_online_rate_today", "sensor.test_garden_device_online_rate_this_week",
                       "sensor.test_garden_enrolled_faces", "sensor.test_garden_open_alarms"):
            state = hass.states.get(sensor)
            assert state is not None and state.state not in ("unknown", "unavailable"), (sensor, state)
        # People, not templates: named so (the Residents tab's column says "Face templates").
        assert hass.states.get("sensor.test_garden_enrolled_faces").name == "Test Garden People enrolled"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
