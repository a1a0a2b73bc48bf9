"""The operator's vehicle switches, in the community entry's options flow ("Vehicle rules"), with the real ``hass``:
near-match plates, temporary vehicles, anti-passback, and whether plates and the cameras' pictures go upstream.
Each change takes effect at the lane's next decision (and, for the field policy, in what the county's reference
receiver gets) (a push of the project's Hikvision simulator to the lane's push
URL on Home Assistant's own HTTP server; the barrier is door 2 of the simulated Modbus controller)."""

from __future__ import annotations

import asyncio
import json

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smart_community.const import DOMAIN
from custom_components.smart_community.uplink import field_policy
from custom_components.smart_community.vehicles import EVENT_VEHICLE_PASS, vehicle_runtime
from devkit.receiver import ReferenceReceiver
from devkit.receiver.client import fetch_received
from devkit.sim.door_controller import DoorControllerSim

from .test_uplink import READ_TOKEN, SECRET, receiver  # noqa: F401 - the county's receiver fixture
from .test_vehicles_ha import _add_lane, _push, _record

PLATE = "皖A12345"
NEAR = "皖A1Z345"  # 2 read as Z: one OCR confusion away
UNKNOWN = "皖E77777"
DEFAULTS = {"near_match_opens": False, "temporary": "refuse", "anti_passback": False, "plate_upstream": True,
            "images_upstream": False}


@pytest.fixture
async def lane(hass: HomeAssistant, community_entry: MockConfigEntry) -> str:
    """A resident with a registered car and the north entry lane (door 2 is its barrier): its push path."""
    await hass.services.async_call(DOMAIN, "add_resident", {"resident_id": "r-001", "full_name": "Li Wei"},
                                   blocking=True)
    path = await _add_lane(hass, community_entry)
    await hass.services.async_call(DOMAIN, "add_vehicle", {"resident_id": "r-001", "plate": PLATE}, blocking=True)
    return path


async def _rules(hass: HomeAssistant, entry: MockConfigEntry, data: dict | None = None) -> dict:
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    assert "vehicle_rules" in flow["menu_options"]
    form = await hass.config_entries.options.async_configure(flow["flow_id"], {"next_step_id": "vehicle_rules"})
    if data is None:
        return form
    result = await hass.config_entries.options.async_configure(flow["flow_id"], {**DEFAULTS, **data})
    await hass.async_block_till_done()  # new options reload the entry
    return result


def _shown(form: dict) -> dict:
    """The form's fields and what each shows (its default)."""
    return {str(key): key.default() for key in form["data_schema"].schema if callable(key.default)}


