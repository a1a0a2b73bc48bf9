"""Camera client against the camera simulator (real HTTP on loopback) and against misbehaving servers."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import numpy as np
import pytest
from aiohttp import web
from PIL import Image

from devices.camera import (
    CameraAuthError,
    CameraClient,
    DigestAuth,
    MultipartFrameReader,
    is_jpeg,
    parse_digest_challenge,
)
from devices.exceptions import DeviceConnectionError, DeviceProtocolError, DeviceTimeoutError, DeviceValueError
from devkit.sim.camera import CameraSim, Scene
from hub.faces.paths import shared_faces_dir

FACES = shared_faces_dir()
COMMUNITY = FACES / "community"
STRANGERS = FACES / "lfw-dev" / "images"
BIG_PHOTO = FACES / "scenes" / "obama.jpg"

pytestmark = pytest.mark.skipif(not COMMUNITY.is_dir(), reason=f"face photos not found at {COMMUNITY}")


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def make_sim(socket_enabled: None) -> AsyncIterator[Callable[..., Awaitable[CameraSim]]]:
    sims: list[CameraSim] = []

    async def factory(**kwargs: object) -> CameraSim:
        sim = CameraSim(COMMUNITY, strangers_dir=STRANGERS, fps=20, **kwargs)  # type: ignore[arg-type]
        await sim.start()
        sims.append(sim)
        return sim

    yield factory
    for sim in sims:
        await sim.stop()


def _decode(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    image.load()
    return image


async def test_a_resident_is_one_capture_with_camera_noise(
    make_sim: Callable[..., Awaitable[CameraSim]], session: aiohttp.ClientSession
) -> None:
    """The person scene is what a camera gives of someone standing there: every frame new (noise, sway), none of
    them a photo file, and the frames barely differ (one capture, not a series of different photos)."""
    sim = await make_sim()
    sim.set_scene(Scene.PERSON, "John_Simm")
    camera = CameraClient(session, sim.snapshot_url, sim.mjpeg_url)
    shots = [await camera.snapshot() for _ in range(3)]
    on_disk = {p.read_bytes() for p in (COMMUNITY / "John_Simm").glob("*.jpg")}
    assert all(is_jpeg(s) for s in shots)
    assert len(set(shots)) == 3
    assert not set(shots) & on_disk
    first, second = (np.asarray(_decode(s).convert("L"), dtype=np.float32) for s in shots[:2])
    assert float(np.abs(first - second).mean()) < 12  # noise and a pixel of sway, not another photo
    assert not session.closed  # the injected session is never closed by the client


async def test_mjpeg_frames_and_burst(
    make_sim: Callable[..., Awaitable[CameraSim]], session: aiohttp.ClientSession
) -> None:
    sim = await make_sim()
    sim.set_scene("person", "John_Salley")
    camera = CameraClient(session, sim.snapshot_url, sim.mjpeg_url)
    frames = [f async for f in camera.frames(4)]
    assert len(frames) == 4
    assert len(set(frames)) == 4
    burst = await camera.burst(3, interval=0.05)
    assert len(burst) == 3
    assert all(_decode(f).size == sim.frame_size for f in burst)
    assert sim.frames_served >= 7


async def test_burst_without_mjpeg_uses_snapshots(
    make_sim: Callable[..., Awaitable[CameraSim]], session: aiohttp.ClientSession
) -> None:
    sim = await make_sim()
    sim.set_scene("stranger", "Adrien_Brody")
    camera = CameraClient(session, sim.snapshot_url)
    frames = await camera.burst(2, interval=0.01)
    assert len(frames) == 2
    assert sim.snapshots_served == 2
    with pytest.raises(DeviceValueError):
        await camera.burst(0)
    with pytest.raises(DeviceValueError):
        [f async for f in camera.frames(1)]


async def test_snapshots_on_a_cadence_and_a_hung_camera_times_out(
    make_sim: Callable[..., Awaitable[CameraSim]], session: aiohttp.ClientSession
) -> None:
    sim = await make_sim()
    sim.set_scene("person", sim.people[0])
    camera = CameraClient(session, sim.snapshot_url, mjpeg_url=sim.mjpeg_url, timeout=0.5)
    frames = [f async for f in camera.snapshots(3, interval=0.01)]
    assert len(frames) == 3 and all(is_jpeg(f) for f in frames) and sim.snapshots_served == 3
    with pytest.raises(DeviceValueError):
        [f async for f in camera.snapshots(1, interval=0)]
    sim.set_hanging(True)  # connected, but nothing comes: each call ends with a timeout, not a hang
    with pytest.raises(DeviceTimeoutError):
        [f async for f in camera.snapshots(1, interval=0.01)]
    with pytest.raises(DeviceTimeoutError):
        [f async for f in camera.frames(1, frame_timeout=0.3)]
    sim.set_hanging(False)
    assert len([f async for f in camera.frames(2)]) == 2


@pytest.mark.parametrize("scene", [Scene.PHOTO, Scene.PHONE])
async def test_attacks_are_rendered_frames(
    make_sim: Callable[..., Awaitable[CameraSim]], session: aiohttp.ClientSession, scene: Scene
) -> None:
    sim = await make_sim()
    sim.set_scene(scene, "John_Savage")
    camera = CameraClient(session, sim.snapshot_url, sim.mjpeg_url)
    frames = [f async for f in camera.frames(3)]
    assert len(set(frames)) == 3  # a new frame each time (noise, the hand's tremor)
    on_disk = {p.read_bytes() for p in (COMMUNITY / "John_Savage").glob("*.jpg")}
    assert not set(frames) & on_disk  # re-rendered, not the resident's photos themselves
    assert all(_decode(f).size == sim.frame_size for f in frames)


async def test_nobody_scene_and_scene_validation(
    make_sim: Callable[..., Awaitable[CameraSim]], session: aiohttp.ClientSession
) -> None:
    sim = await make_sim()
    camera = CameraClient(session, sim.snapshot_url)
    assert sim.scene is Scene.NOBODY
    empty = _decode(await camera.snapshot())
    assert empty.size == sim.frame_size
    with pytest.raises(ValueError, match="unknown person"):
        sim.set_scene("person", "Nobody_Known")
    with pytest.raises(ValueError, match="needs a person"):
        sim.set_scene("photo")
    with pytest.raises(ValueError, match="unknown scene"):
        sim.set_scene("ghost")
    with pytest.raises(ValueError, match="outside"):
        sim.set_scene("stranger", "../../community")
    assert sim.snapshot()["scene"] == "nobody"


@pytest.mark.parametrize("scheme", ["basic", "digest"])
async def test_authentication(
    make_sim: Callable[..., Awaitable[CameraSim]], session: aiohttp.ClientSession, scheme: str
) -> None:
    sim = await make_sim(username="admin", password="s3cret", auth=scheme)
    good = CameraClient(session, sim.snapshot_url, sim.mjpeg_url, username="admin", password="s3cret", auth=scheme)  # type: ignore[arg-type]
    assert is_jpeg(await good.snapshot())
    assert is_jpeg(await good.snapshot())
    assert len([f async for f in good.frames(2)]) == 2
    # Digest: one challenge, then later requests authenticate up front with the next nonce count.
    assert sim.unauthorized == (1 if scheme == "digest" else 0)

    wrong = CameraClient(session, sim.snapshot_url, username="admin", password="nope", auth=scheme)  # type: ignore[arg-type]
    with pytest.raises(CameraAuthError):
        await wrong.snapshot()
    anonymous = CameraClient(session, sim.snapshot_url, sim.mjpeg_url)
    with pytest.raises(CameraAuthError):
        await anonymous.snapshot()
    with pytest.raises(CameraAuthError):
        [f async for f in anonymous.frames(1)]


async def test_camera_link_cut_and_restored(
    make_sim: Callable[..., Awaitable[CameraSim]], session: aiohttp.ClientSession
) -> None:
    sim = await make_sim()
    camera = CameraClient(session, sim.snapshot_url, sim.mjpeg_url, timeout=1.0)
    await sim.set_link(False)
    with pytest.raises(DeviceConnectionError):
        await camera.snapshot()
    await sim.set_link(True)
    assert is_jpeg(await camera.snapshot())


async def test_stream_ends_when_the_link_is_cut(
    make_sim: Callable[..., Awaitable[CameraSim]], session: aiohttp.ClientSession
) -> None:
    sim = await make_sim()
    camera = CameraClient(session, sim.snapshot_url, sim.mjpeg_url, timeout=1.0)
    got: list[bytes] = []

    async def watch() -> None:
        async for frame in camera.frames(None):
            got.append(frame)
            if len(got) == 2:
                await sim.set_link(False)

    with pytest.raises(DeviceConnectionError):
        await watch()
    assert len(got) >= 2


# -- misbehaving servers ------------------------------------------------------------------------------------------


@pytest.fixture
async def bad_server(socket_enabled: None) -> AsyncIterator[str]:
    # aiohttp does not cancel a handler when its client goes away: the stalling handlers wait on this event
    # so the fixture can end them.
    release = asyncio.Event()

    async def stall() -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.wait(), 5)

    async def not_jpeg(request: web.Request) -> web.Response:
        return web.Response(text="<html>hello</html>", content_type="text/html")

    async def slow(request: web.Request) -> web.Response:
        await stall()
        return web.Response(body=b"\xff\xd8\xff\xe0")

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=BIG_PHOTO.read_bytes(), content_type="image/jpeg")

    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404)

    async def forbidden(request: web.Request) -> web.Response:
        return web.Response(status=403)

    async def not_multipart(request: web.Request) -> web.Response:
        return web.Response(body=b"\xff\xd8\xff\xe0", content_type="image/jpeg")

    async def bad_part(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "multipart/x-mixed-replace; boundary=b"})
        await resp.prepare(request)
        await resp.write(b"--b\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello\r\n")
        return resp

    async def silent_stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "multipart/x-mixed-replace; boundary=b"})
        await resp.prepare(request)
        await stall()
        return resp

    app = web.Application()
    app.router.add_get("/html", not_jpeg)
    app.router.add_get("/slow", slow)
    app.router.add_get("/missing", missing)
    app.router.add_get("/big", big)
    app.router.add_get("/forbidden", forbidden)
    app.router.add_get("/jpeg", not_multipart)
    app.router.add_get("/badpart", bad_part)
    app.router.add_get("/silent", silent_stream)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    release.set()
    await asyncio.sleep(0.05)
    await runner.cleanup()


async def test_large_snapshot_is_read_whole(bad_server: str, session: aiohttp.ClientSession) -> None:
    assert await CameraClient(session, f"{bad_server}/big").snapshot() == BIG_PHOTO.read_bytes()


async def test_errors_are_device_errors(bad_server: str, session: aiohttp.ClientSession) -> None:
    with pytest.raises(DeviceProtocolError, match="not a JPEG"):
        await CameraClient(session, f"{bad_server}/html").snapshot()
    with pytest.raises(DeviceTimeoutError):
        await CameraClient(session, f"{bad_server}/slow", timeout=0.2).snapshot()
    with pytest.raises(DeviceProtocolError, match="HTTP 404"):
        await CameraClient(session, f"{bad_server}/missing").snapshot()
    with pytest.raises(CameraAuthError):
        await CameraClient(session, f"{bad_server}/forbidden").snapshot()
    with pytest.raises(DeviceProtocolError, match="multipart"):
        [f async for f in CameraClient(session, bad_server, f"{bad_server}/jpeg").frames(1)]
    with pytest.raises(DeviceProtocolError, match="not a JPEG"):
        [f async for f in CameraClient(session, bad_server, f"{bad_server}/badpart").frames(1)]
    with pytest.raises(DeviceTimeoutError):
        [f async for f in CameraClient(session, bad_server, f"{bad_server}/silent").frames(1, frame_timeout=0.2)]
    with pytest.raises(DeviceValueError):
        CameraClient(session, bad_server, auth="ntlm")  # type: ignore[arg-type]


async def test_unreachable_camera(session: aiohttp.ClientSession, socket_enabled: None) -> None:
    # Bind and close a socket to get a port nothing listens on.
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(DeviceConnectionError):
        await CameraClient(session, f"http://127.0.0.1:{port}/snapshot.jpg", timeout=1.0).snapshot()


# -- pure parsing -------------------------------------------------------------------------------------------------


def _reader(data: bytes, boundary: str, chunk: int = 7) -> MultipartFrameReader:
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]

    async def read_chunk() -> bytes:
        return chunks.pop(0) if chunks else b""

    return MultipartFrameReader(read_chunk, boundary)


JPEG_A = b"\xff\xd8\xff\xe0AAAA\xff\xd9"
JPEG_B = b"\xff\xd8\xff\xe0BBBBBB\xff\xd9"


async def test_multipart_without_content_length_and_odd_boundaries() -> None:
    data = (
        b"preamble\r\n--xx\r\nContent-Type: image/jpeg\r\n\r\n" + JPEG_A
        + b"\r\n--xx\r\n\r\n" + JPEG_B + b"\r\n--xx--\r\n"
    )
    reader = _reader(data, '"--xx"')
    assert await reader.next_part() == JPEG_A
    assert await reader.next_part() == JPEG_B
    with pytest.raises(DeviceConnectionError, match="closed"):
        await reader.next_part()


async def test_multipart_errors() -> None:
    with pytest.raises(DeviceProtocolError, match="Content-Length"):
        await _reader(b"--b\r\nContent-Length: x\r\n\r\n", "b").next_part()
    with pytest.raises(DeviceProtocolError, match="out of range"):
        await _reader(b"--b\r\nContent-Length: 99999999999\r\n\r\n", "b").next_part()
    reader = _reader(b"--b\r\nContent-Length: 3\r\n\r\nabc\r\ngarbage\r\n", "b")
    assert await reader.next_part() == b"abc"
    with pytest.raises(DeviceProtocolError, match="expected a boundary"):
        await reader.next_part()
    with pytest.raises(DeviceConnectionError, match="ended"):
        await _reader(b"--b\r\nContent-Length: 10\r\n\r\nabc", "b").next_part()


def test_digest_rfc_examples() -> None:
    # RFC 2617 section 3.5.
    auth = DigestAuth("Mufasa", "Circle Of Life", cnonce_factory=lambda: "0a4f113b")
    assert auth.update_challenge(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
        'opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    header = auth.authorization("GET", "/dir/index.html")
    assert 'response="6629fae49393a05397450978507c4ef1"' in header
    assert "nc=00000001" in header
    assert "nc=00000002" in auth.authorization("GET", "/dir/index.html")

    # RFC 7616 section 3.9.1, MD5 and SHA-256.
    cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
    challenge = (
        'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={alg}, '
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
    )
    for alg, expected in [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ]:
        auth = DigestAuth("Mufasa", "Circle of Life", cnonce_factory=lambda: cnonce)
        assert auth.update_challenge(challenge.format(alg=alg))
        assert f'response="{expected}"' in auth.authorization("GET", "/dir/index.html")


def test_digest_challenge_parsing() -> None:
    assert parse_digest_challenge('Basic realm="x"') is None
    parsed = parse_digest_challenge('Basic realm="x", Digest realm="a \\"b\\"", nonce=abc, stale=TRUE')
    assert parsed == {"realm": 'a "b"', "nonce": "abc", "stale": "TRUE"}
    auth = DigestAuth("u", "p")
    assert not auth.update_challenge('Digest realm="r", nonce="n", algorithm=SHA-512-256')
    assert not auth.update_challenge('Digest realm="r", nonce="n", qop="auth-int"')
    with pytest.raises(DeviceValueError):
        auth.authorization("GET", "/")
    assert auth.update_challenge('Digest realm="r", nonce="n", algorithm=MD5-sess')
    assert "algorithm=MD5-sess" in auth.authorization("GET", "/")
    assert auth.update_challenge('Digest realm="r", nonce="n"')  # RFC 2069: no qop
    assert "qop" not in auth.authorization("GET", "/")


async def test_probe_answers_or_raises_a_device_error(
    make_sim: Callable[..., Awaitable[CameraSim]], bad_server: str, session: aiohttp.ClientSession
) -> None:
    """The health probe: one snapshot within its own (short) timeout, whatever the client's timeout is."""
    sim = await make_sim(username="admin", password="pw", auth="digest")
    camera = CameraClient(session, sim.snapshot_url, username="admin", password="pw", auth="digest", timeout=30)
    await camera.probe(2.0)
    await sim.set_link(False)
    with pytest.raises(DeviceConnectionError):
        await camera.probe(2.0)
    await sim.set_link(True)
    await camera.probe(2.0)
    with pytest.raises(DeviceTimeoutError, match="probe"):
        await CameraClient(session, f"{bad_server}/slow", timeout=30).probe(0.2)  # a hung camera: down
    with pytest.raises(CameraAuthError):
        await CameraClient(session, sim.snapshot_url, username="admin", password="bad", auth="digest").probe(2.0)
    with pytest.raises(DeviceValueError):
        await camera.probe(0)
