"""The gate camera's recent frames: a ring buffer kept while a gate is armed, so a decision starts on frames
already taken when presence fires (the person's approach) instead of waiting a burst's span for new ones.

The ring holds JPEG bytes only: nothing is decoded while nobody is there, so a waiting gate costs what receiving
the stream costs (see ``bench gate``'s ``idle_cpu_pct_per_gate``). Memory is bounded twice: by the frames in
``span_s`` at the camera's cadence and by ``max_bytes``. A camera that stops sending is reconnected in the
background; a burst never waits on it longer than ``frame_timeout`` before going on with fresh frames from the
fallback source (e.g. snapshots), or ending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Coroutine
from typing import Any

_LOGGER = logging.getLogger(__name__)

FrameSource = Callable[[], AsyncGenerator[bytes]]

DEFAULT_SPAN_S = 1.0
DEFAULT_MAX_BYTES = 16 * 1024 * 1024  # about 60 1080p frames at a camera's JPEG quality
DEFAULT_FRAME_TIMEOUT_S = 0.5
DEFAULT_RETRY_S = 1.0


class FrameRing:
    """The last ``span_s`` of a camera's frames, fed by ``source`` (an endless stream: MJPEG parts, or snapshots
    on the gate's cadence) in a background task between :meth:`start` and :meth:`stop`."""

    def __init__(
        self,
        source: FrameSource,
        *,
        interval_s: float,
        span_s: float = DEFAULT_SPAN_S,
        max_bytes: int = DEFAULT_MAX_BYTES,
        frame_timeout: float = DEFAULT_FRAME_TIMEOUT_S,
        retry_s: float = DEFAULT_RETRY_S,
        name: str = "camera",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if interval_s <= 0 or span_s <= 0 or max_bytes <= 0 or frame_timeout <= 0 or retry_s < 0:
            raise ValueError("a frame ring needs a positive interval, span, size limit and frame timeout")
        self._source = source
        self.span_s = span_s
        self.max_bytes = max_bytes
        self.frame_timeout = frame_timeout
        self.retry_s = retry_s
        self.name = name
        self._clock = clock
        self.max_frames = math.ceil(span_s / interval_s) + 1
        self._frames: deque[tuple[float, bytes]] = deque()
        self._bytes = 0
        self._arrived = asyncio.Event()  # set on every frame, cleared by whoever waits for the next one
        self._waiters = 0
        self._task: asyncio.Task[None] | None = None
        self.received = 0  # frames taken from the camera since start
        self.failures = 0  # times the source ended or failed and was reconnected

    # -- the background feed ---------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, spawn: Callable[[Coroutine[Any, Any, None], str], asyncio.Task[None]] | None = None) -> None:
        """Start keeping the camera's frames (idempotent); ``spawn`` starts the feed's task (e.g. Home
        Assistant's background tasks, so it ends with the entry), a plain task by default."""
        if not self.running:
            name = f"frame ring {self.name}"
            feed = self._feed()
            self._task = spawn(feed, name) if spawn is not None else asyncio.get_running_loop().create_task(
                feed, name=name)

    async def stop(self) -> None:
        """Stop the feed and drop every frame."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.clear()

    async def _feed(self) -> None:
        while True:
            try:
                async with contextlib.aclosing(self._source()) as stream:
                    async for frame in stream:
                        self.push(frame)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # any camera failure: drop what is stale, reconnect later
                _LOGGER.debug("gate camera %s: %s; reconnecting in %s s", self.name, err, self.retry_s)
            self.failures += 1
            self.clear()  # frames from before an outage are no one's approach
            await asyncio.sleep(self.retry_s)

    def push(self, frame: bytes) -> None:
        """One frame from the camera (the feed calls this; tests may too)."""
        now = self._clock()
        self._frames.append((now, frame))
        self._bytes += len(frame)
        self.received += 1
        while self._frames and (len(self._frames) > self.max_frames or self._bytes > self.max_bytes
                                or now - self._frames[0][0] > self.span_s):
            self._bytes -= len(self._frames.popleft()[1])
        if self._waiters:
            self._arrived.set()

    # -- what a gate takes -----------------------------------------------------------------------------------
    @property
    def buffered_bytes(self) -> int:
        return self._bytes

    @property
    def streaming(self) -> bool:
        """Whether the camera's frames are arriving: the newest is at most ``frame_timeout`` old."""
        return bool(self._frames) and self._clock() - self._frames[-1][0] <= self.frame_timeout

    def clear(self) -> None:
        """Forget the frames kept so far (the feed goes on): a gate calls this when its decision is taken and when
        presence ends, so a burst never starts on the previous person's frames."""
        self._frames.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._frames)

    def recent(self, count: int, max_age_s: float | None = None) -> list[bytes]:
        """The newest ``count`` frames at most ``max_age_s`` old (default: the ring's span), oldest first."""
        oldest = self._clock() - (self.span_s if max_age_s is None else max_age_s)
        frames = [frame for at, frame in self._frames if at >= oldest]
        return frames[-count:] if count > 0 else []

    async def next_frame(self, timeout: float | None = None) -> bytes | None:
        """The next frame the camera sends, or ``None`` if none comes within ``timeout`` (default the ring's)."""
        self._waiters += 1
        try:
            seen = self.received
            async with asyncio.timeout(self.frame_timeout if timeout is None else timeout):
                while self.received == seen:
                    self._arrived.clear()
                    await self._arrived.wait()
            return self._frames[-1][1] if self._frames else None
        except TimeoutError:
            return None
        finally:
            self._waiters -= 1

    async def burst(
        self, count: int, *, offered: int | None = None, fallback: FrameSource | None = None
    ) -> AsyncGenerator[bytes]:
        """A gate's frames: the newest ``count`` already kept, then live ones, up to ``offered`` in all (the
        caller stops once enough show a face). When the camera sends nothing for ``frame_timeout``, the rest come
        from ``fallback`` (fresh frames fetched another way) if given; otherwise the burst ends there."""
        total = count if offered is None else max(count, offered)
        taken = self.recent(count)
        for frame in taken:
            yield frame
        given = len(taken)
        while given < total:
            live = await self.next_frame() if self.running else None
            if live is None:
                break
            yield live
            given += 1
        if given < total and fallback is not None:
            _LOGGER.info("gate camera %s: no frame in the ring for %s s; taking fresh frames", self.name,
                         self.frame_timeout)
            async with contextlib.aclosing(fallback()) as fresh:
                async for frame in fresh:
                    yield frame
                    given += 1
                    if given >= total:
                        break
