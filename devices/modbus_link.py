"""One serialised Modbus TCP connection with self-healing reconnects, shared by every Modbus driver."""

from __future__ import annotations

import asyncio
import logging
import struct
import time

from . import _pymodbus as mb
from .exceptions import (
    DeviceConnectionError,
    DeviceError,
    DeviceOutcomeUnknownError,
    DeviceProtocolError,
    DeviceTimeoutError,
)

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT = 502
DEFAULT_TIMEOUT = 2.0
BACKOFF_INITIAL = 0.2
BACKOFF_MAX = 10.0

_EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "device failure (door locked down?)",
    6: "device busy",
}
_WRITE_FUNCTIONS = frozenset({5, 6, 15, 16})


class _ConnectionLostError(Exception):
    """The device closed the connection before answering."""


async def _abandon(request: asyncio.Future[object]) -> None:
    """Cancel a pymodbus request and wait until it has stopped (3.13 turns the cancellation into its own error)."""
    request.cancel()
    await asyncio.wait({request})
    if not request.cancelled():
        request.exception()  # retrieved, so asyncio does not log it


class ModbusLink:
    """One serialised Modbus TCP connection with self-healing reconnects.

    Shared by every driver that speaks Modbus (hub-native controllers, generic I/O modules): it turns pymodbus'
    results and errors into the device layer's exceptions and never lets a half-broken connection linger.
    """

    def __init__(
        self, host: str, port: int = DEFAULT_PORT, *, unit_id: int = 1, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.host = host
        self.port = port
        self.unit_id = unit_id
        self._timeout = timeout
        self._client: mb.AsyncModbusTcpClient | None = None
        self._recorder = mb.PacketRecorder()
        self._lock = asyncio.Lock()
        self._backoff = 0.0
        self._next_attempt = 0.0

    @property
    def connected(self) -> bool:
        """Whether the TCP connection is up right now."""
        return self._client is not None and self._client.connected

    async def _ensure_connected(self) -> mb.AsyncModbusTcpClient:
        if self._client is not None and self._client.connected:
            return self._client
        now = time.monotonic()
        if now < self._next_attempt:
            raise DeviceConnectionError(
                f"{self.host}:{self.port} is unreachable; next attempt in {self._next_attempt - now:.1f} s"
            )
        await self._drop()
        client = mb.make_client(self.host, self.port, self._timeout, self._recorder)
        try:
            ok = await asyncio.wait_for(client.connect(), self._timeout)
        except (TimeoutError, OSError) as err:
            ok = False
            _LOGGER.debug("connect to %s:%s failed: %s", self.host, self.port, err)
        if not ok:
            client.close()
            self._backoff = min(BACKOFF_MAX, max(BACKOFF_INITIAL, self._backoff * 2))
            self._next_attempt = time.monotonic() + self._backoff
            raise DeviceConnectionError(f"cannot connect to {self.host}:{self.port}")
        self._backoff = 0.0
        self._next_attempt = 0.0
        self._client = client
        return client

    async def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def close(self) -> None:
        """Close the connection; the next request opens a new one."""
        async with self._lock:
            await self._drop()
            self._next_attempt = 0.0

    async def _call(
        self, what: str, function_code: int, method: str, *args: object, answer_size: int,
        byte_count: int | None = None, **kwargs: object,
    ) -> mb.ModbusPDU:
        """Send one request; return the answer, checked to be one well-formed frame answering this request.

        pymodbus checks little of an answer (3.8 hands the client whatever PDU arrives next; both 3.8 and 3.13
        decode register answers by their byte count whatever data follows, ignore the byte count of bit answers,
        and 3.13 reads a write's echo from its first four bytes), so the link checks the raw frame itself
        (:func:`frame_problem`): ``answer_size`` is the PDU size (function code included) of a proper answer and
        ``byte_count`` the byte count it carries, if any. On anything malformed it drops the connection: after a
        bad frame the byte stream can no longer be trusted to be in step.

        Nothing is ever sent twice. A write that left for the device without a trustworthy answer (the connection
        dropped, the answer timed out or was malformed) raises :class:`DeviceOutcomeUnknownError`: the device may
        have applied it (a door released), so re-sending it could apply it twice, and only the caller can decide
        what to do about it.
        """
        async with self._lock:
            client = await self._ensure_connected()
            recorder = self._recorder
            recorder.reset()
            try:
                result = await self._exchange(client, method, *args, **kwargs)
            except asyncio.CancelledError:
                # The caller gave up (Home Assistant stopping, an unload): the answer may still come, and would
                # then be read as the answer to the next request. A new connection starts in step.
                await self._drop()
                raise
            except TimeoutError as err:
                await self._drop()
                raise self._failure(function_code, what, "no answer in time", DeviceTimeoutError(
                    f"{self.host}:{self.port} did not answer {what} in time"
                )) from err
            except _ConnectionLostError as err:
                await self._drop()
                raise self._failure(function_code, what, "the device closed the connection before answering",
                                    DeviceConnectionError(
                                        f"{self.host}:{self.port} closed the connection during {what}"
                                    )) from err
            except (mb.ModbusException, OSError, ValueError, AttributeError, TypeError, IndexError,
                    struct.error) as err:
                # pymodbus raises a mix of these for dropped links and garbage frames; the connection is
                # no longer trustworthy either way.
                await self._drop()
                raise self._failure(function_code, what, f"failed: {err}", DeviceConnectionError(
                    f"{self.host}:{self.port} {what} failed: {err}"
                )) from err
            problem = frame_problem(recorder.last_sent, recorder.last_received, function_code, answer_size,
                                    byte_count)
            if problem is None and result.transaction_id != recorder.sent_transaction_id:
                problem = f"answer to another request (transaction {result.transaction_id})"
            if problem is not None:
                await self._drop()
                raise self._failure(function_code, what, problem, DeviceProtocolError(
                    f"{self.host}:{self.port} {what}: {problem}"
                ))
        if result.isError():
            code = getattr(result, "exception_code", 0)
            raise DeviceProtocolError(
                f"{self.host}:{self.port} refused {what}: exception {code} ({_EXCEPTION_NAMES.get(code, 'unknown')})"
            )
        return result

    def _failure(self, function_code: int, what: str, problem: str, otherwise: DeviceError) -> DeviceError:
        """The error for a failed exchange: :class:`DeviceOutcomeUnknownError` if it was a write that may have
        reached the device (pymodbus handed its frame to the connection), ``otherwise`` for a read or a write that
        never left."""
        if function_code in _WRITE_FUNCTIONS and self._recorder.last_sent:
            return self._outcome_unknown(what, problem)
        return otherwise

    def _outcome_unknown(self, what: str, problem: str) -> DeviceOutcomeUnknownError:
        return DeviceOutcomeUnknownError(
            f"{self.host}:{self.port} {what}: outcome unknown ({problem}); the device may have applied it, and it"
            " is not sent again"
        )

    async def _exchange(self, client: mb.AsyncModbusTcpClient, method: str, *args: object,
                        **kwargs: object) -> mb.ModbusPDU:
        """Run one pymodbus request, bounded by the timeout, and give up at once if the device hangs up first.

        pymodbus leaves a request whose connection was closed waiting for its timeout; a device that hangs up
        without answering has answered nothing, so the link stops waiting when the connection drops before a PDU
        was decoded.
        """
        recorder = self._recorder
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        request = asyncio.ensure_future(getattr(client, method)(*args, **kwargs, **mb.unit_kwargs(self.unit_id)))
        lost = asyncio.ensure_future(recorder.lost.wait())
        gave_up: type[Exception] = TimeoutError
        try:
            await asyncio.wait({request, lost}, timeout=self._timeout, return_when=asyncio.FIRST_COMPLETED)
            if not request.done() and lost.done():
                if recorder.answered:
                    # The answer arrived just before the hang-up; pymodbus is still handing it over.
                    await asyncio.wait({request}, timeout=max(0.0, deadline - loop.time()))
                else:
                    gave_up = _ConnectionLostError
        except BaseException:  # cancelled from outside: leave nothing running
            lost.cancel()
            await _abandon(request)
            raise
        lost.cancel()
        if not request.done():
            await _abandon(request)
            raise gave_up
        result: mb.ModbusPDU = request.result()
        return result

    async def _malformed(self, what: str, problem: str) -> DeviceProtocolError:
        await self.close()
        return DeviceProtocolError(f"{self.host}:{self.port} {what}: {problem}")

    async def _read_registers(self, kind: str, function_code: int, method: str, address: int, count: int) -> list[int]:
        what = f"reading {kind} {address}+{count}"
        result = await self._call(what, function_code, method, address, count=count, answer_size=2 + 2 * count,
                                  byte_count=2 * count)
        registers = list(getattr(result, "registers", []))
        if len(registers) != count:
            raise await self._malformed(what, f"device sent {len(registers)} registers, expected {count}")
        return [int(r) & 0xFFFF for r in registers]

    async def _read_bits(self, kind: str, function_code: int, method: str, address: int, count: int) -> list[bool]:
        what = f"reading {kind} {address}+{count}"
        expected_bytes = (count + 7) // 8
        result = await self._call(what, function_code, method, address, count=count, answer_size=2 + expected_bytes,
                                  byte_count=expected_bytes)
        bits = list(getattr(result, "bits", []))
        if len(bits) < count:
            raise await self._malformed(what, f"device sent {len(bits)} bits, expected {count}")
        return [bool(b) for b in bits[:count]]

    async def read_input_registers(self, address: int, count: int) -> list[int]:
        """Read ``count`` input registers, checking the answer has exactly that many."""
        return await self._read_registers("input registers", 4, "read_input_registers", address, count)

    async def read_holding_registers(self, address: int, count: int) -> list[int]:
        """Read ``count`` holding registers, checking the answer has exactly that many."""
        return await self._read_registers("holding registers", 3, "read_holding_registers", address, count)

    async def read_discrete_inputs(self, address: int, count: int) -> list[bool]:
        """Read ``count`` discrete inputs."""
        return await self._read_bits("inputs", 2, "read_discrete_inputs", address, count)

    async def read_coils(self, address: int, count: int) -> list[bool]:
        """Read ``count`` coils."""
        return await self._read_bits("coils", 1, "read_coils", address, count)

    async def write_register(self, address: int, value: int) -> None:
        """Write one holding register and wait for the device's acknowledgement (an echo of exactly that)."""
        what = f"writing register {address}"
        result = await self._call(what, 6, "write_register", address, value, answer_size=5)
        echo = list(getattr(result, "registers", []))
        if getattr(result, "address", None) != address or echo[:1] != [value]:
            await self.close()
            raise self._outcome_unknown(what, f"acknowledged {getattr(result, 'address', None)}={echo[:1]}")

    async def write_coil(self, address: int, value: bool) -> None:
        """Write one coil and wait for the device's acknowledgement (an echo of exactly that)."""
        what = f"writing coil {address}"
        result = await self._call(what, 5, "write_coil", address, value, answer_size=5)
        echo = [bool(b) for b in list(getattr(result, "bits", []))[:1]]
        if getattr(result, "address", None) != address or echo != [value]:
            await self.close()
            raise self._outcome_unknown(what, f"acknowledged {getattr(result, 'address', None)}={echo}")


def frame_problem(
    sent: bytes, received: bytes, function_code: int, answer_size: int, byte_count: int | None = None
) -> str | None:
    """What is wrong with ``received`` as the Modbus TCP answer to the request frame ``sent`` (``None``: nothing).

    A proper answer is exactly one frame: the request's transaction id, protocol id 0, an MBAP length that covers
    the rest of the frame, the request's function code, and either ``answer_size`` bytes of PDU (with
    ``byte_count`` in its second byte, for reads) or a two-byte exception PDU.
    """
    if len(received) < 9:
        return f"no complete answer frame ({len(received)} bytes)"
    if received[:2] != sent[:2]:
        return f"answer to another request (transaction {int.from_bytes(received[:2], 'big')})"
    if received[2:4] != b"\0\0":
        return f"answer with protocol id {int.from_bytes(received[2:4], 'big')}"
    length = int.from_bytes(received[4:6], "big")
    if 6 + length != len(received):
        return f"MBAP length {length} disagrees with the {len(received)}-byte frame"
    pdu = received[7:]
    if (pdu[0] & 0x7F) != function_code:
        return f"answer with function code {pdu[0]}, expected {function_code}"
    if pdu[0] & 0x80:
        return None if len(pdu) == 2 else f"exception answer of {len(pdu)} bytes"
    if len(pdu) != answer_size:
        return f"answer of the wrong size ({len(pdu)} bytes, expected {answer_size})"
    if byte_count is not None and pdu[1] != byte_count:
        return f"answer with byte count {pdu[1]}, expected {byte_count}"
    return None


class ModbusDevice:
    """A device reached over one :class:`ModbusLink`: its address and connection state, for every driver."""

    link: ModbusLink

    @property
    def host(self) -> str:
        """Host name or address of the device."""
        return self.link.host

    @property
    def port(self) -> int:
        """TCP port of the device."""
        return self.link.port

    @property
    def connected(self) -> bool:
        """Whether the TCP connection is up right now."""
        return self.link.connected

    async def close(self) -> None:
        """Close the connection; the next request opens a new one."""
        await self.link.close()
