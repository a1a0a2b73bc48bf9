"""The MQTT uplink chosen and configured in the options flow of a real Home Assistant, against a real Mosquitto
(TLS, this hub's client certificate, the ACL) and the county consumer: a card decision reaches the county; files
outside allowlist_external_dirs, a prefix naming another hub and mqtts:// without a client certificate are refused;
plain mqtt:// is stored only after the warning, with a repair issue; secrets and paths stay out of diagnostics."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smart_community.const import DOMAIN
from devkit.county import ConsumerConfig, CountyConsumer
from devkit.county.broker import CONSUMER, ROOT, Mosquitto, Pki, mosquitto_binary
from devkit.sim.door_controller import DoorControllerSim
from hub.uplink import Secret

from .conftest import wait_for_event, wait_for_state

SECRET = "an-mqtt-shared-secret-for-tests-0123456789"


@pytest.fixture
def broker(tmp_path: Path, socket_enabled: None) -> Iterator[Mosquitto]:
    """Debian's mosquitto on loopback (skipped without it, except under CI, where that fails)."""
    binary = mosquitto_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but mosquitto is not installed (scripts/system-packages.sh installs it)")
        pytest.skip("mosquitto is not installed: apt-get install mosquitto (make system-packages)")
    running = Mosquitto(binary, tmp_path / "broker", Pki(tmp_path / "pki"))
    running.start()
    yield running
    running.kill()


@pytest.fixture
async def county(broker: Mosquitto, tmp_path: Path, community_entry: MockConfigEntry) -> AsyncIterator[CountyConsumer]:
    """The county consumer, knowing this community's hub (by its entry's hub id) with SECRET."""
    files = broker.pki.client(CONSUMER)
    consumer = CountyConsumer(ConsumerConfig(
        broker_url=broker.url, hubs={community_entry.data["hub_id"]: Secret(SECRET)}, db_path=tmp_path / "county.db",
        topic_root=ROOT, ca_file=broker.pki.ca_file, client_cert=files.cert, client_key=files.key,
    ))
    await consumer.start()
    await consumer.wait_ready()
    yield consumer
    await consumer.stop()


async def _uplink_step(hass: HomeAssistant, entry: MockConfigEntry, data: dict) -> dict:
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"next_step_id": "uplink"})
    return await hass.config_entries.options.async_configure(flow["flow_id"], data)


async def test_an_mqtt_uplink_configured_in_the_options_flow_delivers_to_the_county(
    hass: HomeAssistant,
    community_entry: MockConfigEntry,
    simulator: DoorControllerSim,
    broker: Mosquitto,
    county: CountyConsumer,
    tmp_path: Path,
    hass_client: ClientSessionGenerator,
) -> None:
    hub_id = community_entry.data["hub_id"]
    files = broker.pki.client(hub_id)
    data = {"uplink_url": broker.url, "uplink_profile": "mqtt", "uplink_secret": SECRET,
            "mqtt_topic_prefix": f"{ROOT}/{{hub_id}}", "ca_file": str(broker.pki.ca_file),
            "client_cert": str(files.cert), "client_key": str(files.key)}
    hass.config.allowlist_external_dirs = set()
    result = await _uplink_step(hass, community_entry, data)
    assert result["errors"] == {"ca_file": "path_not_allowed"}  # not in allowlist_external_dirs
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    result = await _uplink_step(hass, community_entry, {**data, "mqtt_topic_prefix": f"{ROOT}/hub-someone-else"})
    assert result["errors"] == {"mqtt_topic_prefix": "mqtt_prefix_invalid"}
    result = await _uplink_step(hass, community_entry, {**data, "client_cert": "", "client_key": ""})
    assert result["errors"] == {"base": "mqtt_client_cert_required"}
    result = await _uplink_step(hass, community_entry, {**data, "uplink_url": "https://county.example"})
    assert result["errors"] == {"uplink_url": "invalid_mqtt_url"}
    result = await _uplink_step(hass, community_entry, data)
    assert result["type"] == "create_entry"  # mqtts://: no warning step
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, "uplink_unencrypted") is None

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
        decisions = [e["event"] for e in await county.events() if e["event"].get("type") == "decision"]
        if decisions:
            break
        await asyncio.sleep(0.05)
    assert decisions, "the decision never reached the county consumer"
    assert decisions[0]["result"] == "granted" and decisions[0]["hub_id"] == hub_id
    upstream = json.dumps(decisions)
    assert "r-001" not in upstream and "Li Wei" not in upstream and "12345678" not in upstream
    await wait_for_state(hass, "sensor.test_garden_uplink_backlog", "0")
    await wait_for_state(hass, "binary_sensor.test_garden_uplink", "on")
    assert (await county.stats())["hubs"][hub_id] == "online"

    diagnostics = json.dumps(await get_diagnostics_for_config_entry(hass, hass_client, community_entry))
    assert SECRET not in diagnostics and str(files.key) not in diagnostics and str(files.cert) not in diagnostics


async def test_plain_mqtt_is_stored_only_after_the_warning_and_keeps_a_repair_issue(
    hass: HomeAssistant, community_entry: MockConfigEntry
) -> None:
    data = {"uplink_url": "mqtt://broker.county.example:1883", "uplink_profile": "mqtt", "uplink_secret": SECRET,
            "mqtt_topic_prefix": "county/0317/community/{hub_id}"}
    flow = await _uplink_step(hass, community_entry, data)
    assert flow["type"] == "form" and flow["step_id"] == "uplink_unencrypted"
    assert "uplink_url" not in community_entry.options
    result = await hass.config_entries.options.async_configure(flow["flow_id"], {})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "uplink_unencrypted")
    assert issue is not None and issue.translation_placeholders == {"host": "broker.county.example"}
