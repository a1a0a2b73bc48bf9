"""A door release in flight when the link drops: the door is released at most once, never twice.

Real parts on loopback: the real driver (and the controller service on top of it) talks to the real simulator
through :class:`LinkCutter`, a TCP proxy that passes Modbus TCP frames through and, when armed, cuts the link at the
exact moment a release is in flight: after the simulator has applied it but before its answer reaches the driver,
before the request reaches the simulator, or by losing the answer while the connection stays up. The simulator
counts the releases it applied; the proxy counts the release requests the driver sent, over every connection.

The driver and the service are tested together here because it is one scenario: the service is the path every
release of the hub takes.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator, Callable
from enum import Enum

import pytest

from devices import hub_native_map as rmap
from devices.door_controller import DoorController
from devices.exceptions import DeviceConnectionError, DeviceError, DeviceOutcomeUnknownError
from devkit.sim.door_controller import DoorControllerSim
from hub.doors import ControllerService, ReleaseReason

pytestmark = pytest.mark.usefixtures("socket_enabled")

TIMEOUT = 0.5
DOOR = 1


class Cut(Enum):
    """Where :class:`LinkCutter` cuts the link for the next release request."""

    AFTER_APPLIED = "after the simulator applied the release, before its answer reached the driver"
    BEFORE_SENT_ON = "before the request reached the simulator"
    ANSWER_LOST = "the answer is lost; the connection stays up"


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    header = await reader.readexactly(7)
    length = struct.unpack(">H", header[4:6])[0]
    return header + await reader.readexactly(length - 1)


def _is_write(frame: bytes) -> bool:
    """Whether a request frame writes one holding register."""
    return frame[7] == 6


def _is_release(frame: bytes) -> bool:
    """Whether a request frame writes a release time (not a relock) to a door's release register."""
    if not _is_write(frame):
        return False
    address, value = struct.unpack(">HH", frame[8:12])
    offset = address - rmap.DOOR_COMMAND_BASE
    return offset >= 0 and offset % rmap.DOOR_COMMAND_SIZE == rmap.REG_RELEASE and value != 0


