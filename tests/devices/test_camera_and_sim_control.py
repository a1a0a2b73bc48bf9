"""The simulators' HTTP control endpoint (door controller, I/O module and camera), over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from devices.door_controller import DoorController
from devices.hub_native_map import CredentialKind
from devkit.sim.camera import CameraSim
from devkit.sim.control import make_control_app, start_control_server
from devkit.sim.door_controller import DoorControllerSim
from devkit.sim.io_module import IoModuleSim
from hub.faces.paths import shared_faces_dir

COMMUNITY = shared_faces_dir() / "community"


class Control:
    """A small client for the control endpoint."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base

    async def post(self, path: str, body: Any = None, *, status: int = 200) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if isinstance(body, str):
            kwargs["data"] = body  # sent as is, to check how malformed JSON is answered
        elif body is not None:
            kwargs["json"] = body
        async with self.session.post(self.base + path, **kwargs) as resp:
            data: dict[str, Any] = await resp.json()
            assert resp.status == status, data
            return data

    async def state(self) -> dict[str, Any]:
        async with self.session.get(self.base + "/state") as resp:
            assert resp.status == 200
            data: dict[str, Any] = await resp.json()
            return data


@pytest.fixture
async def sims(socket_enabled: None) -> AsyncIterator[tuple[DoorControllerSim, IoModuleSim, CameraSim]]:
    door_sim = DoorControllerSim(doors=2)
    io_sim = IoModuleSim(relays=2, inputs=4)
    camera = CameraSim(COMMUNITY)
    for sim in (door_sim, io_sim, camera):
        await sim.start()
    yield door_sim, io_sim, camera
    for sim in (door_sim, io_sim, camera):
        await sim.stop()


@pytest.fixture
async def control(sims: tuple[DoorControllerSim, IoModuleSim, CameraSim]) -> AsyncIterator[Control]:
    door_sim, io_sim, camera = sims
    runner, port = await start_control_server(make_control_app(door_sim, io_sim=io_sim, camera=camera))
    async with aiohttp.ClientSession() as session:
        yield Control(session, f"http://127.0.0.1:{port}")
    await runner.cleanup()


async def test_door_commands_reach_the_simulator(
    control: Control, sims: tuple[DoorControllerSim, IoModuleSim, CameraSim]
) -> None:
    door_sim, _, _ = sims
    state = await control.state()
    assert state["serial"] == door_sim.serial
    assert state["link_up"] is True
    assert state["io_module"]["inputs"] == [False] * 4
    assert state["camera"]["scene"] == "nobody"

    assert (await control.post("/doors/1/contact", {"open": True}))["doors"][1]["door_open"] is True
    assert (await control.post("/doors/0/exit"))["doors"][0]["exit_button"] is True
    assert (await control.post("/doors/0/tamper", {"active": True}))["doors"][0]["tamper"] is True
    assert (await control.post("/doors/0/presence", {"present": True}))["doors"][0]["presence"] is True
    assert (await control.post("/doors/0/barrier", {"open": True}))["doors"][0]["barrier_open"] is True
    await control.post("/doors/1/card", {"number": 123456})
    await control.post("/doors/0/pin", {"pin": "0123"})

    driver = DoorController("127.0.0.1", door_sim.port, timeout=1.0)
    try:
        doors = await driver.read_doors()
        assert doors[1].last_credential is not None
        assert doors[1].last_credential.kind is CredentialKind.CARD
        assert doors[1].last_credential.value == "123456"
        assert doors[0].last_credential is not None
        assert doors[0].last_credential.value == "0123"
    finally:
        await driver.close()

    assert (await control.post("/link", {"up": False}))["link_up"] is False
    assert (await control.post("/link", {"up": True}))["link_up"] is True


async def test_io_and_camera_commands(
    control: Control, sims: tuple[DoorControllerSim, IoModuleSim, CameraSim]
) -> None:
    _, io_sim, camera = sims
    assert (await control.post("/io/inputs/3", {"on": True}))["io_module"]["inputs"][3] is True
    assert io_sim.inputs[3]
    assert (await control.post("/io/link", {"up": False}))["io_module"]["link_up"] is False
    await control.post("/io/link", {"up": True})
    state = await control.post("/camera/scene", {"scene": "person", "person": "John_Simm"})
    assert (state["camera"]["scene"], state["camera"]["person"]) == ("person", "John_Simm")
    assert camera.person == "John_Simm"
    assert (await control.post("/camera/link", {"up": False}))["camera"]["link_up"] is False
    await control.post("/camera/link", {"up": True})


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/doors/0/contact", {}, 'missing field "open"'),
        ("/doors/0/contact", {"open": "yes"}, 'field "open" must be a boolean'),
        ("/doors/0/card", {"number": True}, 'field "number" must be int'),
        ("/doors/0/card", {"number": -1}, "32-bit"),
        ("/doors/0/pin", {"pin": "12a"}, "1-9 digits"),
        ("/doors/7/tamper", {"active": True}, "does not exist"),
        ("/doors/x/exit", None, "not a number"),
        ("/doors/0/presence", "not json", "not valid JSON"),
        ("/doors/0/presence", [1, 2], "JSON object"),
        ("/link", {"up": 1}, "boolean"),
        ("/io/inputs/9", {"on": True}, "does not exist"),
        ("/camera/scene", {"scene": "ghost"}, "unknown scene"),
        ("/camera/scene", {"scene": "person", "person": 5}, '"person" must be str'),
        ("/camera/scene", {"scene": "person", "person": "Nobody"}, "unknown person"),
    ],
)
async def test_bad_requests_get_400_with_a_clear_error(control: Control, path: str, body: Any, message: str) -> None:
    data = await control.post(path, body, status=400)
    assert message in data["error"]


async def test_missing_simulators_answer_404(socket_enabled: None) -> None:
    runner, port = await start_control_server(make_control_app())
    try:
        async with aiohttp.ClientSession() as session:
            control = Control(session, f"http://127.0.0.1:{port}")
            assert await control.state() == {}
            assert "no door controller" in (await control.post("/link", {"up": True}, status=404))["error"]
            assert "no I/O module" in (await control.post("/io/link", {"up": True}, status=404))["error"]
            assert "no camera" in (await control.post("/camera/link", {"up": True}, status=404))["error"]
    finally:
        await runner.cleanup()
