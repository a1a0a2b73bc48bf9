"""``community-hub bench uplink --profile mqtt``: many hubs journal and publish through one broker to the county
consumer, which stores and acknowledges; figures per run.

Each hub journals as the product does: its own SQLite file, one commit (``synchronous=FULL``) per event, on a
thread of its own, while its real :class:`~hub.uplink.worker.UplinkWorker` drains the outbox over a real
:class:`~hub.uplink.mqtt_client.MqttTransport`. The county consumer (:mod:`devkit.county`) runs in the same process,
so "stored" times share the hubs' clock. ``--broker local`` (the default) starts a Mosquitto on loopback with a
generated CA, a certificate per hub, the per-hub ACL and persistence (:mod:`devkit.county.broker`); an
``mqtt://`` URL uses a broker that lets the hubs and the consumer in without certificates.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


async def measure_mqtt(events: int, hubs: int, broker_url: str = "local", doors: int = 4, send_batch: int = 200,
                       timeout_s: float = 600.0) -> dict[str, Any]:
    """Run one benchmark in a temporary folder; returns the figures."""
    from devkit.county import ConsumerConfig, CountyConsumer
    from devkit.county.broker import CONSUMER, ROOT, Mosquitto, Pki, mosquitto_binary
    from hub.journal import EventKind, Journal, open_journal_database
    from hub.uplink import Backoff, FieldPolicy, Secret, UplinkWorker
    from hub.uplink.mqtt_client import MqttConfig, MqttTransport

    hub_ids = [f"hub-bench{i:03d}" for i in range(hubs)]
    secrets = {hub_id: Secret.generate() for hub_id in hub_ids}
    per_hub = [events // hubs + (1 if i < events % hubs else 0) for i in range(hubs)]
    committed_at: dict[str, float] = {}
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="bench-uplink-mqtt-") as name:
        folder = Path(name)
        broker: Mosquitto | None = None
        pki: Pki | None = None
        if broker_url == "local":
            binary = mosquitto_binary()
            if binary is None:
                raise RuntimeError("mosquitto is not installed (apt-get install mosquitto), or pass --broker URL")
            pki = Pki(folder / "pki")
            broker = Mosquitto(binary, folder / "broker", pki)
            broker.start()
            broker_url = broker.url
        try:
            consumer_files = pki.client(CONSUMER) if pki is not None else None
            consumer = CountyConsumer(ConsumerConfig(
                broker_url=broker_url, hubs=secrets, db_path=folder / "county.db", topic_root=ROOT,
                ca_file=pki.ca_file if pki is not None else None,
                client_cert=consumer_files.cert if consumer_files else None,
                client_key=consumer_files.key if consumer_files else None, client_id="county-bench",
            ))
            await consumer.start()
            await consumer.wait_ready(30)
            journals: list[Journal] = []
            workers: list[UplinkWorker] = []
            for hub_id in hub_ids:
                db = folder / f"{hub_id}.db"
                files = pki.client(hub_id) if pki is not None else None
                transport = MqttTransport(MqttConfig(
                    broker_url=broker_url, hub_id=hub_id, secret=secrets[hub_id], topic_prefix=f"{ROOT}/{{hub_id}}",
                    ca_file=pki.ca_file if pki is not None else None, client_cert=files.cert if files else None,
                    client_key=files.key if files else None,  # the product's acknowledgement timeout (30 s)
                ))
                journal = Journal(open_journal_database(db), hub_id)
                worker = UplinkWorker(db, transport, FieldPolicy(Secret.generate()), batch_size=send_batch,
                                      backoff=Backoff(base_s=0.1, cap_s=2.0), idle_poll_s=1.0)
                journal.on_append = worker.wake
                journals.append(journal)
                workers.append(worker)
            for worker in workers:
                await worker.start()

            def produce(journal: Journal, count: int) -> None:
                for i in range(count):  # one commit per event, as the gate path does
                    event = journal.append(EventKind.DECISION, door=f"door-{i % doors}",
                                           payload={"result": "granted", "reason": "card", "credential_kind": "card"})
                    now = time.time()
                    with lock:
                        committed_at[event.uuid] = now

            began = time.time()
            await asyncio.gather(*(asyncio.to_thread(produce, journal, count)
                                   for journal, count in zip(journals, per_hub, strict=True)))
            journal_s = time.time() - began
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:  # every event stored at the county, or the deadline
                if int((await consumer.stats())["events"]) >= events:
                    break
                await asyncio.sleep(0.05)
            stored: list[dict[str, Any]] = []
            while page := await consumer.events(stored[-1]["pos"] if stored else 0):
                stored.extend(page)
            total_s = max(item["received_at"] for item in stored) - began if stored else time.time() - began
            stats = await consumer.stats()
            for worker in workers:
                await asyncio.wait_for(worker.wait_drained(), 30)
            for worker in workers:
                await worker.stop()
            for journal in journals:
                journal.close()
            await consumer.stop()
        finally:
            if broker is not None:
                broker.stop()

    per_door: dict[tuple[str, str], list[int]] = defaultdict(list)
    for item in stored:
        per_door[(item["hub_id"], str(item["event"]["door"]))].append(int(item["event"]["seq"]))
    latencies = [(item["received_at"] - committed_at[item["id"]]) * 1000 for item in stored
                 if item["id"] in committed_at]
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
        "p50_event_to_stored_ms": round(_percentile(latencies, 0.50), 1),
        "p99_event_to_stored_ms": round(_percentile(latencies, 0.99), 1),
        "send_batch": send_batch,
        "synchronous": "FULL",
        "broker": "local mosquitto (TLS, client certificates, ACL, persistence)" if pki is not None else "given",
    }
