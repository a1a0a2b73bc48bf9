"""The county consumer's store on both of its databases: a SQLite file (the default) and PostgreSQL by URL, each
test run on both (``county_db``; the PostgreSQL cases skip when PostgreSQL is not installed, it is optional). The
PostgreSQL server is Debian's, a throwaway cluster per session (tests/hub/uplink/conftest.py); nothing is mocked.
The end-to-end case runs ``community-hub county --db postgresql://...`` with a hub through a real Mosquitto.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import psycopg
import pytest

from devkit.county import ConsumerConfig, CountyConsumer
from devkit.county.broker import CONSUMER, ROOT, Mosquitto, Pki
from devkit.county.postgres import PostgresCluster
from devkit.county.store import CountyStore, Delivery, StoreError, describe_target, is_postgres_url
from hub.journal import EventKind, Journal, NewEvent, open_journal_database
from hub.uplink import Secret, TransientUplinkError
from hub.uplink.mqtt_client import MqttConfig, MqttTransport
from hub.uplink.transport import OutgoingEvent

HUB_A, HUB_B = "hub-a0001", "hub-b0002"
SECRETS = {HUB_A: Secret("hub-a-secret-0123456789abcdef"), HUB_B: Secret("hub-b-secret-0123456789abcdef")}
READ_TOKEN = Secret("county-read-token-0123456789abcdef")
REPO = Path(__file__).resolve().parents[3]


def _delivery(seq: int, prev: int | None, *, hub_id: str = HUB_A, door: str = "d1", **extra: Any) -> Delivery:
    event: dict[str, Any] = {"id": f"{hub_id}-{seq}", "seq": seq, "hub_id": hub_id, "type": "decision",
                             "door": door, "occurred_at": f"2026-12-02T10:00:{seq % 60:02d}Z", **extra}
    if prev is not None:
        event["prev_seq"] = prev
    return Delivery(hub_id=hub_id, topic=f"{ROOT}/{hub_id}/events/access", event=event)


def test_the_store_answers_the_same_on_both_databases(county_db: str | Path) -> None:
    """Counters, hubs' status, paging by position and the events as sent: what the read API serves is the same
    whichever database holds it, and survives closing and reopening (the schema is migrated once)."""
    store = CountyStore(county_db)
    assert store.dialect == ("postgresql" if is_postgres_url(county_db) else "sqlite")
    try:
        first = store.store([_delivery(1, None), _delivery(1, None, hub_id=HUB_B), _delivery(2, 1)], rejected=2)
        assert first.accepted == [f"{HUB_A}-1", f"{HUB_B}-1", f"{HUB_A}-2"] and first.duplicates == []
        assert store.store([_delivery(2, 1), _delivery(4, 3)]).duplicates == [f"{HUB_A}-2"]
        store.count_rejected(3)
        store.hub_status(HUB_A, "online")
        store.hub_status(HUB_B, "online")
        store.hub_status(HUB_A, "offline")
        page = store.list_events(0, 2)
        assert [(e["pos"], e["id"]) for e in page] == [(1, f"{HUB_A}-1"), (2, f"{HUB_B}-1")]
        assert [e["id"] for e in store.list_events(page[-1]["pos"], 10)] == [f"{HUB_A}-2"]
        assert page[0]["hub_id"] == HUB_A and page[0]["topic"] == f"{ROOT}/{HUB_A}/events/access"
        assert isinstance(page[0]["received_at"], float)
        assert page[0]["event"] == _delivery(1, None).event
    finally:
        store.close()
    store = CountyStore(county_db)
    try:
        assert store.stats() == {"events": 3, "duplicates": 1, "held_out_of_order": 1, "rejected": 5,
                                 "hubs": {HUB_A: "offline", HUB_B: "online"}}
        assert store.store([_delivery(3, 2), _delivery(4, 3)]).accepted == [f"{HUB_A}-3", f"{HUB_A}-4"]
        assert [e["pos"] for e in store.list_events(0, 10)] == [1, 2, 3, 4, 5]
    finally:
        store.close()


def test_odd_values_are_kept_in_the_body_and_never_break_a_batch(county_db: str | Path) -> None:
    """A signed event is the hub's: values the indexed columns cannot hold (a seq past 64 bits, a text, a NUL,
    which PostgreSQL's text refuses) leave those columns empty or cleaned, the body keeps the event as sent, and
    the rest of the batch is stored; a predecessor no column can hold is never found (the event waits)."""
    store = CountyStore(county_db)
    try:
        odd = [_delivery(1, None, door="gate\x00-1"), _delivery(2, 1, type="décision ✓"),
               Delivery(hub_id=HUB_B, topic="t", event={"id": "big", "seq": 1 << 70, "type": "x"}),
               Delivery(hub_id=HUB_B, topic="t", event={"id": "text-seq", "seq": "7", "type": "x", "door": 5}),
               Delivery(hub_id=HUB_B, topic="t", event={"id": "far", "seq": 3, "prev_seq": 1 << 70, "type": "x"})]
        result = store.store(odd)
        assert result.accepted == [f"{HUB_A}-1", f"{HUB_A}-2", "big", "text-seq"] and result.out_of_order == ["far"]
        assert [e["event"] for e in store.list_events(0, 10)] == [d.event for d in odd[:4]]
    finally:
        store.close()


def test_two_consumers_sharing_a_database_store_each_event_once(county_db: str | Path) -> None:
    """Two consumers behind one shared subscription may both get a copy (a redelivery after a reconnect): both
    storing the same events at the same time, each is stored by one and a counted duplicate for the other."""
    events = [_delivery(1, None), *(_delivery(seq, seq - 1) for seq in range(2, 61))]
    stores = [CountyStore(county_db), CountyStore(county_db)]
    results: list[Any] = [None, None]
    start = threading.Barrier(2)

    def consume(index: int) -> None:
        start.wait()
        results[index] = [stores[index].store(events[i:i + 20]) for i in range(0, len(events), 20)]

    try:
        threads = [threading.Thread(target=consume, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        accepted = [i for batch in results[0] + results[1] for i in batch.accepted]
        duplicates = [i for batch in results[0] + results[1] for i in batch.duplicates]
        held = [i for batch in results[0] + results[1] for i in batch.out_of_order]
        assert sorted(accepted) == sorted(d.event["id"] for d in events)
        assert sorted(duplicates + held) == sorted(accepted)  # the other consumer's copy of each
        stats = stores[0].stats()
        assert stats["events"] == 60 and stats["duplicates"] == len(duplicates)
        assert [e["event"]["seq"] for e in stores[0].list_events(0, 100)] == list(range(1, 61))
    finally:
        for store in stores:
            store.close()


def test_a_restarted_postgresql_fails_one_call_and_the_next_connects_again(
        postgres_cluster: PostgresCluster, postgres_url: str) -> None:
    """The server restarts under a running consumer: the call in progress fails (nothing of it committed, so
    nothing acknowledged: the hub sends it again), the next one connects again; nothing is lost or doubled."""
    store = CountyStore(postgres_url)
    try:
        assert store.store([_delivery(1, None)]).accepted == [f"{HUB_A}-1"]
        postgres_cluster.stop()
        postgres_cluster.start()
        try:
            result = store.store([_delivery(2, 1)])
        except psycopg.OperationalError:
            result = store.store([_delivery(2, 1)])
        assert result.accepted == [f"{HUB_A}-2"]
        assert store.store([_delivery(2, 1)]).duplicates == [f"{HUB_A}-2"]
        assert store.stats()["events"] == 2
    finally:
        store.close()


def test_a_postgresql_url_never_shows_its_password(postgres_cluster: PostgresCluster, postgres_url: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The password is replaced in what is printed (the URL's user part and a ``password=`` query) and in the
    error of a store that cannot be opened; it can stay out of the URL (and so out of ``ps``) in $PGPASSWORD; a
    schema newer than this software is refused."""
    assert describe_target("postgresql://county:s3cr%2Ft@db.example:5433/county?sslmode=require") == (
        "postgresql://county:***@db.example:5433/county?sslmode=require")
    assert describe_target("postgres://db.example/county?password=s3cret&sslmode=verify-full") == (
        "postgres://db.example/county?password=***&sslmode=verify-full")
    assert describe_target("postgresql://county@db.example/county") == "postgresql://county@db.example/county"
    assert describe_target(Path("county.db")) == "county.db" and not is_postgres_url("county.db")
    password = postgres_cluster.password
    wrong = postgres_url.replace("@127.0.0.1", "x@127.0.0.1")
    with pytest.raises(StoreError, match="password authentication failed") as refused:
        CountyStore(wrong)
    assert password not in str(refused.value) and "postgres:***@127.0.0.1" in str(refused.value)
    unreachable = postgres_url.replace(f":{postgres_cluster.port}/", ":1/")
    with pytest.raises(StoreError, match="cannot open the county store") as down:
        CountyStore(unreachable)
    assert password not in str(down.value)
    monkeypatch.setenv("PGPASSWORD", password)
    CountyStore(postgres_url.replace(":" + quote(password, safe="") + "@", "@")).close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations (component, version) VALUES ('county_consumer', 99)")
    with pytest.raises(StoreError, match="newer than this software"):
        CountyStore(postgres_url)


