"""``community-hub bench gate``: the gate path end to end with real photos, on loopback.

Presence at the simulated controller -> the hub's free-running poll sees it (0 to one poll interval later) -> the
gate's burst from the simulated camera over HTTP, five frames on a 25 fps camera's cadence, each frame's face
found and encoded while the next is captured (the same ``GateKeeper.camera_stream`` Home Assistant's gates use)
-> 1:N search and liveness -> access decision -> release acknowledged by the simulated controller. Prints a table
and, last, one JSON line with ``p50_ms`` and ``p99_ms``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub bench gate``."""
    parser.add_argument("--runs", type=int, default=20, help="people walking up to the gate (default: 20)")
    parser.add_argument("--frames", type=int, default=None,
                        help="frames per burst (default: the gate's, 5; liveness was measured on 5-frame bursts)")
    parser.add_argument("--interval-ms", type=float, default=None,
                        help="time between frames (default: the gate's, 40 ms: a 25 fps camera)")
    parser.add_argument("--poll-ms", type=int, default=100, help="controller poll interval (default: 100)")
    parser.add_argument("--faces", type=Path, default=None, help="folder of <Name>/*.jpg (default: demo faces)")


def _prepare(faces_dir: Path, work: Path) -> tuple[Any, Any, list[str]]:
    """A community with everyone in ``faces_dir`` enrolled (three photos each, with consent) and one gate."""
    from hub.access.models import AccessRule
    from hub.community import Community
    from hub.face_gate import CommunityFaces

    people = sorted(p.name for p in faces_dir.iterdir() if p.is_dir())
    community = Community(work / "c.db", work / "keys" / "k.key", timezone=ZoneInfo("UTC"))
    faces = CommunityFaces(community)
    for i, name in enumerate(people):
        rid = f"r-{i}"
        community.registry.residents.add_resident("bench", rid, name.replace("_", " "))
        community.registry.consents.record_consent("bench", rid, scope="benchmark", given_at=datetime.now(UTC))
        faces.enrol("bench", rid, [p.read_bytes() for p in sorted((faces_dir / name).glob("*.jpg"))[:3]])
    community.ensure_door("gate", "Gate", face=True)
    community.access_config.add_rule("bench", AccessRule(rule_id="all", door_ids=frozenset({"gate"}),
                                                         applies_to_all=True), name="All")
    faces.gallery()  # decrypt the gallery once, as a running hub has it
    return community, faces, people


async def _measure(args: argparse.Namespace, faces_dir: Path, prepared: tuple[Any, Any, list[str]]) -> list[float]:
    import aiohttp

    from devices.camera import CameraClient
    from devices.door_controller import DoorController
    from devkit.sim.camera import CameraSim
    from devkit.sim.door_controller import DoorControllerSim
    from hub.doors import ControllerService, ReleaseReason
    from hub.gate import BURST_FRAMES, MAX_BURST_FRAMES, AccessPoint, GateKeeper

    community, faces, people = prepared
    door = DoorControllerSim(doors=1, serial="BENCH-GATE")
    camera = CameraSim(faces_dir)
    await door.start()
    await camera.start()
    service = ControllerService(DoorController(door.host, door.port))
    keeper = GateKeeper(community, asyncio.to_thread, faces=faces)
    point = AccessPoint("gate", "Gate", lambda: service.release(0, 1, ReleaseReason.DECISION))
    latencies: list[float] = []
    arrived = asyncio.Event()
    try:
        async with aiohttp.ClientSession() as session:
            client = CameraClient(session, camera.snapshot_url)
            await service.connect()

            async def poll_loop() -> None:
                """The hub's poll, free-running at its interval: presence is seen at the next poll."""
                present = False
                while True:
                    snapshot = await service.poll()
                    if snapshot.doors[0].status.presence and not present:
                        arrived.set()
                    present = snapshot.doors[0].status.presence
                    await asyncio.sleep(args.poll_ms / 1000)

            async def frames() -> AsyncIterator[bytes]:
                """The gate's burst: frames on the camera's cadence, each handed on as it arrives."""
                started = loop.time()
                offered = args.frames + MAX_BURST_FRAMES - BURST_FRAMES  # spares, as the gates in HA have
                for i in range(offered):
                    yield await client.snapshot()
                    if i + 1 < offered:
                        await asyncio.sleep(max(0.0, started + (i + 1) * args.interval_ms / 1000 - loop.time()))

            loop = asyncio.get_running_loop()
            poller = asyncio.create_task(poll_loop())
            try:
                for run in range(args.runs):
                    camera.set_scene("person", people[run % len(people)])
                    releases = door.doors[0].releases
                    arrived.clear()
                    started = time.perf_counter()
                    door.set_presence(0, True)
                    await arrived.wait()
                    outcome = await keeper.camera_stream(point, frames(), faces_needed=args.frames)
                    elapsed = (time.perf_counter() - started) * 1000
                    granted = outcome is not None and outcome.decision.granted and door.doors[0].releases > releases
                    latencies.append(elapsed if granted else float("inf"))
                    door.set_presence(0, False)
                    # the next person arrives at a random moment of the poll cycle
                    await asyncio.sleep(args.poll_ms / 1000 * (1.3 + (run * 0.37) % 1))
            finally:
                poller.cancel()
    finally:
        await service.close()
        await door.stop()
        await camera.stop()
        community.close()
    return latencies


def run(args: argparse.Namespace) -> int:
    """Run the benchmark."""
    from devkit.demo.faces import demo_faces_dir

    logging.getLogger().setLevel(logging.WARNING)
    from hub.gate import BURST_FRAMES, FRAME_INTERVAL_S

    args.frames = BURST_FRAMES if args.frames is None else args.frames
    if args.frames < BURST_FRAMES:
        print(f"--frames must be at least {BURST_FRAMES}: the liveness check needs {BURST_FRAMES} frames with a face")
        return 2
    args.interval_ms = FRAME_INTERVAL_S * 1000 if args.interval_ms is None else args.interval_ms
    faces_dir = args.faces or demo_faces_dir()
    if faces_dir is None or not faces_dir.is_dir() or args.runs < 1 or args.frames < 1:
        print("need --faces DIR (or the demo faces), --runs >= 1 and --frames >= 1")
        return 2
    with tempfile.TemporaryDirectory() as work:
        latencies = asyncio.run(_measure(args, faces_dir, _prepare(faces_dir, Path(work))))
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.999) - 1))]

    denied = sum(1 for x in latencies if x == float("inf"))
    print(f"{'runs':>5} {'frames':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'not let in':>10}")
    print(f"{len(latencies):>5} {args.frames:>6} {pct(0.5):>8.1f} {pct(0.99):>8.1f} {ordered[-1]:>8.1f} {denied:>10}")
    print(json.dumps({"runs": len(latencies), "frames": args.frames, "interval_ms": args.interval_ms,
                      "poll_ms": args.poll_ms,
                      "p50_ms": round(pct(0.5), 1), "p99_ms": round(pct(0.99), 1), "not_let_in": denied}))
    return 0
