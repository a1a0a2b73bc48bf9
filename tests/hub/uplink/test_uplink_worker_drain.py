"""The worker drains the outbox to the reference receiver: in order, once, with status for entities."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from devkit.receiver import ReferenceReceiver
from devkit.receiver.client import fetch_received
from hub.community import Community
from hub.journal import Journal, NewEvent, Outbox, open_journal_database
from hub.journal.models import EventKind
from hub.uplink import Backoff, FieldPolicy, JsonUplinkClient, Secret, UplinkStatus, UplinkWorker

_T = TypeVar("_T")


async def test_events_reach_receiver_once_in_order(
    journal: Journal, journal_path: Path, hub_id: str, receiver: ReferenceReceiver, secret: Secret,
    policy: FieldPolicy, read_token: Secret,
) -> None:
    async with aiohttp.ClientSession() as session:
        client = JsonUplinkClient(receiver.url, hub_id, secret, session=session)
        worker = UplinkWorker(journal_path, client, policy, batch_size=7)
        journal.on_append = worker.wake
        await worker.start()
        for i in range(30):
            await asyncio.to_thread(journal.append, EventKind.DECISION, door=f"door-{i % 3}",
                                    payload={"result": "granted", "reason": "face_match", "n": i,
                                             "resident_id": "res-1", "credential_kind": "face"})
        journal.record_manager_action("manager", "enrol_resident", {"resident": "res-1"})
        await asyncio.wait_for(worker.wait_drained(), 30)
        status = worker.status
        await worker.stop()
        assert not session.closed  # an injected session belongs to the caller
    received = await fetch_received(receiver.url, read_token)
    assert [e["event"]["seq"] for e in received] == list(range(1, 31))  # type: ignore[index]
    assert status.connected and status.backlog == 0 and status.last_success is not None
    assert status.oldest_unsent_age_s is None and status.last_error is None and status.consecutive_rejections == 0
    first = received[0]["event"]
    assert first["type"] == "decision" and first["resident_ref"].startswith("r1_")  # type: ignore[index]
    assert "resident_id" not in first and "n" not in first  # type: ignore[operator]


async def test_backlog_drains_after_long_outage(
    tmp_path: Path, journal: Journal, journal_path: Path, hub_id: str, secret: Secret, policy: FieldPolicy,
    read_token: Secret, socket_enabled: None,
) -> None:
    receiver = ReferenceReceiver(tmp_path / "county.db", {hub_id: secret}, read_token=read_token)
    port = await receiver.start()
    await receiver.stop()  # the county goes away; its port stays reserved for it
    client = JsonUplinkClient(f"http://127.0.0.1:{port}", hub_id, secret)
    worker = UplinkWorker(journal_path, client, policy, batch_size=500, backoff=Backoff(base_s=0.01, cap_s=0.2))
    journal.on_append = worker.wake
    await worker.start()
    for start in range(0, 5000, 500):
        await asyncio.to_thread(journal.append_many, [
            NewEvent(kind=EventKind.DOOR_ALARM, door=f"door-{i % 5}", payload={"result": "held_open"})
            for i in range(start, start + 500)
        ])
    outage_seen = asyncio.Event()
    worker.events.subscribe(UplinkStatus, lambda s: outage_seen.set() if s.last_error and s.backlog == 5000 else None)
    worker.wake()
    await asyncio.wait_for(outage_seen.wait(), 30)
    down = worker.status
    assert not down.connected and down.oldest_unsent_age_s is not None
    receiver = ReferenceReceiver(tmp_path / "county.db", {hub_id: secret}, read_token=read_token,
                                 port=port)
    await receiver.start()
    try:
        await asyncio.wait_for(worker.wait_drained(), 60)
        assert worker.status.backlog == 0 and worker.status.connected
        received = await fetch_received(receiver.url, read_token)
    finally:
        await worker.stop()
        await receiver.stop()
    assert len(received) == 5000
    assert len({e["id"] for e in received}) == 5000
    assert Outbox(open_journal_database(journal_path)).backlog() == 0


async def test_wrong_secret_counts_consecutive_rejections_and_keeps_events(
    journal: Journal, journal_path: Path, hub_id: str, receiver: ReferenceReceiver, policy: FieldPolicy,
    read_token: Secret,
) -> None:
    journal.append(EventKind.DECISION, door="gate-1", payload={"result": "denied", "reason": "unknown_card"})
    client = JsonUplinkClient(receiver.url, hub_id, Secret("not-the-county-secret-000000"))
    worker = UplinkWorker(journal_path, client, policy, backoff=Backoff(base_s=0.01, cap_s=0.05))
    rejected = asyncio.Event()
    worker.events.subscribe(UplinkStatus, lambda s: rejected.set() if s.consecutive_rejections >= 3 else None)
    await worker.start()
    await asyncio.wait_for(rejected.wait(), 30)
    await worker.stop()
    status = worker.status
    assert status.backlog == 1 and status.last_success is None and "bad_signature" in (status.last_error or "")
    assert "not-the-county" not in repr(client) + repr(worker) + str(status)
    assert await fetch_received(receiver.url, read_token) == []


async def test_gate_appends_do_not_wait_for_a_stuck_receiver(
    journal: Journal, journal_path: Path, hub_id: str, secret: Secret, policy: FieldPolicy, socket_enabled: None
) -> None:
    from aiohttp import web

    release = asyncio.Event()
    arrived = asyncio.Event()

    async def stuck(request: web.Request) -> web.Response:
        arrived.set()
        await release.wait()
        return web.json_response({"error": "gone"}, status=503)

    app = web.Application()
    app.router.add_post("/api/v1/events", stuck)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    worker = UplinkWorker(journal_path, JsonUplinkClient(f"http://127.0.0.1:{port}", hub_id, secret), policy)
    journal.on_append = worker.wake
    await worker.start()
    try:
        journal.append(EventKind.DECISION, door="gate-1")
        await asyncio.wait_for(arrived.wait(), 30)  # the worker is now blocked on the receiver
        for _ in range(20):  # the gate keeps deciding and journalling meanwhile
            await asyncio.to_thread(journal.append, EventKind.DECISION, door="gate-1")
        assert Outbox(journal.connection).backlog() == 21
    finally:
        release.set()
        await worker.stop()
        await runner.cleanup()



async def test_in_the_hub_acknowledgements_queue_on_the_communitys_writer(
    tmp_path: Path, hub_id: str, receiver: ReferenceReceiver, secret: Secret, policy: FieldPolicy,
    read_token: Secret,
) -> None:
    """The database has one writer: the worker marks rows sent as a job on the community's writer, behind the
    writes queued before it (a gate's decision, an import), never by taking the write lock on its own connection."""
    db = tmp_path / "hub.db"
    community = Community(db, tmp_path / "keys" / "hub.key", timezone=UTC, hub_id=hub_id)
    conn = open_journal_database(db)
    reader = Outbox(conn)
    release = threading.Event()
    async with aiohttp.ClientSession() as session:
        worker = UplinkWorker(db, JsonUplinkClient(receiver.url, hub_id, secret, session=session), policy,
                              writes=community.outbox_writes())
        await worker.start()
        try:
            await asyncio.to_thread(community.journal_event, EventKind.DOOR_ALARM, "door-1", {"alarm": "forced"})
            busy = community.submit(release.wait, 10)  # a long write job holds the writer
            worker.wake()
            deadline = asyncio.get_running_loop().time() + 10
            while not await fetch_received(receiver.url, read_token):
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.2)
            assert reader.backlog() == 1  # delivered; its acknowledgement waits its turn on the writer
            release.set()
            await asyncio.wrap_future(busy)
            await asyncio.wait_for(worker.wait_drained(), 10)
            assert reader.backlog() == 0
        finally:
            release.set()
            await worker.stop()
            await asyncio.to_thread(community.close)
            conn.close()
    assert len(await fetch_received(receiver.url, read_token)) == 1


