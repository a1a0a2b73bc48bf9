"""The periodic purge helper runs the purge off the loop, survives a failing round, and stops when cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from hub.journal import (
    EventKind,
    Journal,
    Outbox,
    PurgeResult,
    RetentionPolicy,
    open_journal_database,
    purge_expired,
    purge_periodically,
)


async def test_purge_runs_periodically_and_survives_errors(tmp_path: Path) -> None:
    conn = open_journal_database(tmp_path / "hub.db")
    rounds: list[int] = []
    enough = asyncio.Event()

    def purge() -> PurgeResult:
        rounds.append(1)
        if len(rounds) == 2:
            raise RuntimeError("disk hiccup")
        return purge_expired(conn, RetentionPolicy())

    used_runner: list[bool] = []

    async def runner(func: Callable[[], PurgeResult]) -> PurgeResult:
        used_runner.append(True)
        try:
            return await asyncio.to_thread(func)
        finally:
            if len(rounds) >= 3:
                enough.set()  # on the loop: an asyncio.Event is not thread-safe

    task = asyncio.create_task(purge_periodically(purge, interval_s=0.001, run_blocking=runner))
    await asyncio.wait_for(enough.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(rounds) >= 3 and used_runner


def test_refused_rows_can_be_requeued(tmp_path: Path) -> None:
    journal = Journal(open_journal_database(tmp_path / "hub.db"), "hub-a")
    event = journal.append(EventKind.DECISION, door="gate-1")
    outbox = Outbox(journal.connection)
    outbox.record_attempt([event.seq])
    outbox.mark_failed({event.seq: "hub_mismatch"})
    assert (outbox.backlog(), outbox.failed_count(), outbox.oldest_pending_at()) == (0, 1, None)
    assert outbox.requeue_failed() == 1
    assert outbox.backlog() == 1 and outbox.pending(5)[0].attempts == 1
    purge = purge_expired(journal.connection, RetentionPolicy(events_days=1, purge_unsent=True),
                          now=event.occurred_at.replace(year=2100))
    assert purge.events == 1 and outbox.backlog() == 0
