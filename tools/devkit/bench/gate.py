"""``community-hub bench gate``: the gate path end to end on camera-sized frames, on loopback.

Frames: for every enrolled person (enrolled from their first ``ENROL_PHOTOS`` photos, with consent), each of
their *other* photos becomes one capture of a person standing at the gate: a ``--frame-size`` (default 1920x1080)
scene with the face about 250-300 px wide near the centre, a little sway from frame to frame, fresh sensor noise
and JPEG at a camera's quality. The enrolment photos never appear in a frame.

The clock runs from the presence input changing on the simulated Modbus controller to the controller's
acknowledgement of the release write: the hub's free-running poll sees presence (0 to one poll interval later)
-> the burst from the simulated camera over HTTP at the camera's cadence, each frame's face found and encoded
while the next is captured (``GateKeeper.camera_stream``, the call Home Assistant's gates use) -> 1:N search and
liveness -> the decision and its journal row committed -> release written and acknowledged.

``--capture ring`` (default) is what the gates do with this integration's cameras: the product's ring buffer
(:class:`hub.frame_ring.FrameRing`) on the camera's MJPEG stream hands the gate its newest ``burst`` frames, then
live ones, and is cleared once the decision is taken and when presence ends, as ``gates.py`` does. ``--capture
after`` takes the frames after presence (snapshots on the camera's cadence: what a gate on another integration's
camera entity does). The camera runs in its own process, so ``idle_cpu_pct_per_gate`` is the hub side's CPU (the
poll, the simulated controller it polls, and in ring mode the stream it reads) while nobody is there: percent of
one core.

Prints a table and, last, one JSON line: ``p50_ms``/``p99_ms`` over the runs that were let in (presence to the
release acknowledged), ``decision_p50_ms``/``decision_p99_ms`` over every run (presence to the decision recorded,
and released when granted), ``cpu_ms_per_burst_p50``/``_p99`` (the hub process's CPU time from presence to the
release acknowledged: less noisy than wall time on a shared machine), the refusals by reason,
``idle_cpu_pct_per_gate``, and the ``uptime`` load averages at the start and the end.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import io
import json
import logging
import multiprocessing
import os
import resource
import tempfile
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from hub.access.models import FaceAssurance

ENROL_PHOTOS = 3
JPEG_QUALITY = 80
# The face photo's width as a share of the frame's: a 150 px aligned crop (face about 60% of it) becomes about
# 330 px at 1920, a face about 250 px wide: a person 0.7-1 m from a 60-degree gate camera.
PHOTO_SHARE = 0.17
CAPTURE_FRAMES = 16  # a capture's frames, sent by the camera as rendered, in a loop


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub bench gate``."""
    parser.add_argument("--runs", type=int, default=20, help="people walking up to the gate (default: 20)")
    parser.add_argument("--frames", type=int, default=None,
                        help="frames per burst (default: the gate's, 3: hub.gate.BURST_FRAMES)")
    parser.add_argument("--interval-ms", type=float, default=None,
                        help="time between frames (default: the gate's, 40 ms: a 25 fps camera)")
    parser.add_argument("--poll-ms", type=int, default=100, help="controller poll interval (default: 100)")
    parser.add_argument("--faces", type=Path, default=None, help="folder of <Name>/*.jpg (default: demo faces)")
    parser.add_argument("--frame-size", type=_frame_size, default=(1920, 1080),
                        help="camera frame WIDTHxHEIGHT (default: 1920x1080)")
    parser.add_argument("--capture", choices=("after", "ring"), default="ring",
                        help="the ring buffer of the camera's stream (the gates on this integration's cameras; "
                             "default) or frames after presence (a gate on another integration's camera)")
    parser.add_argument("--idle-s", type=float, default=5.0,
                        help="seconds of nobody at the gate for idle_cpu_pct_per_gate (default: 5; 0 skips)")


def _frame_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1920x1080") from err
    if not (160 <= width <= 7680 and 120 <= height <= 4320):
        raise argparse.ArgumentTypeError(f"{text!r}: frames from 160x120 to 7680x4320")
    return width, height