class _CountingWorker(UplinkWorker):
    """Counts the jobs the worker runs on its database thread (each is a thread round trip, about 0.1 ms of CPU)."""

    trips = 0

    async def _db(self, func: Callable[..., _T], *args: Any) -> _T:
        self.trips += 1
        return await super()._db(func, *args)


async def test_a_quiet_gates_event_costs_the_worker_three_trips_to_its_database_thread(
    journal: Journal, journal_path: Path, hub_id: str, receiver: ReferenceReceiver, secret: Secret,
    policy: FieldPolicy, read_token: Secret,
) -> None:
    """At a quiet gate every event is a batch of its own: reading it with the seq sent before it, marking it sent,
    and finding the outbox empty with the status the entities show. Those are three trips, not five (the read and
    its predecessor, and the empty read and the status, each share one)."""
    async with aiohttp.ClientSession() as session:
        worker = _CountingWorker(journal_path, JsonUplinkClient(receiver.url, hub_id, secret, session=session),
                                 policy)
        journal.on_append = worker.wake
        await worker.start()
        try:
            await asyncio.wait_for(worker.wait_drained(), 10)
            for i in range(5):
                before = worker.trips
                await asyncio.to_thread(journal.append, EventKind.DECISION, door="gate-1",
                                        payload={"result": "granted", "reason": "card", "n": i})
                await asyncio.wait_for(worker.wait_drained(), 10)
                assert worker.trips - before == 3
                assert worker.status.backlog == 0 and worker.status.sent_total == i + 1
        finally:
            await worker.stop()
    received = await fetch_received(receiver.url, read_token)
    assert [e["event"]["seq"] for e in received] == [1, 2, 3, 4, 5]


