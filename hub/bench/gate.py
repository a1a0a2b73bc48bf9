"""``community-hub bench gate``: the gate path end to end with real photos, on loopback.

Presence at the simulated controller -> the hub's poll sees it -> a burst from the simulated camera over HTTP ->
face engine (detect, encode, 1:N, liveness) -> access decision -> release acknowledged by the simulated
controller. Prints a table and, last, one JSON line with ``p50_ms`` and ``p99_ms``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub bench gate``."""
    parser.add_argument("--runs", type=int, default=20, help="people walking up to the gate (default: 20)")
    parser.add_argument(
        "--frames", type=int, default=3,
        help="frames per burst (default: 3, the liveness minimum; gates in Home Assistant take 5, and liveness was "
        "measured on 5-frame bursts: docs/face-verification.md)",
    )
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
    from devices.sim.camera import CameraSim
    from devices.sim.door_controller import DoorControllerSim
    from hub.doors import ControllerService, ReleaseReason
    from hub.gate import AccessPoint, GateKeeper

    community, faces, people = prepared
    door = DoorControllerSim(doors=1, serial="BENCH-GATE")
    camera = CameraSim(faces_dir)
    await door.start()
    await camera.start()
    service = ControllerService(DoorController(door.host, door.port))
    keeper = GateKeeper(community, asyncio.to_thread, faces=faces)
    point = AccessPoint("gate", "Gate", lambda: service.release(0, 1, ReleaseReason.DECISION))
    latencies: list[float] = []
    try:
        async with aiohttp.ClientSession() as session:
            client = CameraClient(session, camera.snapshot_url)
            await service.connect()
            for run in range(args.runs):
                camera.set_scene("person", people[run % len(people)])
                releases = door.doors[0].releases
                started = time.perf_counter()
                door.set_presence(0, True)
                while True:  # the hub's poll loop, at its interval
                    snapshot = await service.poll()
                    if snapshot.doors[0].status.presence:
                        break
                    await asyncio.sleep(args.poll_ms / 1000)
                frames = await client.burst(args.frames, interval=0)
                outcome = await keeper.camera_burst(point, frames)
                elapsed = (time.perf_counter() - started) * 1000
                granted = outcome is not None and outcome.decision.granted and door.doors[0].releases > releases
                latencies.append(elapsed if granted else float("inf"))
                door.set_presence(0, False)
                await asyncio.sleep(args.poll_ms / 1000 * (0.3 + (run % 7) / 10))  # spread against the poll phase
    finally:
        await service.close()
        await door.stop()
        await camera.stop()
        community.close()
    return latencies


def run(args: argparse.Namespace) -> int:
    """Run the benchmark."""
    from hub.demo.faces import demo_faces_dir

    logging.getLogger().setLevel(logging.WARNING)
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
    print(json.dumps({"runs": len(latencies), "frames": args.frames, "poll_ms": args.poll_ms,
                      "p50_ms": round(pct(0.5), 1), "p99_ms": round(pct(0.99), 1), "not_let_in": denied}))
    return 0
