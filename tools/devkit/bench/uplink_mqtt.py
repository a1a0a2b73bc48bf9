"""``community-hub bench uplink --profile mqtt``: many hubs journal and publish through one broker to the county
consumer, which stores and acknowledges; figures per run.

Each hub journals as the product does: its own SQLite file, one commit (``synchronous=FULL``) per event, on a
thread of its own, while its real :class:`~hub.uplink.worker.UplinkWorker` drains the outbox over a real
:class:`~hub.uplink.mqtt_client.MqttTransport`. The county consumer (:mod:`devkit.county`) runs in a process of its
own, as a county's server does; the hubs are spread over ``processes`` processes (default: one per core), because
97 hubs are 97 machines and one Python process would measure its interpreter lock rather than the uplink. All
processes share the machine's clock, so "stored" times (the consumer's, taken when it stored the event) and commit
times (the hubs') compare directly. ``--broker local`` (the default) starts a Mosquitto on loopback with a
generated CA, a certificate per hub, the per-hub ACL and persistence (:mod:`devkit.county.broker`); an
``mqtt://`` URL uses a broker that lets the hubs and the consumer in without certificates, an ``mqtts://`` URL one
that takes the client certificate given (``--ca``, ``--cert``, ``--key``; every hub and the consumer present it).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import sqlite3
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SPAWN = multiprocessing.get_context("spawn")


@dataclass(frozen=True, kw_only=True)
class _Tls:
    """Broker TLS for one client: the CA, and a client certificate + key (or none)."""

    ca_file: str | None = None
    cert: str | None = None
    key: str | None = None


@dataclass(frozen=True, kw_only=True)
class _HubSpec:
    hub_id: str
    secret: bytes
    events: int
    tls: _Tls


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def _consumer_process(broker_url: str, hubs: dict[str, bytes], db: str, root: str, tls: _Tls,
                      ready: Any, go: Any, stop: Any, results: Any) -> None:
    """The county consumer until ``stop`` is set (runs in a process of its own); reports the CPU seconds it used
    from ``go`` to ``stop``."""
    from devkit.county import ConsumerConfig, CountyConsumer, received_properties
    from hub.uplink import Secret

    received_properties.install()  # as `community-hub county` does in its own process

    async def main() -> None:
        consumer = CountyConsumer(ConsumerConfig(
            broker_url=broker_url, hubs={hub_id: Secret(value) for hub_id, value in hubs.items()}, db_path=db,
            topic_root=root, ca_file=tls.ca_file, client_cert=tls.cert, client_key=tls.key, client_id="county-bench",
        ))
        await consumer.start()
        try:
            await consumer.wait_ready(30)
            ready.set()
            await asyncio.to_thread(go.wait)
            cpu_at_go = time.process_time()
            await asyncio.to_thread(stop.wait)
            results.put({"consumer_cpu_s": time.process_time() - cpu_at_go})
        finally:
            await consumer.stop()

    asyncio.run(main())


def _hubs_process(specs: list[_HubSpec], broker_url: str, root: str, doors: int, send_batch: int, folder: str,
                  ready: Any, go: Any, results: Any) -> None:
    """Some of the hubs: journal their events once ``go`` is set, drain them, report the commit times."""
    from hub.journal import EventKind, Journal, open_journal_database
    from hub.uplink import Backoff, FieldPolicy, Secret, UplinkWorker
    from hub.uplink.mqtt_client import MqttConfig, MqttTransport

    committed_at: dict[str, float] = {}
    journal_cpu_s: list[float] = []
    lock = threading.Lock()

    def produce(journal: Journal, count: int) -> None:
        cpu_at_start = time.thread_time()
        for i in range(count):  # one commit per event, as the gate path does
            event = journal.append(EventKind.DECISION, door=f"door-{i % doors}",
                                   payload={"result": "granted", "reason": "card", "credential_kind": "card"})
            now = time.time()
            with lock:
                committed_at[event.uuid] = now
        with lock:
            journal_cpu_s.append(time.thread_time() - cpu_at_start)

    async def main() -> None:
        journals: list[Journal] = []
        workers: list[UplinkWorker] = []
        for spec in specs:
            transport = MqttTransport(MqttConfig(
                broker_url=broker_url, hub_id=spec.hub_id, secret=Secret(spec.secret),
                topic_prefix=f"{root}/{{hub_id}}", ca_file=spec.tls.ca_file, client_cert=spec.tls.cert,
                client_key=spec.tls.key,  # the product's acknowledgement timeout (30 s)
            ))
            db = Path(folder) / f"{spec.hub_id}.db"
            journal = Journal(open_journal_database(db), spec.hub_id)
            worker = UplinkWorker(db, transport, FieldPolicy(Secret.generate()), batch_size=send_batch,
                                  backoff=Backoff(base_s=0.1, cap_s=2.0), idle_poll_s=1.0)
            journal.on_append = worker.wake
            journals.append(journal)
            workers.append(worker)
        for worker in workers:
            await worker.start()
        ready.release()
        await asyncio.to_thread(go.wait)
        cpu_at_go = time.process_time()
        await asyncio.gather(*(asyncio.to_thread(produce, journal, spec.events)
                               for journal, spec in zip(journals, specs, strict=True)))
        produced_at = time.time()
        drained = True
        for worker in workers:  # acknowledged by the county = stored there
            try:
                await asyncio.wait_for(worker.wait_drained(), 600)
            except TimeoutError:
                drained = False
        cpu_s = time.process_time() - cpu_at_go  # every thread: the journalling ones, the uplink's loop and executors
        for worker in workers:
            await worker.stop()
        for journal in journals:
            journal.close()
        results.put({"committed_at": committed_at, "produced_at": produced_at, "drained": drained,
                     "cpu_s": cpu_s, "journal_cpu_s": sum(journal_cpu_s)})

    asyncio.run(main())


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}" if parts.port else f"{parts.scheme}://{parts.hostname}"


def _process_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) a process has used so far, from /proc (None where there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stored_count(db: Path) -> int:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
            (count,) = conn.execute("SELECT COUNT(*) FROM county_events").fetchone()
    except sqlite3.Error:
        return 0  # not created yet
    return int(count)


async def measure_mqtt(events: int, hubs: int, broker_url: str = "local", doors: int = 4, send_batch: int = 200,
                       timeout_s: float = 600.0, processes: int | None = None, ca_file: str | None = None,
                       cert: str | None = None, key: str | None = None) -> dict[str, Any]:
    """Run one benchmark in a temporary folder; returns the figures."""
    from devkit.county import CountyStore
    from devkit.county.broker import CONSUMER, ROOT, Mosquitto, Pki, mosquitto_binary
    from hub.uplink import Secret

    hub_ids = [f"hub-bench{i:03d}" for i in range(hubs)]
    secrets = {hub_id: Secret.generate().reveal() for hub_id in hub_ids}
    per_hub = [events // hubs + (1 if i < events % hubs else 0) for i in range(hubs)]
    workers = max(1, min(hubs, processes or os.cpu_count() or 1))
    with tempfile.TemporaryDirectory(prefix="bench-uplink-mqtt-") as name:
        folder = Path(name)
        county_db = folder / "county.db"
        broker: Mosquitto | None = None
        pki: Pki | None = None
        given_tls = _Tls(ca_file=ca_file, cert=cert, key=key)
        if broker_url == "local":
            binary = mosquitto_binary()
            if binary is None:
                raise RuntimeError("mosquitto is not installed (apt-get install mosquitto), or pass --broker URL")
            pki = Pki(folder / "pki")
            broker = Mosquitto(binary, folder / "broker", pki)
            broker.start()
            broker_url = broker.url

        def tls_for(common_name: str) -> _Tls:
            if pki is None:
                return given_tls
            files = pki.client(common_name)
            return _Tls(ca_file=str(pki.ca_file), cert=str(files.cert), key=str(files.key))

        consumer_ready, consumer_stop, consumer_results = SPAWN.Event(), SPAWN.Event(), SPAWN.Queue()
        hubs_ready, go, results = SPAWN.Semaphore(0), SPAWN.Event(), SPAWN.Queue()
        broker_cpu_s: float | None = None
        children: list[multiprocessing.process.BaseProcess] = []
        try:
            consumer = SPAWN.Process(target=_consumer_process, name="county-consumer", args=(
                broker_url, secrets, str(county_db), ROOT, tls_for(CONSUMER), consumer_ready, go, consumer_stop,
                consumer_results))
            consumer.start()
            children.append(consumer)
            if not await asyncio.to_thread(consumer_ready.wait, 60):
                raise RuntimeError("the county consumer did not subscribe within 60 s")
            specs = [_HubSpec(hub_id=hub_id, secret=secrets[hub_id], events=count, tls=tls_for(hub_id))
                     for hub_id, count in zip(hub_ids, per_hub, strict=True)]
            for index in range(workers):
                hub_process = SPAWN.Process(target=_hubs_process, name=f"hubs-{index}", args=(
                    specs[index::workers], broker_url, ROOT, doors, send_batch, str(folder), hubs_ready, go, results))
                hub_process.start()
                children.append(hub_process)
            for _ in range(workers):
                if not await asyncio.to_thread(hubs_ready.acquire, True, 120):
                    raise RuntimeError("the hubs did not start within 120 s")
            load_before = os.getloadavg()
            broker_cpu_at_go = _process_cpu_s(broker.process.pid) \
                if broker is not None and broker.process is not None else None
            began = time.time()
            go.set()
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline and _stored_count(county_db) < events:  # noqa: ASYNC110 (another process)
                await asyncio.sleep(0.05)
            reports = [await asyncio.to_thread(results.get, True, timeout_s) for _ in range(workers)]
            if broker_cpu_at_go is not None and broker is not None and broker.process is not None:
                broker_now = _process_cpu_s(broker.process.pid)
                broker_cpu_s = broker_now - broker_cpu_at_go if broker_now is not None else None
            load_after = os.getloadavg()
            consumer_stop.set()
            consumer_report = await asyncio.to_thread(consumer_results.get, True, 60)
            for child in children:
                await asyncio.to_thread(child.join, 60)
        finally:
            go.set()
            consumer_stop.set()
            for child in children:
                if child.is_alive():
                    child.kill()
                    child.join()
            if broker is not None:
                broker.stop()

        store = CountyStore(county_db)
        try:
            stored: list[dict[str, Any]] = []
            while page := store.list_events(stored[-1]["pos"] if stored else 0, 5000):
                stored.extend(page)
            stats = store.stats()
        finally:
            store.close()

    committed_at: dict[str, float] = {}
    for report in reports:
        committed_at.update(report["committed_at"])
    journal_s = max(report["produced_at"] for report in reports) - began
    total_s = max(item["received_at"] for item in stored) - began if stored else time.time() - began
    per_door: dict[tuple[str, str], list[int]] = defaultdict(list)
    for item in stored:
        per_door[(item["hub_id"], str(item["event"]["door"]))].append(int(item["event"]["seq"]))
    latencies = [(item["received_at"] - committed_at[item["id"]]) * 1000 for item in stored
                 if item["id"] in committed_at]
    journal_cpu = sum(report["journal_cpu_s"] for report in reports)
    cpu = {"hub_journal": journal_cpu, "hub_uplink": sum(report["cpu_s"] for report in reports) - journal_cpu,
           "consumer": float(consumer_report["consumer_cpu_s"])}
    if broker_cpu_s is not None:
        cpu["broker"] = broker_cpu_s
    return {
        "profile": "mqtt",
        "hubs": hubs,
        "events": events,
        "journal_events_per_s": round(events / journal_s, 1) if journal_s > 0 else 0.0,
        "events_per_s": round(len(stored) / total_s, 1) if total_s > 0 else 0.0,
        "lost": len(set(committed_at) - {item["id"] for item in stored}),
        "redelivered": int(stats["duplicates"]),
        "held_out_of_order": int(stats["held_out_of_order"]),
        "out_of_order_doors": sum(1 for seqs in per_door.values() if seqs != sorted(seqs)),
        "drained": all(report["drained"] for report in reports),
        "p50_event_to_stored_ms": round(_percentile(latencies, 0.50), 1),
        "p99_event_to_stored_ms": round(_percentile(latencies, 0.99), 1),
        # CPU seconds per 1,000 events, from the start until every hub had its last acknowledgement: less noisy than
        # wall time on a shared machine. hub_journal: the threads appending (one commit per event); hub_uplink:
        # the rest of the hub processes (the workers' event loops and outbox threads, the MQTT clients).
        "cpu_s_per_1000_events": {name: round(value * 1000 / events, 3) for name, value in cpu.items()}
        | {"total": round(sum(cpu.values()) * 1000 / events, 3)},
        "load_average_1m": [round(load_before[0], 2), round(load_after[0], 2)],
        "send_batch": send_batch,
        "synchronous": "FULL",
        "hub_processes": workers,
        "consumer": "own process",
        "broker": "local mosquitto (TLS, client certificates, ACL, persistence)" if pki is not None
        else _without_credentials(broker_url),
    }
