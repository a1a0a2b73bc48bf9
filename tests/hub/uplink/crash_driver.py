"""A hub process for the crash test: journals events for random doors while the worker uploads them.

Run as ``python crash_driver.py journal|drain DB URL``; the shared secret comes from the environment. In journal
mode it prints ``J <uuid>`` for every event once its transaction committed (the gate's acknowledgement), until
killed. In drain mode it only uploads, prints ``DRAINED`` when the outbox is empty and exits.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys

from hub.journal import EventKind, Journal, NewEvent, open_journal_database
from hub.uplink import Backoff, FieldPolicy, JsonUplinkClient, Secret, UplinkWorker

HUB_ID = "hub-crash-test"
DOORS = [f"door-{i}" for i in range(4)]


async def main(mode: str, db: str, url: str) -> None:
    secret = Secret(os.environ["UPLINK_SECRET"])
    client = JsonUplinkClient(url, HUB_ID, secret)
    worker = UplinkWorker(db, client, FieldPolicy(Secret("community-key-crash-test-000")), batch_size=25,
                          backoff=Backoff(base_s=0.01, cap_s=0.1))
    journal = Journal(open_journal_database(db), HUB_ID, on_append=worker.wake)
    await worker.start()
    print("READY", flush=True)
    if mode == "drain":
        await worker.wait_drained()
        await worker.stop()
        print("DRAINED", flush=True)
        return
    rng = random.Random()
    while True:
        batch = [NewEvent(kind=EventKind.DECISION, door=rng.choice(DOORS), payload={"result": "granted"})
                 for _ in range(rng.randint(1, 5))]
        stored = await asyncio.to_thread(journal.append_many, batch)
        sys.stdout.write("".join(f"J {event.uuid}\n" for event in stored))
        sys.stdout.flush()
        await asyncio.sleep(rng.uniform(0, 0.004))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
