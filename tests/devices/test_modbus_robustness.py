"""Property-based robustness of the Modbus drivers against a misbehaving device.

A raw asyncio TCP server on 127.0.0.1 stands between the driver and a good simulator. Per request it either
forwards to the simulator or answers with something hypothesis makes up: random bytes, truncated frames, wrong
MBAP length fields, wrong transaction ids or function codes, Modbus exception codes, wrong byte counts; and it may
hang up afterwards. The driver must raise a DeviceError subclass (never another exception), must not hang
(its timeout bounds every call), and must work again as soon as the device answers properly.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from devices.door_controller import DoorController
from devices.exceptions import DeviceConnectionError, DeviceError, DeviceOutcomeUnknownError
from devices.io_module import IoModule
from devices.modbus_link import frame_problem
from devkit.sim.door_controller import DoorControllerSim
from devkit.sim.io_module import IoModuleSim

TIMEOUT = 0.3
# A call may take a connect plus a request, each bounded by the timeout; anything far beyond that is a hang.
HANG_LIMIT = 10 * TIMEOUT

# Bounded and without an example database (nothing written into the repository); fixtures are set up once per
# test, not per example, which is what these servers want. 30 examples keep `make test` quick; the long run
# (`make modbus-properties`) sets MODBUS_PROPERTY_EXAMPLES.
PROPERTY_EXAMPLES = int(os.environ.get("MODBUS_PROPERTY_EXAMPLES", "30"))
BOUNDED = settings(
    max_examples=PROPERTY_EXAMPLES, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

Responder = Callable[[bytes], bytes]  # request frame -> bytes to send back


@dataclass
class BadAnswer:
    """What the evil server sends for the next request; ``kind`` and ``detail`` say what it is, in reports."""

    respond: Responder = field(repr=False)
    hang_up: bool
    kind: str = "custom"
    detail: str = ""


class EvilServer:
    """A Modbus TCP man in the middle: forwards to ``upstream_port`` unless told to misbehave."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.bad: BadAnswer | None = None
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                header = await reader.readexactly(7)
                (length,) = struct.unpack(">H", header[4:6])
                request = header + await reader.readexactly(length - 1)
                bad = self.bad
                if bad is not None:
                    writer.write(bad.respond(request))
                    await writer.drain()
                    if bad.hang_up:
                        break
                    continue
                if upstream is None:
                    upstream = await asyncio.open_connection("127.0.0.1", self.upstream_port)
                upstream[1].write(request)
                answer_header = await upstream[0].readexactly(7)
                (answer_length,) = struct.unpack(">H", answer_header[4:6])
                writer.write(answer_header + await upstream[0].readexactly(answer_length - 1))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            if upstream is not None:
                upstream[1].close()
                with contextlib.suppress(ConnectionError):
                    await upstream[1].wait_closed()


def _frame(tid: bytes, unit: int, pdu: bytes, length: int | None = None) -> bytes:
    return tid + b"\0\0" + struct.pack(">HB", len(pdu) + 1 if length is None else length, unit) + pdu