# ---------------------------------------------------------------------------------------------- frames
@dataclass(frozen=True)
class Capture:
    """One person standing at the gate: ``folder`` holds its frames (``scene`` is its name for the camera)."""

    scene: str
    person: str
    photo: Path


def split_photos(faces_dir: Path) -> dict[str, tuple[list[Path], list[Path]]]:
    """Person -> (enrolment photos, probe photos): the first ``ENROL_PHOTOS`` photos by name, and the rest."""
    split: dict[str, tuple[list[Path], list[Path]]] = {}
    for folder in sorted(p for p in faces_dir.iterdir() if p.is_dir()):
        photos = sorted(folder.glob("*.jpg"))
        if len(photos) > ENROL_PHOTOS:
            split[folder.name] = (photos[:ENROL_PHOTOS], photos[ENROL_PHOTOS:])
    return split


def _background(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """A gate scene without anyone: a wall with a light gradient, gate bars, the ground."""
    width, height = size
    ramp = np.linspace(0.85, 1.1, width, dtype=np.float32)[None, :, None]
    base = np.array([128, 132, 138], dtype=np.float32)[None, None, :] * ramp * np.ones((height, 1, 1), np.float32)
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    ground = int(height * 0.82)
    draw.rectangle((0, ground, width, height), fill=(92, 90, 86))
    step = max(8, width // 24)
    for x in range(step // 2, width, step):
        if abs(x - width / 2) > width * 0.18:  # the bars stand beside the person, not behind the face
            draw.rectangle((x, int(height * 0.1), x + max(2, width // 200), ground), fill=(60, 62, 66))
    offset = float(rng.uniform(-0.02, 0.02))
    draw.rectangle((0, 0, width, int(height * (0.08 + offset))), fill=(170, 172, 176))
    return image


def render_capture(
    photo: Path, size: tuple[int, int], frames: int, rng: np.random.Generator, background: Image.Image
) -> list[bytes]:
    """``frames`` JPEG frames of one person standing at the gate: the photo, scaled to a realistic face size,
    blended into the scene, swaying a pixel or two, with fresh sensor noise and a little exposure flicker."""
    width, height = size
    with Image.open(photo) as img:
        face = img.convert("RGB")
    side = max(8, round(width * PHOTO_SHARE))
    face = face.resize((side, round(side * face.height / face.width)), Image.Resampling.BICUBIC)
    face = face.filter(ImageFilter.GaussianBlur(0.8))  # a camera's optics, not an upscaler's edges
    mask = Image.new("L", face.size, 0)
    ImageDraw.Draw(mask).ellipse((face.width * 0.04, 0, face.width * 0.96, face.height), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(face.width / 25))
    centre_x = width / 2 + rng.uniform(-0.05, 0.05) * width
    centre_y = height * 0.42 + rng.uniform(-0.04, 0.04) * height
    out: list[bytes] = []
    for i in range(frames):
        sway_x = 1.5 * np.sin(i * 0.7) + rng.normal(0, 0.6)
        sway_y = 1.0 * np.sin(i * 0.5 + 1) + rng.normal(0, 0.6)
        scene = background.copy()
        scene.paste(face, (round(centre_x - face.width / 2 + sway_x), round(centre_y - face.height / 2 + sway_y)),
                    mask)
        pixels = np.asarray(scene, dtype=np.float32) * float(rng.uniform(0.98, 1.02))
        pixels += rng.normal(0, 3.0, pixels.shape).astype(np.float32)
        buffer = io.BytesIO()
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=JPEG_QUALITY)
        out.append(buffer.getvalue())
    return out


def build_captures(faces_dir: Path, camera_dir: Path, size: tuple[int, int], frames: int) -> list[Capture]:
    """Every probe photo of every person as one capture, written as ``camera_dir/<scene>/NNN.jpg``."""
    rng = np.random.default_rng(7)
    background = _background(size, rng)
    captures: list[Capture] = []
    for person, (_, probes) in split_photos(faces_dir).items():
        for k, photo in enumerate(probes):
            scene = f"{person}--{k:02d}"
            folder = camera_dir / scene
            folder.mkdir(parents=True)
            for i, jpeg in enumerate(render_capture(photo, size, frames, rng, background)):
                (folder / f"{i:03d}.jpg").write_bytes(jpeg)
            captures.append(Capture(scene, person, photo))
    # Interleave people, so consecutive runs are different people.
    by_person: dict[str, list[Capture]] = {}
    for capture in captures:
        by_person.setdefault(capture.person, []).append(capture)
    order = [c for group in zip(*by_person.values(), strict=False) for c in group]
    return order + [c for c in captures if c not in order]


# ---------------------------------------------------------------------------------------------- the camera
def _camera_process(camera_dir: str, fps: float, ready: Any, commands: Any) -> None:
    """The simulated camera in its own process: its CPU is not the hub's."""
    from devkit.sim.camera import CameraSim

    async def main() -> None:
        camera = CameraSim(camera_dir, fps=fps)
        await camera.start()
        ready.send(camera.base_url)
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, commands.recv)
            if command is None:
                break
            scene, folder = command
            if folder is None:
                camera.set_scene(scene, None)
            else:  # the capture's 1080p frames, sent as they were rendered
                camera.play([p.read_bytes() for p in sorted((Path(camera_dir) / folder).glob("*.jpg"))], folder)
            commands.send("ok")
        await camera.stop()

    asyncio.run(main())


class CameraProcess:
    """Start/stop the camera process and switch its scene (who stands in front of it)."""

    def __init__(self, camera_dir: Path, fps: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._ready, child_ready = context.Pipe()
        self._commands, child_commands = context.Pipe()
        self._process = context.Process(
            target=_camera_process, args=(str(camera_dir), fps, child_ready, child_commands), daemon=True
        )
        self.base_url = ""

    def start(self) -> None:
        self._process.start()
        if not self._ready.poll(60):
            raise RuntimeError("the simulated camera did not start")
        self.base_url = self._ready.recv()

    async def set_scene(self, scene: str, person: str | None) -> None:
        self._commands.send((scene, person))
        await asyncio.get_running_loop().run_in_executor(None, self._commands.recv)

    def stop(self) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            self._commands.send(None)
        self._process.join(10)
        if self._process.is_alive():
            self._process.terminate()


# ---------------------------------------------------------------------------------------------- the community
def _prepare(faces_dir: Path, work: Path) -> tuple[Any, Any]:
    """A community with everyone in ``faces_dir`` enrolled (their first photos, with consent) and one gate."""
    from hub.access.models import AccessRule
    from hub.community import Community
    from hub.face_gate import CommunityFaces

    community = Community(work / "c.db", work / "keys" / "k.key", timezone=ZoneInfo("UTC"))
    faces = CommunityFaces(community)
    for i, (name, (enrol, _)) in enumerate(split_photos(faces_dir).items()):
        rid = f"r-{i}"
        community.registry.residents.add_resident("bench", rid, name.replace("_", " "))
        community.registry.consents.record_consent("bench", rid, scope="benchmark", given_at=datetime.now(UTC))
        faces.enrol("bench", rid, [p.read_bytes() for p in enrol])
    community.ensure_door("gate", "Gate", face=True)
    # The bench measures what a face alone decides (face assurance "face_alone").
    community.set_face_assurance("gate", FaceAssurance.FACE_ALONE)
    community.access_config.add_rule("bench", AccessRule(rule_id="all", door_ids=frozenset({"gate"}),
                                                         applies_to_all=True), name="All")
    faces.gallery()  # decrypt the gallery once, as a running hub has it
    return community, faces


async def _measure(args: argparse.Namespace, captures: list[Capture], camera: CameraProcess, prepared: tuple[Any, Any]
                   ) -> tuple[list[float], list[float], list[float], collections.Counter[str], float | None]:
    import aiohttp

    from devices.camera import CameraClient
    from devices.door_controller import DoorController
    from devkit.sim.door_controller import DoorControllerSim
    from hub.doors import ControllerService, ReleaseReason
    from hub.frame_ring import FrameRing
    from hub.gate import BURST_FRAMES, MAX_BURST_FRAMES, AccessPoint, GateKeeper

    community, faces = prepared
    door = DoorControllerSim(doors=1, serial="BENCH-GATE")
    await door.start()
    service = ControllerService(DoorController(door.host, door.port))
    keeper = GateKeeper(community, asyncio.to_thread, faces=faces)
    point = AccessPoint("gate", "Gate", lambda: service.release(0, 1, ReleaseReason.DECISION))
    latencies: list[float] = []  # presence to the release acknowledged (inf: not let in)
    decided: list[float] = []  # presence to the decision recorded (and the release acknowledged, if granted)
    cpu_ms: list[float] = []  # the hub process's CPU time over the same span (less noisy than wall time)
    refusals: collections.Counter[str] = collections.Counter()
    idle_cpu: float | None = None
    arrived = asyncio.Event()
    offered = args.frames + MAX_BURST_FRAMES - BURST_FRAMES  # spares, as the gates in HA have
    loop = asyncio.get_running_loop()
    try:
        async with aiohttp.ClientSession() as session:
            client = CameraClient(session, f"{camera.base_url}/snapshot.jpg", mjpeg_url=f"{camera.base_url}/mjpeg")
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

            async def after_presence() -> AsyncGenerator[bytes]:
                """The gate's burst: snapshots on the camera's cadence, each handed on as it arrives."""
                started = loop.time()
                for i in range(offered):
                    yield await client.snapshot()
                    if i + 1 < offered:
                        await asyncio.sleep(max(0.0, started + (i + 1) * args.interval_ms / 1000 - loop.time()))

            # The product's ring, as the gates arm it: the camera's MJPEG stream, bytes only.
            ring = FrameRing(lambda: client.frames(None, frame_timeout=5), interval_s=args.interval_ms / 1000)
            tasks = [asyncio.create_task(poll_loop())]
            if args.capture == "ring":
                ring.start()
            try:
                await camera.set_scene("nobody", None)
                await asyncio.sleep(1.0)  # the stream and the poll settle
                if args.idle_s > 0:
                    wall, cpu = time.perf_counter(), _cpu_seconds()
                    await asyncio.sleep(args.idle_s)
                    idle_cpu = 100 * (_cpu_seconds() - cpu) / (time.perf_counter() - wall)
                for run in range(args.runs):
                    capture = captures[run % len(captures)]
                    await camera.set_scene("person", capture.scene)
                    # The person stands in front of the camera for a burst's span before presence fires.
                    await asyncio.sleep(args.frames * args.interval_ms / 1000 + 0.05)
                    releases = door.doors[0].releases
                    arrived.clear()
                    started, cpu_started = time.perf_counter(), _cpu_seconds()
                    door.set_presence(0, True)
                    await arrived.wait()
                    frames = (ring.burst(args.frames, offered=offered, fallback=after_presence)
                              if args.capture == "ring" else after_presence())
                    outcome = await keeper.camera_stream(point, frames, faces_needed=args.frames)
                    elapsed = (time.perf_counter() - started) * 1000
                    cpu_ms.append((_cpu_seconds() - cpu_started) * 1000)
                    granted = outcome is not None and outcome.decision.granted and door.doors[0].releases > releases
                    latencies.append(elapsed if granted else float("inf"))
                    decided.append(elapsed)
                    if not granted:
                        refusals[str(outcome.decision.reason) if outcome is not None else "no decision"] += 1
                    ring.clear()  # as the gate does once it has decided and when presence ends
                    door.set_presence(0, False)
                    await camera.set_scene("nobody", None)
                    # the next person arrives at a random moment of the poll cycle
                    await asyncio.sleep(args.poll_ms / 1000 * (1.3 + (run * 0.37) % 1))
            finally:
                await ring.stop()
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
    finally:
        await service.close()
        await door.stop()
        community.close()
    return latencies, decided, cpu_ms, refusals, idle_cpu


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(args: argparse.Namespace) -> int:
    """Run the benchmark."""
    from devkit.demo.faces import demo_faces_dir

    logging.getLogger().setLevel(logging.WARNING)
    from hub.gate import BURST_FRAMES, FRAME_INTERVAL_S, MAX_BURST_FRAMES

    args.frames = BURST_FRAMES if args.frames is None else args.frames
    if args.frames < BURST_FRAMES:
        print(f"--frames must be at least {BURST_FRAMES}: the liveness check needs {BURST_FRAMES} frames with a face")
        return 2
    args.interval_ms = FRAME_INTERVAL_S * 1000 if args.interval_ms is None else args.interval_ms
    faces_dir = args.faces or demo_faces_dir()
    if faces_dir is None or not faces_dir.is_dir() or args.runs < 1 or args.interval_ms <= 0:
        print("need --faces DIR (or the demo faces), --runs >= 1 and --interval-ms > 0")
        return 2
    if not split_photos(faces_dir):
        print(f"{faces_dir} needs <Name>/*.jpg folders with more than {ENROL_PHOTOS} photos each")
        return 2
    load_start = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory() as work:
        # Frames the camera loops over while the person stands there: enough that a burst's window (the ring's
        # newest frames, or the snapshots after presence) seldom spans the loop's seam.
        captures = build_captures(faces_dir, Path(work) / "camera", args.frame_size,
                                  max(CAPTURE_FRAMES, args.frames + MAX_BURST_FRAMES - BURST_FRAMES))
        prepared = _prepare(faces_dir, Path(work))
        camera = CameraProcess(Path(work) / "camera", 1000 / args.interval_ms)
        camera.start()
        try:
            latencies, decided, cpu_ms, refusals, idle_cpu = asyncio.run(_measure(args, captures, camera, prepared))
        finally:
            camera.stop()
    let_in = sorted(x for x in latencies if x != float("inf"))
    all_runs = sorted(decided)
    cpu_sorted = sorted(cpu_ms)

    def pct(values: list[float], q: float) -> float | None:
        if not values:
            return None
        return round(values[min(len(values) - 1, max(0, int(q * len(values) + 0.999) - 1))], 1)

    denied = len(latencies) - len(let_in)
    width, height = args.frame_size
    idle = None if idle_cpu is None else round(idle_cpu, 1)
    figures = {"runs": len(latencies), "frames": args.frames, "interval_ms": args.interval_ms,
               "poll_ms": args.poll_ms, "frame_size": f"{width}x{height}", "capture": args.capture,
               "captures": len(captures), "p50_ms": pct(let_in, 0.5), "p99_ms": pct(let_in, 0.99),
               "decision_p50_ms": pct(all_runs, 0.5), "decision_p99_ms": pct(all_runs, 0.99),
               "cpu_ms_per_burst_p50": pct(cpu_sorted, 0.5), "cpu_ms_per_burst_p99": pct(cpu_sorted, 0.99),
               "load_average_start": load_start,
               "load_average_end": [round(x, 2) for x in os.getloadavg()],
               "not_let_in": denied, "refusals": dict(refusals), "idle_cpu_pct_per_gate": idle}
    print(f"{'runs':>5} {'frames':>6} {'size':>10} {'capture':>7} {'p50 ms':>8} {'p99 ms':>8} {'decided p50':>11} "
          f"{'cpu ms p50':>10} {'not let in':>10} {'idle cpu %':>10}")
    print(f"{len(latencies):>5} {args.frames:>6} {f'{width}x{height}':>10} {args.capture:>7} "
          f"{_cell(figures['p50_ms']):>8} {_cell(figures['p99_ms']):>8} {_cell(figures['decision_p50_ms']):>11} "
          f"{_cell(figures['cpu_ms_per_burst_p50']):>10} {denied:>10} {_cell(idle):>10}")
    for reason, count in sorted(refusals.items()):
        print(f"  refused {count}x: {reason}")
    print(json.dumps(figures))
    return 0


def _cell(value: object) -> str:
    return "-" if value is None else str(value)
