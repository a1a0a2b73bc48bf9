"""HTTP control endpoint for the simulators, for scripts and the demo (``curl`` examples in
``docs/devices-cameras-discovery.md``).

Door controller (:class:`~devkit.sim.door_controller.DoorControllerSim`)::

    GET  /state                        the door controller's snapshot (plus "io_module" and "camera" keys)
    POST /doors/{i}/contact  {"open": bool}
    POST /doors/{i}/exit
    POST /doors/{i}/tamper   {"active": bool}
    POST /doors/{i}/presence {"present": bool}
    POST /doors/{i}/barrier  {"open": bool}
    POST /doors/{i}/card     {"number": int}
    POST /doors/{i}/pin      {"pin": "0123"}
    POST /link               {"up": bool}

I/O module (:class:`~devkit.sim.io_module.IoModuleSim`)::

    POST /io/inputs/{i}      {"on": bool}
    POST /io/link            {"up": bool}

Camera (:class:`~devkit.sim.camera.CameraSim`)::

    POST /camera/scene       {"scene": "person"|"stranger"|"photo"|"phone"|"nobody", "person": name}
    POST /camera/link        {"up": bool}

Every POST answers with the new state (as ``GET /state``); a bad request answers 400 with ``{"error": "..."}``,
a simulator that is not attached 404.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .camera import CameraSim
from .door_controller import DoorControllerSim
from .io_module import IoModuleSim

DOOR_SIM: web.AppKey[DoorControllerSim | None] = web.AppKey("door_sim", DoorControllerSim)
IO_SIM: web.AppKey[IoModuleSim | None] = web.AppKey("io_sim", IoModuleSim)
CAMERA_SIM: web.AppKey[CameraSim | None] = web.AppKey("camera_sim", CameraSim)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _BadRequestError(Exception):
    """A request the control endpoint refuses; becomes a 400 answer."""


class _LookupMissingError(Exception):
    """The request addresses a simulator this endpoint was not given."""


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _state(app: web.Application) -> dict[str, Any]:
    door_sim, io_sim, camera = app[DOOR_SIM], app[IO_SIM], app[CAMERA_SIM]
    state: dict[str, Any] = door_sim.snapshot() if door_sim is not None else {}
    if io_sim is not None:
        state["io_module"] = io_sim.snapshot()
    if camera is not None:
        state["camera"] = camera.snapshot()
    return state


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = json.loads(await request.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise _BadRequestError(f"body is not valid JSON: {err}") from err
    if not isinstance(data, dict):
        raise _BadRequestError("body must be a JSON object")
    return data


def _field(data: dict[str, Any], name: str, kind: type) -> Any:
    if name not in data:
        raise _BadRequestError(f'missing field "{name}"')
    value = data[name]
    # bool is a subclass of int: a number field must not accept true/false, nor a flag field 0/1.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _BadRequestError(f'field "{name}" must be {"a boolean" if kind is bool else kind.__name__}')
    return value


def _index(request: web.Request) -> int:
    raw = request.match_info["index"]
    if not raw.isdigit():
        raise _BadRequestError(f"index {raw!r} is not a number")
    return int(raw)


def _endpoint(func: Callable[[web.Request, dict[str, Any]], Awaitable[None]]) -> Handler:
    """Wrap a command: parse the body, map simulator ``ValueError`` and bad input to 400, answer with state."""

    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            await func(request, await _body(request))
        except _LookupMissingError as err:
            return _error(404, str(err))
        except (_BadRequestError, ValueError) as err:
            return _error(400, str(err))
        return web.json_response(_state(request.app))

    return handler


def _door_sim(request: web.Request) -> DoorControllerSim:
    sim = request.app[DOOR_SIM]
    if sim is None:
        raise _LookupMissingError("no door controller simulator attached")
    return sim


def _io_sim(request: web.Request) -> IoModuleSim:
    sim = request.app[IO_SIM]
    if sim is None:
        raise _LookupMissingError("no I/O module simulator attached")
    return sim


def _camera(request: web.Request) -> CameraSim:
    sim = request.app[CAMERA_SIM]
    if sim is None:
        raise _LookupMissingError("no camera simulator attached")
    return sim


async def _get_state(request: web.Request) -> web.StreamResponse:
    return web.json_response(_state(request.app))


@_endpoint
async def _contact(request: web.Request, data: dict[str, Any]) -> None:
    _door_sim(request).set_door_open(_index(request), _field(data, "open", bool))


@_endpoint
async def _exit(request: web.Request, data: dict[str, Any]) -> None:
    _door_sim(request).press_exit(_index(request))


@_endpoint
async def _tamper(request: web.Request, data: dict[str, Any]) -> None:
    _door_sim(request).set_tamper(_index(request), _field(data, "active", bool))


@_endpoint
async def _presence(request: web.Request, data: dict[str, Any]) -> None:
    _door_sim(request).set_presence(_index(request), _field(data, "present", bool))


@_endpoint
async def _barrier(request: web.Request, data: dict[str, Any]) -> None:
    _door_sim(request).set_barrier(_index(request), _field(data, "open", bool))


@_endpoint
async def _card(request: web.Request, data: dict[str, Any]) -> None:
    _door_sim(request).swipe_card(_index(request), _field(data, "number", int))


@_endpoint
async def _pin(request: web.Request, data: dict[str, Any]) -> None:
    _door_sim(request).enter_pin(_index(request), _field(data, "pin", str))


@_endpoint
async def _link(request: web.Request, data: dict[str, Any]) -> None:
    await _door_sim(request).set_link(_field(data, "up", bool))


@_endpoint
async def _io_input(request: web.Request, data: dict[str, Any]) -> None:
    _io_sim(request).set_input(_index(request), _field(data, "on", bool))


@_endpoint
async def _io_link(request: web.Request, data: dict[str, Any]) -> None:
    await _io_sim(request).set_link(_field(data, "up", bool))


@_endpoint
async def _camera_scene(request: web.Request, data: dict[str, Any]) -> None:
    scene = _field(data, "scene", str)
    person = data.get("person")
    if person is not None and not isinstance(person, str):
        raise _BadRequestError('field "person" must be str')
    _camera(request).set_scene(scene, person)


@_endpoint
async def _camera_link(request: web.Request, data: dict[str, Any]) -> None:
    await _camera(request).set_link(_field(data, "up", bool))


def make_control_app(
    door_sim: DoorControllerSim | None = None,
    *,
    io_sim: IoModuleSim | None = None,
    camera: CameraSim | None = None,
) -> web.Application:
    """An aiohttp application controlling the given simulators (any of them may be left out)."""
    app = web.Application()
    app[DOOR_SIM] = door_sim
    app[IO_SIM] = io_sim
    app[CAMERA_SIM] = camera
    app.router.add_get("/state", _get_state)
    app.router.add_post("/doors/{index}/contact", _contact)
    app.router.add_post("/doors/{index}/exit", _exit)
    app.router.add_post("/doors/{index}/tamper", _tamper)
    app.router.add_post("/doors/{index}/presence", _presence)
    app.router.add_post("/doors/{index}/barrier", _barrier)
    app.router.add_post("/doors/{index}/card", _card)
    app.router.add_post("/doors/{index}/pin", _pin)
    app.router.add_post("/link", _link)
    app.router.add_post("/io/inputs/{index}", _io_input)
    app.router.add_post("/io/link", _io_link)
    app.router.add_post("/camera/scene", _camera_scene)
    app.router.add_post("/camera/link", _camera_link)
    return app


async def start_control_server(
    app: web.Application, host: str = "127.0.0.1", port: int = 0
) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on ``host:port`` (port 0: any free port); returns the runner (``await runner.cleanup()`` to
    stop) and the port it listens on."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    bound = runner.addresses[0]
    return runner, int(bound[1])
