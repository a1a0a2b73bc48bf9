"""The MQTT profile against a real Mosquitto on loopback (TLS with per-hub client certificates, an ACL per hub
prefix, persistence on) and the county consumer (devkit.county): nothing is "sent" before the county has
committed it; hub and broker killed with SIGKILL lose nothing and keep each door's order; a hub cannot write
outside its prefix; revoked and expired certificates are refused; a backlog of 3,600 events drains in order.

Nothing is mocked: the broker is Debian's mosquitto, the journals and the county store are SQLite files, the hub
of the kill tests is a process of its own (tests/hub/uplink/mqtt_hub_child.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from devkit.county import ConsumerConfig, CountyConsumer
from devkit.county.broker import CONSUMER, ROOT, ClientFiles, Mosquitto, Pki
from hub.journal import EventKind, Journal, NewEvent, open_journal_database
from hub.uplink import Backoff, FieldPolicy, RejectedError, Secret, UplinkWorker
from hub.uplink.errors import TransientUplinkError
from hub.uplink.mqtt_client import MqttConfig, MqttTransport
from hub.uplink.transport import OutgoingEvent

HUB_A, HUB_B = "hub-a0001", "hub-b0002"
SECRETS = {HUB_A: Secret("hub-a-secret-0123456789abcdef"), HUB_B: Secret("hub-b-secret-0123456789abcdef")}
READ_TOKEN = Secret("county-read-token-0123456789abcdef")
CHILD = Path(__file__).with_name("mqtt_hub_child.py")
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
async def consumer(broker: Mosquitto, pki: Pki, tmp_path: Path, socket_enabled: None) -> AsyncIterator[CountyConsumer]:
    """The county consumer, subscribed (shared subscription), with its read API on a free port."""
    files = pki.client(CONSUMER)
    running = CountyConsumer(ConsumerConfig(
        broker_url=broker.url, hubs=SECRETS, db_path=tmp_path / "county.db", topic_root=ROOT,
        ca_file=pki.ca_file, client_cert=files.cert, client_key=files.key, read_token=READ_TOKEN, http_port=0,
    ))
    await running.start()
    await running.wait_ready()
    yield running
    await running.stop()


def _transport(broker: Mosquitto, pki: Pki, hub_id: str, files: ClientFiles | None = None, *,
               secret: Secret | None = None, ack_timeout_s: float = 5.0) -> MqttTransport:
    files = files or pki.client(hub_id)
    return MqttTransport(MqttConfig(
        broker_url=broker.url, hub_id=hub_id, secret=secret or SECRETS[hub_id], topic_prefix=f"{ROOT}/{{hub_id}}",
        ca_file=pki.ca_file, client_cert=files.cert, client_key=files.key, ack_timeout_s=ack_timeout_s,
        connect_timeout_s=3,
    ))


def _worker(db: Path, transport: MqttTransport, batch_size: int = 200) -> UplinkWorker:
    return UplinkWorker(db, transport, FieldPolicy(Secret("community-key-for-tests-0123456789")),
                        batch_size=batch_size, backoff=Backoff(base_s=0.05, cap_s=0.5), idle_poll_s=1.0)


async def _until(condition: Callable[[], Awaitable[bool]], what: str, timeout_s: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _stored(consumer: CountyConsumer) -> int:
    return int((await consumer.stats())["events"])


async def _all_events(consumer: CountyConsumer) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while page := await consumer.events(events[-1]["pos"] if events else 0):
        events.extend(page)
    return events


def _journalled(db: Path) -> list[tuple[int, str, str]]:
    with sqlite3.connect(db) as conn:
        return [(int(r[0]), str(r[1]), str(r[2])) for r in conn.execute("SELECT seq, uuid, door FROM events")]


def _check_delivery(journalled: list[tuple[int, str, str]], stored: list[dict[str, Any]]) -> None:
    """Every journalled event stored once at the county, each door's first copies in the hub's order."""
    stored_ids = [item["id"] for item in stored]
    assert len(stored_ids) == len(set(stored_ids))
    lost = {uuid for _, uuid, _ in journalled} - set(stored_ids)
    assert not lost, f"{len(lost)} event(s) lost"
    per_door: dict[str, list[int]] = defaultdict(list)
    for item in stored:
        per_door[str(item["event"]["door"])].append(int(item["event"]["seq"]))
    for door, seqs in per_door.items():
        wrong = next((i for i in range(1, len(seqs)) if seqs[i] < seqs[i - 1]), None)
        assert wrong is None, f"{door}: seq {seqs[wrong]} arrived after {seqs[wrong - 1]}: {seqs[wrong - 5:wrong + 5]}"


async def test_events_are_sent_only_once_the_county_has_committed_them(
        broker: Mosquitto, pki: Pki, consumer: CountyConsumer, tmp_path: Path) -> None:
    """The broker's PUBACK is not enough: with the consumer away nothing is marked sent; when it comes back the
    events are stored, signed and verified, acknowledged, and the read API (token only) lists them in order."""
    db = tmp_path / "hub.db"
    journal = Journal(open_journal_database(db), HUB_A)
    journal.append_many([NewEvent(kind=EventKind.DECISION, door=f"door-{i % 2}", payload={"result": "granted"})
                         for i in range(40)])
    await consumer.stop()  # its persistent session stays on the broker, which queues for it
    transport = _transport(broker, pki, HUB_A, ack_timeout_s=0.5)
    worker = _worker(db, transport)
    await worker.start()
    try:
        await _until(lambda: _true(worker.status.last_error is not None), "a failed send")
        assert worker.status.backlog == 40  # the broker took them (PUBACK); the county has not stored them
        assert "acknowledged none" in (worker.status.last_error or "")
        await consumer.start()
        await asyncio.wait_for(worker.wait_drained(), 30)
        assert worker.status.backlog == 0 and worker.status.sent_total == 40
    finally:
        await worker.stop()
        journal.close()
    stored = await _all_events(consumer)
    _check_delivery(_journalled(db), stored)
    assert len(stored) == 40 and stored[0]["topic"] == f"{ROOT}/{HUB_A}/events/access"
    assert stored[0]["event"]["hub_id"] == HUB_A and "resident_id" not in stored[0]["event"]
    stats = await consumer.stats()
    assert stats["hubs"][HUB_A] == "offline"  # the transport said so when it closed (retained status)
    # While the consumer was away the hub resent what the county had not acknowledged: counted, not hidden.
    redelivered = stats["duplicates"]
    assert redelivered >= 40
    # A replay (a restarted hub resending, or a copy of old messages): caught by the event id, counted, and
    # answered as held, so the hub would mark them sent.
    replay = _transport(broker, pki, HUB_A)
    journal = Journal(open_journal_database(db), HUB_A)
    outgoing = [OutgoingEvent(event=e, fields={"type": e.kind.value, "door": e.door}) for e in journal.events()][:5]
    journal.close()
    try:
        result = await replay.send(outgoing)
    finally:
        await replay.close()
    assert result.acknowledged == {item.event.uuid for item in outgoing}
    stats = await consumer.stats()
    assert stats["duplicates"] == redelivered + 5 and stats["events"] == 40
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{consumer.http_port}/api/v1"
        async with session.get(f"{url}/events") as response:
            assert response.status == 401
        headers = {"Authorization": f"Bearer {READ_TOKEN.reveal().decode()}"}
        async with session.get(f"{url}/events?limit=5", headers=headers) as response:
            assert response.status == 200
            assert [e["event"]["seq"] for e in (await response.json())["events"]] == [1, 2, 3, 4, 5]
        async with session.get(f"{url}/stats", headers=headers) as response:
            assert (await response.json())["events"] == 40


async def _true(value: bool) -> bool:
    return value


def _child_config(tmp_path: Path, broker: Mosquitto, pki: Pki, events: int) -> Path:
    files = pki.client(HUB_A)
    path = tmp_path / "child.json"
    path.write_text(json.dumps({
        "db": str(tmp_path / "hub.db"), "hub_id": HUB_A, "broker_url": broker.url,
        "secret": SECRETS[HUB_A].reveal().decode(), "prefix": f"{ROOT}/{{hub_id}}", "ca_file": str(pki.ca_file),
        "cert": str(files.cert), "key": str(files.key), "community_key": "community-key-for-tests-0123456789",
        "events": events, "doors": 6, "batch_size": 50, "ack_timeout_s": 3,
    }))
    return path


async def _spawn(config: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tools")])}
    return await asyncio.create_subprocess_exec(sys.executable, str(CHILD), str(config), env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def _finish(child: asyncio.subprocess.Process, timeout_s: float = 40.0) -> None:
    try:
        out, err = await asyncio.wait_for(child.communicate(), timeout_s)
    except TimeoutError:
        child.kill()
        await child.wait()
        raise AssertionError("the hub did not drain in time") from None
    assert child.returncode == 0, err.decode()[-3000:]
    assert out.decode().strip().endswith("drained")


async def test_hub_killed_mid_run_loses_nothing(
        broker: Mosquitto, pki: Pki, consumer: CountyConsumer, tmp_path: Path) -> None:
    """SIGKILL of the hub process while it journals and publishes; restarted on the same journal file."""
    config = _child_config(tmp_path, broker, pki, events=600)
    child = await _spawn(config)
    await _until(lambda: _gt(consumer, 150), "150 events at the county")
    child.send_signal(signal.SIGKILL)
    await child.wait()
    assert len(_journalled(tmp_path / "hub.db")) < 600  # killed in the middle of the run
    await _finish(await _spawn(config))
    journalled = _journalled(tmp_path / "hub.db")
    assert len(journalled) == 600
    stored = await _all_events(consumer)
    _check_delivery(journalled, stored)
    stats = await consumer.stats()
    print(f"hub kill: {len(stored)} stored, {stats['duplicates']} duplicate deliveries counted")


async def _gt(consumer: CountyConsumer, count: int) -> bool:
    return await _stored(consumer) >= count


async def test_broker_killed_mid_run_loses_nothing(
        broker: Mosquitto, pki: Pki, consumer: CountyConsumer, tmp_path: Path) -> None:
    """SIGKILL of the broker (what it acknowledged but had not saved is gone), restarted on the same port with
    its persistence: the hub resends what the county did not acknowledge."""
    config = _child_config(tmp_path, broker, pki, events=600)
    child = await _spawn(config)
    await _until(lambda: _gt(consumer, 150), "150 events at the county")
    broker.kill()
    assert await _stored(consumer) < 600
    await asyncio.sleep(0.3)  # down for a moment: the hub's sends fail meanwhile
    broker.start()
    await _finish(child)
    journalled = _journalled(tmp_path / "hub.db")
    assert len(journalled) == 600
    await _until(lambda: _gt(consumer, 600), "every event at the county")
    stored = await _all_events(consumer)
    _check_delivery(journalled, stored)
    stats = await consumer.stats()
    print(f"broker kill: {len(stored)} stored, {stats['duplicates']} duplicate deliveries counted")


async def test_a_hub_cannot_publish_outside_its_prefix(
        broker: Mosquitto, pki: Pki, consumer: CountyConsumer, tmp_path: Path) -> None:
    """Hub A's certificate publishing under hub B's prefix (with B's secret, even): the broker's ACL refuses it,
    nothing reaches the county, the event stays queued and the hub shows a rejection."""
    db = tmp_path / "hub.db"
    journal = Journal(open_journal_database(db), HUB_B)
    journal.append(EventKind.DECISION, door="door-1", payload={"result": "granted"})
    transport = _transport(broker, pki, HUB_B, pki.client(HUB_A), ack_timeout_s=1.0)
    worker = _worker(db, transport)
    await worker.start()
    try:
        await _until(lambda: _true(worker.status.consecutive_rejections >= 1), "a rejection")
        assert "not authorized" in (worker.status.last_error or "")
        assert worker.status.backlog == 1
    finally:
        await worker.stop()
        journal.close()
    stats = await consumer.stats()
    assert stats["events"] == 0 and consumer.messages == 0


async def test_a_forged_signature_is_refused_and_counted(
        broker: Mosquitto, pki: Pki, consumer: CountyConsumer, tmp_path: Path) -> None:
    """A message on hub A's topics signed with another secret: not stored, counted; the hub sees a rejection."""
    journal = Journal(open_journal_database(tmp_path / "hub.db"), HUB_A)
    journal.append(EventKind.DECISION, door="door-1", payload={"result": "granted"})
    transport = _transport(broker, pki, HUB_A, secret=Secret("not-the-county-s-secret-0123456"))
    worker = _worker(tmp_path / "hub.db", transport)
    await worker.start()
    try:
        await _until(lambda: _true(worker.status.consecutive_rejections >= 1), "a rejection")
        assert "bad_signature" in (worker.status.last_error or "") and worker.status.backlog == 1
    finally:
        await worker.stop()
        journal.close()
    stats = await consumer.stats()
    assert stats["events"] == 0 and stats["rejected"] >= 1


async def test_revoked_and_expired_certificates_are_refused(
        broker: Mosquitto, pki: Pki, consumer: CountyConsumer, tmp_path: Path) -> None:
    """A certificate on the CRL, and one past its end date, cannot connect; a valid one can."""
    revoked = pki.client(HUB_A)
    pki.revoke(revoked)
    broker.stop()
    broker.start()  # the broker reads its CRL when it starts
    await consumer.wait_ready(20)
    for files, alert in ((revoked, "certificate revoked"), (pki.client(HUB_A, expired=True), "certificate expired")):
        transport = _transport(broker, pki, HUB_A, files)
        # The broker sends its alert and closes with the hub's CONNECT unread, so its kernel answers with a reset;
        # a reset that arrives before the hub has read the alert discards it, and all the hub sees is "connection
        # reset": a transient error, retried, as the worker does. The refusal has to come, with its reason.
        for _ in range(5):
            with pytest.raises((RejectedError, TransientUplinkError)) as refused:
                await transport.start()
            await transport.close()
            if isinstance(refused.value, RejectedError):
                break
            assert "reset" in str(refused.value)
        assert isinstance(refused.value, RejectedError) and alert in str(refused.value)
    valid = _transport(broker, pki, HUB_A)
    await valid.start()
    assert valid.connected
    await valid.close()
    assert (await consumer.stats())["events"] == 0


async def test_a_backlog_of_3600_events_drains_in_order_when_the_broker_returns(
        broker: Mosquitto, pki: Pki, consumer: CountyConsumer, tmp_path: Path) -> None:
    """The broker down while 3,600 events are journalled: nothing is lost, each door in order, once it is back."""
    db = tmp_path / "hub.db"
    journal = Journal(open_journal_database(db), HUB_A)
    broker.kill()
    worker = _worker(db, _transport(broker, pki, HUB_A))
    journal.on_append = worker.wake
    await worker.start()
    try:
        def produce() -> None:
            for start in range(0, 3600, 100):
                journal.append_many([NewEvent(kind=EventKind.DECISION, door=f"door-{(start + i) % 8}",
                                              payload={"result": "granted"}) for i in range(100)])

        await asyncio.to_thread(produce)
        await _until(lambda: _true(worker.status.last_error is not None and worker.status.backlog == 3600),
                     "the backlog with the broker down")
        broker.start()
        await asyncio.wait_for(worker.wait_drained(), 180)  # a bound for a stuck drain, not a speed figure
    finally:
        await worker.stop()
        journal.close()
    await _until(lambda: _gt(consumer, 3600), "3,600 events at the county")
    stored = await _all_events(consumer)
    assert len(stored) == 3600
    _check_delivery(_journalled(db), stored)


def test_the_topic_prefix_must_end_with_the_hub_id() -> None:
    """A prefix naming another hub, or holding a wildcard, is refused before anything connects."""
    from hub.exceptions import InvalidInputError

    for prefix in (f"{ROOT}/{HUB_B}", f"{ROOT}/+", "county/#", ""):
        with pytest.raises(InvalidInputError):
            MqttConfig(broker_url="mqtts://broker.example:8883", hub_id=HUB_A, secret=SECRETS[HUB_A],
                       topic_prefix=prefix)
    with pytest.raises(InvalidInputError):
        MqttConfig(broker_url="https://broker.example", hub_id=HUB_A, secret=SECRETS[HUB_A],
                   topic_prefix=f"{ROOT}/{HUB_A}")


async def test_the_county_command_consumes_stores_and_serves_its_read_api(
        broker: Mosquitto, pki: Pki, tmp_path: Path) -> None:
    """``community-hub county`` as a real process: a hubs file, the consumer's certificate, a read token."""
    files = pki.client(CONSUMER)
    (tmp_path / "a.secret").write_text(SECRETS[HUB_A].reveal().decode())
    (tmp_path / "hubs").write_text(f"{HUB_A} a.secret\n{HUB_B}={SECRETS[HUB_B].reveal().decode()}\n")
    (tmp_path / "token").write_text(READ_TOKEN.reveal().decode())
    cli = [sys.executable, "-m", "devkit.cli", "county", "--broker", broker.url, "--db", str(tmp_path / "c.db"),
           "--topic-root", ROOT, "--ca-file", str(pki.ca_file), "--cert", str(files.cert), "--key", str(files.key)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tools")])}
    bad = await asyncio.create_subprocess_exec(*cli, "--hubs-file", str(tmp_path / "missing"), env=env,
                                               stderr=asyncio.subprocess.PIPE)
    _, err = await bad.communicate()
    assert bad.returncode == 2 and b"cannot read the hubs file" in err
    proc = await asyncio.create_subprocess_exec(
        *cli, "--hubs-file", str(tmp_path / "hubs"), "--read-token-file", str(tmp_path / "token"),
        "--http-port", "0", env=env, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert "2 hub(s)" in line and "read API on" in line, line
        assert all(s.reveal().decode() not in line for s in (*SECRETS.values(), READ_TOKEN))
        port = int(line.split("read API on http://127.0.0.1:")[1].split(" ")[0])
        journal = Journal(open_journal_database(tmp_path / "hub.db"), HUB_A)
        event = journal.append(EventKind.DECISION, door="gate-1", payload={"result": "granted"})
        journal.close()
        transport = _transport(broker, pki, HUB_A, ack_timeout_s=15)
        try:
            result = await transport.send([OutgoingEvent(event=event, fields={"type": "decision", "door": "gate-1"})])
        finally:
            await transport.close()
        assert result.acknowledged == {event.uuid}
        async with aiohttp.ClientSession() as session:
            headers = {"Authorization": f"Bearer {READ_TOKEN.reveal().decode()}"}
            async with session.get(f"http://127.0.0.1:{port}/api/v1/events", headers=headers) as response:
                assert [e["id"] for e in (await response.json())["events"]] == [event.uuid]
            async with session.get(f"http://127.0.0.1:{port}/api/v1/stats",
                                   headers={"Authorization": "Bearer wrong"}) as response:
                assert response.status == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0


def test_the_county_stores_each_hub_in_its_order_and_holds_back_what_comes_early(county_db: str | Path) -> None:
    """An event whose predecessor (prev_seq) is not stored yet waits, so a broker that dropped an earlier message
    cannot make a door's events land out of order; a duplicate is counted, never stored twice (SQLite and
    PostgreSQL)."""
    from devkit.county.store import CountyStore, Delivery

    store = CountyStore(county_db)

    def delivery(seq: int, prev: int | None) -> Delivery:
        event: dict[str, Any] = {"id": f"id-{seq}", "seq": seq, "hub_id": HUB_A, "type": "decision", "door": "d1"}
        if prev is not None:
            event["prev_seq"] = prev
        return Delivery(hub_id=HUB_A, topic=f"{ROOT}/{HUB_A}/events/access", event=event)

    early = store.store([delivery(2, 1), delivery(3, 2)])
    assert early.accepted == [] and early.out_of_order == ["id-2", "id-3"]
    later = store.store([delivery(1, None), delivery(2, 1), delivery(3, 2), delivery(3, 2)])
    assert later.accepted == ["id-1", "id-2", "id-3"] and later.duplicates == ["id-3"]
    assert [e["event"]["seq"] for e in store.list_events(0, 10)] == [1, 2, 3]
    stats = store.stats()
    assert stats["duplicates"] == 1 and stats["held_out_of_order"] == 2
    store.close()


def test_a_health_event_sent_ahead_of_the_backlog_lets_no_gap_through(county_db: str | Path) -> None:
    """The hub sends health events ahead of its backlog (the outbox's priority lane): a device going offline with
    seq 500 may be stored right after seq 100. An access event whose predecessor the broker dropped must still
    wait, although an event with a higher seq is already stored (SQLite and PostgreSQL)."""
    from devkit.county.store import CountyStore, Delivery

    store = CountyStore(county_db)

    def delivery(seq: int, prev: int | None) -> Delivery:
        event: dict[str, Any] = {"id": f"id-{seq}", "seq": seq, "hub_id": HUB_A, "type": "decision", "door": "d1"}
        if prev is not None:
            event["prev_seq"] = prev
        return Delivery(hub_id=HUB_A, topic=f"{ROOT}/{HUB_A}/events/access", event=event)

    assert store.store([delivery(100, None), delivery(500, 100), delivery(101, 500)]).accepted == [
        "id-100", "id-500", "id-101"]
    held = store.store([delivery(103, 102)])  # 102 was dropped by the broker
    assert held.accepted == [] and held.out_of_order == ["id-103"]
    assert store.store([delivery(102, 101), delivery(103, 102)]).accepted == ["id-102", "id-103"]
    store.close()


def test_the_mqtt_uplink_bench_prints_a_table_then_json(mosquitto_bin: str, socket_enabled: None) -> None:
    """``bench uplink --profile mqtt``: several hubs, one commit per event, through a local Mosquitto."""
    import subprocess

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tools")])}
    done = subprocess.run([sys.executable, "-m", "devkit.cli", "bench", "uplink", "--profile", "mqtt", "--hubs", "3",
                           "--events", "90"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["hubs"] == 3 and figures["events"] == 90
    assert figures["lost"] == 0 and figures["out_of_order_doors"] == 0
    assert {"events_per_s", "redelivered", "p99_event_to_stored_ms"} <= set(figures)


def test_the_mqtt_uplink_bench_through_a_broker_it_did_not_start(mosquitto_bin: str, tmp_path: Path,
                                                                  socket_enabled: None) -> None:
    """``--broker mqtt://host:port``: a plain Mosquitto started here (not by the project's broker helper), whose own
    ``$SYS`` counter shows that the bench's events and the county's acknowledgements really went through it."""
    import socket
    import subprocess
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    conf = tmp_path / "plain.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nsys_interval 1\npersistence false\n")
    broker = subprocess.Popen([mosquitto_bin, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):  # listening
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert broker.poll() is None, broker.stderr.read() if broker.stderr else ""
            time.sleep(0.05)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tools")])}
        done = subprocess.run([sys.executable, "-m", "devkit.cli", "bench", "uplink", "--profile", "mqtt",
                               "--broker", f"mqtt://127.0.0.1:{port}", "--hubs", "4", "--events", "120"],
                              env=env, capture_output=True, text=True, timeout=180, check=False)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        assert figures["lost"] == 0 and figures["drained"] is True
        assert figures["broker"] == f"mqtt://127.0.0.1:{port}"

        async def received(at_least: int) -> int:
            """The broker's own count of PUBLISH packets it received ($SYS, refreshed every sys_interval): the
            highest value seen within 15 s, or as soon as it reaches ``at_least``."""
            import aiomqtt

            seen = 0
            async with aiomqtt.Client("127.0.0.1", port, identifier="sys-reader") as client:
                await client.subscribe("$SYS/broker/publish/messages/received")
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(15):
                        async for message in client.messages:
                            assert isinstance(message.payload, bytes)
                            seen = max(seen, int(message.payload))
                            if seen >= at_least:
                                break
            return seen

        # 120 events and at least one acknowledgement per hub (plus each hub's retained status).
        assert asyncio.run(received(120 + 4)) >= 120 + 4
    finally:
        broker.terminate()
        broker.wait(10)
