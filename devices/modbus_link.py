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
        client = mb.make_client(self.host, self.port, self._timeout)
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

    async def _call(self, what: str, method: str, *args: object, **kwargs: object) -> mb.ModbusPDU:
        async with self._lock:
            client = await self._ensure_connected()
            try:
                result: mb.ModbusPDU = await asyncio.wait_for(
                    getattr(client, method)(*args, **kwargs, **mb.unit_kwargs(self.unit_id)), self._timeout
                )
            except TimeoutError as err:
                await self._drop()
                raise DeviceTimeoutError(f"{self.host}:{self.port} did not answer {what} in time") from err
            except (mb.ModbusException, OSError, ValueError, AttributeError, TypeError) as err:
                # pymodbus raises a mix of these for dropped links and garbage frames; the connection is
                # no longer trustworthy either way.
                await self._drop()
                raise DeviceConnectionError(f"{self.host}:{self.port} {what} failed: {err}") from err
        if result.isError():
            code = getattr(result, "exception_code", 0)
            raise DeviceProtocolError(
                f"{self.host}:{self.port} refused {what}: exception {code} ({_EXCEPTION_NAMES.get(code, 'unknown')})"
            )
        return result

    async def read_input_registers(self, address: int, count: int) -> list[int]:
        """Read ``count`` input registers, checking the answer has exactly that many."""
        result = await self._call(f"reading input registers {address}+{count}", "read_input_registers",
                                  address, count=count)
        return _checked_registers(result, count, f"input registers {address}+{count}")

    async def read_holding_registers(self, address: int, count: int) -> list[int]:
        """Read ``count`` holding registers, checking the answer has exactly that many."""
        result = await self._call(f"reading holding registers {address}+{count}", "read_holding_registers",
                                  address, count=count)
        return _checked_registers(result, count, f"holding registers {address}+{count}")

    async def read_discrete_inputs(self, address: int, count: int) -> list[bool]:
        """Read ``count`` discrete inputs."""
        result = await self._call(f"reading inputs {address}+{count}", "read_discrete_inputs", address,
                                  count=count)
        bits = list(getattr(result, "bits", []))
        if len(bits) < count:
            raise DeviceProtocolError(f"{self.host}:{self.port} sent {len(bits)} inputs, expected {count}")
        return [bool(b) for b in bits[:count]]

    async def read_coils(self, address: int, count: int) -> list[bool]:
        """Read ``count`` coils."""
        result = await self._call(f"reading coils {address}+{count}", "read_coils", address, count=count)
        bits = list(getattr(result, "bits", []))
        if len(bits) < count:
            raise DeviceProtocolError(f"{self.host}:{self.port} sent {len(bits)} coils, expected {count}")
        return [bool(b) for b in bits[:count]]

    async def write_register(self, address: int, value: int) -> None:
        """Write one holding register and wait for the device's acknowledgement."""
        await self._call(f"writing register {address}", "write_register", address, value)

    async def write_coil(self, address: int, value: bool) -> None:
        """Write one coil and wait for the device's acknowledgement."""
        await self._call(f"writing coil {address}", "write_coil", address, value)


def _checked_registers(result: mb.ModbusPDU, count: int, what: str) -> list[int]:
    registers = list(getattr(result, "registers", []))
    if len(registers) != count:
        raise DeviceProtocolError(f"{what}: device sent {len(registers)} registers, expected {count}")
    return [int(r) & 0xFFFF for r in registers]
