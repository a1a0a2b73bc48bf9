"""Config entries saved by earlier releases are brought up to date when Home Assistant loads them.

Minor version 2: a gate saved with the old default of five frames takes the gates' three, the burst the liveness
limits were set for and the figures in docs/face-verification.md were measured with; a frame count a manager chose
otherwise stays. The community is set up for real (the ``hass`` fixture, its SQLite files, the simulated
controller); nothing is mocked.
"""

from __future__ import annotations

import logging

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_community.const import DOMAIN

LOCK = "lock.simdc0042_door_1"


def _gate(lock: str, frames: int) -> dict[str, object]:
    return {"lock": lock, "camera": "camera.gate_camera", "presence": None, "frames": frames,
            "face_assurance": "face_and_second_factor"}


async def test_gates_on_the_old_five_frame_default_take_three(
    hass: HomeAssistant, init_integration: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN, title="Test Garden", unique_id="community", version=1, minor_version=1,
        data={"kind": "community", "name": "Test Garden"},
        options={"gates": [_gate(LOCK, 5), _gate("lock.simdc0042_door_2", 4)]},
    )
    entry.add_to_hass(hass)
    with caplog.at_level(logging.INFO):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()

    assert entry.minor_version == 2
    assert [g["frames"] for g in entry.options["gates"]] == [3, 4]  # 4 was a manager's choice
    assert entry.options["gates"][0] == {**_gate(LOCK, 5), "frames": 3}  # nothing else moved
    assert "1 gate(s) saved with the old default of five frames now take three" in caplog.text
    # The controller's entry (no gates) was brought to the same version, its options untouched.
    assert init_integration.minor_version == 2
    assert dict(init_integration.options) == {"poll_interval": 100}


async def test_an_entry_from_a_newer_release_is_not_loaded(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain=DOMAIN, title="Test Garden", unique_id="community", version=2,
                            data={"kind": "community", "name": "Test Garden"}, options={"gates": [_gate(LOCK, 5)]})
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.options["gates"][0]["frames"] == 5
