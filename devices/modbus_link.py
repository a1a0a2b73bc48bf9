"""One serialised Modbus TCP connection with self-healing reconnects, shared by every Modbus driver."""

from __future__ import annotations

import asyncio
import logging
import time

from . import _pymodbus as mb
from .exceptions import DeviceConnectionError, DeviceProtocolError, DeviceTimeoutError

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
        self, what: str, function_code: int, method: str, *args: object, **kwargs: object
    ) -> tuple[mb.ModbusPDU, bytes]:
        """Send one request; return the answer and its raw frame, checked to belong to this request.

        pymodbus 3.8 hands the client whatever answer arrives next, so the link checks it matches what was
        asked (transaction id, function code) and drops the connection on anything malformed: after a bad frame
        the byte stream can no longer be trusted to be in step.
        """
        async with self._lock:
            client = await self._ensure_connected()
            recorder = self._recorder
            recorder.last_received = b""
            try:
                result: mb.ModbusPDU = await asyncio.wait_for(
                    getattr(client, method)(*args, **kwargs, **mb.unit_kwargs(self.unit_id)), self._timeout
                )
            except TimeoutError as err:
                await self._drop()
                raise DeviceTimeoutError(f"{self.host}:{self.port} did not answer {what} in time") from err
            except (mb.ModbusException, OSError, ValueError, AttributeError, TypeError, IndexError) as err:
                # pymodbus raises a mix of these for dropped links and garbage frames; the connection is
                # no longer trustworthy either way.
                await self._drop()
                raise DeviceConnectionError(f"{self.host}:{self.port} {what} failed: {err}") from err
            problem = None
            if result.transaction_id != mb.last_transaction_id(client):
                problem = f"answer to another request (transaction {result.transaction_id})"
            elif (result.function_code & 0x7F) != function_code:
                problem = f"answer with function code {result.function_code}, expected {function_code}"
            if problem is not None:
                await self._drop()
                raise DeviceProtocolError(f"{self.host}:{self.port} {what}: {problem}")
            raw = recorder.last_received
        if result.isError():
            code = getattr(result, "exception_code", 0)
            raise DeviceProtocolError(
                f"{self.host}:{self.port} refused {what}: exception {code} ({_EXCEPTION_NAMES.get(code, 'unknown')})"
            )
        return result, raw

    async def _malformed(self, what: str, problem: str) -> DeviceProtocolError:
        await self.close()
        return DeviceProtocolError(f"{self.host}:{self.port} {what}: {problem}")

    async def _read_registers(self, kind: str, function_code: int, method: str, address: int, count: int) -> list[int]:
        what = f"reading {kind} {address}+{count}"
        result, _raw = await self._call(what, function_code, method, address, count=count)
        registers = list(getattr(result, "registers", []))
        if len(registers) != count:
            raise await self._malformed(what, f"device sent {len(registers)} registers, expected {count}")
        return [int(r) & 0xFFFF for r in registers]

    async def _read_bits(self, kind: str, function_code: int, method: str, address: int, count: int) -> list[bool]:
        what = f"reading {kind} {address}+{count}"
        result, raw = await self._call(what, function_code, method, address, count=count)
        expected_bytes = (count + 7) // 8
        # pymodbus ignores the byte count of bit answers; check it against the raw frame ourselves.
        pdu = raw[7:] if len(raw) >= 9 else b""
        if not pdu or pdu[1] != expected_bytes or len(pdu) != 2 + expected_bytes:
            raise await self._malformed(what, f"bit answer of the wrong size (expected {expected_bytes} bytes)")
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
        result, _raw = await self._call(what, 6, "write_register", address, value)
        echo = list(getattr(result, "registers", []))
        if getattr(result, "address", None) != address or echo[:1] != [value]:
            raise await self._malformed(what, f"acknowledged {getattr(result, 'address', None)}={echo[:1]}")

    async def write_coil(self, address: int, value: bool) -> None:
        """Write one coil and wait for the device's acknowledgement (an echo of exactly that)."""
        what = f"writing coil {address}"
        result, _raw = await self._call(what, 5, "write_coil", address, value)
        echo = [bool(b) for b in list(getattr(result, "bits", []))[:1]]
        if getattr(result, "address", None) != address or echo != [value]:
            raise await self._malformed(what, f"acknowledged {getattr(result, 'address', None)}={echo}")


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
