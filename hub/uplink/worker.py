"""The uplink worker: drains the outbox in order, in batches, through one profile; never blocks the gate.

The gate only appends to the journal and calls :meth:`UplinkWorker.wake` (thread-safe). The worker reads the
outbox on its own connection in a single-thread executor, so the event loop never waits on a disk flush. What it
writes (rows acknowledged or refused) goes to ``writes``: in the hub, the community's writer thread
(:meth:`hub.community.Community.outbox_writes`), so the database has one writer; standing alone (tools, tests of
the worker by itself), its own connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from hub.bus import EventBus
from hub.exceptions import StorageError
from hub.journal import Outbox, PendingEvent, open_journal_database
from hub.journal.models import utc_now

from .backoff import Backoff
from .errors import RejectedError, TransientUplinkError, UplinkError
from .policy import FieldPolicy
from .status import UplinkStatus
from .transport import BatchResult, OutgoingEvent, UplinkTransport

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

STATUS_REFRESH_S = 0.5
AckListener = Callable[[Sequence[str]], None]
_StatusRead = tuple[int, datetime | None, int]  # backlog, oldest unsent, set aside


class OutboxWrites(Protocol):
    """Where the worker's outbox updates are written: the thread that owns the database's write connection."""

    async def mark_sent(self, seqs: Sequence[int]) -> None:
        """Mark rows the receiver acknowledged (one transaction)."""

    async def mark_failed(self, failures: Mapping[int, str]) -> None:
        """Set aside rows the receiver refused for good (one transaction)."""


class _OwnConnectionWrites:
    """The worker standing alone: its updates on its own connection, in its executor."""

    def __init__(self, worker: UplinkWorker) -> None:
        self._worker = worker

    async def mark_sent(self, seqs: Sequence[int]) -> None:
        outbox = self._worker._outbox
        assert outbox is not None
        await self._worker._db(outbox.mark_sent, list(seqs))

    async def mark_failed(self, failures: Mapping[int, str]) -> None:
        outbox = self._worker._outbox
        assert outbox is not None
        await self._worker._db(outbox.mark_failed, dict(failures))


class UplinkWorker:
    """Sends the outbox of the journal at ``db_path`` through ``transport``, filtered by ``policy``."""

    def __init__(
        self,
        db_path: str | Path,
        transport: UplinkTransport,
        policy: FieldPolicy,
        *,
        batch_size: int = 200,
        backoff: Backoff | None = None,
        idle_poll_s: float = 30.0,
        on_acknowledged: AckListener | None = None,
        writes: OutboxWrites | None = None,
    ) -> None:
        self._db_path = db_path
        self._writes: OutboxWrites = writes if writes is not None else _OwnConnectionWrites(self)
        self._transport = transport
        self.policy = policy
        self._batch_size = batch_size
        self._backoff = backoff or Backoff()
        self._idle_poll_s = idle_poll_s
        self._on_acknowledged = on_acknowledged
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._outbox: Outbox | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._wake_pending = False  # a wake scheduled from another thread and not yet run on the loop
        self._idle = asyncio.Event()
        # Publishes :class:`UplinkStatus` (on the event loop) whenever the status changes.
        self.events = EventBus("uplink worker")
        self._connected = False
        self._last_success: datetime | None = None
        self._last_error: str | None = None
        self._rejections = 0
        self._sent_total = 0
        self._refreshed_at = 0.0
        self._status = UplinkStatus(connected=False, backlog=0, last_success=None, oldest_unsent_age_s=None,
                                    last_error=None, consecutive_rejections=0, failed=0, sent_total=0,
                                    updated_at=utc_now())

    def __repr__(self) -> str:
        return f"UplinkWorker(db={str(self._db_path)!r}, transport={self._transport!r})"

    @property
    def status(self) -> UplinkStatus:
        """The latest status (for entities)."""
        return self._status

    async def start(self) -> None:
        """Open the worker's connection and start draining (returns at once)."""
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="uplink-db")
        self._conn = await self._db(open_journal_database, self._db_path)
        self._outbox = Outbox(self._conn)
        await self._refresh_status()
        self._task = self._loop.create_task(self._run(), name="uplink-worker")

    async def stop(self) -> None:
        """Stop sending, close the transport (not an injected session) and the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self._transport.close()
        if self._executor is not None:
            if self._conn is not None:
                await self._db(self._conn.close)
                self._conn = None
            self._executor.shutdown(wait=True)
            self._executor = None

    def wake(self) -> None:
        """Tell the worker there is something new; safe to call from any thread, never blocks."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._set_wake()
        elif not self._wake_pending:
            # One wake-up of the loop per burst, not per event: a gate committing event after event would otherwise
            # write to the loop's self-pipe and run a callback for each. The flag is cleared on the loop before the
            # outbox is read, so a commit after that read schedules a wake of its own.
            self._wake_pending = True
            loop.call_soon_threadsafe(self._set_wake)

    async def wait_drained(self) -> None:
        """Wait until the outbox was found empty after the latest wake (for tests, benchmarks, shutdown)."""
        self.wake()
        await asyncio.sleep(0)
        await self._idle.wait()

    def _set_wake(self) -> None:
        self._wake_pending = False
        self._idle.clear()
        self._wake.set()

    def _clock(self) -> float:
        """The event loop's clock (what a frozen wall clock in a test leaves running); safe from the executor."""
        assert self._loop is not None
        return self._loop.time()

    async def _db(self, func: Callable[..., _T], *args: Any) -> _T:
        assert self._executor is not None
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    async def _run(self) -> None:
        started = False
        while True:
            self._wake.clear()
            try:
                if not started:
                    await self._transport.start()
                    started = True
                pending, previous, status = await self._db(self._next_batch)
                if not pending:
                    self._publish_status(status)
                    self._idle.set()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._idle_poll_s)
                    continue
                result = await self._send(pending, previous)
            except RejectedError as err:
                self._rejections += 1
                await self._failed(err, connected=True)
                continue
            except (TransientUplinkError, UplinkError, StorageError) as err:
                await self._failed(err, connected=False)
                continue
            except Exception as err:  # a bug or an unexpected answer must not end the uplink for good
                _LOGGER.exception("unexpected uplink failure")
                await self._failed(err, connected=False)
                continue
            await self._settle(pending, result)

    def _next_batch(self) -> tuple[list[PendingEvent], int | None, _StatusRead | None]:
        """In the executor: the next batch and the seq sent before its first event, or, with nothing to send, the
        status; one round trip to the database thread (each costs about 0.1 ms of CPU, and at a quiet gate every
        event is a batch of its own)."""
        assert self._outbox is not None
        pending = self._outbox.pending(self._batch_size)
        if not pending:
            return [], None, self._read_status()
        return pending, self._outbox.last_sent_before(pending[0].event.seq), None

    async def _send(self, pending: list[PendingEvent], previous: int | None) -> BatchResult:
        outgoing = []
        for p in pending:
            outgoing.append(OutgoingEvent(event=p.event, fields=self.policy.fields_for(p.event),
                                          previous_seq=previous))
            previous = p.event.seq
        result = await self._transport.send(outgoing)
        if not result.acknowledged and not result.refused:
            raise TransientUplinkError("receiver acknowledged none of the batch")
        return result

    async def _settle(self, pending: list[PendingEvent], result: BatchResult) -> None:
        assert self._outbox is not None
        acked = [p.event.seq for p in pending if p.event.uuid in result.acknowledged]
        refused = {p.event.seq: result.refused[p.event.uuid] for p in pending if p.event.uuid in result.refused}
        await self._writes.mark_sent(acked)
        if refused:
            await self._writes.mark_failed(refused)
            _LOGGER.warning("receiver refused %d event(s) for good; they are set aside", len(refused))
        if not self._connected:
            _LOGGER.info("uplink connected")
        self._connected = True
        self._last_success = utc_now()
        self._last_error = None
        self._rejections = 0
        self._sent_total += len(acked)
        self._backoff.reset()
        if self._on_acknowledged is not None and acked:
            self._on_acknowledged([p.event.uuid for p in pending if p.event.uuid in result.acknowledged])
        # While draining a backlog, counting it after every batch would cost more than the entities need.
        if self._clock() - self._refreshed_at >= STATUS_REFRESH_S:
            await self._refresh_status()

    async def _failed(self, err: Exception, *, connected: bool) -> None:
        message = str(err) or type(err).__name__
        if self._last_error is None:  # log the loss once, not on every retry
            _LOGGER.warning("uplink failing: %s", message)
        self._last_error = message
        self._connected = connected and not isinstance(err, RejectedError)
        await self._refresh_status()
        delay = self._backoff.next_delay()
        with contextlib.suppress(TimeoutError):
            # A wake does not cut the backoff short: a flood of events must not turn into a retry storm.
            await asyncio.sleep(delay)

    async def _refresh_status(self) -> None:
        self._publish_status(await self._db(self._read_status))

    def _read_status(self) -> _StatusRead | None:
        """In the executor: backlog, oldest unsent, set-aside count (None if the outbox could not be read)."""
        assert self._outbox is not None
        self._refreshed_at = self._clock()
        try:
            return self._outbox.backlog(), self._outbox.oldest_pending_at(), self._outbox.failed_count()
        except (sqlite3.Error, StorageError):
            _LOGGER.debug("could not read the outbox status", exc_info=True)
            return None

    def _publish_status(self, read: _StatusRead | None) -> None:
        if read is None:
            return
        backlog, oldest, failed = read
        now = utc_now()
        self._status = UplinkStatus(
            connected=self._connected, backlog=backlog, last_success=self._last_success,
            oldest_unsent_age_s=(now - oldest).total_seconds() if oldest is not None else None,
            last_error=self._last_error, consecutive_rejections=self._rejections, failed=failed,
            sent_total=self._sent_total, updated_at=now,
        )
        self.events.publish(self._status)  # a broken subscriber is logged by the bus, never stops the uplink
