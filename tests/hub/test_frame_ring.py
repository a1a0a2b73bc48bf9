"""The gate's ring buffer of its camera's frames, on the real camera simulator over loopback HTTP (MJPEG), with
the real face engine and GateKeeper: a resident standing still is let in on frames taken before presence, a
camera that stops answering does not stall the gate, and the ring's memory stays bounded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from devices.camera import CameraClient
from devkit.sim.camera import CameraSim
from hub.access.models import AccessRule, FaceAssurance, Reason
from hub.community import Community
from hub.face_gate import CommunityFaces
from hub.frame_ring import FrameRing
from hub.gate import BURST_FRAMES, FRAME_INTERVAL_S, MAX_BURST_FRAMES, AccessPoint, GateKeeper

FACES = Path(__file__).resolve().parents[2] / "demo" / "faces"
RESIDENT = "John_Salley"
OFFERED = MAX_BURST_FRAMES


@pytest.fixture(scope="module")
def community(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Community]:
    folder = tmp_path_factory.mktemp("ring")
    c = Community(folder / "c.db", folder / "keys" / "k.key", timezone=ZoneInfo("UTC"))
    yield c
    c.close()


@pytest.fixture(scope="module")
def faces(community: Community) -> CommunityFaces:
    verifier = CommunityFaces(community)
    registry = community.registry
    registry.residents.add_resident("manager", "r-salley", "John Salley")
    registry.consents.record_consent("manager", "r-salley", scope="gates", given_at=datetime.now(UTC))
    verifier.enrol("manager", "r-salley", [p.read_bytes() for p in sorted((FACES / RESIDENT).glob("*.jpg"))[:3]])
    community.ensure_door("gate", "North gate", face=True)
    community.set_face_assurance("gate", FaceAssurance.FACE_ALONE)  # these tests are about the frames, not a card
    community.access_config.add_rule("manager", AccessRule(rule_id="all", door_ids=frozenset({"gate"}),
                                                            applies_to_all=True), name="All")
    return verifier


@pytest.fixture
async def camera(socket_enabled: None) -> AsyncIterator[CameraSim]:
    sim = CameraSim(FACES, fps=1 / FRAME_INTERVAL_S)  # a 25 fps gate camera
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def _ring(client: CameraClient, **kwargs: float) -> FrameRing:
    frame_timeout = kwargs.pop("frame_timeout", 0.5)
    return FrameRing(lambda: client.frames(None, frame_timeout=frame_timeout), interval_s=FRAME_INTERVAL_S,
                     frame_timeout=frame_timeout, **kwargs)  # type: ignore[arg-type]


async def _until(condition: Callable[[], bool], what: str, limit_s: float = 30.0) -> None:
    """Wait (without a timing assertion: the limit only keeps a broken test from hanging) until ``condition``."""
    deadline = asyncio.get_running_loop().time() + limit_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting: {what}")
        await asyncio.sleep(0.02)


def _gate(community: Community, faces: CommunityFaces) -> tuple[GateKeeper, AccessPoint, list[str]]:
    released: list[str] = []

    async def release() -> None:
        released.append("gate")

    return GateKeeper(community, asyncio.to_thread, faces=faces), AccessPoint("gate", "North gate", release), released


async def test_a_still_resident_is_let_in_on_frames_from_before_presence(
    community: Community, faces: CommunityFaces, camera: CameraSim, session: aiohttp.ClientSession
) -> None:
    client = CameraClient(session, camera.snapshot_url, mjpeg_url=camera.mjpeg_url)
    ring = _ring(client)
    camera.set_scene("person", RESIDENT)  # standing still in front of the camera, small motion and noise
    ring.start()
    try:
        await _until(lambda: len(ring) >= BURST_FRAMES + 2, "the ring fills from the stream")
        # Presence fires, and the camera sends nothing more: only frames taken before presence exist.
        camera.set_hanging(True)
        served = camera.frames_served
        keeper, point, released = _gate(community, faces)
        outcome = await keeper.camera_stream(point, ring.burst(BURST_FRAMES, offered=OFFERED),
                                             faces_needed=BURST_FRAMES)
        assert outcome is not None
        assert (outcome.decision.reason, outcome.decision.resident_id) == (Reason.GRANTED, "r-salley")
        assert released == ["gate"]
        assert camera.frames_served == served  # decided on the ring's frames alone
    finally:
        camera.set_hanging(False)
        await ring.stop()


async def test_a_camera_that_stops_answering_does_not_stall_the_gate(
    community: Community, faces: CommunityFaces, camera: CameraSim, session: aiohttp.ClientSession
) -> None:
    client = CameraClient(session, camera.snapshot_url, mjpeg_url=camera.mjpeg_url)
    ring = _ring(client, span_s=0.3, frame_timeout=0.3, retry_s=0.1)
    camera.set_scene("person", RESIDENT)
    ring.start()
    try:
        await _until(lambda: len(ring) >= BURST_FRAMES, "the ring fills from the stream")
        camera.set_hanging(True)  # the connection stays open, no frame comes
        await _until(lambda: ring.failures >= 1 and len(ring) == 0, "the hung stream is dropped")
        keeper, point, released = _gate(community, faces)

        # No fallback: the burst ends after one frame timeout, and there is no decision (nobody to record).
        assert await keeper.camera_stream(point, ring.burst(BURST_FRAMES, offered=OFFERED)) is None
        assert released == []

        # With fresh frames from another source (here a second camera's snapshots), the gate decides on those.
        other = CameraSim(FACES, fps=1 / FRAME_INTERVAL_S)
        await other.start()
        try:
            other.set_scene("person", RESIDENT)
            fresh = CameraClient(session, other.snapshot_url)

            def fallback() -> AsyncGenerator[bytes]:
                return fresh.snapshots(OFFERED, interval=FRAME_INTERVAL_S)

            outcome = await keeper.camera_stream(point, ring.burst(BURST_FRAMES, offered=OFFERED, fallback=fallback))
            assert outcome is not None and outcome.decision.reason is Reason.GRANTED
            assert released == ["gate"] and other.snapshots_served >= BURST_FRAMES
        finally:
            await other.stop()

        # The camera answers again: the ring reconnects and fills by itself.
        camera.set_hanging(False)
        await _until(lambda: len(ring) >= BURST_FRAMES, "the ring reconnects")
    finally:
        camera.set_hanging(False)
        await ring.stop()
    assert len(ring) == 0 and ring.buffered_bytes == 0  # stopped: nothing kept


async def test_a_ring_holding_one_person_then_another_gives_a_burst_of_the_second_only(
    community: Community, faces: CommunityFaces
) -> None:
    """The resident just let in is still in the ring's older frames when the next person, a stranger, steps up
    (presence stayed on): the burst must be the stranger's alone, never two of the resident's frames and one of
    the stranger's (which the two-of-three rule would take for the resident). The frames are rendered as the gate
    camera sends them (``bench build-bursts``' renderer: noise, JPEG), the stranger nearer the camera's side."""
    import numpy as np
    from PIL import Image

    from devkit.bench import burst_builder as render

    rng = np.random.default_rng(5)

    def photo(name: str) -> Image.Image:
        with Image.open(sorted((FACES / name).glob("*.jpg"))[-1]) as image:  # never an enrolment photo
            return image.convert("RGB")

    here = render.make_scene(rng)
    there = render.Scene(here.background, (here.centre[0] - 420, here.centre[1] + 30), here.face_scale * 1.1)
    resident = [render.camera_jpeg(f, rng) for f in render.person_frames(photo(RESIDENT), here, 3, rng)]
    stranger = [render.camera_jpeg(f, rng) for f in render.person_frames(photo("John_Simm"), there, 4, rng)]

    async def nothing() -> AsyncGenerator[bytes]:
        await asyncio.Event().wait()
        yield b""  # pragma: no cover

    ring = FrameRing(nothing, interval_s=FRAME_INTERVAL_S)  # fed by hand, as the stream would
    for frame in [*resident, stranger[0]]:
        ring.push(frame)

    async def live() -> AsyncGenerator[bytes]:  # the camera's next frames: the stranger still standing there
        for frame in stranger[1:]:
            yield frame

    seen: list[object] = []

    class Watched(CommunityFaces):
        def start(self):  # type: ignore[no-untyped-def]
            burst = super().start()
            seen.append(burst)
            return burst

    watched = Watched(community)
    keeper, point, released = _gate(community, watched)
    outcome = await keeper.camera_stream(point, ring.burst(BURST_FRAMES, offered=OFFERED, fallback=live),
                                         faces_needed=BURST_FRAMES)
    assert outcome is not None and released == []
    assert (outcome.decision.reason, outcome.decision.resident_id) == (Reason.UNKNOWN_FACE, None)
    result = seen[0].result  # type: ignore[attr-defined]
    assert result.frames_used == BURST_FRAMES  # the stranger's three frames, the resident's dropped
    from hub.faces.pipeline import DEFAULT_RULE

    # No frame of the three is the resident's: each is beyond the distance the rule could ever accept.
    assert all(c.distance > DEFAULT_RULE.max_distance for c in result.candidates), result.candidates

    ring.clear()  # what a gate does once it has decided, and when presence ends
    assert len(ring) == 0 and ring.buffered_bytes == 0 and not ring.streaming


async def test_the_ring_keeps_a_bounded_number_of_frames_and_bytes(
    camera: CameraSim, session: aiohttp.ClientSession
) -> None:
    client = CameraClient(session, camera.snapshot_url, mjpeg_url=camera.mjpeg_url)
    camera.set_scene("person", RESIDENT)
    frame_bytes = len(camera.next_frame())
    by_time = _ring(client)
    by_size = _ring(client, max_bytes=3 * frame_bytes)
    by_time.start()
    by_size.start()
    sizes: list[tuple[int, int]] = []
    try:
        for _ in range(60):  # well over the ring's frames at 25 fps
            before = by_time.received
            await _until(lambda before=before: by_time.received > before, "frames keep coming")  # type: ignore[misc]
            sizes.append((len(by_time), len(by_size)))
            assert by_size.buffered_bytes <= by_size.max_bytes
    finally:
        await by_time.stop()
        await by_size.stop()
    assert max(t for t, _ in sizes) <= by_time.max_frames == 26  # 1 s at 25 fps, and one more
    assert max(s for _, s in sizes) <= 3
    assert by_time.received >= 60


async def test_a_ring_that_never_started_gives_its_fallback_frames(camera: CameraSim,
                                                                   session: aiohttp.ClientSession) -> None:
    client = CameraClient(session, camera.snapshot_url, mjpeg_url=camera.mjpeg_url)
    ring = _ring(client)
    frames = [f async for f in ring.burst(3, offered=4, fallback=lambda: client.snapshots(None, interval=0.01))]
    assert len(frames) == 4 and all(f.startswith(b"\xff\xd8") for f in frames)


def test_a_ring_refuses_nonsense_limits() -> None:
    async def nothing() -> AsyncGenerator[bytes]:
        yield b""

    with pytest.raises(ValueError, match="positive"):
        FrameRing(nothing, interval_s=0)
    with pytest.raises(ValueError, match="positive"):
        FrameRing(nothing, interval_s=FRAME_INTERVAL_S, max_bytes=0)