def _plausible_pdu(request: bytes) -> bytes:
    """The PDU a device would answer (zeros for data), so mutations of it get past the first checks."""
    fc = request[7]
    if fc in (1, 2):
        count = struct.unpack(">H", request[10:12])[0]
        return bytes([fc, (count + 7) // 8]) + bytes((count + 7) // 8)
    if fc in (3, 4):
        count = struct.unpack(">H", request[10:12])[0]
        return bytes([fc, count * 2]) + bytes(count * 2)
    return request[7:12]  # writes echo the request


# Read/write function codes whose answers have the same shape as another's.
_COMPATIBLE_FUNCTIONS = frozenset({1, 2, 3, 4, 5, 6, 15, 16, 23})


@st.composite
def bad_answers(draw: st.DrawFn) -> BadAnswer:
    kind = draw(st.sampled_from(
        ["random", "truncated", "length", "function", "exception", "byte_count", "transaction", "compatible"]
    ))
    hang_up = draw(st.booleans())
    if kind == "random":
        junk = draw(st.binary(max_size=40))
        return BadAnswer(lambda request: junk, hang_up, kind, f"junk={junk!r}")
    if kind == "truncated":
        cut = draw(st.integers(min_value=0, max_value=200))

        def truncated(request: bytes) -> bytes:
            full = _frame(request[:2], request[6], _plausible_pdu(request))
            return full[: min(cut, len(full) - 1)]

        return BadAnswer(truncated, hang_up, kind, f"cut={cut}")
    if kind == "length":
        length = draw(st.integers(min_value=0, max_value=0xFFFF))

        def wrong_length(request: bytes) -> bytes:
            pdu = _plausible_pdu(request)
            # The right length (unit id + PDU) would make this a proper answer.
            return _frame(request[:2], request[6], pdu, length if length != len(pdu) + 1 else length + 1)

        return BadAnswer(wrong_length, hang_up, kind, f"length={length}")
    if kind == "function":
        fc = draw(st.integers(min_value=0, max_value=255).filter(lambda f: f not in _COMPATIBLE_FUNCTIONS))
        return BadAnswer(lambda request: _frame(request[:2], request[6], bytes([fc]) + _plausible_pdu(request)[1:]),
                         hang_up, kind, f"fc={fc}")
    if kind == "transaction":
        flip = draw(st.integers(min_value=1, max_value=0xFFFF))
        return BadAnswer(
            lambda request: _frame((int.from_bytes(request[:2], "big") ^ flip).to_bytes(2, "big"), request[6],
                                   _plausible_pdu(request)),
            hang_up, kind, f"flip={flip:#06x}",
        )
    if kind == "compatible":
        other = draw(st.sampled_from(sorted(_COMPATIBLE_FUNCTIONS)))
        return BadAnswer(
            lambda request: _frame(request[:2], request[6],
                                   bytes([other if other != request[7] else 0x10]) + _plausible_pdu(request)[1:]),
            hang_up, kind, f"fc={other}",
        )
    if kind == "exception":
        code = draw(st.integers(min_value=0, max_value=255))
        return BadAnswer(lambda request: _frame(request[:2], request[6], bytes([request[7] | 0x80, code])), hang_up,
                         kind, f"code={code}")
    # byte_count: a read answer whose byte count disagrees with the data that follows (or with the request).
    count = draw(st.integers(min_value=0, max_value=255))
    extra = draw(st.binary(max_size=8))

    def byte_count(request: bytes) -> bytes:
        pdu = _plausible_pdu(request)
        if request[7] in (1, 2, 3, 4):
            wrong = count if count != pdu[1] else (count + 1) % 256
            return _frame(request[:2], request[6], bytes([pdu[0], wrong]) + pdu[2:] + extra)
        # A write's echo cut short.
        return _frame(request[:2], request[6], pdu[:3] + extra[:1])

    return BadAnswer(byte_count, hang_up, "byte_count", f"count={count} extra={extra!r}")


@pytest.fixture
async def door_sim(socket_enabled: None) -> AsyncIterator[DoorControllerSim]:
    sim = DoorControllerSim(doors=3)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def evil(door_sim: DoorControllerSim) -> AsyncIterator[EvilServer]:
    server = EvilServer(door_sim.port)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def controller(evil: EvilServer) -> AsyncIterator[DoorController]:
    driver = DoorController("127.0.0.1", evil.port, timeout=TIMEOUT)
    await driver.read_info()
    yield driver
    await driver.close()


OPERATIONS = ["read_info", "read_doors", "release", "set_mode", "read_coils", "read_discrete_inputs"]


async def _operate(controller: DoorController, operation: str) -> object:
    if operation == "read_info":
        return await controller.read_info()
    if operation == "read_doors":
        return await controller.read_doors()
    if operation == "release":
        await controller.release(1, 3)
        return None
    if operation == "set_mode":
        await controller.relock(2)
        return None
    if operation == "read_coils":
        return await controller.link.read_coils(0, 4)
    return await controller.link.read_discrete_inputs(0, 4)


@BOUNDED
@given(answer=bad_answers(), operation=st.sampled_from(OPERATIONS))
async def test_bad_answers_raise_device_errors_and_the_driver_recovers(
    controller: DoorController, evil: EvilServer, answer: BadAnswer, operation: str
) -> None:
    event(f"answer: {answer.kind}")
    event(f"operation: {operation}")
    evil.bad = answer
    try:
        await asyncio.wait_for(_operate(controller, operation), HANG_LIMIT)
    except DeviceError as err:
        event(f"raised: {type(err).__name__}")
    except TimeoutError:
        pytest.fail(f"{operation} hung on a bad answer")
    # Anything else (pymodbus' own exceptions, struct errors, ...) propagates and fails the example.
    else:
        pytest.fail(f"{operation} accepted a bad answer")
    evil.bad = None
    # The next call may still see the fall-out of the bad exchange (a connection the driver has just dropped),
    # but it must fail cleanly, and the one after it must succeed.
    try:
        await asyncio.wait_for(controller.read_info(), HANG_LIMIT)
    except DeviceError:
        await asyncio.sleep(0.25)  # past the first reconnect backoff
        await asyncio.wait_for(controller.read_info(), HANG_LIMIT)
    assert (await asyncio.wait_for(controller.read_info(), HANG_LIMIT)).serial == "SIMDC0001"


@pytest.fixture
async def raw_garbage_server(socket_enabled: None) -> AsyncIterator[tuple[int, list[bytes]]]:
    """A server that answers every request with the next queued payload and then hangs up."""
    queue: list[bytes] = []
    writers: set[asyncio.StreamWriter] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.add(writer)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.read(260)
            writer.write(queue.pop(0) if queue else b"")
            await writer.drain()
        writer.close()
        writers.discard(writer)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1], queue
    server.close()
    for writer in list(writers):
        writer.close()
    await server.wait_closed()


@BOUNDED
@given(junk=st.binary(max_size=300))
async def test_io_module_driver_survives_random_bytes(raw_garbage_server: tuple[int, list[bytes]],
                                                      junk: bytes) -> None:
    port, queue = raw_garbage_server
    queue[:] = [junk]
    module = IoModule("127.0.0.1", port, relays=4, inputs=4, timeout=TIMEOUT)
    try:
        with pytest.raises(DeviceError):
            await asyncio.wait_for(module.read_inputs(), HANG_LIMIT)
    finally:
        await module.close()


async def test_io_module_driver_recovers_after_garbage(socket_enabled: None) -> None:
    sim = IoModuleSim(relays=2, inputs=2)
    await sim.start()
    evil = EvilServer(sim.port)
    await evil.start()
    module = IoModule("127.0.0.1", evil.port, relays=2, inputs=2, timeout=TIMEOUT)
    try:
        evil.bad = BadAnswer(lambda request: b"\x00\x01garbage", hang_up=False)
        with pytest.raises(DeviceError):
            await module.read_relays()
        evil.bad = None
        sim.set_input(1, True)
        with contextlib.suppress(DeviceError):
            await module.read_inputs()  # may meet the fall-out of the bad exchange
        assert await module.read_inputs() == [False, True]
    finally:
        await module.close()
        await evil.stop()
        await sim.stop()


# pymodbus checks little of an answer: 3.8.3 hands the client whatever PDU arrives next (it never compares the
# answer's transaction id or function code with the request's); both 3.8.3 and 3.13.1 decode a register answer
# as ``(byte count + 1) // 2`` registers whatever else follows, ignore the byte count of bit answers, and 3.13.1
# decodes a write's echo from its first four bytes. ModbusLink checks the raw frame itself (``frame_problem``);
# these pin each check.


async def test_answer_with_another_transaction_id_is_refused(controller: DoorController, evil: EvilServer) -> None:
    evil.bad = BadAnswer(lambda request: _frame(bytes([request[0] ^ 0xFF, request[1]]), request[6],
                                                _plausible_pdu(request)), hang_up=False)
    with pytest.raises(DeviceError):
        await controller.read_doors()


async def test_answer_to_another_function_is_refused(controller: DoorController, evil: EvilServer) -> None:
    # Input registers asked for, holding registers answered.
    evil.bad = BadAnswer(lambda request: _frame(request[:2], request[6], b"\x03" + _plausible_pdu(request)[1:]),
                         hang_up=False)
    with pytest.raises(DeviceError):
        await controller.read_doors()


@pytest.mark.parametrize("answer", [bytes([3, 0, 0, 0]), bytes([9, 0])], ids=["longer", "wrong-count"])
async def test_bit_answer_of_the_wrong_size_is_refused(
    controller: DoorController, evil: EvilServer, answer: bytes
) -> None:
    # 4 coils asked for: the answer should carry byte count 1 and one data byte.
    evil.bad = BadAnswer(lambda request: _frame(request[:2], request[6], bytes([request[7]]) + answer),
                         hang_up=False)
    with pytest.raises(DeviceError):
        await controller.link.read_coils(0, 4)


async def test_write_echo_of_another_value_is_refused(controller: DoorController, evil: EvilServer) -> None:
    # The release of door 1 for 3 s is acknowledged as a write of 0 (relock) to the same register.
    evil.bad = BadAnswer(lambda request: _frame(request[:2], request[6], request[7:10] + b"\0\0"), hang_up=False)
    with pytest.raises(DeviceOutcomeUnknownError):  # the release reached the device: it may have been applied
        await controller.release(1, 3)


@pytest.mark.parametrize(
    ("byte_count", "data"),
    [(23, bytes(24)), (25, bytes(25)), (24, bytes(26)), (48, bytes(24))],
    ids=["odd-count-short", "odd-count-extra-byte", "data-after-count", "count-past-data"],
)
async def test_register_answer_with_a_byte_count_that_disagrees_is_refused(
    controller: DoorController, evil: EvilServer, byte_count: int, data: bytes
) -> None:
    # 12 input registers asked for: byte count 24 and 24 data bytes. pymodbus (3.8.3 and 3.13.1) decodes byte count
    # 25 followed by 25 bytes, and byte count 24 followed by 26, into 12 registers: the link must refuse both.
    evil.bad = BadAnswer(lambda request: _frame(request[:2], request[6], bytes([4, byte_count]) + data),
                         hang_up=False)
    with pytest.raises(DeviceError):
        await controller.link.read_input_registers(0, 12)
    evil.bad = None
    with contextlib.suppress(DeviceError):
        await controller.read_info()
    assert (await controller.read_info()).serial == "SIMDC0001"


@pytest.mark.parametrize("tail", [b"\0", b"\0\0\0\0\0\0\0\1"], ids=["one-byte", "another-frame-header"])
async def test_write_echo_with_bytes_after_it_is_refused(controller: DoorController, evil: EvilServer,
                                                         tail: bytes) -> None:
    # pymodbus 3.13.1 decodes only the first four bytes after the function code of a write's echo.
    evil.bad = BadAnswer(lambda request: _frame(request[:2], request[6], request[7:12] + tail), hang_up=False)
    with pytest.raises(DeviceOutcomeUnknownError):
        await controller.release(1, 3)


def test_frame_problem_accepts_proper_answers() -> None:
    request = _frame(b"\x12\x34", 1, bytes([4, 0, 100, 0, 8]))
    assert frame_problem(request, _frame(b"\x12\x34", 1, bytes([4, 16]) + bytes(16)), 4, 18, 16) is None
    assert frame_problem(request, _frame(b"\x12\x34", 1, bytes([0x84, 2])), 4, 18, 16) is None
    assert frame_problem(request, _frame(b"\x12\x35", 1, bytes([4, 16]) + bytes(16)), 4, 18, 16) is not None
    assert frame_problem(request, _frame(b"\x12\x34", 1, bytes([0x84, 2, 0])), 4, 18, 16) is not None
    assert frame_problem(request, b"\x12\x34\0\1\0\3\1\x84\2", 4, 18, 16) is not None  # protocol id 1


async def test_a_hang_up_without_an_answer_fails_at_once(raw_garbage_server: tuple[int, list[bytes]]) -> None:
    # pymodbus leaves the request waiting for its timeout when the connection closes; the link does not wait.
    port, queue = raw_garbage_server
    queue[:] = [b"\x00\x01\x00"]  # a few bytes of an answer, then the device hangs up
    module = IoModule("127.0.0.1", port, relays=4, inputs=4, timeout=5.0)
    started = asyncio.get_running_loop().time()
    try:
        with pytest.raises(DeviceConnectionError, match="closed the connection"):
            await module.read_inputs()
    finally:
        await module.close()
    assert asyncio.get_running_loop().time() - started < 2.0
