"""The priority lane: a device going offline reaches the county before a backlog of access events drains, while the
events of each door keep their order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path

import aiohttp

from devkit.receiver import ReferenceReceiver
from devkit.receiver.client import fetch_received
from hub.db import open_database
from hub.journal import Journal, NewEvent, Outbox, open_journal_database, schema
from hub.journal.models import PRIORITY_KINDS, EventKind, JournalEvent
from hub.uplink import FieldPolicy, JsonUplinkClient, Secret, UplinkWorker
from hub.uplink.transport import BatchResult, OutgoingEvent, UplinkTransport

BACKLOG = 3000
BATCH = 100


class _AfterFirstBatch:
    """The real transport, with a hook run once, in the worker's loop, after its first batch was acknowledged."""

    def __init__(self, inner: UplinkTransport, hook: Callable[[], object]) -> None:
        self._inner = inner
        self._hook: Callable[[], object] | None = hook

    async def start(self) -> None:
        await self._inner.start()

    async def send(self, batch: Sequence[OutgoingEvent]) -> BatchResult:
        result = await self._inner.send(batch)
        hook, self._hook = self._hook, None
        if hook is not None:
            await asyncio.to_thread(hook)
        return result

    async def close(self) -> None:
        await self._inner.close()


async def test_offline_event_overtakes_a_backlog_of_access_events(
    journal: Journal, journal_path: Path, hub_id: str, receiver: ReferenceReceiver, secret: Secret,
    policy: FieldPolicy, read_token: Secret,
) -> None:
    # Thousands of decisions are queued before the worker runs (an uplink that was down for a while).
    for start in range(0, BACKLOG, 500):
        await asyncio.to_thread(journal.append_many, [
            NewEvent(kind=EventKind.DECISION, door=f"door-{i % 4}",
                     payload={"result": "granted", "reason": "card", "credential_kind": "card", "n": i})
            for i in range(start, start + 500)
        ])
    offline: list[JournalEvent] = []
    async with aiohttp.ClientSession() as session:
        client = JsonUplinkClient(receiver.url, hub_id, secret, session=session)
        # The camera goes down while the first batch of the backlog is in flight (a mid-drain event): the real
        # client sends to the real receiver; the hook only journals the event at that moment.
        transport = _AfterFirstBatch(client, lambda: offline.append(
            journal.append(EventKind.DEVICE_STATUS, door="cam-gate-1", payload={"result": "offline"})))
        worker = UplinkWorker(journal_path, transport, policy, batch_size=BATCH)
        await worker.start()
        await asyncio.wait_for(worker.wait_drained(), 120)
        await worker.stop()
    received = await fetch_received(receiver.url, read_token)
    assert len(received) == BACKLOG + 1
    position = next(i for i, r in enumerate(received) if r["id"] == offline[0].uuid)
    event = received[position]["event"]
    assert event["type"] == "device_status" and event["door"] == "cam-gate-1"  # type: ignore[index]
    assert event["result"] == "offline" and event["occurred_at"] == offline[0].occurred_at.isoformat().replace(  # type: ignore[index]
        "+00:00", "Z")
    # It went first in the batch after the one in flight, not behind the 2,900 decisions still queued.
    assert position == BATCH, position
    # Each door's decisions still arrive in the order they happened.
    decisions = [r["event"] for r in received if r["event"]["type"] == "decision"]  # type: ignore[index]
    for door in {d["door"] for d in decisions}:  # type: ignore[index]
        seqs = [d["seq"] for d in decisions if d["door"] == door]  # type: ignore[index]
        assert seqs == sorted(seqs)


def test_pending_puts_health_events_first_in_seq_order(journal: Journal, journal_path: Path) -> None:
    journal.append_many([NewEvent(kind=EventKind.DECISION, door="door-1", payload={"result": "granted"})] * 5)
    down = journal.append(EventKind.DEVICE_STATUS, door="cam-1", payload={"result": "offline"})
    problem = journal.append(EventKind.DEVICE_PROBLEM, door="cam-1", payload={"problem": {"state": "open"}})
    journal.append(EventKind.DOOR_ALARM, door="door-1", payload={"result": "held_open"})
    outbox = Outbox(open_journal_database(journal_path))
    pending = outbox.pending(3)
    assert [p.event.seq for p in pending] == [down.seq, problem.seq, 1]
    assert [p.event.seq for p in outbox.pending(100)][2:] == [1, 2, 3, 4, 5, problem.seq + 1]


def test_every_priority_kind_is_in_the_lane(journal: Journal) -> None:
    """The trigger's list of kinds is the one the code names."""
    for kind in EventKind:
        event = journal.append(kind, door="x", payload={}, upload=True)
        row = journal.connection.execute("SELECT priority FROM outbox WHERE seq = ?", (event.seq,)).fetchone()
        assert row[0] == int(kind in PRIORITY_KINDS), kind


def test_rows_queued_by_an_earlier_release_get_their_priority(tmp_path: Path) -> None:
    """A database whose outbox predates the priority column: its queued health events join the lane."""
    path = tmp_path / "old.db"
    conn = open_database(path, components=[])
    schema._apply_v1(conn)  # the journal as its first release made it, without the priority column
    conn.execute("INSERT INTO events (uuid, hub_id, kind, door, occurred_at, recorded_at, payload) VALUES"
                 " ('u1', 'h', 'decision', 'door-1', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', '{}'),"
                 " ('u2', 'h', 'device_status', 'cam-1', '2026-01-01T00:00:01.000Z', '2026-01-01T00:00:01.000Z',"
                 " '{}')")
    conn.execute("INSERT INTO outbox (seq, queued_at) VALUES (1, 'x'), (2, 'x')")
    conn.execute("INSERT INTO schema_migrations (component, version) VALUES ('journal', 1)")
    conn.close()
    upgraded = open_journal_database(path)
    try:
        assert [p.event.uuid for p in Outbox(upgraded).pending(10)] == ["u2", "u1"]
    finally:
        upgraded.close()
