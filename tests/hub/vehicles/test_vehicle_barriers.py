"""The barrier implementations against real servers on loopback: a door of the simulated Modbus controller
(through ControllerService.release, reason ``vehicle``), the simulated Hikvision camera's barrierGate endpoint
(Digest), the Vzenith reply; a dead barrier keeps the decision and journals the failed opening."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from vehicle_helpers import Clock, read

from devices.anpr.barrier import HikvisionBarrier
from devices.door_controller import DoorController
from devkit.sim.anpr import HikvisionBarrierSim
from devkit.sim.door_controller import DoorControllerSim
from hub.access.models import VehicleDirection
from hub.community import Community
from hub.doors import ControllerService
from hub.exceptions import InvalidInputError, NotFoundError
from hub.journal import EventKind
from hub.vehicles.barriers import (
    CameraRelayBarrier,
    DoorRelayBarrier,
    LaneBarriers,
    VzenithReplyBarrier,
    barrier_reply,
)
from hub.vehicles.models import Lane
from hub.vehicles.service import VehicleService

pytestmark = pytest.mark.usefixtures("socket_enabled")

RELAY = Lane("p1", "north", 1, VehicleDirection.ENTRY, "relay")
CAMERA = Lane("p1", "north", 2, VehicleDirection.ENTRY, "camera")
REPLY = Lane("p1", "south", 1, VehicleDirection.ENTRY, "reply")
NOWHERE = Lane("p1", "south", 2, VehicleDirection.ENTRY, "nowhere")


@pytest.fixture
async def controller() -> AsyncIterator[tuple[DoorControllerSim, ControllerService]]:
    sim = DoorControllerSim(doors=2)
    await sim.start()
    service = ControllerService(DoorController("127.0.0.1", sim.port))
    await service.connect()
    yield sim, service
    await service.close()
    await sim.stop()


@pytest.fixture
async def camera() -> AsyncIterator[HikvisionBarrierSim]:
    sim = HikvisionBarrierSim("admin", "cam-pass-1")
    await sim.start()
    yield sim
    await sim.stop()


async def test_each_barrier_opens_its_lane_once_for_a_granted_read(
    community: Community, clock: Clock, controller: tuple[DoorControllerSim, ControllerService],
    camera: HikvisionBarrierSim,
) -> None:
    sim, service = controller
    community.call(community.vehicles.add_resident_vehicle, "manager", "r-001", "皖A7XG66")
    async with aiohttp.ClientSession() as session:
        barriers = LaneBarriers({
            "relay": DoorRelayBarrier(lambda: service, 1),
            "camera": CameraRelayBarrier(HikvisionBarrier(session, camera.base_url, "admin", "cam-pass-1")),
            "reply": VzenithReplyBarrier(),
        })
        vehicles = VehicleService(community, barriers, clock=clock)
        relay = await vehicles.handle(read("皖A7XG66", clock()), RELAY)
        assert relay.opened and sim.doors[1].releases == 1 and sim.doors[0].releases == 0
        assert service.unrequested_releases == 0  # the vehicle release is one the hub asked for
        assert (await vehicles.handle(read("皖A7XG66", clock()), CAMERA)).opened
        assert [(c.channel, c.mode) for c in camera.commands] == [(1, "open")]
        reply = await vehicles.handle(read("皖A7XG66", clock(), record="vz-1"), REPLY)
        assert barrier_reply(reply).open
        resent = await vehicles.handle(read("皖A7XG66", clock(), record="vz-1"), REPLY)
        assert resent.resend and not barrier_reply(resent).open
        refused = await vehicles.handle(read("皖B12345", clock()), REPLY)
        assert not barrier_reply(refused).open and barrier_reply(refused).display == refused.decision.message
        assert len(camera.commands) == 1 and sim.doors[1].releases == 1


async def test_a_barrier_that_cannot_open_keeps_the_decision_and_is_journalled(
    community: Community, clock: Clock,
) -> None:
    community.call(community.vehicles.add_resident_vehicle, "manager", "r-001", "皖A7XG66")
    barriers = LaneBarriers({"relay": DoorRelayBarrier(lambda: None, 0)})  # its controller is not connected
    vehicles = VehicleService(community, barriers, clock=clock)
    for lane in (RELAY, NOWHERE):
        outcome = await vehicles.handle(read("皖A7XG66", clock()), lane)
        assert outcome.decision.granted and not outcome.opened
    journal = community.journal
    assert journal is not None
    failed = community.call(lambda: journal.events(kind=EventKind.RELEASE))
    assert [(e.door, e.payload["outcome"], e.payload["error"]) for e in failed] == [
        (RELAY.lane_id, "failed", "NotFoundError"), (NOWHERE.lane_id, "failed", "NotFoundError")]
    with pytest.raises(NotFoundError, match="not configured"):
        await barriers.open(NOWHERE)
    with pytest.raises(InvalidInputError, match=r"1\.\.60"):
        DoorRelayBarrier(lambda: None, 0, seconds=0)
