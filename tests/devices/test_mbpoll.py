"""An independent Modbus master (Debian's ``mbpoll``, built on libmodbus) against the door controller simulator.

This checks the simulator (and so the register map the driver is tested against) from outside pymodbus: identity
and status registers read by another implementation, and a release written by it.

``mbpoll`` numbers references from 1 unless ``-0`` is given; the commands below use ``-0`` so the addresses are
the register map's protocol addresses. It runs as a subprocess while the simulator keeps serving on the event loop.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator

import pytest

from devices import hub_native_map as rmap
from devkit.sim.door_controller import DoorControllerSim
from devkit.sim.io_module import IoModuleSim

MBPOLL = shutil.which("mbpoll")
pytestmark = pytest.mark.skipif(
    MBPOLL is None, reason="mbpoll is not installed (Debian: apt-get install -y mbpoll; make test installs it)"
)


async def _mbpoll(port: int, *options: str, write: tuple[str, ...] = ()) -> str:
    """Run mbpoll once against 127.0.0.1:``port``; ``write`` values make it write instead of read."""
    assert MBPOLL is not None
    process = await asyncio.create_subprocess_exec(
        MBPOLL, "-m", "tcp", "-p", str(port), "-a", "1", "-0", "-1", "-o", "2", *options, "127.0.0.1", *write,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode() + stdout.decode()
    return stdout.decode()


def _values(output: str) -> dict[int, int]:
    """``[ref]: value`` lines of mbpoll's output (0-based references because of ``-0``)."""
    return {int(ref): int(value) for ref, value in re.findall(r"^\[(\d+)\]:\s+(-?\d+)", output, re.MULTILINE)}


@pytest.fixture
async def door_sim(socket_enabled: None) -> AsyncIterator[DoorControllerSim]:
    sim = DoorControllerSim(doors=2, serial="MBPOLL-SIM-01", model="SIM-DC", firmware=(2, 3))
    await sim.start()
    yield sim
    await sim.stop()


async def test_mbpoll_reads_identity_and_status(door_sim: DoorControllerSim) -> None:
    door_sim.set_door_open(1, True)
    door_sim.swipe_card(1, 0x12345678)
    ident = _values(await _mbpoll(door_sim.port, "-t", "3", "-r", "0", "-c", str(rmap.IDENTITY_SIZE)))
    registers = [ident[i] for i in range(rmap.IDENTITY_SIZE)]
    assert registers[0] == rmap.MAP_VERSION
    assert registers[1] == 2
    assert rmap.decode_ascii(registers[rmap.SERIAL_ADDRESS : rmap.SERIAL_ADDRESS + rmap.SERIAL_REGISTERS]) == (
        "MBPOLL-SIM-01"
    )
    assert registers[rmap.FIRMWARE_ADDRESS] == 2 << 8 | 3

    base = rmap.door_status_address(1)
    status = _values(await _mbpoll(door_sim.port, "-t", "3", "-r", str(base), "-c", str(rmap.DOOR_STATUS_SIZE)))
    assert status[base] & rmap.StatusBit.DOOR_OPEN
    assert status[base] & rmap.StatusBit.LOCKED
    assert status[base + 3] == rmap.CredentialKind.CARD
    assert (status[base + 4], status[base + 5]) == (0x1234, 0x5678)


async def test_mbpoll_writes_a_release(door_sim: DoorControllerSim) -> None:
    address = rmap.door_command_address(0) + rmap.REG_RELEASE
    await _mbpoll(door_sim.port, "-t", "4", "-r", str(address), write=("7",))
    door = door_sim.doors[0]
    assert door.releases == 1
    assert [seconds for _, seconds in door.release_log] == [7]
    assert door_sim.snapshot()["doors"][0]["locked"] is False
    readback = _values(await _mbpoll(door_sim.port, "-t", "4", "-r", str(address), "-c", "2"))
    assert 1 <= readback[address] <= 7
    assert readback[address + rmap.REG_MODE] == rmap.DoorMode.NORMAL


async def test_mbpoll_drives_the_io_module_sim(socket_enabled: None) -> None:
    sim = IoModuleSim(relays=4, inputs=4)
    await sim.start()
    try:
        sim.set_input(2, True)
        inputs = _values(await _mbpoll(sim.port, "-t", "1", "-r", "0", "-c", "4"))
        assert [inputs[i] for i in range(4)] == [0, 0, 1, 0]
        await _mbpoll(sim.port, "-t", "0", "-r", "3", write=("1",))
        assert sim.relays == [False, False, False, True]
        assert [(relay, on) for _, relay, on in sim.relay_log] == [(3, True)]
    finally:
        await sim.stop()
