"""Every pymodbus-specific name and behaviour the project relies on, in one place.

Supported: ``pymodbus>=3.8.3,<4``. Home Assistant 2025.4.4 pins 3.8.3 and 2026.10.4 pins 3.13.1; 3.9.2, 3.10.0,
3.11.4, 3.12.1 and 3.16.1 were checked as well. pymodbus renames things between minor releases, so this module
detects every difference by feature (what the installed pymodbus has), not by its version string, and nothing
else in the project imports pymodbus:

* the client keyword for the unit: ``slave=`` (3.8-3.9) or ``device_id=`` (3.10 on): :func:`unit_kwargs`;
* how the server reaches the datastore (:data:`SERVER_SHAPE`): through a per-unit context with one-based data
  blocks, from each request's ``update_datastore(context)`` (3.8-3.11); through per-unit contexts that answer
  ``ExcCodes``, from ``datastore_update(context, device_id)`` (3.12); or through a
  :class:`pymodbus.simulator.SimDevice`, into which the server converts the old contexts, never calling their
  blocks' methods (3.13 on). Simulators describe their tables once as a :class:`SimDatastore`, and
  :func:`make_server` builds whichever the installed pymodbus serves;
* how a datastore refuses a request: 3.8-3.11 answer an exception raised by the datastore with function code
  0x80, so the requests are wrapped to answer with their own function code; later releases take an exception
  code from the datastore;
* binding the listener: 3.8 logs a failed bind and carries on, 3.13 raises ``RuntimeError``; :func:`start_server`
  raises ``OSError`` on both;
* ``ModbusDeviceIdentification`` moved from ``pymodbus.device`` to ``pymodbus.pdu.device``.

pymodbus' ``trace_packet``, ``trace_pdu`` and ``trace_connect`` hooks (the same on all of these) give the client's
raw frames and connection losses, so the driver can check what pymodbus skips (:class:`PacketRecorder`).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

from pymodbus import ModbusException
from pymodbus import datastore as _datastore
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.datastore import ModbusServerContext
from pymodbus.pdu import ExceptionResponse, ModbusPDU
from pymodbus.pdu.bit_message import (
    ReadCoilsRequest,
    ReadDiscreteInputsRequest,
    WriteMultipleCoilsRequest,
    WriteSingleCoilRequest,
)
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    ReadInputRegistersRequest,
    WriteMultipleRegistersRequest,
    WriteSingleRegisterRequest,
)
from pymodbus.server import ModbusTcpServer

try:  # pymodbus 3.13
    from pymodbus.pdu.device import ModbusDeviceIdentification  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pymodbus 3.8
    from pymodbus.device import ModbusDeviceIdentification  # type: ignore[import-not-found,no-redef,unused-ignore]

__all__ = [
    "LOGGER_NAME",
    "AsyncModbusTcpClient",
    "ExceptionResponse",
    "ModbusDeviceIdentification",
    "ModbusException",
    "ModbusPDU",
    "ModbusTcpServer",
    "PacketRecorder",
    "SimDatastore",
    "Table",
    "WriteRefusedError",
    "make_client",
    "make_server",
    "start_server",
    "unit_kwargs",
]

#: The logger pymodbus logs to (``pymodbus.logging`` and below).
LOGGER_NAME = "pymodbus"

# Modbus exception codes (the protocol's numbers; pymodbus' names for them change between releases).
ILLEGAL_DATA_ADDRESS = 2
SERVER_DEVICE_FAILURE = 4

# -- client ---------------------------------------------------------------------------------------------------

_UNIT_KEYWORD = "device_id" if "device_id" in inspect.signature(AsyncModbusTcpClient.read_coils).parameters else "slave"


def unit_kwargs(unit_id: int) -> dict[str, Any]:
    """Keyword arguments that address a request to one unit (``slave=`` in 3.8, ``device_id=`` from 3.10 on)."""
    return {_UNIT_KEYWORD: unit_id}


class PacketRecorder:
    """The raw frames of a client's last exchange and its connection state, for checks pymodbus skips.

    ``last_sent`` is the request frame as sent; ``last_received`` is the receive buffer from which pymodbus decoded
    the last answer (snapshotted when pymodbus hands over the decoded PDU, so bytes arriving later do not replace
    it; ``answered`` says whether that happened). A buffer that holds more than exactly one frame means the device
    sent something else as well. ``lost`` is set when the device closes the connection: pymodbus itself leaves a
    pending request waiting for its timeout then.
    """

    def __init__(self) -> None:
        self.last_sent = b""
        self.last_received = b""
        self.answered = False
        self.lost = asyncio.Event()
        self._buffer = b""

    def reset(self) -> None:
        """Forget the last exchange (call before sending a request)."""
        self.last_sent = self.last_received = self._buffer = b""
        self.answered = False

    def trace_packet(self, sending: bool, data: bytes) -> bytes:
        """pymodbus' ``trace_packet`` hook: every frame sent, every receive buffer handed to the decoder."""
        if sending:
            self.last_sent = bytes(data)
        else:
            self._buffer = bytes(data)
        return data

    def trace_pdu(self, sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        """pymodbus' ``trace_pdu`` hook: called right after a PDU was decoded from the buffer last traced."""
        if not sending:
            self.last_received = self._buffer
            self.answered = True
        return pdu

    def trace_connect(self, connected: bool) -> None:
        """pymodbus' ``trace_connect`` hook: the connection came up, or the peer closed it (not on our close)."""
        if connected:
            self.lost.clear()
        else:
            self.lost.set()

    @property
    def sent_transaction_id(self) -> int | None:
        """The MBAP transaction id of the request sent last (``None`` before any)."""
        return int.from_bytes(self.last_sent[:2], "big") if len(self.last_sent) >= 2 else None


def make_client(host: str, port: int, timeout: float, recorder: PacketRecorder) -> AsyncModbusTcpClient:
    """A TCP client that never reconnects or retries by itself: the driver owns reconnection and its backoff."""
    return AsyncModbusTcpClient(
        host,
        port=port,
        timeout=timeout,
        retries=0,
        reconnect_delay=0,
        reconnect_delay_max=0,
        name=f"modbus {host}:{port}",
        trace_packet=recorder.trace_packet,
        trace_pdu=recorder.trace_pdu,
        trace_connect=recorder.trace_connect,
    )


# -- simulated devices (server side) ---------------------------------------------------------------------------

Table = Literal["coils", "discrete_inputs", "holding_registers", "input_registers"]
TABLES: tuple[Table, ...] = ("coils", "discrete_inputs", "holding_registers", "input_registers")
BIT_TABLES: frozenset[Table] = frozenset({"coils", "discrete_inputs"})
_TABLE_OF_FUNCTION: dict[int, Table] = {
    1: "coils", 5: "coils", 15: "coils",
    2: "discrete_inputs",
    3: "holding_registers", 6: "holding_registers", 16: "holding_registers", 22: "holding_registers",
    23: "holding_registers",
    4: "input_registers",
}


class WriteRefusedError(Exception):
    """Raised by a simulated device's datastore to refuse a write; the client sees exception code 4."""


class _AddressError(Exception):
    """A request outside a table; the client sees exception code 2."""


class SimDatastore:
    """A simulated device's four Modbus tables, independent of the pymodbus version that serves them.

    Addresses are zero-based protocol addresses; bits are stored as 0/1. Subclasses override :meth:`read` (to
    compute values when they are read) and :meth:`write` (to act on writes, or refuse them with
    :class:`WriteRefusedError`); requests outside a table are answered with exception code 2 before either is
    called.
    """

    def __init__(self, *, coils: int, discrete_inputs: int, holding_registers: int, input_registers: int) -> None:
        self.tables: dict[Table, list[int]] = {
            "coils": [0] * coils,
            "discrete_inputs": [0] * discrete_inputs,
            "holding_registers": [0] * holding_registers,
            "input_registers": [0] * input_registers,
        }
        if min(len(t) for t in self.tables.values()) < 1:
            raise ValueError("every table needs at least one entry")

    def size(self, table: Table) -> int:
        """How many entries ``table`` has."""
        return len(self.tables[table])

    def contains(self, table: Table, address: int, count: int) -> bool:
        """Whether ``count`` entries from ``address`` all exist."""
        return count >= 1 and address >= 0 and address + count <= self.size(table)

    def read(self, table: Table, address: int, count: int) -> list[int]:
        """The values of ``count`` entries from ``address`` (a Modbus client reads them)."""
        return list(self.tables[table][address : address + count])

    def write(self, table: Table, address: int, values: list[int]) -> None:
        """Store ``values`` from ``address`` (a Modbus client writes them)."""
        self.tables[table][address : address + len(values)] = values

    # What a server calls: range checks first, bits as bools.
    def serve_read(self, table: Table, address: int, count: int) -> list[int] | list[bool]:
        """Answer a client's read (raises :class:`_AddressError` outside the table)."""
        if not self.contains(table, address, count):
            raise _AddressError(f"{table} {address}+{count}")
        values = self.read(table, address, count)
        return [bool(v) for v in values] if table in BIT_TABLES else [int(v) & 0xFFFF for v in values]

    def serve_write(self, table: Table, address: int, values: Sequence[int | bool]) -> None:
        """Apply a client's write (raises :class:`_AddressError` outside the table, or :class:`WriteRefusedError`)."""
        if not self.contains(table, address, len(values)):
            raise _AddressError(f"{table} {address}+{len(values)}")
        self.write(table, address, [int(v) for v in values])


# How the installed pymodbus' server reaches its datastore, checked on the classes themselves:
# * "context" (3.8-3.11): each request's ``update_datastore(context)`` asks the addressed unit's context
#   (``validate``, then ``getValues``/``setValues``); a datastore exception is answered with function code 0x80;
# * "context-codes" (3.12): each request's ``datastore_update(server_context, device_id)`` asks the unit's context
#   through the server context, and the context answers a list of values or an exception code (``ExcCodes``);
# * "sim-device" (3.13 on): the server turns every context into a ``SimDevice``, whose data blocks no longer have
#   ``getValues``; a SimDevice ``action`` sees every request first and may answer an exception code.
_DEVICE_CONTEXT: Any = (getattr(_datastore, "ModbusDeviceContext", None)
                       or getattr(_datastore, "ModbusSlaveContext", None))
if hasattr(ModbusPDU, "update_datastore"):
    SERVER_SHAPE: Literal["context", "context-codes", "sim-device"] = "context"
elif hasattr(_DEVICE_CONTEXT, "getValues"):
    SERVER_SHAPE = "context-codes"
else:
    SERVER_SHAPE = "sim-device"


class _UnitContext:
    """The per-unit context pymodbus 3.8 asks (its ``ModbusSlaveContext`` interface), backed by a SimDatastore.

    Addresses arrive zero-based here (the stock context adds 1 for its one-based data blocks; this one has none).
    """

    def __init__(self, store: SimDatastore) -> None:
        self._store = store

    def reset(self) -> None:
        """Part of the interface; a simulator resets itself."""

    def validate(self, fc_as_hex: int, address: int, count: int = 1) -> bool:
        return self._store.contains(_TABLE_OF_FUNCTION[fc_as_hex], address, count)

    def getValues(self, fc_as_hex: int, address: int, count: int = 1) -> list[int] | list[bool]:  # noqa: N802
        return self._store.serve_read(_TABLE_OF_FUNCTION[fc_as_hex], address, count)

    def setValues(self, fc_as_hex: int, address: int, values: Any) -> None:  # noqa: N802
        new = list(values) if isinstance(values, Sequence) else [values]
        self._store.serve_write(_TABLE_OF_FUNCTION[fc_as_hex], address, new)

    async def async_getValues(self, fc_as_hex: int, address: int, count: int = 1) -> list[int] | list[bool]:  # noqa: N802
        return self.getValues(fc_as_hex, address, count)

    async def async_setValues(self, fc_as_hex: int, address: int, values: Any) -> None:  # noqa: N802
        self.setValues(fc_as_hex, address, values)


class _CodeAnsweringUnitContext(_UnitContext):
    """The per-unit context of pymodbus 3.12, which answers exception codes instead of raising."""

    async def async_getValues(self, fc_as_hex: int, address: int, count: int = 1) -> Any:  # noqa: N802
        try:
            return self.getValues(fc_as_hex, address, count)
        except _AddressError:
            return _exception_code("ILLEGAL_ADDRESS")

    async def async_setValues(self, fc_as_hex: int, address: int, values: Any) -> Any:  # noqa: N802
        try:
            self.setValues(fc_as_hex, address, values)
        except _AddressError:
            return _exception_code("ILLEGAL_ADDRESS")
        except WriteRefusedError:
            return _exception_code("DEVICE_FAILURE")
        return None


def _exception_code(name: str) -> Any:
    """pymodbus' ``ExcCodes`` member (3.12 on), which its requests recognise by type."""
    return getattr(importlib.import_module("pymodbus.constants").ExcCodes, name)


def _answering_like_a_device(request_class: type[ModbusPDU]) -> type[ModbusPDU]:
    """``request_class`` whose datastore refusals are answered with the request's own function code.

    pymodbus 3.8 answers any exception raised by the datastore with function code 0x80 (no function), which clients
    cannot match to their request; a device answers with the request's function code and exception code 2 (no such
    address; 3.8 does not check the range of bit reads itself) or 4 (server device failure).
    """
    base_update: Callable[[ModbusPDU, Any], Awaitable[ModbusPDU]] = request_class.update_datastore  # type: ignore[attr-defined,unused-ignore]

    async def update_datastore(self: ModbusPDU, context: Any) -> ModbusPDU:
        try:
            return await base_update(self, context)
        except _AddressError:
            return ExceptionResponse(self.function_code, ILLEGAL_DATA_ADDRESS)
        except WriteRefusedError:
            return ExceptionResponse(self.function_code, SERVER_DEVICE_FAILURE)

    return type(request_class.__name__, (request_class,), {"update_datastore": update_datastore})


_REQUESTS: list[type[ModbusPDU]] = [
    ReadCoilsRequest, ReadDiscreteInputsRequest, WriteSingleCoilRequest, WriteMultipleCoilsRequest,
    ReadHoldingRegistersRequest, ReadInputRegistersRequest, WriteSingleRegisterRequest, WriteMultipleRegistersRequest,
]


def _context_server(store: SimDatastore, host: str, port: int) -> ModbusTcpServer:
    """pymodbus 3.8-3.12: one unit context, backed by the SimDatastore, for every unit id."""
    unit = _UnitContext(store) if SERVER_SHAPE == "context" else _CodeAnsweringUnitContext(store)
    # The first argument is slaves= in 3.8, devices= later; newer releases type it and know no duck-typed context.
    context = ModbusServerContext(unit, single=True)  # type: ignore[arg-type,unused-ignore]
    if SERVER_SHAPE == "context-codes":
        return ModbusTcpServer(context, address=(host, port))
    return ModbusTcpServer(
        context, address=(host, port), custom_pdu=[_answering_like_a_device(r) for r in _REQUESTS]
    )


def _bits_to_registers(bits: Sequence[int | bool]) -> list[int]:
    """Bits packed 16 to a register, the first bit in bit 0 (pymodbus' simulator layout for bit tables)."""
    return [sum(1 << i for i, bit in enumerate(bits[start : start + 16]) if bit) for start in range(0, len(bits), 16)]


def _sim_device_server(store: SimDatastore, host: str, port: int) -> ModbusTcpServer:
    """pymodbus 3.13 on: a SimDevice whose action reads and writes the SimDatastore on every request."""
    # Untyped on purpose: the simulator's classes and the action's signature differ in every release that has them.
    simulator: Any = importlib.import_module("pymodbus.simulator")
    exc_codes: Any = importlib.import_module("pymodbus.constants").ExcCodes

    async def action(
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> Any:
        # Called before pymodbus reads or writes ``registers`` (the table's image, which the read fills in). For
        # bit tables ``registers`` holds 16 bits each and ``count`` is a number of registers, not bits.
        table = _TABLE_OF_FUNCTION[function_code]
        try:
            if values is not None:
                store.serve_write(table, address, values)
            elif table in BIT_TABLES:
                first = address // 16 - start_address
                base = (address // 16) * 16
                if not store.contains(table, address, 1):
                    raise _AddressError(f"{table} {address}")
                last = min(store.size(table), base + 16 * count)
                bits = store.serve_read(table, base, last - base)
                registers[first : first + count] = _bits_to_registers([*bits, *[False] * (16 * count - len(bits))])
            else:
                registers[address - start_address : address - start_address + count] = store.serve_read(
                    table, address, count
                )
        except _AddressError:
            return exc_codes.ILLEGAL_ADDRESS
        except WriteRefusedError:
            return exc_codes.DEVICE_FAILURE
        return None

    def block(table: Table) -> list[Any]:
        if table in BIT_TABLES:
            return [simulator.SimData(0, values=[False] * store.size(table), datatype=simulator.DataType.BITS)]
        return [simulator.SimData(0, values=[0] * store.size(table), datatype=simulator.DataType.REGISTERS)]

    # id 0: the device answers every unit id, as the 3.8 server context with ``single=True`` does.
    coils, discrete_inputs, holding_registers, input_registers = (block(t) for t in TABLES)
    device = simulator.SimDevice(0, simdata=(coils, discrete_inputs, holding_registers, input_registers),
                                 action=action)
    server: ModbusTcpServer = ModbusTcpServer(device, address=(host, port))
    return server


def make_server(store: SimDatastore, host: str, port: int) -> ModbusTcpServer:
    """A TCP server on ``host:port`` serving ``store`` for every unit id (start it with :func:`start_server`)."""
    if SERVER_SHAPE == "sim-device":
        return _sim_device_server(store, host, port)
    return _context_server(store, host, port)


async def start_server(server: ModbusTcpServer) -> int:
    """Start listening in the background; return the bound port, or raise ``OSError`` if the bind failed."""
    try:
        await server.serve_forever(background=True)
    except RuntimeError as err:  # pymodbus 3.13: "Could not start listen"
        await server.shutdown()
        raise OSError(f"the Modbus server is not listening: {err}") from err
    listener: Any = server.transport
    if listener is None:  # pymodbus 3.8 logs the bind error and carries on; a simulator must not
        await server.shutdown()
        raise OSError("the Modbus server is not listening (is the port already in use?)")
    return int(listener.sockets[0].getsockname()[1])
