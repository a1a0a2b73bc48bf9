"""A simulated gate camera: an aiohttp server with ``/snapshot.jpg`` and ``/mjpeg``, showing real photos.

What stands in front of the camera is switchable (:meth:`CameraSim.set_scene`, or ``POST /camera/scene`` on the
control endpoint of :mod:`devkit.sim.control`). Each scene is rendered as a camera sees it (the same rendering
as ``community-hub bench build-bursts``, at this camera's size): a gate background, sensor noise and JPEG per
frame, a loop of :data:`LOOP_FRAMES` frames played in turn.

``person``
    a resident standing in front of the camera: ONE capture of that person (their last photo, never one of the
    first :data:`ENROLLED_PHOTOS`, which the demo and the tests enrol) with a slight sway, sub-pixel jitter and
    lighting flicker, as a live person standing still gives. Let in.
``stranger``
    someone not enrolled, the same way (one photo of the strangers folder, or of ``person``'s sub-folder).
``photo``
    a presentation attack: that same photo of the resident printed (paper margin, reduced contrast) and held up
    by hand. An RGB camera cannot tell it from the resident standing still: it is let in, which is what the
    demo shows (docs/face-verification.md: what liveness on an RGB camera cannot catch).
``phone``
    a presentation attack: a phone held up, showing a slideshow of the resident's other photos (bezel, moire,
    glare). The face jumps between frames as no live capture does: refused as not live.
``nobody``
    an empty scene drawn with Pillow.

Everything runs on the event loop; the photos are small, so reading and transforming them there is cheap.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import logging
import os
import random
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import numpy as np
from aiohttp import web
from PIL import Image, ImageDraw

from devices.camera import parse_digest_challenge
from devices.discovery import DeviceAdvertisement, DeviceProfile

_LOGGER = logging.getLogger(__name__)

BOUNDARY = "frame"
DEFAULT_SIZE = (320, 240)
_MAX_STRANGER_PHOTOS = 200
_MAX_NONCES = 64
# The demo and the tests enrol each resident's first photos (sorted by name); the camera never shows those.
ENROLLED_PHOTOS = 3
# Frames rendered per scene and played in a loop (the loop's seam is a pixel or two).
LOOP_FRAMES = 16
# The face photo's height in the frame, as a fraction of the frame's height.
FACE_HEIGHT = 0.7


class Scene(StrEnum):
    """Who stands at the gate."""

    PERSON = "person"
    STRANGER = "stranger"
    PHOTO = "photo"
    PHONE = "phone"
    NOBODY = "nobody"


def _jpeg_files(folder: Path, limit: int | None = None) -> list[Path]:
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg") and p.is_file())
    return files[:limit] if limit is not None else files


def _encode_jpeg(image: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def empty_scene(size: tuple[int, int] = DEFAULT_SIZE) -> bytes:
    """A JPEG of the gate with nobody in it: a wall, the ground and the gate's bars."""
    width, height = size
    image = Image.new("RGB", size, (150, 155, 160))
    draw = ImageDraw.Draw(image)
    horizon = int(height * 0.7)
    for y in range(horizon):  # a soft vertical gradient, so the scene is not one flat colour
        shade = 170 - int(40 * y / max(1, horizon))
        draw.line([(0, y), (width, y)], fill=(shade, shade + 5, shade + 12))
    draw.rectangle([0, horizon, width, height], fill=(95, 90, 85))
    bar_gap = max(8, width // 10)
    for x in range(bar_gap // 2, width, bar_gap):
        draw.rectangle([x, int(height * 0.15), x + max(2, width // 80), horizon], fill=(60, 60, 65))
    draw.rectangle([0, int(height * 0.15), width, int(height * 0.15) + 4], fill=(60, 60, 65))
    return _encode_jpeg(image)


def render_scene(scene: Scene, photos: Sequence[Image.Image], size: tuple[int, int], seed: int) -> list[bytes]:
    """The JPEG frames of a scene, rendered as a gate camera sees them (``photos[0]`` is the one shown, the rest
    are the slideshow of ``phone``)."""
    from devkit.bench import burst_builder as render

    rng = np.random.default_rng(seed)
    first = photos[0]
    setting = render.make_scene(rng, size, face_scale=FACE_HEIGHT * size[1] / first.height)
    if scene in (Scene.PERSON, Scene.STRANGER):
        frames = render.person_frames(first, setting, LOOP_FRAMES, rng)
    elif scene is Scene.PHOTO:
        frames = render.print_frames(first, setting, LOOP_FRAMES, rng, "still")
    else:
        frames = render.replay_frames(photos[1:] or photos, setting, LOOP_FRAMES, rng, 2)
    gain = 1.0 + 0.01 * np.sin(np.arange(LOOP_FRAMES) * 2.1)  # mains flicker
    return [render.camera_jpeg(frame, rng, float(g)) for frame, g in zip(frames, gain, strict=True)]


class CameraSim:
    """A gate camera simulated on a real HTTP socket."""

    def __init__(
        self,
        residents_dir: str | os.PathLike[str],
        *,
        strangers_dir: str | os.PathLike[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        fps: float = 4.0,
        username: str | None = None,
        password: str | None = None,
        auth: Literal["basic", "digest"] = "basic",
        realm: str = "CameraSim",
        seed: int = 0,
    ) -> None:
        if fps <= 0:
            raise ValueError("fps must be positive")
        if auth not in ("basic", "digest"):
            raise ValueError("auth must be basic or digest")
        self.residents_dir = Path(residents_dir)
        self.strangers_dir = Path(strangers_dir) if strangers_dir is not None else None
        self.host = host
        self.port = port
        self.fps = fps
        self.username = username
        self.password = password
        self.auth = auth
        self.realm = realm
        self.people = sorted(p.name for p in self.residents_dir.iterdir() if p.is_dir() and _jpeg_files(p))
        if not self.people:
            raise ValueError(f"no people with photos under {self.residents_dir}")
        self._rng = random.Random(seed)
        self._seed = seed
        self._loop: list[bytes] = []
        self._index = 0
        with Image.open(_jpeg_files(self.residents_dir / self.people[0])[0]) as first:
            # Room around the face: the photo fills FACE_HEIGHT of a 4:3 frame.
            height = round(first.height / FACE_HEIGHT)
            self.frame_size: tuple[int, int] = (height * 4 // 3, height)
        self._empty = empty_scene(self.frame_size)
        self.scene = Scene.NOBODY
        self.person: str | None = None
        self.snapshots_served = 0
        self.frames_served = 0
        self.unauthorized = 0
        self._nonces: list[str] = []
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        # A camera that hangs: connections stay open, no frame or snapshot is sent until it recovers.
        self._answering = asyncio.Event()
        self._answering.set()
        self.app = web.Application()
        self.app.router.add_get("/snapshot.jpg", self._handle_snapshot)
        self.app.router.add_get("/mjpeg", self._handle_mjpeg)

    # -- the scene ---------------------------------------------------------------------------------------------
    def set_scene(self, scene: Scene | str, person: str | None = None) -> None:
        """Put someone (or no one) in front of the camera; ``person`` names a resident for ``person``, ``photo``
        and ``phone``; for ``stranger`` it may name a sub-folder of the strangers folder (default: the first)."""
        try:
            scene = Scene(scene)
        except ValueError as err:
            raise ValueError(f"unknown scene {scene!r}; one of {', '.join(s.value for s in Scene)}") from err
        files: list[Path] = []
        if scene in (Scene.PERSON, Scene.PHOTO, Scene.PHONE):
            if person is None:
                raise ValueError(f"scene {scene.value!r} needs a person (one of {', '.join(self.people)})")
            if person not in self.people:
                raise ValueError(f"unknown person {person!r}; one of {', '.join(self.people)}")
            shown = _jpeg_files(self.residents_dir / person)[ENROLLED_PHOTOS:]
            if not shown:
                raise ValueError(f"{person} has no photo besides the {ENROLLED_PHOTOS} enrolled ones to show")
            # One capture: the last photo. The phone's slideshow: the others that are not enrolled either.
            files = [shown[-1], *shown[:-1]]
        elif scene is Scene.STRANGER:
            if self.strangers_dir is None:
                raise ValueError("this camera has no strangers folder")
            folder = self.strangers_dir / person if person else self.strangers_dir
            if not folder.resolve().is_relative_to(self.strangers_dir.resolve()):
                raise ValueError(f"stranger {person!r} is outside the strangers folder")
            files = _jpeg_files(folder, _MAX_STRANGER_PHOTOS)[:1] if folder.is_dir() else []
            if not files:
                raise ValueError(f"no stranger photos under {folder}")
        else:
            person = None
        loop: list[bytes] = []
        if files:
            photos = []
            for file in files:
                with Image.open(file) as img:
                    photos.append(img.convert("RGB"))
            loop = render_scene(scene, photos, self.frame_size, self._seed + self._rng.randrange(1 << 30))
        self.scene, self.person = scene, person
        self._loop, self._index = loop, 0
        _LOGGER.info("camera scene: %s %s", scene.value, person or "")

    def play(self, frames: Sequence[bytes], person: str | None = None) -> None:
        """Show a recorded capture: these JPEG frames, sent as they are (no re-rendering), in a loop."""
        if not frames or not all(f.startswith(b"\xff\xd8") for f in frames):
            raise ValueError("a recording needs at least one frame, each a JPEG")
        self.scene, self.person = Scene.PERSON, person
        self._loop, self._index = list(frames), 0
        _LOGGER.info("camera plays a recording of %d frames", len(frames))

    def next_frame(self) -> bytes:
        """The next JPEG the camera sees."""
        if not self._loop:
            return self._empty
        frame = self._loop[self._index % len(self._loop)]
        self._index += 1
        return frame

    # -- HTTP --------------------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server."""
        return f"http://{self.host}:{self.port}"

    @property
    def snapshot_url(self) -> str:
        """URL of the JPEG snapshot."""
        return f"{self.base_url}/snapshot.jpg"

    @property
    def mjpeg_url(self) -> str:
        """URL of the MJPEG stream."""
        return f"{self.base_url}/mjpeg"

    def _authorized(self, request: web.Request) -> bool:
        if self.username is None:
            return True
        header = request.headers.get("Authorization", "")
        if self.auth == "basic":
            expected = base64.b64encode(f"{self.username}:{self.password or ''}".encode()).decode()
            return header == f"Basic {expected}"
        params = parse_digest_challenge(header)
        if params is None or params.get("nonce") not in self._nonces:
            return False
        if params.get("username") != self.username or params.get("realm") != self.realm:
            return False
        if params.get("uri") != request.path_qs:
            return False

        def h(text: str) -> str:
            return hashlib.md5(text.encode()).hexdigest()  # the protocol's hash, not ours to pick

        ha1 = h(f"{self.username}:{self.realm}:{self.password or ''}")
        ha2 = h(f"{request.method}:{params['uri']}")
        if params.get("qop") == "auth":
            expected = h(f"{ha1}:{params['nonce']}:{params.get('nc', '')}:{params.get('cnonce', '')}:auth:{ha2}")
        else:
            expected = h(f"{ha1}:{params['nonce']}:{ha2}")
        return params.get("response") == expected

    def _challenge(self) -> web.Response:
        self.unauthorized += 1
        if self.auth == "basic":
            value = f'Basic realm="{self.realm}"'
        else:
            nonce = os.urandom(12).hex()
            self._nonces = [*self._nonces[-(_MAX_NONCES - 1) :], nonce]
            value = f'Digest realm="{self.realm}", qop="auth", algorithm=MD5, nonce="{nonce}", opaque="sim"'
        return web.Response(status=401, headers={"WWW-Authenticate": value}, text="authentication required")

    async def _handle_snapshot(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._challenge()
        await self._answering.wait()
        self.snapshots_served += 1
        return web.Response(body=self.next_frame(), content_type="image/jpeg")

    async def _handle_mjpeg(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._challenge()
        response = web.StreamResponse(
            headers={"Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        try:
            while not self._stopping.is_set():
                await self._answering.wait()
                frame = self.next_frame()
                head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(frame)}\r\n\r\n"
                await response.write(head.encode() + frame + b"\r\n")
                self.frames_served += 1
                # Wait one frame period, or less if the camera is being stopped (the link cut).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), 1 / self.fps)
        except ConnectionResetError:
            # The client went away: nothing left to send to.
            pass
        return response

    # -- life cycle --------------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether the HTTP listener is up (the link is not cut)."""
        return self._runner is not None

    async def start(self) -> None:
        """Start listening; after the first start the port stays the same across link cuts."""
        if self._runner is not None:
            return
        self._stopping.clear()
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        server: Any = site._server  # the listening asyncio server; aiohttp exposes no public accessor
        self.port = int(server.sockets[0].getsockname()[1])
        _LOGGER.info("camera listening on %s", self.base_url)

    async def stop(self) -> None:
        """Stop listening and end every stream."""
        runner, self._runner = self._runner, None
        if runner is not None:
            self._stopping.set()
            self._answering.set()  # a hung camera's open requests end with the listener
            await runner.cleanup()

    @property
    def hanging(self) -> bool:
        """Whether the camera has stopped answering (see :meth:`set_hanging`)."""
        return not self._answering.is_set()

    def set_hanging(self, hanging: bool) -> None:
        """Stop answering while keeping connections open (``True``: a camera whose encoder hung), or answer again."""
        if hanging:
            self._answering.clear()
        else:
            self._answering.set()

    async def set_link(self, up: bool) -> None:
        """Cut (``False``) or restore (``True``) the network link."""
        if up:
            await self.start()
        else:
            await self.stop()

    def advertisement(self, serial: str = "SIMCAM0001", model: str = "SIM-CAM") -> DeviceAdvertisement:
        """What this camera announces over zeroconf (see :func:`devices.discovery.advertise`); call after start."""
        return DeviceAdvertisement(serial=serial, model=model, profile=DeviceProfile.CAMERA, port=self.port,
                                   addresses=[self.host], snapshot_path="/snapshot.jpg", mjpeg_path="/mjpeg")

    def snapshot(self) -> dict[str, Any]:
        """The simulator's state, for the control endpoint and for tests."""
        return {
            "host": self.host,
            "port": self.port,
            "link_up": self.running,
            "scene": self.scene.value,
            "person": self.person,
            "people": list(self.people),
            "fps": self.fps,
            "auth": self.auth if self.username is not None else None,
            "snapshots_served": self.snapshots_served,
            "frames_served": self.frames_served,
        }
