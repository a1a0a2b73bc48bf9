"""A request its caller cancels (Home Assistant stopping, an entry unloading) leaves the link in step.

The device here is a plain asyncio TCP server speaking Modbus TCP by hand, so that it can answer the first
request late, after the caller has given up, as a busy controller does.
"""

from __future__ import annotations

import asyncio
import struct

import pytest

from devices.modbus_link import ModbusLink


class LateDevice:
    """Answers read-input-registers requests; the first answer comes ``first_delay`` seconds late."""

    def __init__(self, first_delay: float) -> None:
        self.first_delay = first_delay
        self.requests = 0
        self.connections = 0
        self.server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self._writers:
            writer.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        try:
            while True:
                header = await reader.readexactly(7)
                tid, _protocol, length, unit = struct.unpack(">HHHB", header)
                pdu = await reader.readexactly(length - 1)
                self.requests += 1
                number = self.requests
                function, _address, count = struct.unpack(">BHH", pdu[:5])
                assert function == 4
                if number == 1:
                    await asyncio.sleep(self.first_delay)
                data = struct.pack(f">{count}H", *([number] * count))
                answer = struct.pack(">BB", 4, len(data)) + data
                writer.write(struct.pack(">HHHB", tid, 0, len(answer) + 1, unit) + answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def late_device(socket_enabled: None) -> LateDevice:
    device = LateDevice(first_delay=0.3)
    yield device  # type: ignore[misc]
    await device.stop()


async def test_a_cancelled_request_does_not_leave_its_late_answer_for_the_next(late_device: LateDevice) -> None:
    port = await late_device.start()
    link = ModbusLink("127.0.0.1", port, timeout=2.0)
    try:
        request = asyncio.create_task(link.read_input_registers(0, 2))
        for _ in range(100):  # sent and received, not yet answered
            if late_device.requests == 1:
                break
            await asyncio.sleep(0.01)
        assert late_device.requests == 1
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
        assert not link.connected  # the connection that may still carry the late answer is gone
        await asyncio.sleep(0.4)  # the late answer would have arrived by now
        assert await link.read_input_registers(0, 2) == [2, 2]  # the second request's own answer
        assert late_device.connections == 2
    finally:
        await link.close()
