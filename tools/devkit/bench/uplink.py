"""``community-hub bench uplink``: journal N events and drain them to a reference receiver on loopback (``--profile
mqtt``: N events from ``--hubs`` hubs through a broker to the county consumer, see :mod:`.uplink_mqtt`).

The journal commits as the product does, one event per transaction (``synchronous=FULL``: each commit is one
fsync; ``--commit-batch`` groups more, for comparison only) while the worker uploads concurrently. Half-way
through (``--offline-at``) a camera goes offline: its ``device_status`` event travels in the outbox's priority
lane, and the figures say how long it took to be acknowledged and how many decisions were still queued ahead of
it. Prints a table and, as its last line, one JSON object.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub bench uplink``."""
    parser.add_argument("--events", type=int, default=20000, help="events to journal and send (default 20000)")
    parser.add_argument("--commit-batch", type=int, default=1,
                        help="events per journal transaction (default 1: the product's own pattern, one commit per "
                        "decision; more only to compare)")
    parser.add_argument("--send-batch", type=int, default=500, help="events per uplink request (default 500)")
    parser.add_argument("--doors", type=int, default=16, help="doors the events are spread over (default 16)")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="journal at most this many events/s (default 0: as fast as possible, a burst)")
    parser.add_argument("--offline-at", type=int, default=None,
                        help="journal a camera going offline after this many decisions (default: half of --events)")
    parser.add_argument("--profile", choices=["json", "mqtt"], default="json",
                        help="json: one hub to the reference receiver (default); mqtt: --hubs hubs through a broker "
                        "to the county consumer, one commit per event")
    parser.add_argument("--broker", default="local",
                        help="mqtt: 'local' (default) starts a Mosquitto on loopback with TLS, a certificate per "
                        "hub and the ACL; mqtt://host:port a broker that needs no certificates; mqtts://host:port "
                        "one over TLS (with --ca, and --cert/--key when it asks for a client certificate)")
    parser.add_argument("--ca", help="mqtt: the CA file that signs an mqtts:// broker's certificate")
    parser.add_argument("--cert", help="mqtt: client certificate (PEM) every hub and the consumer present")
    parser.add_argument("--key", help="mqtt: the key of --cert (PEM)")
    parser.add_argument("--hubs", type=int, default=97, help="mqtt: how many hubs (default 97)")
    parser.add_argument("--processes", type=int, default=None,
                        help="mqtt: processes the hubs are spread over (default: one per core; the county "
                        "consumer has its own)")


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