class LinkCutter:
    """A Modbus TCP proxy between the driver and the simulator that can cut the link under a release."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self.release_requests = 0  # release requests that came from the driver, over every connection
        self.connections = 0
        self.cut_done = asyncio.Event()
        self._cut: Cut | None = None
        self._when: Callable[[bytes], bool] = _is_release
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def arm(self, cut: Cut, when: Callable[[bytes], bool] = _is_release) -> None:
        """Cut the link at the next request that ``when`` picks (a release, by default), once."""
        self._cut, self._when = cut, when
        self.cut_done.clear()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._writers |= {writer, up_writer}
        cut: Cut | None = None
        try:
            while True:
                request = await _read_frame(reader)
                self.release_requests += _is_release(request)
                cut = None
                if self._cut is not None and self._when(request):
                    cut, self._cut = self._cut, None
                if cut is Cut.BEFORE_SENT_ON:
                    return
                up_writer.write(request)
                await up_writer.drain()
                answer = await _read_frame(up_reader)  # the simulator has handled the request
                if cut is Cut.AFTER_APPLIED:
                    return
                if cut is Cut.ANSWER_LOST:
                    self.cut_done.set()
                    continue
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            for w in (writer, up_writer):
                w.close()
                self._writers.discard(w)
            if cut is not None:
                self.cut_done.set()


@pytest.fixture
async def sim() -> AsyncIterator[DoorControllerSim]:
    simulator = DoorControllerSim(doors=2)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def proxy(sim: DoorControllerSim) -> AsyncIterator[LinkCutter]:
    cutter = LinkCutter(sim.port)
    await cutter.start()
    yield cutter
    await cutter.stop()


@pytest.fixture
async def controller(proxy: LinkCutter) -> AsyncIterator[DoorController]:
    driver = DoorController("127.0.0.1", proxy.port, timeout=TIMEOUT)
    await driver.read_info()
    yield driver
    await driver.close()


def _applied(sim: DoorControllerSim) -> int:
    """How many releases the simulated controller applied to the door (its counter and its log agree)."""
    door = sim.doors[DOOR]
    assert door.releases == len(door.release_log)
    assert sum(d.releases for d in sim.doors) == door.releases  # no other door was released either
    return door.releases


async def _settle(controller: DoorController) -> None:
    """Let anything that might still re-send have its chance: time passes and the driver talks to the device."""
    await asyncio.sleep(2 * TIMEOUT)
    await controller.read_doors()


# How many times the simulator applied the release under each cut. The driver cannot tell BEFORE_SENT_ON from
# AFTER_APPLIED (both are a request sent and a connection closed without an answer), so it reports both as of
# unknown outcome; only a release that never left is reported as not sent (see the test after the next).
APPLIED = {Cut.AFTER_APPLIED: 1, Cut.BEFORE_SENT_ON: 0, Cut.ANSWER_LOST: 1}


@pytest.mark.parametrize("cut", list(Cut), ids=[c.name.lower() for c in Cut])
async def test_a_release_in_flight_is_never_repeated(
    controller: DoorController, sim: DoorControllerSim, proxy: LinkCutter, cut: Cut
) -> None:
    """The driver reports the outcome as unknown, never re-sends the release, and reconnects for the next one."""
    proxy.arm(cut)
    with pytest.raises(DeviceOutcomeUnknownError, match="outcome unknown") as raised:
        await controller.release(DOOR, 3)
    assert "not sent again" in str(raised.value)
    await proxy.cut_done.wait()
    assert _applied(sim) == APPLIED[cut]
    assert proxy.release_requests == 1

    await _settle(controller)  # the driver reconnects by itself on its next request
    assert controller.connected
    assert _applied(sim) == APPLIED[cut]
    assert proxy.release_requests == 1
    assert proxy.connections == 2

    await controller.release(DOOR, 3)
    assert _applied(sim) == APPLIED[cut] + 1
    assert proxy.release_requests == 2
    assert not (await controller.read_doors())[DOOR].locked


async def test_a_release_that_cannot_be_sent_fails_as_not_sent(
    controller: DoorController, sim: DoorControllerSim, proxy: LinkCutter
) -> None:
    """When the link is down before the release, the driver knows it sent nothing: a plain connection error."""
    await proxy.stop()
    await controller.close()
    with pytest.raises(DeviceConnectionError) as raised:
        await controller.release(DOOR, 3)
    assert not isinstance(raised.value, DeviceOutcomeUnknownError)
    assert _applied(sim) == 0


async def test_a_relock_in_flight_is_not_repeated_either(
    controller: DoorController, sim: DoorControllerSim, proxy: LinkCutter
) -> None:
    """Every write is treated alike: a relock whose answer is lost is reported as of unknown outcome too."""
    await controller.release(DOOR, 30)
    proxy.arm(Cut.AFTER_APPLIED, when=_is_write)
    with pytest.raises(DeviceOutcomeUnknownError, match="writing register"):
        await controller.relock(DOOR)
    await proxy.cut_done.wait()
    assert sim.doors[DOOR].locked(sim._clock())
    assert (await controller.read_doors())[DOOR].locked
    assert _applied(sim) == 1


# -- the controller service: the path every release of the hub takes ---------------------------------------------

@pytest.fixture
async def service(controller: DoorController) -> AsyncIterator[ControllerService]:
    svc = ControllerService(controller)
    await svc.poll()
    yield svc
    await svc.close()


@pytest.mark.parametrize("cut", list(Cut), ids=[c.name.lower() for c in Cut])
async def test_the_service_never_repeats_a_release_in_flight(
    service: ControllerService, sim: DoorControllerSim, proxy: LinkCutter, cut: Cut,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The service passes the unknown outcome on, does not retry, and does not count its own release as foreign."""
    proxy.arm(cut)
    with pytest.raises(DeviceOutcomeUnknownError):
        await service.release(DOOR, 3, ReleaseReason.DECISION)
    await proxy.cut_done.wait()
    assert "outcome is unknown" in caplog.text

    for _ in range(3):  # reconnects by itself; the release counter is read again
        with contextlib.suppress(DeviceError):
            await service.poll()
        await asyncio.sleep(TIMEOUT)
    assert _applied(sim) == APPLIED[cut]
    assert proxy.release_requests == 1
    assert service.unrequested_releases == 0
    assert "without a request from this hub" not in caplog.text

    await service.release(DOOR, 3, ReleaseReason.DECISION)
    await service.poll()
    assert _applied(sim) == APPLIED[cut] + 1
    assert proxy.release_requests == 2
    assert service.unrequested_releases == 0
