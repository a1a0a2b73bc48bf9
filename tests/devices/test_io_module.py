"""Generic Modbus I/O module driver against its simulator (real Modbus TCP on loopback)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from devices import io_module
from devices.door_controller import DoorController
from devices.exceptions import DeviceConnectionError, DeviceValueError
from devices.hub_native_map import DoorMode
from devices.io_module import DoorMapping, IoDoorController, IoModule, door_status_from_io
from devkit.sim.door_controller import DoorControllerSim
from devkit.sim.io_module import IoModuleSim


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncIterator[IoModuleSim]:
    simulator = IoModuleSim(relays=4, inputs=6, relay_address=16, input_address=32)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def module(sim: IoModuleSim) -> AsyncIterator[IoModule]:
    driver = IoModule("127.0.0.1", sim.port, relays=4, inputs=6, relay_address=16, input_address=32, timeout=0.5)
    yield driver
    await driver.close()


async def test_inputs_and_relays(sim: IoModuleSim, module: IoModule) -> None:
    sim.set_input(2, True)
    sim.set_input(5, True)
    assert await module.read_inputs() == [False, False, True, False, False, True]
    await module.set_relay(1, True)
    assert sim.relays == [False, True, False, False]
    assert await module.read_relays() == [False, True, False, False]
    await module.set_relay(1, False)
    assert sim.relays == [False] * 4
    assert [(r, on) for _, r, on in sim.relay_log] == [(1, True), (1, False)]
    with pytest.raises(DeviceValueError):
        await module.set_relay(4, True)
    with pytest.raises(DeviceValueError):
        await module.pulse_relay(0, 0)
    with pytest.raises(ValueError, match="does not exist"):
        sim.set_input(6, True)
    assert sim.snapshot()["relays"] == [False] * 4


async def test_pulse_switches_off_by_itself(sim: IoModuleSim, module: IoModule) -> None:
    started = time.monotonic()
    await module.pulse_relay(0, 0.2)
    assert sim.relays[0]
    assert module.pulse_seconds_left(0) == 1
    await asyncio.sleep(0.4)
    assert not sim.relays[0]
    assert module.pulse_seconds_left(0) == 0
    (_, _, on), (t_off, _, off) = sim.relay_log
    assert (on, off) == (True, False)
    # The pulse is timed from the call (the "on" acknowledgement may take a moment), so it never runs long.
    assert t_off - started >= 0.2


async def test_a_new_pulse_extends_and_set_relay_cancels(sim: IoModuleSim, module: IoModule) -> None:
    await module.pulse_relay(0, 0.2)
    await module.pulse_relay(0, 0.5)
    await asyncio.sleep(0.3)
    assert sim.relays[0]  # the first pulse's switch-off was replaced
    await module.set_relay(0, True)  # held on for good: no pulse any more
    await asyncio.sleep(0.4)
    assert sim.relays[0]


async def test_switch_off_survives_a_link_cut(
    sim: IoModuleSim, module: IoModule, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(io_module, "OFF_RETRY_INITIAL", 0.05)
    monkeypatch.setattr(io_module, "OFF_RETRY_MAX", 0.1)
    await module.pulse_relay(2, 0.1)
    await sim.set_link(False)
    await asyncio.sleep(0.4)  # the deadline passes while the module is unreachable
    assert sim.relays[2]  # nobody could switch it off yet
    await sim.set_link(True)
    for _ in range(100):
        if not sim.relays[2]:
            break
        await asyncio.sleep(0.05)
    assert not sim.relays[2]  # switched off as soon as the link came back


async def test_expired_relay_found_on_is_switched_off(sim: IoModuleSim, module: IoModule) -> None:
    await module.pulse_relay(3, 0.1)
    await asyncio.sleep(0.3)
    assert not sim.relays[3]
    module._expired.add(3)  # as if the module had been power-cycled into "on" before the write was confirmed
    sim.set_relay(3, True)
    assert (await module.read_relays())[3] is False
    assert not sim.relays[3]


async def test_close_switches_pending_pulses_off(sim: IoModuleSim) -> None:
    driver = IoModule("127.0.0.1", sim.port, relays=4, inputs=6, relay_address=16, input_address=32)
    await driver.pulse_relay(1, 60)
    assert sim.relays[1]
    await driver.close()
    assert not sim.relays[1]


async def test_door_profile_matches_the_hub_native_controller(sim: IoModuleSim, module: IoModule) -> None:
    """An io-module door and a hub-native door in the same physical state report the same DoorStatus."""
    native_sim = DoorControllerSim(doors=1)
    await native_sim.start()
    native = DoorController("127.0.0.1", native_sim.port, timeout=0.5)
    try:
        mapping = DoorMapping(strike_relay=1, contact_input=0, exit_input=1, tamper_input=2, presence_input=3,
                              barrier_input=4, inverted_inputs=frozenset({2}))
        doors = IoDoorController(module, [mapping])
        sim.set_input(2, True)  # tamper loop closed (normally closed): no tamper
        sim.set_input(0, True)  # door open
        native_sim.set_door_open(0, True)
        sim.set_input(3, True)
        native_sim.set_presence(0, True)
        await doors.release(0, 5)
        await native.release(0, 5)
        (io_door,) = await doors.read_doors()
        (native_door,) = await native.read_doors()
        assert io_door == native_door
        assert (io_door.locked, io_door.release_seconds_left, io_door.releases) == (False, 5, 1)
        await doors.relock(0)
        await native.relock(0)
        sim.set_input(2, False)  # tamper loop broken
        native_sim.set_tamper(0, True)
        (io_door,) = await doors.read_doors()
        (native_door,) = await native.read_doors()
        assert io_door == native_door
        assert (io_door.locked, io_door.tamper, io_door.mode) == (True, True, DoorMode.NORMAL)
        with pytest.raises(DeviceValueError):
            await doors.release(1, 5)
        with pytest.raises(DeviceValueError):
            await doors.release(0, 0)
    finally:
        await native.close()
        await native_sim.stop()


async def test_mapping_validation(module: IoModule) -> None:
    with pytest.raises(DeviceValueError):
        IoDoorController(module, [])
    with pytest.raises(DeviceValueError, match="relay 9"):
        IoDoorController(module, [DoorMapping(strike_relay=9)])
    with pytest.raises(DeviceValueError, match="input 6"):
        IoDoorController(module, [DoorMapping(strike_relay=0, contact_input=6)])
    with pytest.raises(DeviceValueError, match="input 3"):
        door_status_from_io(0, DoorMapping(strike_relay=0, exit_input=3), [False], [False])
    with pytest.raises(DeviceValueError, match="relay 1"):
        door_status_from_io(0, DoorMapping(strike_relay=1), [False], [False])
    locked_while_on = DoorMapping(strike_relay=0, relay_on_unlocks=False)
    status = door_status_from_io(0, locked_while_on, [False], [True], release_seconds_left=3)
    assert (status.locked, status.release_seconds_left) == (True, 0)
    doors = IoDoorController(module, [locked_while_on])
    with pytest.raises(DeviceValueError, match="unlocks while on"):
        await doors.release(0, 5)
    assert doors.door_count == 1


async def test_unreachable_module(sim: IoModuleSim) -> None:
    driver = IoModule("127.0.0.1", sim.port, timeout=0.3)
    await sim.stop()
    with pytest.raises(DeviceConnectionError):
        await driver.read_inputs()
    await driver.close()
