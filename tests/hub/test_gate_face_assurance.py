"""Face plus a second factor at a real simulated door controller: a face opens a ``face_and_second_factor`` door
only with a card of the same resident within the pairing wait, in either order; another resident's card or no card
at all refuses the face, and the journal records the level that applied.

The face engine is replaced by a verifier that returns a chosen match (what the camera saw is not the point here:
tests/hub/test_face_gate.py runs the real engine on real photos). The controller, its card reader and its release
are the real simulator over Modbus TCP on loopback; the community is a real SQLite file.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from devices.door_controller import DoorController
from devkit.sim.door_controller import DoorControllerSim
from hub.access.models import AccessRule, FaceAssurance, FaceMatch, Reason
from hub.community import Community
from hub.doors import ControllerService, CredentialReadEvent, ReleaseReason
from hub.events import DecisionEvent
from hub.gate import AccessPoint, GateKeeper, GateOutcome
from hub.journal import AccessLogFilter

pytestmark = pytest.mark.usefixtures("socket_enabled")

DOOR = "GATE01-door0"


def _blank_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 90, 90)).save(out, "JPEG")
    return out.getvalue()


FRAME = _blank_jpeg()  # a camera frame with no pass in it (the stand-in engine says who the face is)
START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


class _Burst:
    def __init__(self, match: FaceMatch) -> None:
        self._match = match
        self.kept = 0

    def add(self, frame: bytes) -> bool:
        self.kept += 1
        return True

    def finish(self) -> FaceMatch | None:
        return self._match

    def abandon(self) -> None:
        pass


class _Faces:
    """Stands in for the face engine: every burst shows ``match``."""

    def __init__(self) -> None:
        self.match = FaceMatch("r-001", 0.3, True)

    def verify(self, frames: Sequence[bytes]) -> FaceMatch | None:
        return self.match

    def start(self) -> _Burst:
        return _Burst(self.match)


class _Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def community(tmp_path: Path) -> Iterator[Community]:
    c = Community(tmp_path / "community.db", tmp_path / "keys" / "hub.key", timezone=ZoneInfo("Asia/Shanghai"),
                  hub_id="hub-1")
    c.ensure_door(DOOR, "North gate", face=True)
    registry = c.registry
    for rid, name, card in (("r-001", "Li Wei", "11111111"), ("r-002", "Wang Fang", "22222222")):
        registry.residents.add_resident("manager", rid, name)
        registry.credentials.add_card("manager", rid, card)
        registry.consents.record_consent("manager", rid, scope="North gate faces", given_at=START)
    c.access_config.add_rule(
        "manager", AccessRule(rule_id="all", door_ids=frozenset({DOOR}), applies_to_all=True), name="All"
    )
    yield c
    c.close()


class _Rig:
    def __init__(self, community: Community, sim: DoorControllerSim, service: ControllerService) -> None:
        self.clock = _Clock()
        self.faces = _Faces()
        self.keeper = GateKeeper(community, asyncio.to_thread, faces=self.faces, clock=self.clock)
        self.sim = sim
        self.service = service
        self.point = AccessPoint(door_id=DOOR, name="North gate",
                                 release=lambda: service.release(0, 3, ReleaseReason.DECISION))
        self.decisions: list[DecisionEvent] = []
        community.events.subscribe(DecisionEvent, self.decisions.append)
        self.pending: list[asyncio.Task[GateOutcome | None]] = []
        service.events.subscribe(
            CredentialReadEvent,
            lambda e: self.pending.append(asyncio.create_task(self.keeper.credential_read(self.point, e.read))),
        )

    async def swipe(self, card: int) -> None:
        self.sim.swipe_card(0, card)
        await self.service.poll()
        await asyncio.gather(*self.pending)
        self.pending.clear()

    async def face(self, resident_id: str | None = "r-001") -> GateOutcome | None:
        self.faces.match = FaceMatch(resident_id, 0.3, True)
        return await self.keeper.camera_burst(self.point, [FRAME] * 5)


@pytest.fixture
async def rig(community: Community) -> _Rig:
    sim = DoorControllerSim(doors=1, serial="GATE01")
    await sim.start()
    service = ControllerService(DoorController("127.0.0.1", sim.port))
    await service.poll()
    r = _Rig(community, sim, service)
    yield r
    await r.keeper.close()
    await service.close()
    await sim.stop()


def _journal(community: Community) -> list[dict[str, object]]:
    rows = community.registry.conn.execute(
        "SELECT payload FROM events WHERE kind = 'decision' ORDER BY seq").fetchall()
    return [json.loads(r[0]) for r in rows]


async def test_a_new_face_gate_needs_a_second_factor(community: Community, rig: _Rig) -> None:
    assert community.access_config.get_door(DOOR).face_assurance is FaceAssurance.FACE_AND_SECOND_FACTOR
    assert await rig.face() is None  # waiting: not a grant, not a refusal
    assert rig.decisions == []
    assert rig.sim.doors[0].releases == 0


async def test_face_then_card_of_the_same_resident_opens(community: Community, rig: _Rig) -> None:
    assert await rig.face() is None
    rig.clock.now += timedelta(seconds=5)
    await rig.swipe(11111111)
    faces = [d for d in rig.decisions if d.decision.kind.value == "face"]
    assert [(d.decision.reason, d.decision.second_factor) for d in faces] == [(Reason.GRANTED, "card")]
    assert rig.sim.doors[0].releases == 1  # the card opened it; the paired face does not release it twice
    face_rows = [p for p in _journal(community) if p["credential_kind"] == "face"]
    assert face_rows == [{"result": "granted", "reason": "granted", "credential_kind": "face",
                          "resident_id": "r-001", "release_requested": True,
                          "face_assurance": "face_and_second_factor", "second_factor": "card"}]
    log = community.journal.access_log(AccessLogFilter(), limit=10) if community.journal else None
    assert log is not None
    assert [(r.credential, r.face_assurance) for r in log.rows] == [
        ("face", "face_and_second_factor"), ("card", "face_and_second_factor")]


async def test_card_then_face_of_the_same_resident_opens(community: Community, rig: _Rig) -> None:
    await rig.swipe(11111111)
    rig.clock.now += timedelta(seconds=5)
    outcome = await rig.face()
    assert outcome is not None and outcome.decision.granted
    assert outcome.decision.face_assurance is FaceAssurance.FACE_AND_SECOND_FACTOR
    assert outcome.decision.second_factor == "card"
    assert outcome.released and rig.sim.doors[0].releases == 1  # the card opened it; not released twice


async def test_another_residents_card_refuses_the_face(community: Community, rig: _Rig) -> None:
    assert await rig.face("r-001") is None
    await rig.swipe(22222222)  # Wang Fang's card: it opens as her card would, but it is no second factor for Li Wei
    faces = [d.decision for d in rig.decisions if d.decision.kind.value == "face"]
    assert [(f.granted, f.reason, f.resident_id) for f in faces] == [
        (False, Reason.SECOND_FACTOR_OTHER_PERSON, "r-001")
    ]


async def test_a_face_without_a_card_times_out_refused(community: Community, rig: _Rig) -> None:
    assert await rig.face() is None
    rig.clock.now += timedelta(seconds=21)
    outcomes = await rig.keeper.expire_faces()
    assert [(o.decision.reason, o.released) for o in outcomes] == [(Reason.SECOND_FACTOR_MISSING, False)]
    assert outcomes[0].at == START  # recorded at the moment the face was seen
    assert rig.sim.doors[0].releases == 0
    assert _journal(community)[-1]["reason"] == "second_factor_missing"
    # A card after the wait is a card alone: it opens, and pairs with nothing.
    await rig.swipe(11111111)
    assert [d.decision.kind.value for d in rig.decisions] == ["face", "card"]


async def test_a_late_card_does_not_complete_the_pair(community: Community, rig: _Rig) -> None:
    assert await rig.face() is None
    rig.clock.now += timedelta(seconds=25)
    await rig.swipe(11111111)
    await rig.keeper.expire_faces()
    faces = [d.decision for d in rig.decisions if d.decision.kind.value == "face"]
    assert [f.reason for f in faces] == [Reason.SECOND_FACTOR_MISSING]


async def test_face_alone_opens_by_itself_and_face_off_decides_nothing(community: Community, rig: _Rig) -> None:
    community.set_face_assurance(DOOR, FaceAssurance.FACE_ALONE)
    outcome = await rig.face()
    assert outcome is not None and outcome.released
    assert outcome.decision.face_assurance is FaceAssurance.FACE_ALONE
    community.set_face_assurance(DOOR, FaceAssurance.FACE_OFF)
    assert await rig.face() is None
    assert len(rig.decisions) == 1
    await rig.swipe(11111111)  # cards work as before at a face-off gate
    assert rig.decisions[-1].decision.granted
    assert rig.decisions[-1].decision.face_assurance is FaceAssurance.FACE_OFF