async def measure(events: int, commit_batch: int, send_batch: int, doors: int,
                  rate: float = 0.0, offline_at: int | None = None) -> dict[str, Any]:
    """Run one benchmark in a temporary folder; returns the figures."""
    import asyncio
    import tempfile
    import time
    from collections import defaultdict
    from collections.abc import Sequence
    from pathlib import Path

    import aiohttp

    from devkit.receiver.client import fetch_received, fetch_stats
    from devkit.receiver.server import MAX_BODY_BYTES, ReferenceReceiver
    from hub.journal import EventKind, Journal, NewEvent, open_journal_database
    from hub.uplink.json_client import JsonUplinkClient
    from hub.uplink.policy import FieldPolicy
    from hub.uplink.secret import Secret
    from hub.uplink.worker import UplinkWorker

    committed_at: dict[str, float] = {}
    acked_at: dict[str, float] = {}
    offline_after = events // 2 if offline_at is None else offline_at
    offline: dict[str, Any] = {}

    def on_ack(uuids: Sequence[str]) -> None:
        now = time.perf_counter()
        for uuid in uuids:
            acked_at.setdefault(uuid, now)

    with tempfile.TemporaryDirectory(prefix="bench-uplink-") as folder:
        secret, read_token = Secret.generate(), Secret.generate()
        # A decision is about 300 bytes on the wire: a --send-batch beyond the default cap gets room for it.
        receiver = ReferenceReceiver(Path(folder) / "county.db", {"hub-bench": secret}, read_token=read_token,
                                     max_body_bytes=max(MAX_BODY_BYTES, send_batch * 1024))
        await receiver.start()
        db = Path(folder) / "hub.db"
        journal = Journal(open_journal_database(db), "hub-bench")
        async with aiohttp.ClientSession() as session:
            worker = UplinkWorker(db, JsonUplinkClient(receiver.url, "hub-bench", secret, session=session),
                                  FieldPolicy(Secret.generate()), batch_size=send_batch, on_acknowledged=on_ack)
            journal.on_append = worker.wake
            await worker.start()

            def produce() -> None:
                for start in range(0, events, commit_batch):
                    count = min(commit_batch, events - start)
                    batch = [NewEvent(kind=EventKind.DECISION, door=f"door-{(start + i) % doors}",
                                      payload={"result": "granted", "reason": "card", "credential_kind": "card",
                                               "resident_id": f"res-{(start + i) % 500}"})
                             for i in range(count)]
                    stored = journal.append_many(batch)
                    now = time.perf_counter()
                    for event in stored:
                        committed_at[event.uuid] = now
                    if not offline and start + count >= offline_after:
                        queued = len(committed_at) - len(acked_at)
                        down = journal.append(EventKind.DEVICE_STATUS, door="cam-bench",
                                              payload={"result": "offline", "device_kind": "camera"})
                        committed_at[down.uuid] = time.perf_counter()
                        offline.update(uuid=down.uuid, queued_ahead=queued)
                    if rate > 0:  # pace to the target rate, measured from the start
                        ahead = (start + count) / rate - (now - began)
                        if ahead > 0:
                            time.sleep(ahead)

            began = time.perf_counter()
            await asyncio.to_thread(produce)
            journal_s = time.perf_counter() - began
            await worker.wait_drained()
            total_s = time.perf_counter() - began
            await worker.stop()
            received = await fetch_received(receiver.url, read_token, session=session)
            stats = await fetch_stats(receiver.url, read_token, session=session)
        await receiver.stop()
        journal.connection.close()

    ids = [item["id"] for item in received]
    per_door: dict[str, list[int]] = defaultdict(list)
    for item in received:
        per_door[str(item["event"]["door"])].append(int(item["event"]["seq"]))
    latencies = [(acked_at[u] - committed_at[u]) * 1000 for u in committed_at if u in acked_at]
    down_uuid = offline.get("uuid")
    position = ids.index(down_uuid) if down_uuid in ids else None
    decisions_before = sum(1 for item in received[:position] if item["event"]["type"] == "decision") \
        if position is not None else None
    return {
        "events": events,
        "journal_events_per_s": round(events / journal_s, 1),
        "events_per_s": round(events / total_s, 1),
        "lost": len(set(committed_at) - set(ids)),
        "duplicates": len(ids) - len(set(ids)),
        "redelivered": stats.get("duplicates", 0),
        "out_of_order_doors": sum(1 for seqs in per_door.values() if seqs != sorted(seqs)),
        "p50_event_to_ack_ms": round(_percentile(latencies, 0.50), 1),
        "p99_event_to_ack_ms": round(_percentile(latencies, 0.99), 1),
        "offline_event_to_ack_s": round(acked_at[down_uuid] - committed_at[down_uuid], 3)
        if down_uuid in acked_at else None,
        "decisions_queued_when_offline": offline.get("queued_ahead"),
        "decisions_received_before_offline": decisions_before,
        "rate_limit_per_s": rate,
        "commit_batch": commit_batch,
        "send_batch": send_batch,
        "synchronous": "FULL",
    }


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print the figures."""
    import asyncio
    import os
    import sys

    if args.profile == "mqtt":
        from .uplink_mqtt import measure_mqtt

        if args.hubs < 1 or args.events < args.hubs:
            print("error: --hubs must be at least 1 and --events at least --hubs", file=sys.stderr)
            return 2
        if args.processes is not None and args.processes < 1:
            print("error: --processes must be at least 1", file=sys.stderr)
            return 2
        scheme = args.broker.split("://", 1)[0] if "://" in args.broker else args.broker
        if scheme not in ("local", "mqtt", "mqtts"):
            print("error: --broker is 'local', mqtt://host:port or mqtts://host:port", file=sys.stderr)
            return 2
        if (args.ca or args.cert or args.key) and scheme != "mqtts":
            print("error: --ca, --cert and --key go with an mqtts:// broker", file=sys.stderr)
            return 2
        if bool(args.cert) != bool(args.key):
            print("error: --cert and --key go together", file=sys.stderr)
            return 2
        for path in (args.ca, args.cert, args.key):
            if path and not os.path.isfile(path):
                print(f"error: no such file: {path}", file=sys.stderr)
                return 2
        mqtt = asyncio.run(measure_mqtt(args.events, args.hubs, args.broker, doors=args.doors,
                                        send_batch=min(args.send_batch, 200), processes=args.processes,
                                        ca_file=args.ca, cert=args.cert, key=args.key))
        _print(mqtt)
        return 0 if mqtt["lost"] == 0 and mqtt["out_of_order_doors"] == 0 else 1
    if args.commit_batch < 1 or args.send_batch < 1 or args.events < 1:
        print("error: --events, --commit-batch and --send-batch must be at least 1", file=sys.stderr)
        return 2
    result = asyncio.run(measure(args.events, args.commit_batch, args.send_batch, args.doors, args.rate,
                                 args.offline_at))
    _print(result)
    return 0 if result["lost"] == 0 and result["duplicates"] == 0 else 1


def _print(result: dict[str, Any]) -> None:
    import json

    width = max(len(k) for k in result)
    print(f"{'figure':<{width}}  value")
    print(f"{'-' * width}  -----")
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(result))
