"""Client for IP cameras that serve JPEG snapshots and MJPEG streams over HTTP.

Most gate cameras expose a snapshot URL (one JPEG per GET) and an MJPEG URL (``multipart/x-mixed-replace``, one
JPEG per part), protected by HTTP basic or digest authentication. aiohttp 3.11 has no digest authentication, so
:class:`DigestAuth` implements RFC 7616 (MD5, MD5-sess, SHA-256, SHA-256-sess; ``qop=auth``) and the older RFC 2069
form without ``qop``.

The client takes an injected :class:`aiohttp.ClientSession` (Home Assistant's shared one) and never closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Literal
from urllib.parse import urlsplit

import aiohttp

from .exceptions import DeviceConnectionError, DeviceError, DeviceProtocolError, DeviceTimeoutError, DeviceValueError

__all__ = [
    "CameraAuthError",
    "CameraClient",
    "DigestAuth",
    "MultipartFrameReader",
    "is_jpeg",
    "parse_digest_challenge",
]

DEFAULT_TIMEOUT = 10.0
# A single frame larger than this is treated as a broken stream rather than buffered without limit.
MAX_FRAME_BYTES = 10 * 1024 * 1024
_JPEG_SOI = b"\xff\xd8"

AuthScheme = Literal["basic", "digest"]


class CameraAuthError(DeviceError):
    """The camera refused the credentials (HTTP 401 after authenticating, or 403)."""


def is_jpeg(data: bytes | bytearray) -> bool:
    """Whether ``data`` starts like a JPEG file (SOI marker followed by another marker)."""
    return len(data) >= 4 and data.startswith(_JPEG_SOI) and data[2] == 0xFF


# -- digest authentication ----------------------------------------------------------------------------------------

_AUTH_PARAM = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')
_HASHES: dict[str, Callable[[bytes], hashlib._Hash]] = {
    "MD5": hashlib.md5,
    "SHA-256": hashlib.sha256,
}


def parse_digest_challenge(header: str) -> dict[str, str] | None:
    """Parse the ``Digest`` challenge out of a ``WWW-Authenticate`` header value.

    Returns the challenge's parameters with lower-case keys, or ``None`` when the header offers no digest
    challenge. A header may carry several challenges (``Basic realm="x", Digest realm="y", ...``); only the part
    after ``Digest`` counts, up to the next scheme name.
    """
    match = re.search(r"(?:^|[\s,])Digest\s+", header, re.IGNORECASE)
    if match is None:
        return None
    rest = header[match.end() :]
    params: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        param = _AUTH_PARAM.match(rest, pos)
        if param is None:
            break  # the next challenge's scheme name, or garbage: the digest challenge ends here
        key, value = param.group(1).lower(), param.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[key] = value
        pos = param.end()
        while pos < len(rest) and rest[pos] in ", \t":
            pos += 1
    return params if "nonce" in params else None


class DigestAuth:
    """HTTP digest authentication state for one set of credentials (RFC 7616, RFC 2069).

    Keeps the last challenge so later requests authenticate up front with an incremented nonce count, saving a
    round trip per snapshot; a ``stale=true`` challenge just replaces the nonce.
    """

    def __init__(self, username: str, password: str, *, cnonce_factory: Callable[[], str] | None = None) -> None:
        self.username = username
        self.password = password
        self._challenge: dict[str, str] | None = None
        self._nonce_count = 0
        self._cnonce_factory = cnonce_factory or (lambda: os.urandom(8).hex())

    @property
    def has_challenge(self) -> bool:
        """Whether a challenge is known, so requests can carry an ``Authorization`` header up front."""
        return self._challenge is not None

    def reset(self) -> None:
        """Forget the challenge (after the server refused the credentials)."""
        self._challenge = None
        self._nonce_count = 0

    def update_challenge(self, header: str) -> bool:
        """Take a new challenge from a ``WWW-Authenticate`` value; ``False`` if it has no usable digest challenge."""
        challenge = parse_digest_challenge(header)
        if challenge is None:
            return False
        algorithm = challenge.get("algorithm", "MD5").upper()
        if algorithm.removesuffix("-SESS") not in _HASHES:
            return False
        qop = challenge.get("qop")
        if qop is not None and "auth" not in [q.strip().lower() for q in qop.split(",")]:
            return False  # auth-int only: would need the body hashed; no camera we know asks for it
        if self._challenge is None or challenge.get("nonce") != self._challenge.get("nonce"):
            self._nonce_count = 0
        self._challenge = challenge
        return True

    def authorization(self, method: str, uri: str) -> str:
        """The ``Authorization`` header value for a request to ``uri`` (path and query) with ``method``."""
        if self._challenge is None:
            raise DeviceValueError("no digest challenge received yet")
        ch = self._challenge
        algorithm = ch.get("algorithm", "MD5")
        hash_fn = _HASHES[algorithm.upper().removesuffix("-SESS")]

        def h(text: str) -> str:
            return hash_fn(text.encode("utf-8")).hexdigest()

        realm, nonce = ch.get("realm", ""), ch["nonce"]
        self._nonce_count += 1
        nc = f"{self._nonce_count:08x}"
        cnonce = self._cnonce_factory()
        ha1 = h(f"{self.username}:{realm}:{self.password}")
        if algorithm.upper().endswith("-SESS"):
            ha1 = h(f"{ha1}:{nonce}:{cnonce}")
        ha2 = h(f"{method.upper()}:{uri}")
        qop = ch.get("qop")
        fields = [
            f'username="{_quote(self.username)}"',
            f'realm="{_quote(realm)}"',
            f'nonce="{_quote(nonce)}"',
            f'uri="{_quote(uri)}"',
            f"algorithm={algorithm}",
        ]
        if qop is not None:
            response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
            fields += [f'response="{response}"', "qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
        else:
            fields.append(f'response="{h(f"{ha1}:{nonce}:{ha2}")}"')
        if "opaque" in ch:
            fields.append(f'opaque="{_quote(ch["opaque"])}"')
        return "Digest " + ", ".join(fields)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


# -- MJPEG -------------------------------------------------------------------------------------------------------


class MultipartFrameReader:
    """Reads the parts of a ``multipart/x-mixed-replace`` stream, one JPEG per part.

    Written against a plain ``read_chunk`` coroutine rather than aiohttp's multipart reader because cameras bend
    the format: some send ``Content-Length`` per part and some do not, some repeat the leading ``--`` inside the
    boundary parameter, some omit the CRLF before a delimiter.
    """

    def __init__(self, read_chunk: Callable[[], Awaitable[bytes]], boundary: str) -> None:
        self._read_chunk = read_chunk
        self._buffer = bytearray()
        self._eof = False
        bare = boundary.strip().strip('"')
        self._delimiter = b"--" + bare.removeprefix("--").encode("latin-1")
        self._started = False

    async def _fill(self) -> None:
        chunk = await self._read_chunk()
        if not isinstance(chunk, bytes | bytearray):
            raise DeviceProtocolError("MJPEG stream returned a non-bytes chunk")
        if not chunk:
            self._eof = True
            raise DeviceConnectionError("MJPEG stream ended")
        self._buffer += chunk
        if len(self._buffer) > MAX_FRAME_BYTES + 64 * 1024:
            raise DeviceProtocolError(f"MJPEG part larger than {MAX_FRAME_BYTES} bytes (no boundary found)")

    async def _readline(self) -> bytes:
        while (end := self._buffer.find(b"\n")) < 0:
            await self._fill()
        line = bytes(self._buffer[: end + 1])
        del self._buffer[: end + 1]
        return line.rstrip(b"\r\n")

    async def _read_exactly(self, n: int) -> bytes:
        while len(self._buffer) < n:
            await self._fill()
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    async def _read_until_delimiter(self) -> bytes:
        start = 0
        while (end := self._buffer.find(self._delimiter, start)) < 0:
            start = max(0, len(self._buffer) - len(self._delimiter))
            await self._fill()
        data = bytes(self._buffer[:end])
        del self._buffer[:end]
        return data.removesuffix(b"\r\n").removesuffix(b"\n")

    async def next_part(self) -> bytes:
        """The body of the next part (headers skipped)."""
        # Skip the preamble and blank lines up to the delimiter line.
        while True:
            line = await self._readline()
            if line.startswith(self._delimiter):
                if line[len(self._delimiter) :].startswith(b"--"):
                    raise DeviceConnectionError("MJPEG stream closed by the camera")
                break
            if line.strip() and self._started:
                raise DeviceProtocolError(f"MJPEG stream: expected a boundary, got {line[:40]!r}")
        self._started = True
        length: int | None = None
        while line := await self._readline():
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                try:
                    length = int(value.strip())
                except ValueError as err:
                    raise DeviceProtocolError(f"MJPEG part has a bad Content-Length {value!r}") from err
                if not 0 <= length <= MAX_FRAME_BYTES:
                    raise DeviceProtocolError(f"MJPEG part of {length} bytes is out of range")
        if length is not None:
            return await self._read_exactly(length)
        return await self._read_until_delimiter()


# -- the client --------------------------------------------------------------------------------------------------


class CameraClient:
    """An HTTP camera: JPEG snapshots, MJPEG frames and short bursts of frames for liveness checks."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        snapshot_url: str,
        mjpeg_url: str | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        auth: AuthScheme = "basic",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if auth not in ("basic", "digest"):
            raise DeviceValueError(f"unknown authentication scheme {auth!r} (basic or digest)")
        self._session = session
        self.snapshot_url = snapshot_url
        self.mjpeg_url = mjpeg_url
        self._timeout = timeout
        self._basic: aiohttp.BasicAuth | None = None
        self._digest: DigestAuth | None = None
        if username is not None:
            if auth == "basic":
                self._basic = aiohttp.BasicAuth(username, password or "")
            else:
                self._digest = DigestAuth(username, password or "")

    async def _open(self, url: str, client_timeout: aiohttp.ClientTimeout) -> aiohttp.ClientResponse:
        """GET ``url`` with authentication; returns a 200 response the caller must release."""
        for attempt in range(3):
            headers: dict[str, str] = {}
            if self._digest is not None and self._digest.has_challenge:
                split = urlsplit(url)
                uri = split.path + (f"?{split.query}" if split.query else "")
                headers["Authorization"] = self._digest.authorization("GET", uri or "/")
            try:
                resp = await self._session.get(url, auth=self._basic, headers=headers, timeout=client_timeout)
            except TimeoutError as err:
                raise DeviceTimeoutError(f"camera {url} did not answer in time") from err
            except aiohttp.ClientError as err:
                raise DeviceConnectionError(f"camera {url}: {err}") from err
            if resp.status == 401 and self._digest is not None and attempt < 2:
                challenges = resp.headers.getall("WWW-Authenticate", [])
                resp.release()
                fresh = any(self._digest.update_challenge(c) for c in challenges)
                # A retry only makes sense for a first challenge or a stale nonce; a second plain 401 means the
                # password is wrong.
                stale = any((parse_digest_challenge(c) or {}).get("stale", "").lower() == "true" for c in challenges)
                if fresh and (attempt == 0 or stale):
                    continue
                self._digest.reset()
                raise CameraAuthError(f"camera {url} refused the credentials")
            if resp.status in (401, 403):
                resp.release()
                raise CameraAuthError(f"camera {url} refused the credentials (HTTP {resp.status})")
            if resp.status != 200:
                resp.release()
                raise DeviceProtocolError(f"camera {url} answered HTTP {resp.status}")
            return resp
        raise CameraAuthError(f"camera {url} refused the credentials")  # pragma: no cover (loop always returns)

    async def snapshot(self) -> bytes:
        """One JPEG from the snapshot URL."""
        resp = await self._open(self.snapshot_url, aiohttp.ClientTimeout(total=self._timeout))
        data = bytearray()
        try:
            async with asyncio.timeout(self._timeout):
                # read(n) returns what has arrived so far, not the whole body: loop to the end, with a cap.
                while (chunk := await resp.content.read(64 * 1024)) and len(data) <= MAX_FRAME_BYTES:
                    data += chunk
        except TimeoutError as err:
            raise DeviceTimeoutError(f"camera {self.snapshot_url} did not send the snapshot in time") from err
        except aiohttp.ClientError as err:
            raise DeviceConnectionError(f"camera {self.snapshot_url}: {err}") from err
        finally:
            resp.release()
        if len(data) > MAX_FRAME_BYTES:
            raise DeviceProtocolError(f"camera {self.snapshot_url} sent more than {MAX_FRAME_BYTES} bytes")
        if not is_jpeg(data):
            raise DeviceProtocolError(f"camera {self.snapshot_url} sent something that is not a JPEG")
        return bytes(data)

    async def probe(self, timeout: float) -> None:
        """Whether the camera answers: one snapshot within ``timeout`` seconds (connect, authentication and the JPEG
        together). Raises :class:`DeviceError` (a timeout, a refused connection or credentials, not a JPEG) when it
        does not; the background health probe calls this, never the gate path."""
        if timeout <= 0:
            raise DeviceValueError("a probe needs a positive timeout")
        try:
            async with asyncio.timeout(timeout):
                await self.snapshot()
        except TimeoutError as err:
            raise DeviceTimeoutError(f"camera {self.snapshot_url} did not answer the probe in {timeout} s") from err

    async def frames(
        self, max_frames: int | None = None, *, frame_timeout: float | None = None
    ) -> AsyncGenerator[bytes]:
        """JPEG frames from the MJPEG stream, at most ``max_frames`` (``None``: until the caller stops).

        Each frame must arrive within ``frame_timeout`` seconds (default: the client's timeout). The stream is
        closed when the iterator finishes or is closed; a caller that breaks out early should iterate inside
        ``contextlib.aclosing(camera.frames(...))`` so the connection closes at once, not when the generator is
        garbage collected.
        """
        if self.mjpeg_url is None:
            raise DeviceValueError("this camera has no MJPEG URL")
        if max_frames is not None and max_frames < 1:
            return
        per_frame = self._timeout if frame_timeout is None else frame_timeout
        # No total timeout: a stream runs as long as the caller wants; each frame has its own deadline instead.
        resp = await self._open(self.mjpeg_url, aiohttp.ClientTimeout(total=None, connect=self._timeout))
        try:
            boundary = _boundary(resp.headers.get("Content-Type", ""))
            if boundary is None:
                raise DeviceProtocolError(f"camera {self.mjpeg_url} did not send a multipart/x-mixed-replace stream")
            reader = MultipartFrameReader(resp.content.readany, boundary)
            count = 0
            while max_frames is None or count < max_frames:
                try:
                    async with asyncio.timeout(per_frame):
                        frame = await reader.next_part()
                except TimeoutError as err:
                    raise DeviceTimeoutError(f"camera {self.mjpeg_url} sent no frame for {per_frame} s") from err
                except aiohttp.ClientError as err:
                    raise DeviceConnectionError(f"camera {self.mjpeg_url}: {err}") from err
                if not is_jpeg(frame):
                    raise DeviceProtocolError(f"camera {self.mjpeg_url} sent a frame that is not a JPEG")
                count += 1
                yield frame
        finally:
            # close(), not release(): the rest of an endless stream must not be drained into the pool.
            resp.close()

    async def snapshots(self, max_frames: int | None = None, *, interval: float) -> AsyncGenerator[bytes]:
        """Snapshots on a cadence, ``interval`` seconds apart from start to start however long a fetch takes
        (a slow fetch is not followed by a full interval), at most ``max_frames`` (``None``: until the caller
        stops). For cameras without MJPEG, or a gate's ring buffer fed by polling. Each fetch has the client's
        timeout; a failure ends the iterator with the error."""
        if interval <= 0:
            raise DeviceValueError("snapshots need a positive interval")
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        count = 0
        while max_frames is None or count < max_frames:
            if count:
                next_at = max(next_at + interval, loop.time())
                await asyncio.sleep(next_at - loop.time())
            yield await self.snapshot()
            count += 1

    async def burst(self, n: int, interval: float = 0.2) -> list[bytes]:
        """``n`` frames for a liveness check: consecutive MJPEG frames if there is a stream, else snapshots taken
        ``interval`` seconds apart.

        With MJPEG the camera's frame rate sets the spacing; ``interval`` then only drops frames that arrive
        faster than that, so a burst spans roughly the same time either way.
        """
        if n < 1:
            raise DeviceValueError(f"a burst needs at least one frame, not {n}")
        frames: list[bytes] = []
        if self.mjpeg_url is not None:
            loop = asyncio.get_running_loop()
            last = -interval
            async with contextlib.aclosing(self.frames(None)) as stream:
                async for frame in stream:
                    now = loop.time()
                    if now - last >= interval * 0.9:  # a little slack for frame-rate jitter
                        frames.append(frame)
                        last = now
                        if len(frames) == n:
                            break
            return frames
        for i in range(n):
            if i:
                await asyncio.sleep(interval)
            frames.append(await self.snapshot())
        return frames


def _boundary(content_type: str) -> str | None:
    """The boundary parameter of a ``multipart/x-mixed-replace`` content type."""
    main, _, params = content_type.partition(";")
    if main.strip().lower() != "multipart/x-mixed-replace":
        return None
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "boundary" and value.strip():
            return value.strip().strip('"')
    return None