async def test_defaults_refuse_near_matches_and_temporary_vehicles_and_keep_pictures_home(
    hass: HomeAssistant, community_entry: MockConfigEntry, lane: str, simulator: DoorControllerSim,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    form = await _rules(hass, community_entry)
    assert form["step_id"] == "vehicle_rules"
    assert _shown(form) == DEFAULTS
    rules = vehicle_runtime(hass, community_entry.entry_id).service.rules  # type: ignore[union-attr]
    assert (rules.near_match_opens, rules.temporary.value, rules.anti_passback, rules.keep_images) == (
        False, "refuse", False, False)
    assert field_policy(community_entry).withheld == frozenset()

    client = await hass_client_no_auth()
    bus = async_capture_events(hass, EVENT_VEHICLE_PASS)
    assert await _push(client, lane, _record(NEAR, "near-0001")) == 200
    assert await _push(client, lane, _record(UNKNOWN, "unk-0001")) == 200
    await hass.async_block_till_done()
    # The near match is recorded, and refused while the operator has not switched near matches on.
    assert [(e.data["result"], e.data["near_match"], e.data["reason"]) for e in bus] == [
        ("denied", True, "temporary_refused"), ("denied", False, "temporary_refused")]
    assert simulator.doors[1].releases == 0


async def test_a_change_takes_effect_at_the_next_decision_and_is_audited(
    hass: HomeAssistant, community_entry: MockConfigEntry, lane: str, simulator: DoorControllerSim,
    hass_client_no_auth: ClientSessionGenerator, hass_client: ClientSessionGenerator,
) -> None:
    assert await async_setup_component(hass, "diagnostics", {})  # before a test client freezes the HTTP routes
    result = await _rules(hass, community_entry, {
        "near_match_opens": True, "temporary": "allow", "anti_passback": True, "plate_upstream": False,
        "images_upstream": True, "legal_basis": "legal_obligation", "reference": "County order 2026-17"})
    assert result["type"] == "create_entry"
    assert community_entry.state is ConfigEntryState.LOADED
    rules = vehicle_runtime(hass, community_entry.entry_id).service.rules  # type: ignore[union-attr]
    assert (rules.near_match_opens, rules.temporary.value, rules.anti_passback, rules.keep_images) == (
        True, "allow", True, True)
    policy = field_policy(community_entry)
    assert policy.withheld == frozenset({"plate"})
    assert [(o.field, o.legal_basis.value, o.reference) for o in policy.options] == [
        ("vehicle_images", "legal_obligation", "County order 2026-17")]

    client = await hass_client_no_auth()
    bus = async_capture_events(hass, EVENT_VEHICLE_PASS)
    assert await _push(client, lane, _record(NEAR, "near-0002")) == 200  # opens as the registered car would
    await hass.async_block_till_done()
    assert await _push(client, lane, _record(NEAR, "near-0003")) == 200  # already inside: anti-passback
    await hass.async_block_till_done()
    assert await _push(client, lane, _record(UNKNOWN, "unk-0002")) == 200  # a temporary vehicle, let in
    await hass.async_block_till_done()
    assert [(e.data["result"], e.data["near_match"], e.data["reason"]) for e in bus][:2] == [
        ("granted", True, "near_match"), ("denied", True, "anti_passback")]
    assert bus[2].data["result"] == "granted"
    assert simulator.doors[1].releases == 2

    # Recorded as a manager action, with the basis; and the form now shows what is in force.
    journal = community_entry.runtime_data.uplink.journal
    entries = await hass.async_add_executor_job(lambda: journal.audit.entries(after_seq=0, limit=100))
    audited = [e for e in entries if e.action == "vehicles.rules"]
    assert len(audited) == 1
    assert json.loads(json.dumps(audited[0].details))["reference"] == "County order 2026-17"
    assert _shown(await _rules(hass, community_entry)) == {
        "near_match_opens": True, "temporary": "allow", "anti_passback": True, "plate_upstream": False,
        "images_upstream": True}
    diagnostics = json.dumps(await get_diagnostics_for_config_entry(hass, hass_client, community_entry),
                             ensure_ascii=False)
    assert "County order 2026-17" in diagnostics and "legal_obligation" in diagnostics
    for lane_options in community_entry.options["anpr_lanes"]:
        assert lane_options["secret"] not in diagnostics
    assert community_entry.data["community_key"] not in diagnostics

    # Pictures turned off again: the stored basis goes with them.
    result = await _rules(hass, community_entry, {"images_upstream": False})
    assert result["type"] == "create_entry"
    assert field_policy(community_entry).options == ()
    assert vehicle_runtime(hass, community_entry.entry_id).service.rules.keep_images is False  # type: ignore[union-attr]


async def test_pictures_without_a_legal_basis_are_refused_and_nothing_changes(
    hass: HomeAssistant, community_entry: MockConfigEntry, lane: str,
) -> None:
    before = dict(community_entry.options)
    for missing in ({}, {"legal_basis": "consent"}, {"legal_basis": "consent", "reference": "ok"},
                    {"reference": "Consent records 2026"}):
        result = await _rules(hass, community_entry, {"near_match_opens": True, "images_upstream": True, **missing})
        assert result["type"] == "form"
        assert result["errors"] == {"base": "images_legal_basis_required"}
    assert dict(community_entry.options) == before
    rules = vehicle_runtime(hass, community_entry.entry_id).service.rules  # type: ignore[union-attr]
    assert rules.near_match_opens is False and rules.keep_images is False
    journal = community_entry.runtime_data.uplink.journal
    entries = await hass.async_add_executor_job(lambda: journal.audit.entries(after_seq=0, limit=100))
    assert not [e for e in entries if e.action == "vehicles.rules"]


async def test_the_county_gets_the_pass_without_the_plate_and_with_the_pictures_once_allowed(
    hass: HomeAssistant, community_entry: MockConfigEntry, lane: str, simulator: DoorControllerSim,
    receiver: ReferenceReceiver, hass_client_no_auth: ClientSessionGenerator,  # noqa: F811 - the fixture
) -> None:
    flow = await hass.config_entries.options.async_init(community_entry.entry_id)
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"next_step_id": "uplink"})
    flow = await hass.config_entries.options.async_configure(
        flow["flow_id"], {"uplink_url": receiver.url, "uplink_profile": "json", "uplink_secret": SECRET})
    await hass.config_entries.options.async_configure(flow["flow_id"], {})  # plain http:// on loopback: confirmed
    await hass.async_block_till_done()
    result = await _rules(hass, community_entry, {"plate_upstream": False, "images_upstream": True,
                                                  "legal_basis": "consent", "reference": "Consent records 2026"})
    assert result["type"] == "create_entry"

    client = await hass_client_no_auth()
    assert await _push(client, lane, _record(PLATE, "county-0001")) == 200
    passes: list[dict] = []
    for _ in range(200):
        events = await fetch_received(receiver.url, READ_TOKEN)
        passes = [e["event"] for e in events if e["event"].get("type") == "vehicle_pass"]
        if passes:
            break
        await asyncio.sleep(0.05)
    assert len(passes) == 1, f"the pass never reached the county: {events}"
    sent = passes[0]
    assert sent["result"] == "granted" and sent["direction"] == "entry"
    assert "plate" not in sent and PLATE not in json.dumps(sent, ensure_ascii=False)
    assert {image["kind"] for image in sent["vehicle_images"]}  # the simulator's plate crop and scene
