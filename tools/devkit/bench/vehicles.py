"""``community-hub bench vehicles``: a camera's push to the barrier's acknowledgement, then a resent backlog.

Everything is the product's own path on loopback, with real parts:

1. **Live passes.** Two simulated cameras (an entry lane and an exit lane) push each read in their vendor's real
   wire format (the simulator's own payload builder, ``devkit.sim.anpr``) over HTTP to the real
   :class:`devices.anpr.AnprReceiver`, with the format's authentication on (the URL secret, plus HTTP Basic for
   Hikvision, HTTP Digest for Dahua, the address list for Vzenith). Its callback runs
   :meth:`hub.vehicles.service.VehicleService.handle` on a real community database (one commit per read, journal
   and outbox on); a granted fresh pass opens the barrier: a relay on the simulated hub-native Modbus door
   controller, opened by the product's barrier (``hub.vehicles.barriers.DoorRelayBarrier``:
   ``ControllerService.release`` with ``ReleaseReason.VEHICLE`` through the real ``devices.door_controller``
   driver, as the hub opens a lane's barrier). The clock runs from the push being sent
   to the controller's acknowledgement of that write. Registered cars (residents' and monthly) arrive at a car
   every ``--interval-ms`` (jittered +-30 %) per lane; each car that went in later drives out at the exit lane.
2. **Resent backlog.** Each camera replays its store after an outage (the simulator's backlog mode: the original
   times, 30 s apart, flagged as resent where the format has a flag, newest two minutes old) with ``--resend-rate``
   of the records sent again with the same record id; one in three backlog reads is a registered car, so granted
   back-filled passes are there to (not) open the barrier. The journal drains upstream over the JSON profile
   (``UplinkWorker`` + ``JsonUplinkClient``; the worker runs all along, as on a hub, and ``drain_s`` is what was
   left to send after the backlog) to the county's ``ReferenceReceiver``, which keeps every event it
   receives under its event id (a redelivered id is counted in its stats). ``duplicates`` = camera records
   (``(camera_id, record_id)``, as the hub parsed them) that reached the receiver as more than one event.

Prints a table and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

FORMATS = ("hikvision", "dahua", "vzenith")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub bench vehicles``."""
    parser.add_argument("--passes", type=int, default=200, help="live passes, over both lanes (default 200)")
    parser.add_argument("--format", choices=FORMATS, default="hikvision",
                        help="the cameras' wire format (default hikvision: multipart XML with two JPEGs)")
    parser.add_argument("--backlog", type=int, default=9000,
                        help="stored records the cameras replay after the outage, over both lanes (default 9000)")
    parser.add_argument("--resend-rate", type=float, default=0.1,
                        help="share of backlog records sent again with the same record id (default 0.1)")
    parser.add_argument("--interval-ms", type=float, default=300.0,
                        help="time between two cars at one lane (default 300 ms, jittered +-30%%)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (plates, jitter, resends)")


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark in a temporary folder; returns the figures."""
    import asyncio
    import random
    import secrets
    import tempfile
    import time
    from collections import Counter
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    from zoneinfo import ZoneInfo

    import aiohttp

    from devices.anpr import PlateColor, PlateRead
    from devices.anpr.replies import REFUSE, BarrierReply
    from devices.anpr.server import AnprReceiver, PushSource
    from devices.door_controller import DoorController
    from devkit.receiver.client import fetch_received, fetch_stats
    from devkit.receiver.server import ReferenceReceiver
    from devkit.sim.anpr import AnprCameraSim, SimRecord, make_records, random_plate, with_resends
    from devkit.sim.door_controller import DoorControllerSim
    from hub.access.models import VehicleDirection
    from hub.community import Community
    from hub.doors import ControllerService
    from hub.uplink import FieldPolicy, JsonUplinkClient, Secret, UplinkWorker
    from hub.vehicles.barriers import DoorRelayBarrier, LaneBarriers
    from hub.vehicles.models import Lane, VehicleDecision
    from hub.vehicles.service import VehicleService

    rng = random.Random(args.seed)
    fmt: str = args.format
    hub_id = "hub-bench"
    lanes = {
        "entry": Lane(car_park="p1", entrance="main", lane_no=1, direction=VehicleDirection.ENTRY, barrier="relay-0"),
        "exit": Lane(car_park="p1", entrance="main", lane_no=2, direction=VehicleDirection.EXIT, barrier="relay-1"),
    }
    relay_of = {lanes["entry"].lane_id: 0, lanes["exit"].lane_id: 1}
    camera_ids = {"entry": {"hikvision": "44:19:b6:00:00:01", "dahua": "DH-ITC-ENTRY-01",
                            "vzenith": "vz-entry-0001"}[fmt],
                  "exit": {"hikvision": "44:19:b6:00:00:02", "dahua": "DH-ITC-EXIT-01",
                           "vzenith": "vz-exit-0001"}[fmt]}
    lane_of_camera = {camera_ids[name]: lanes[name] for name in lanes}

    class TimedBarrier:
        """The product's barriers (:class:`LaneBarriers` of :class:`DoorRelayBarrier`: a lane's relay on the door
        controller, released through ``ControllerService.release`` with ``ReleaseReason.VEHICLE``), with the time
        each opening returned, i.e. the controller acknowledged the write, and how many there were."""

        def __init__(self, inner: LaneBarriers) -> None:
            self._inner = inner
            self.opens = 0
            self.acked_at: dict[str, float] = {}

        async def open(self, lane: Lane) -> None:
            await self._inner.open(lane)
            self.acked_at[lane.lane_id] = time.perf_counter()
            self.opens += 1

    with tempfile.TemporaryDirectory(prefix="bench-vehicles-") as folder:
        work = Path(folder)
        community = Community(work / "community.db", work / "keys" / "hub.key", timezone=ZoneInfo("Asia/Shanghai"),
                              hub_id=hub_id)
        now = datetime.now(UTC)
        # Registered cars: residents' own and monthly ones (valid over the whole backlog too).
        plates: list[tuple[str, PlateColor]] = []
        seen: set[str] = set()
        while len(plates) < 60:
            plate, color = random_plate(rng)
            if plate not in seen:
                seen.add(plate)
                plates.append((plate, color))
        for i, (plate, color) in enumerate(plates):
            if i % 3 == 2:
                community.call(community.vehicles.add_monthly_vehicle, "bench", plate, color,
                               valid_from=now - timedelta(days=20), valid_until=now + timedelta(days=10))
            else:
                rid = f"r-{i:03d}"
                community.call(community.registry.residents.add_resident, "bench", rid, f"Resident {i}")
                community.call(community.vehicles.add_resident_vehicle, "bench", rid, plate, color)

        door = DoorControllerSim(doors=2, serial="BENCH-BARRIER")
        await door.start()
        controller = ControllerService(DoorController(door.host, door.port))
        await controller.connect()
        barrier = TimedBarrier(LaneBarriers({
            lane.barrier: DoorRelayBarrier(lambda: controller, relay_of[lane.lane_id], seconds=3)
            for lane in lanes.values()}))
        service = VehicleService(community, barrier)
        record_of_event: dict[str, set[tuple[str, str]]] = {}
        outcomes: Counter[str] = Counter()
        handled: dict[str, VehicleDecision] = {}

        async def on_read(read: PlateRead) -> BarrierReply:
            lane = lane_of_camera.get(read.camera_id)
            if lane is None:
                return REFUSE
            outcome = await service.handle(read, lane)
            handled[lane.lane_id] = outcome
            if outcome.event_uuid is not None:
                record_of_event.setdefault(outcome.event_uuid, set()).add((read.camera_id, read.record_id))
            outcomes["resend" if outcome.resend else "backfilled" if outcome.backfilled else "live"] += 1
            if outcome.backfilled and not outcome.resend and outcome.decision.granted:
                outcomes["backfilled_granted"] += 1
            return BarrierReply(open=outcome.opened)

        user, password = "bench", secrets.token_urlsafe(12)
        url_secrets = {name: secrets.token_urlsafe(18) for name in lanes}
        sources = []
        for name in lanes:
            if fmt == "vzenith":
                sources.append(PushSource(format="vzenith", secret=url_secrets[name], allowed_addresses=("127.0.0.1",),
                                          camera_id=camera_ids[name]))
            else:  # Hikvision: HTTP Basic; Dahua: HTTP Digest (one user name per camera)
                sources.append(PushSource(format=fmt, secret=url_secrets[name], username=f"{user}-{name}",  # type: ignore[arg-type]
                                          password=password, camera_id=camera_ids[name]))
        receiver = AnprReceiver(sources, on_read, local_tz=datetime.now().astimezone().tzinfo or UTC)
        await receiver.start()
        county_secret, read_token = Secret.generate(), Secret.generate()
        county = ReferenceReceiver(work / "county.db", {hub_id: county_secret}, read_token=read_token)
        await county.start()

        latencies: list[float] = []
        warmup: list[float] = []
        not_opened = 0
        try:
            async with aiohttp.ClientSession() as session:
                worker = UplinkWorker(work / "community.db",
                                      JsonUplinkClient(county.url, hub_id, county_secret, session=session),
                                      FieldPolicy(Secret.generate()), writes=community.outbox_writes())
                assert community.journal is not None
                community.journal.on_append = worker.wake
                await worker.start()
                cams = {name: AnprCameraSim(fmt, f"{receiver.url}/anpr/{fmt}/{url_secrets[name]}",
                                            camera_id=camera_ids[name],
                                            username=None if fmt == "vzenith" else f"{user}-{name}",
                                            password=None if fmt == "vzenith" else password, session=session)
                        for name in lanes}
                if fmt == "dahua":
                    for cam in cams.values():
                        await cam.keepalive()

                # -- 1. live passes --------------------------------------------------------------------------------
                inside: asyncio.Queue[tuple[str, PlateColor] | None] = asyncio.Queue()
                entries, exits = (args.passes + 1) // 2, args.passes // 2
                next_id = iter(range(1, 10**9))
                releases_before = [d.releases for d in door.doors]
                granted_fresh = 0

                async def drive(name: str, record: SimRecord) -> None:
                    nonlocal not_opened, granted_fresh
                    lane = lanes[name]
                    started = time.perf_counter()
                    status = await cams[name].send(record)
                    outcome = handled.get(lane.lane_id)
                    acked = barrier.acked_at.get(lane.lane_id, 0.0)
                    if status == 200 and outcome is not None and outcome.opened and acked > started:
                        granted_fresh += 1
                        latencies.append((acked - started) * 1000)
                    else:
                        not_opened += 1

                def live_record(plate: str, color: PlateColor) -> SimRecord:
                    record = make_records(fmt, plate=plate, color=color, backlog=0, rng=rng,
                                          first_id=next(next_id))[0]
                    return replace(record, travel="forward")

                async def pace() -> None:
                    await asyncio.sleep(args.interval_ms / 1000 * rng.uniform(0.7, 1.3))

                async def entry_lane() -> None:
                    for i in range(entries):
                        plate, color = plates[i % len(plates)]
                        await drive("entry", live_record(plate, color))
                        await inside.put((plate, color))
                        await pace()
                    await inside.put(None)

                async def exit_lane() -> None:
                    done = 0
                    while done < exits:
                        car = await inside.get()
                        if car is None:
                            break
                        await drive("exit", live_record(*car))
                        done += 1
                        await pace()

                # Warm-up, not measured: one car in and out (the first push opens the connections and the first
                # decision warms the database's caches, as on a hub that has been running).
                for name in lanes:
                    await drive(name, live_record(*plates[-1]))
                warmup, latencies[:] = list(latencies), []
                not_opened, granted_fresh = 0, 0
                outcomes.clear()
                releases_before = [d.releases for d in door.doors]
                # Each plate goes in before it comes out; plates repeat only after they left (60 plates in turn).
                live_started = time.perf_counter()
                await asyncio.gather(entry_lane(), exit_lane())
                live_s = time.perf_counter() - live_started
                released_live = sum(d.releases - b for d, b in zip(door.doors, releases_before, strict=True))
                live_outcomes = dict(outcomes)

                # -- 2. resent backlog -----------------------------------------------------------------------------
                outcomes.clear()
                opens_before, releases_before = barrier.opens, [d.releases for d in door.doors]
                backlog_end = datetime.now(UTC) - timedelta(minutes=2)
                sent: Counter[str] = Counter()

                async def replay(name: str, count: int, first_id: int) -> None:
                    records = make_records(fmt, plate=None, color=PlateColor.BLUE, backlog=count, rng=rng,
                                           now=backlog_end, first_id=first_id)
                    records = [replace(r, plate=plates[i % len(plates)][0], color=plates[i % len(plates)][1])
                               if i % 3 == 0 else r for i, r in enumerate(records)]
                    for record in with_resends(records, args.resend_rate, rng):
                        status = await cams[name].send(record)
                        sent["resends" if record.resend and record in resent_once[name] else "records"] += 1
                        resent_once[name].add(record)
                        sent[f"http_{status}"] += 1

                resent_once: dict[str, set[SimRecord]] = {name: set() for name in lanes}
                backlog_started = time.perf_counter()
                await asyncio.gather(replay("entry", (args.backlog + 1) // 2, 1_000_000),
                                     replay("exit", args.backlog // 2, 2_000_000))
                backlog_s = time.perf_counter() - backlog_started
                opens_during_backlog = barrier.opens - opens_before
                releases_during_backlog = sum(d.releases - b for d, b in zip(door.doors, releases_before,
                                                                             strict=True))
                backlog_outcomes = dict(outcomes)

                drain_started = time.perf_counter()
                await asyncio.wait_for(worker.wait_drained(), 600)
                drain_s = time.perf_counter() - drain_started
                await worker.stop()
                received = await fetch_received(county.url, read_token, session=session)
                stats = await fetch_stats(county.url, read_token, session=session)
            resends_counted = service.duplicate_count()
            stored_passes = community.call(lambda: int(community.registry.conn.execute(
                "SELECT COUNT(*) FROM vehicle_passes").fetchone()[0]))
        finally:
            await receiver.stop()
            await county.stop()
            await controller.close()
            await door.stop()
            community.close()

    # Upstream: every vehicle event the county holds, by the camera record it came from.
    upstream = [item for item in received if item["event"].get("type") == "vehicle_pass"]
    per_record: Counter[tuple[str, str]] = Counter()
    unknown = 0
    for item in upstream:
        keys = record_of_event.get(str(item["id"]))
        if not keys:
            unknown += 1
        for key in keys or ():
            per_record[key] += 1
    events_per_record = Counter(len(keys) for keys in record_of_event.values())
    # The same camera record behind two events, whichever way: two events upstream, or one event the hub made for
    # two different records of the same camera record id.
    duplicates = sum(n - 1 for n in per_record.values() if n > 1)
    content = Counter((e["event"].get("door"), e["event"].get("occurred_at"), e["event"].get("plate"))
                      for e in upstream if e["event"].get("backfilled"))
    backfilled_upstream = sum(1 for e in upstream if e["event"].get("backfilled"))
    return {
        "format": fmt,
        "passes": len(latencies) + not_opened,
        "cadence_ms_per_lane": args.interval_ms,
        "lanes": 2,
        "live_s": round(live_s, 1),
        "p50_ms": round(_percentile(latencies, 0.50), 1),
        "p99_ms": round(_percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1) if latencies else 0.0,
        "warmup_ms": [round(x, 1) for x in warmup],
        "granted_fresh": granted_fresh,
        "not_opened": not_opened,
        "relay_releases_live": released_live,
        "live_outcomes": live_outcomes,
        "backlog": args.backlog,
        "resend_rate": args.resend_rate,
        "backlog_sent": sent["records"] + sent["resends"],
        "backlog_resends_sent": sent["resends"],
        "backlog_http": {k[5:]: v for k, v in sent.items() if k.startswith("http_")},
        "backlog_s": round(backlog_s, 1),
        "backlog_outcomes": backlog_outcomes,
        "backfilled": backlog_outcomes.get("backfilled", 0),
        "backfilled_granted": backlog_outcomes.get("backfilled_granted", 0),
        "resends_counted": resends_counted,
        "barrier_opens_during_backlog": opens_during_backlog,
        "relay_releases_during_backlog": releases_during_backlog,
        "stored_passes": stored_passes,
        "upstream_vehicle_events": len(upstream),
        "upstream_backfilled": backfilled_upstream,
        "upstream_unknown": unknown,
        "missing_upstream": sum(1 for keys in record_of_event.values() for key in keys if per_record[key] == 0),
        "events_for_two_records": sum(n for k, n in events_per_record.items() if k > 1),
        "duplicates": duplicates,
        "duplicates_by_time_and_plate": sum(n - 1 for n in content.values() if n > 1),
        "redelivered": int(stats.get("duplicates", 0)),
        "drain_s": round(drain_s, 1),
    }


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print the figures."""
    import asyncio
    import json
    import logging

    if args.passes < 2 or args.backlog < 0 or not 0 <= args.resend_rate <= 1 or args.interval_ms < 0:
        print("error: --passes must be at least 2, --backlog at least 0, --resend-rate within 0-1 and "
              "--interval-ms at least 0", file=sys.stderr)
        return 2
    logging.getLogger().setLevel(logging.WARNING)
    result = asyncio.run(measure(args))
    width = max(len(k) for k in result)
    print(f"{'figure':<{width}}  value")
    print(f"{'-' * width}  -----")
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(result, ensure_ascii=False))
    ok = (result["duplicates"] == 0 and result["barrier_opens_during_backlog"] == 0
          and result["missing_upstream"] == 0 and result["not_opened"] == 0)
    return 0 if ok else 1
