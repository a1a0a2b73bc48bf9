"""The controller service against the real simulator: releases are accounted for, across link cuts."""

from __future__ import annotations

import asyncio

import pytest

from devices.door_controller import DoorController
from devices.exceptions import DeviceError
from devkit.sim.door_controller import DoorControllerSim
from hub.doors import AlarmEvent, AlarmKind, ControllerService, CredentialReadEvent, ReleaseReason

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_no_release_that_nobody_asked_for_across_reconnects() -> None:
    """Polling through repeated link cuts never releases a door; only the releases the hub asked for happen."""
    sim = DoorControllerSim(doors=4)
    await sim.start()
    service = ControllerService(DoorController("127.0.0.1", sim.port, timeout=0.5))
    asked = 0
    try:
        for cycle in range(8):
            for _ in range(5):
                try:
                    await service.poll()
                except DeviceError:
                    await asyncio.sleep(0.05)
            if cycle % 2 == 0:
                await service.release(cycle % 4, 2, ReleaseReason.DECISION)
                asked += 1
            await sim.set_link(False)
            await asyncio.sleep(0.02)
            with pytest.raises(DeviceError):
                await service.poll()
            await sim.set_link(True)
        for _ in range(100):
            try:
                await service.poll()
                break
            except DeviceError:
                await asyncio.sleep(0.05)
        assert sum(d.releases for d in sim.doors) == asked
        assert service.unrequested_releases == 0
    finally:
        await service.close()
        await sim.stop()


async def test_release_from_elsewhere_is_noticed(caplog: pytest.LogCaptureFixture) -> None:
    """A release the hub did not send (another master on the bus) is counted and logged."""
    sim = DoorControllerSim(doors=1)
    await sim.start()
    service = ControllerService(DoorController("127.0.0.1", sim.port))
    other = DoorController("127.0.0.1", sim.port)
    try:
        await service.poll()
        await other.release(0, 3)
        await service.poll()
        assert service.unrequested_releases == 1
        assert "without a request from this hub" in caplog.text
    finally:
        await other.close()
        await service.close()
        await sim.stop()


async def test_alarm_subscribers_hear_a_forced_door() -> None:
    """Alarm events reach the subscribers of the service's bus."""
    sim = DoorControllerSim(doors=1)
    await sim.start()
    service = ControllerService(DoorController("127.0.0.1", sim.port))
    heard = []
    service.events.subscribe(AlarmEvent, heard.append)
    try:
        await service.poll()
        sim.set_door_open(0, True)
        snapshot = await service.poll()
        assert AlarmKind.FORCED_OPEN in snapshot.doors[0].alarms
        assert [(e.kind, e.active) for e in heard] == [(AlarmKind.FORCED_OPEN, True)]
    finally:
        await service.close()
        await sim.stop()


async def test_each_card_swipe_is_reported_once() -> None:
    """A swipe is reported at the next poll, once; an old swipe in the buffer at start-up is not replayed."""
    sim = DoorControllerSim(doors=2)
    await sim.start()
    sim.swipe_card(0, 111)  # before the hub connected
    service = ControllerService(DoorController("127.0.0.1", sim.port))
    reads = []
    service.events.subscribe(
        CredentialReadEvent, lambda e: reads.append((e.door, e.read.kind.name, e.read.value))
    )
    try:
        await service.poll()
        assert reads == []
        sim.swipe_card(1, 222)
        await service.poll()
        await service.poll()
        sim.enter_pin(0, "0042")
        await service.poll()
        assert reads == [(1, "CARD", "222"), (0, "PIN", "0042")]
    finally:
        await service.close()
        await sim.stop()
