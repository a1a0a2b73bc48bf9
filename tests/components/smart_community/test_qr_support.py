"""QR reading is optional: where the decoder cannot be had (HA OS), a repair says so and gates keep working.

Home Assistant OS and its container run musl Linux, which cannot run here, and zxing-cpp has no musl wheel: the
missing decoder is simulated by making ``zxingcpp`` unimportable, and musl by ``wheel_exists_here`` answering no.
Where a wheel exists, the real install by Home Assistant's installer is exercised by tests/e2e/test_hacs_install.py.
"""

from __future__ import annotations

import asyncio
import sys

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_community import qr_support
from custom_components.smart_community.const import DOMAIN
from custom_components.smart_community.diagnostics import async_get_config_entry_diagnostics
from devkit.sim.door_controller import DoorControllerSim

from .conftest import wait_for_event, wait_for_state


async def _qr_checked(entry: MockConfigEntry) -> None:
    """The check runs as a background task after set-up (async_block_till_done does not wait for those)."""
    for _ in range(200):
        if entry.runtime_data.qr is not None:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the QR decoder was never checked")


async def test_with_the_decoder_no_repair_and_diagnostics_say_so(
    hass: HomeAssistant, community_entry: MockConfigEntry
) -> None:
    await _qr_checked(community_entry)
    assert ir.async_get(hass).async_get_issue(DOMAIN, qr_support.ISSUE_ID) is None
    diagnostics = await async_get_config_entry_diagnostics(hass, community_entry)  # type: ignore[arg-type]
    assert diagnostics["qr_decoder"]["available"] is True
    assert diagnostics["qr_decoder"]["version"]


async def test_without_the_decoder_a_repair_explains_and_cards_still_open_the_door(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: DoorControllerSim,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "zxingcpp", None)  # not installed (see the module docstring)
    monkeypatch.setattr(qr_support, "wheel_exists_here", lambda: False)  # musl: nothing to install
    entry = MockConfigEntry(
        domain=DOMAIN, title="Test Garden", unique_id="community", data={"kind": "community", "name": "Test Garden"}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await _qr_checked(entry)

    issue = ir.async_get(hass).async_get_issue(DOMAIN, qr_support.ISSUE_ID)
    assert issue is not None and issue.severity == ir.IssueSeverity.WARNING and not issue.is_fixable
    assert "no wheel for musl" in issue.translation_placeholders["reason"]

    await hass.services.async_call(DOMAIN, "add_resident", {"resident_id": "r-001", "full_name": "Li Wei"},
                                   blocking=True)
    await hass.services.async_call(DOMAIN, "add_card", {"resident_id": "r-001", "card_number": "12345678"},
                                   blocking=True, return_response=True)
    await hass.services.async_call(DOMAIN, "add_access_rule", {"rule_id": "all", "name": "Everyone",
                                   "doors": ["lock.simdc0042_door_1"], "everyone": True}, blocking=True)
    await wait_for_state(hass, "sensor.test_garden_residents", "1")
    simulator.swipe_card(0, 12345678)
    granted = await wait_for_event(hass, "event.simdc0042_door_1_access", "granted")
    assert granted["credential"] == "card"
    assert simulator.doors[0].releases == 1


async def test_the_repair_clears_once_the_decoder_is_there(
    hass: HomeAssistant, community_entry: MockConfigEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = community_entry.runtime_data
    await _qr_checked(community_entry)
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "zxingcpp", None)
        patch.setattr(qr_support, "wheel_exists_here", lambda: False)
        status = await qr_support.async_ensure_qr_decoder(hass, runtime.community)
    assert not status.available
    assert ir.async_get(hass).async_get_issue(DOMAIN, qr_support.ISSUE_ID) is not None
    status = await qr_support.async_ensure_qr_decoder(hass, runtime.community)
    assert status.available
    assert ir.async_get(hass).async_get_issue(DOMAIN, qr_support.ISSUE_ID) is None


def test_a_wheel_exists_on_glibc_x86_64_and_aarch64_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import platform

    for system, libc, machine, expected in [
        ("Linux", "glibc", "x86_64", True),
        ("Linux", "glibc", "aarch64", True),
        ("Linux", "", "x86_64", False),  # musl: platform.libc_ver() finds no glibc
        ("Linux", "glibc", "armv7l", False),
        ("Darwin", "", "arm64", False),
    ]:
        monkeypatch.setattr(platform, "system", lambda s=system: s)
        monkeypatch.setattr(platform, "libc_ver", lambda lib=libc: (lib, "2.41" if lib else ""))
        monkeypatch.setattr(platform, "machine", lambda m=machine: m)
        assert qr_support.wheel_exists_here() is expected, (system, libc, machine)
