"""Every pymodbus-specific name the project uses, in one place.

pymodbus 3.10 renames several of these (``slave=`` becomes ``device_id=``, the slave context becomes a device
context); keeping them here means an upgrade touches one module.
"""

from __future__ import annotations

from typing import Any

from pymodbus import ModbusException
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.device import ModbusDeviceIdentification
from pymodbus.pdu import ExceptionResponse, ModbusPDU
from pymodbus.pdu.register_message import WriteSingleRegisterRequest
from pymodbus.server import ModbusTcpServer

__all__ = [
    "AsyncModbusTcpClient",
    "ExceptionResponse",
    "ModbusDeviceIdentification",
    "ModbusException",
    "ModbusPDU",
    "ModbusSequentialDataBlock",
    "ModbusServerContext",
    "ModbusTcpServer",
    "PacketRecorder",
    "WriteRefusedError",
    "last_transaction_id",
    "make_client",
    "make_server",
    "make_server_context",
    "server_port",
    "unit_kwargs",
]


def unit_kwargs(unit_id: int) -> dict[str, Any]:
    """Keyword arguments that address a request to one unit (``device_id`` from pymodbus 3.10 on)."""
    return {"slave": unit_id}


class PacketRecorder:
    """Keeps the last raw frame a client received, for checks pymodbus' decoder skips (bit answers' byte count)."""

    def __init__(self) -> None:
        self.last_received = b""

    def trace(self, sending: bool, data: bytes) -> bytes:
        """pymodbus' ``trace_packet`` hook."""
        if not sending:
            self.last_received = bytes(data)
        return data


def make_client(host: str, port: int, timeout: float, recorder: PacketRecorder) -> AsyncModbusTcpClient:
    """A TCP client that never reconnects by itself: the driver owns reconnection and its backoff."""
    return AsyncModbusTcpClient(
        host,
        port=port,
        timeout=timeout,
        retries=0,
        reconnect_delay=0,
        reconnect_delay_max=0,
        name=f"modbus {host}:{port}",
        trace_packet=recorder.trace,
    )


def last_transaction_id(client: AsyncModbusTcpClient) -> int:
    """The transaction id of the request the client sent last (requests are serialised by the caller)."""
    return int(client.ctx.next_tid)


def make_server_context(
    *,
    coils: ModbusSequentialDataBlock,
    discrete_inputs: ModbusSequentialDataBlock,
    holding: ModbusSequentialDataBlock,
    inputs: ModbusSequentialDataBlock,
) -> ModbusServerContext:
    """A single-unit server context; pymodbus answers every unit id from it."""
    slave = ModbusSlaveContext(co=coils, di=discrete_inputs, hr=holding, ir=inputs)
    return ModbusServerContext(slaves=slave, single=True)


class WriteRefusedError(Exception):
    """Raised by a simulated device's datastore to refuse a write; the client sees exception code 4."""


class _RefusableWriteRegisterRequest(WriteSingleRegisterRequest):
    """Write-single-register handling that answers a refusal the way a device does.

    pymodbus 3.8 answers any exception raised by the datastore with function code 0x80 (no function), which
    clients cannot match to their request; a device answers with the request's own function code and
    exception code 4 (server device failure).
    """

    async def update_datastore(self, context: Any) -> ModbusPDU:
        try:
            result: ModbusPDU = await super().update_datastore(context)
        except WriteRefusedError:
            return ExceptionResponse(self.function_code, ExceptionResponse.SLAVE_FAILURE)
        return result


def make_server(context: ModbusServerContext, host: str, port: int) -> ModbusTcpServer:
    """A TCP server on ``host:port`` whose datastore may refuse register writes with :class:`WriteRefusedError`."""
    return ModbusTcpServer(context, address=(host, port), custom_pdu=[_RefusableWriteRegisterRequest])


def server_port(server: ModbusTcpServer) -> int:
    """The TCP port a listening server was bound to (useful after binding port 0)."""
    listener: Any = server.transport
    if listener is None:  # pymodbus logs the bind error and carries on; a simulator must not
        raise OSError("the Modbus server is not listening (is the port already in use?)")
    return int(listener.sockets[0].getsockname()[1])