def test_the_status_the_worker_reads_after_each_drain_never_reads_the_whole_outbox(journal_path: Path) -> None:
    """The worker counts the backlog, the oldest unsent event and the set-aside rows each time it finds the outbox
    empty (after every event at a quiet gate), so none of those reads may grow with the rows already sent: a hub
    keeps those for its whole retention period. Each statement's plan is SQLite's own (EXPLAIN QUERY PLAN)."""
    journal = Journal(open_journal_database(journal_path), "hub-plans")
    outbox_conn = open_journal_database(journal_path)
    try:
        events = journal.append_many([NewEvent(kind=EventKind.DECISION, door=f"door-{i % 3}",
                                               payload={"result": "granted", "reason": "card"}) for i in range(300)])
        outbox = Outbox(outbox_conn)
        outbox.mark_sent([e.seq for e in events[:250]])
        outbox.mark_failed({e.seq: "invalid_body" for e in events[250:260]})
        outbox_conn.execute("ANALYZE")  # the planner with statistics saying most rows are sent, as on a real hub

        statements: list[str] = []
        outbox_conn.set_trace_callback(statements.append)
        try:
            figures = (outbox.backlog(), outbox.oldest_pending_at(), outbox.failed_count(), len(outbox.pending(200)))
        finally:
            outbox_conn.set_trace_callback(None)

        assert figures == (40, events[260].occurred_at, 10, 40)
        assert len(statements) == 4
        # A scan is allowed only of the partial indexes, which hold the rows waiting or set aside, never those sent.
        partial = {"outbox_pending", "outbox_pending_priority", "outbox_failed"}
        for sql in statements:
            for row in outbox_conn.execute(f"EXPLAIN QUERY PLAN {sql}"):
                step = str(row[3])
                if step.startswith("SCAN"):
                    assert any(f"INDEX {name}" in step.replace("COVERING ", "") for name in partial), (sql, step)
        assert outbox.requeue_failed() == 10 and outbox.failed_count() == 0 and outbox.backlog() == 50
    finally:
        outbox_conn.close()
        journal.close()
