"""The push URLs' secrets never reach a log: real requests to the lane's push URL on Home Assistant's own HTTP
server (the test client of the real ``hass``, whose aiohttp server writes the ``aiohttp.access`` log as Home
Assistant's does) and to the hub's own receiver port (Dahua's fixed paths and its ``/anpr/dahua/<secret>/...``
form), with the access log at INFO and Home Assistant's request logger at DEBUG, captured by ``caplog``."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_community.vehicles import PUSH_PATH
from devices.anpr import BarrierReply, PlateRead
from devices.anpr.redact import install_push_secret_filter, redact_push_paths
from devices.anpr.server import AnprReceiver, PushSource
from devkit.sim.door_controller import DoorControllerSim

from .conftest import wait_for_event
from .test_vehicles_ha import RESIDENT_PLATE, _entity, _push, _record, lane  # noqa: F401


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)


async def test_home_assistants_access_log_shows_the_push_path_without_its_secret(
    hass: HomeAssistant, community_entry: MockConfigEntry, lane: str, simulator: DoorControllerSim,  # noqa: F811
    hass_client_no_auth: object, caplog: pytest.LogCaptureFixture,
) -> None:
    secret = lane.rsplit("/", 1)[1]
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    caplog.set_level(logging.DEBUG, logger="homeassistant.helpers.http")
    client = await hass_client_no_auth()  # type: ignore[operator]
    assert await _push(client, lane, _record(RESIDENT_PLATE, "log-0001")) == 200
    await wait_for_event(hass, _entity(hass, "event", "-vehicle"), "granted")
    wrong = f"{PUSH_PATH}/hikvision/{'w' * 32}"
    assert await _push(client, wrong, _record(RESIDENT_PLATE, "log-0002")) == 404
    await hass.async_block_till_done()
    access = [r for r in caplog.records if r.name == "aiohttp.access"]
    assert any(f"{PUSH_PATH}/hikvision/***" in r.getMessage() for r in access), _logged(caplog)  # still logged
    text = _logged(caplog)
    assert secret not in text and "w" * 32 not in text
    assert RESIDENT_PLATE not in text


async def test_the_hubs_own_receiver_logs_no_request_paths(
    caplog: pytest.LogCaptureFixture, socket_enabled: None,
) -> None:
    secret = "s" * 32

    async def on_read(read: PlateRead) -> BarrierReply:
        return BarrierReply(open=True)

    install_push_secret_filter()
    receiver = AnprReceiver([PushSource(format="dahua", secret=secret, username="dh", password="dh-password")],
                            on_read)
    await receiver.start("127.0.0.1", 0)
    caplog.set_level(logging.DEBUG)
    try:
        async with aiohttp.ClientSession() as session:
            for path in (f"/anpr/dahua/{secret}/NotificationInfo/KeepAlive", "/NotificationInfo/KeepAlive"):
                async with session.post(f"http://127.0.0.1:{receiver.port}{path}", json={}) as resp:
                    assert resp.status == 401  # no Digest: refused, and logged by nobody with its path
    finally:
        await receiver.stop()
    assert secret not in _logged(caplog)
    assert not [r for r in caplog.records if r.name == "aiohttp.access"]


def test_the_redaction_keeps_the_path_and_drops_the_secret() -> None:
    line = ('127.0.0.1 [02/Dec/2026:10:00:00 +0000] "POST /api/smart_community/anpr/vzenith/AbC-123_x?x=1 HTTP/1.1"'
            ' 200 "-" "/anpr/dahua/Zz9/NotificationInfo/TollgateInfo"')
    assert redact_push_paths(line) == (
        '127.0.0.1 [02/Dec/2026:10:00:00 +0000] "POST /api/smart_community/anpr/vzenith/***?x=1 HTTP/1.1"'
        ' 200 "-" "/anpr/dahua/***/NotificationInfo/TollgateInfo"')
    assert redact_push_paths("/NotificationInfo/TollgateInfo") == "/NotificationInfo/TollgateInfo"