def _transport(broker: Mosquitto, pki: Pki, hub_id: str, ack_timeout_s: float = 15) -> MqttTransport:
    files = pki.client(hub_id)
    return MqttTransport(MqttConfig(
        broker_url=broker.url, hub_id=hub_id, secret=SECRETS[hub_id], topic_prefix=f"{ROOT}/{{hub_id}}",
        ca_file=pki.ca_file, client_cert=files.cert, client_key=files.key, ack_timeout_s=ack_timeout_s,
        connect_timeout_s=3))


def _outgoing(db: Path, count: int) -> list[OutgoingEvent]:
    """``count`` events journalled by hub A (two doors), as its worker sends them (each with its predecessor)."""
    journal = Journal(open_journal_database(db), HUB_A)
    journal.append_many([NewEvent(kind=EventKind.DECISION, door=f"gate-{i % 2}", payload={"result": "granted"})
                         for i in range(count)])
    events = list(journal.events())
    journal.close()
    return [OutgoingEvent(event=e, fields={"type": e.kind.value, "door": e.door},
                          previous_seq=events[i - 1].seq if i else None) for i, e in enumerate(events)]


async def test_the_county_command_stores_in_postgresql(
        broker: Mosquitto, pki: Pki, postgres_url: str, postgres_cluster: PostgresCluster, tmp_path: Path) -> None:
    """``community-hub county --db postgresql://...`` as a real process, a hub through Mosquitto: the events are
    stored once and in the hub's order, a resend is counted as duplicates, the read API serves them, and the
    password appears nowhere in what the command prints."""
    files = pki.client(CONSUMER)
    (tmp_path / "hubs").write_text(f"{HUB_A}={SECRETS[HUB_A].reveal().decode()}\n")
    (tmp_path / "token").write_text(READ_TOKEN.reveal().decode())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tools")])}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devkit.cli", "county", "--broker", broker.url, "--db", postgres_url,
        "--topic-root", ROOT, "--ca-file", str(pki.ca_file), "--cert", str(files.cert), "--key", str(files.key),
        "--hubs-file", str(tmp_path / "hubs"), "--read-token-file", str(tmp_path / "token"), "--http-port", "0",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert "storing in postgresql://postgres:***@127.0.0.1:" in line, line
        assert postgres_cluster.password not in line
        port = int(line.split("read API on http://127.0.0.1:")[1].split(" ")[0])
        outgoing = _outgoing(tmp_path / "hub.db", 30)
        transport = _transport(broker, pki, HUB_A)
        try:
            first = await transport.send(outgoing[:20])
        finally:
            await transport.close()
        restarted = _transport(broker, pki, HUB_A)  # a hub restarted: it sends ten of those again, then the rest
        try:
            second = await restarted.send(outgoing[10:])
        finally:
            await restarted.close()
        assert first.acknowledged == {o.event.uuid for o in outgoing[:20]}
        assert second.acknowledged == {o.event.uuid for o in outgoing[10:]}
        async with aiohttp.ClientSession() as session:
            headers = {"Authorization": f"Bearer {READ_TOKEN.reveal().decode()}"}
            async with session.get(f"http://127.0.0.1:{port}/api/v1/events?limit=100", headers=headers) as response:
                stored = (await response.json())["events"]
            async with session.get(f"http://127.0.0.1:{port}/api/v1/stats", headers=headers) as response:
                stats = await response.json()
        assert [e["id"] for e in stored] == [o.event.uuid for o in outgoing]
        assert [e["event"]["seq"] for e in stored] == sorted(e["event"]["seq"] for e in stored)
        assert stats["events"] == 30 and stats["duplicates"] == 10 and stats["rejected"] == 0
        with psycopg.connect(postgres_url) as conn:
            rows = conn.execute("SELECT id, seq FROM county_events ORDER BY pos").fetchall()
        assert [r[0] for r in rows] == [o.event.uuid for o in outgoing] and len({r[0] for r in rows}) == 30
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        assert postgres_cluster.password not in (await proc.stderr.read()).decode()


