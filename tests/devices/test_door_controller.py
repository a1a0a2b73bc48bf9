"""The hub-native door controller driver against the real simulator on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest

from devices.door_controller import DoorController, decode_door_status
from devices.exceptions import DeviceConnectionError, DeviceProtocolError, DeviceValueError
from devices.hub_native_map import MAX_DOORS, CredentialKind, DoorMode
from devkit.sim.door_controller import DoorControllerSim

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
async def sim() -> DoorControllerSim:
    simulator = DoorControllerSim(doors=3, serial="TESTDC0001", model="SIM-DC", firmware=(2, 7))
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def controller(sim: DoorControllerSim) -> DoorController:
    client = DoorController("127.0.0.1", sim.port, timeout=1.0)
    yield client
    await client.close()


async def test_identity(controller: DoorController) -> None:
    """The identity block names the controller and its doors."""
    info = await controller.read_info()
    assert (info.serial, info.model, info.firmware, info.door_count) == ("TESTDC0001", "SIM-DC", "2.7", 3)


async def test_release_unlocks_for_the_asked_time(controller: DoorController, sim: DoorControllerSim) -> None:
    """A release is acknowledged, unlocks only that door, and counts on the controller."""
    await controller.release(1, 7)
    doors = await controller.read_doors()
    assert [d.locked for d in doors] == [True, False, True]
    assert 6 <= doors[1].release_seconds_left <= 7
    assert doors[1].releases == 1
    assert sim.doors[1].release_log[-1][1] == 7
    await controller.relock(1)
    assert (await controller.read_doors())[1].locked


async def test_release_runs_out(sim: DoorControllerSim) -> None:
    """When the release time is over the door relocks by itself (simulated clock)."""
    now = [1000.0]
    sim._clock = lambda: now[0]
    client = DoorController("127.0.0.1", sim.port)
    try:
        await client.release(0, 3)
        assert not (await client.read_doors())[0].locked
        now[0] += 3.01
        assert (await client.read_doors())[0].locked
    finally:
        await client.close()


async def test_inputs_and_reader(controller: DoorController, sim: DoorControllerSim) -> None:
    """Contact, exit button, tamper, presence, barrier and the reader buffer all come through."""
    sim.set_door_open(0, True)
    sim.press_exit(0)
    sim.set_tamper(2, True)
    sim.set_presence(2, True)
    sim.set_barrier(2, True)
    sim.swipe_card(0, 3_000_000_123)
    sim.enter_pin(2, "0042")
    doors = await controller.read_doors()
    assert doors[0].door_open and doors[0].exit_button and not doors[0].tamper
    assert doors[2].tamper and doors[2].presence and doors[2].barrier_open
    assert doors[0].last_credential is not None
    assert doors[0].last_credential.kind is CredentialKind.CARD
    assert doors[0].last_credential.value == "3000000123"
    assert doors[2].last_credential is not None
    assert (doors[2].last_credential.kind, doors[2].last_credential.value) == (CredentialKind.PIN, "0042")
    sim.swipe_card(0, 5)
    assert (await controller.read_doors())[0].credential_sequence == doors[0].credential_sequence + 1


async def test_modes(controller: DoorController, sim: DoorControllerSim) -> None:
    """Lockdown refuses releases with a clear error; free passage holds the door unlocked."""
    await controller.set_mode(0, DoorMode.LOCKDOWN)
    with pytest.raises(DeviceProtocolError, match="exception 4"):
        await controller.release(0, 5)
    assert sim.doors[0].releases == 0
    await controller.set_mode(1, DoorMode.FREE_PASSAGE)
    doors = await controller.read_doors()
    assert doors[0].mode is DoorMode.LOCKDOWN and doors[0].locked
    assert doors[1].mode is DoorMode.FREE_PASSAGE and not doors[1].locked
    await controller.set_held_open_timeout(2, 90)
    assert sim.doors[2].held_open_timeout == 90


async def test_bad_requests_are_refused_before_sending(controller: DoorController, sim: DoorControllerSim) -> None:
    """No such door, or a silly duration: a clear error and nothing written."""
    await controller.read_info()
    with pytest.raises(DeviceValueError, match="door 3 does not exist"):
        await controller.release(3, 5)
    with pytest.raises(DeviceValueError, match="1-3600"):
        await controller.release(0, 0)
    with pytest.raises(DeviceValueError):
        await controller.set_held_open_timeout(0, 99999)
    with pytest.raises(DeviceValueError):
        await controller.set_mode(-1, DoorMode.NORMAL)
    assert all(d.releases == 0 for d in sim.doors)


async def test_link_cut_and_restored(controller: DoorController, sim: DoorControllerSim) -> None:
    """A cut link raises a connection error; the driver reconnects by itself once the device is back."""
    await controller.read_doors()
    await sim.set_link(False)
    await asyncio.sleep(0.05)
    with pytest.raises(DeviceConnectionError):
        await controller.read_doors()
    await sim.set_link(True)
    for _ in range(100):
        try:
            await controller.read_doors()
            break
        except DeviceConnectionError:
            await asyncio.sleep(0.05)
    assert controller.connected
    assert len(await controller.read_doors()) == 3


async def test_many_doors_need_several_reads(sim: DoorControllerSim) -> None:
    """The largest controller (256 doors) is read in several requests, every door in order."""
    big = DoorControllerSim(doors=MAX_DOORS, serial="BIG")
    await big.start()
    client = DoorController("127.0.0.1", big.port)
    try:
        big.set_door_open(200, True)
        doors = await client.read_doors()
        assert [d.index for d in doors] == list(range(MAX_DOORS))
        assert [d.index for d in doors if d.door_open] == [200]
    finally:
        await client.close()
        await big.stop()


def test_decoder_rejects_nonsense() -> None:
    """A status block with an impossible mode, credential kind or PIN length is a protocol error."""
    with pytest.raises(DeviceProtocolError):
        decode_door_status(0, [3 << 6, 0, 0, 0, 0, 0, 0, 0])
    with pytest.raises(DeviceProtocolError):
        decode_door_status(0, [0, 0, 1, 9, 0, 0, 0, 0])
    with pytest.raises(DeviceProtocolError):
        decode_door_status(0, [0, 0, 1, 2, 0, 5, 12, 0])
    with pytest.raises(DeviceProtocolError):
        decode_door_status(0, [0, 0])


async def test_simulator_rejects_bad_setup() -> None:
    """The simulator itself refuses impossible set-ups and inputs."""
    with pytest.raises(ValueError, match="doors"):
        DoorControllerSim(doors=0)
    sim = DoorControllerSim(doors=1)
    with pytest.raises(ValueError, match="door 4"):
        sim.set_door_open(4, True)
    with pytest.raises(ValueError, match="32-bit"):
        sim.swipe_card(0, 2**32)
    with pytest.raises(ValueError, match="PIN"):
        sim.enter_pin(0, "12a4")
