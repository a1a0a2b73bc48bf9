"""A hub in a process of its own, for the MQTT kill tests: journals decisions (one commit each, as the product
does) up to a total, while the real UplinkWorker drains the outbox over the real MqttTransport; prints ``drained``
and exits 0 once everything is acknowledged by the county. Restarted on the same database it journals only what is
missing and drains what is left. Usage: ``python mqtt_hub_child.py CONFIG.json``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from hub.journal import EventKind, Journal, open_journal_database
from hub.uplink import Backoff, FieldPolicy, Secret, UplinkWorker
from hub.uplink.mqtt_client import MqttConfig, MqttTransport


async def main(config: dict[str, Any]) -> None:
    db = Path(config["db"])
    journal = Journal(open_journal_database(db), config["hub_id"])
    transport = MqttTransport(MqttConfig(
        broker_url=config["broker_url"], hub_id=config["hub_id"], secret=Secret(config["secret"]),
        topic_prefix=config["prefix"], ca_file=config["ca_file"], client_cert=config["cert"],
        client_key=config["key"], ack_timeout_s=float(config.get("ack_timeout_s", 5)), connect_timeout_s=3,
    ))
    worker = UplinkWorker(db, transport, FieldPolicy(Secret(config["community_key"])),
                          batch_size=int(config.get("batch_size", 100)), backoff=Backoff(base_s=0.1, cap_s=1.0),
                          idle_poll_s=1.0)
    journal.on_append = worker.wake
    await worker.start()
    total, doors, pause = int(config["events"]), int(config["doors"]), float(config.get("pause_s", 0.002))

    def produce() -> None:
        for i in range(journal.count(), total):
            journal.append(EventKind.DECISION, door=f"door-{i % doors}",
                           payload={"result": "granted", "reason": "card", "credential_kind": "card"})
            time.sleep(pause)

    await asyncio.to_thread(produce)
    while True:  # until the outbox is empty: an unacknowledged batch is retried by the worker
        await worker.wait_drained()
        if worker.status.backlog == 0:
            break
        await asyncio.sleep(0.1)
    await worker.stop()
    journal.close()
    print("drained", flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(Path(sys.argv[1]).read_text())))