def test_the_county_command_refuses_another_database_url(tmp_path: Path) -> None:
    """``--db`` is a SQLite file or a PostgreSQL URL: any other URL is a usage error (exit 2), before anything
    is started or created."""
    import subprocess

    (tmp_path / "hubs").write_text(f"{HUB_A}={SECRETS[HUB_A].reveal().decode()}\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tools")])}
    done = subprocess.run([sys.executable, "-m", "devkit.cli", "county", "--broker", "mqtt://127.0.0.1:1",
                           "--db", "mysql://county:pw@127.0.0.1/county", "--hubs-file", str(tmp_path / "hubs")],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "--db must be a SQLite file or a postgresql://" in done.stderr


async def test_the_consumer_keeps_storing_across_a_postgresql_restart(
        broker: Mosquitto, pki: Pki, postgres_url: str, postgres_cluster: PostgresCluster, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    """The consumer on PostgreSQL, the server restarted between two batches of a hub: the batch that met the
    broken connection is not acknowledged (the hub keeps it), the hub sends it again, and it is stored once."""
    files = pki.client(CONSUMER)
    consumer = CountyConsumer(ConsumerConfig(broker_url=broker.url, hubs=SECRETS, db_path=postgres_url,
                                             topic_root=ROOT, ca_file=pki.ca_file, client_cert=files.cert,
                                             client_key=files.key))
    await consumer.start()
    try:
        await consumer.wait_ready()
        outgoing = _outgoing(tmp_path / "hub.db", 10)
        transport = _transport(broker, pki, HUB_A, ack_timeout_s=3)
        try:
            assert (await transport.send(outgoing[:5])).acknowledged == {o.event.uuid for o in outgoing[:5]}
            postgres_cluster.stop()
            postgres_cluster.start()
            acknowledged: set[str] = set()
            for _ in range(10):  # the worker's retries, by hand
                try:
                    acknowledged |= (await transport.send(outgoing[5:])).acknowledged
                except TransientUplinkError:
                    continue
                if acknowledged == {o.event.uuid for o in outgoing[5:]}:
                    break
            assert acknowledged == {o.event.uuid for o in outgoing[5:]}
            assert "county consumer failed; reconnecting" in caplog.text  # the batch that met the restart
        finally:
            await transport.close()
        stored = await consumer.events()
        assert [e["id"] for e in stored] == [o.event.uuid for o in outgoing]
    finally:
        await consumer.stop()

