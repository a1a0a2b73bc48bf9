"""The hub's Hikvision barrier client against the simulated camera's ISAPI barrier endpoint (HTTP Digest, real
HTTP on loopback), and against a camera that drops the connection after the command has left."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from devices.anpr.barrier import HikvisionBarrier
from devices.anpr.errors import AnprAuthError
from devices.exceptions import DeviceConnectionError, DeviceOutcomeUnknownError, DeviceProtocolError, DeviceValueError
from devkit.sim.anpr import HikvisionBarrierSim


@pytest.fixture
async def camera(socket_enabled: None) -> AsyncIterator[HikvisionBarrierSim]:
    sim = HikvisionBarrierSim("admin", "cam-pass-123", channels=2)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def test_open_and_close_with_digest(camera: HikvisionBarrierSim, session: aiohttp.ClientSession) -> None:
    barrier = HikvisionBarrier(session, camera.base_url, "admin", "cam-pass-123")
    await barrier.open()
    await barrier.open()  # the second one authenticates up front (next nonce count)
    await barrier.control("close")
    assert [(c.channel, c.mode) for c in camera.commands] == [(1, "open"), (1, "open"), (1, "close")]
    async with session.get(camera.base_url + "/barrier/commands") as resp:
        assert [c["mode"] for c in await resp.json()] == ["open", "open", "close"]
    second = HikvisionBarrier(session, camera.base_url, "admin", "cam-pass-123", channel=2)
    await second.open()
    assert camera.commands[-1].channel == 2


async def test_wrong_password_is_refused_and_nothing_moves(camera: HikvisionBarrierSim,
                                                           session: aiohttp.ClientSession) -> None:
    with pytest.raises(AnprAuthError, match="refused the credentials"):
        await HikvisionBarrier(session, camera.base_url, "admin", "wrong").open()
    assert camera.commands == [] and camera.refused == 1


async def test_a_channel_the_camera_does_not_have(camera: HikvisionBarrierSim, session: aiohttp.ClientSession) -> None:
    with pytest.raises(DeviceProtocolError, match="badXmlContent"):
        await HikvisionBarrier(session, camera.base_url, "admin", "cam-pass-123", channel=5).open()
    assert camera.commands == []


async def test_bad_arguments(session: aiohttp.ClientSession) -> None:
    with pytest.raises(DeviceValueError):
        HikvisionBarrier(session, "ftp://camera", "a", "b")
    with pytest.raises(DeviceValueError):
        HikvisionBarrier(session, "http://camera", "a", "b", channel=0)
    with pytest.raises(DeviceValueError):
        await HikvisionBarrier(session, "http://camera", "a", "b").control("explode")  # type: ignore[arg-type]


async def test_camera_unreachable(session: aiohttp.ClientSession, socket_enabled: None) -> None:
    from devkit.county.broker import free_port

    with pytest.raises(DeviceConnectionError) as info:
        await HikvisionBarrier(session, f"http://127.0.0.1:{free_port()}", "a", "b").open()
    assert not isinstance(info.value, DeviceOutcomeUnknownError)  # nothing was sent: safe to try again


async def test_connection_lost_after_the_command_is_outcome_unknown(session: aiohttp.ClientSession,
                                                                     socket_enabled: None) -> None:
    """A camera that takes the command and never answers: the barrier may have opened; the client says so and
    does not send it again."""
    puts = 0
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        nonlocal puts
        puts += 1
        await request.read()
        await release.wait()  # answers only once the client has given up
        return web.Response(text="late")

    app = web.Application()
    app.router.add_put("/ISAPI/Parking/channels/1/barrierGate", hang)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        port = runner.addresses[0][1]
        with pytest.raises(DeviceOutcomeUnknownError):
            await HikvisionBarrier(session, f"http://127.0.0.1:{port}", "a", "b", timeout_s=0.3).open()
        assert puts == 1
    finally:
        release.set()
        await runner.cleanup()


async def test_the_command_serves_the_barrier(session: aiohttp.ClientSession) -> None:
    """``community-hub sim anpr --format hikvision --barrier``: the hub's client opens it, SIGTERM ends it and
    the summary lists the command."""
    import json
    import signal
    import sys

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devkit.cli", "sim", "anpr", "--format", "hikvision", "--barrier",
        "--username", "admin", "--password", "cam-pass-123",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        first = await asyncio.wait_for(process.stdout.readline(), 60)
        url = json.loads(first)["barrier_url"]
        await HikvisionBarrier(session, url, "admin", "cam-pass-123").open()
        process.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    assert json.loads(out.decode().splitlines()[-1])["barrier_commands"] == [{"channel": 1, "mode": "open"}]
