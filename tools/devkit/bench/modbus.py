"""``community-hub bench modbus``: door release round trip and input latency over real Modbus TCP on loopback.

N doors are spread over simulated hub-native controllers (at most 256 doors each), each polled by its own
controller service at the poll interval, all in one process, as the Home Assistant integration does it.
Prints a table and, as its last line, one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import time
from dataclasses import dataclass

from devices.door_controller import DoorController
from devices.hub_native_map import MAX_DOORS
from devkit.sim.door_controller import DoorControllerSim
from hub.doors import ControllerService, ReleaseReason

TARGET_MS = 250.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub bench modbus``."""
    parser.add_argument("--doors", type=int, default=4, help="doors polled together (default: 4)")
    parser.add_argument("--poll-ms", type=int, default=100, help="poll interval in ms (default: 100, the default)")
    parser.add_argument("--samples", type=int, default=60, help="releases and input changes measured (default: 60)")
    parser.add_argument("--max-doors", type=int, default=4096,
                        help="upper bound of the search for the largest N under 250 ms (default: 4096)")
    parser.add_argument("--no-search", action="store_true", help="measure only --doors, skip the search")


@dataclass
class Result:
    """Figures for one N."""

    doors: int
    release_rtt_ms: list[float]
    input_latency_ms: list[float]

    def pct(self, values: list[float], q: float) -> float:
        """The q-quantile (0-1) of values, by the nearest-rank method."""
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]

    @property
    def input_p99(self) -> float:
        """99th percentile of input latency."""
        return self.pct(self.input_latency_ms, 0.99)


async def measure(doors: int, poll_ms: int, samples: int) -> Result:
    """Run one measurement with ``doors`` doors."""
    sims: list[DoorControllerSim] = []
    remaining = doors
    while remaining > 0:
        count = min(MAX_DOORS, remaining)
        sims.append(DoorControllerSim(doors=count, serial=f"BENCH{len(sims):04d}"))
        remaining -= count
    for sim in sims:
        await sim.start()
    services = [ControllerService(DoorController(sim.host, sim.port)) for sim in sims]
    seen: dict[tuple[int, int], bool] = {}
    changed_at: dict[tuple[int, int], float] = {}
    latencies: list[float] = []
    stop = asyncio.Event()

    async def poller(c: int, service: ControllerService) -> None:
        while not stop.is_set():
            started = time.perf_counter()
            snapshot = await service.poll()
            now = time.perf_counter()
            for view in snapshot.doors:
                key = (c, view.status.index)
                if key in changed_at and view.status.door_open != seen.get(key, False):
                    latencies.append((now - changed_at.pop(key)) * 1000)
                seen[key] = view.status.door_open
            await asyncio.sleep(max(0.0, poll_ms / 1000 - (time.perf_counter() - started)))

    try:
        for service in services:
            await service.connect()
        tasks = [asyncio.create_task(poller(c, s)) for c, s in enumerate(services)]
        rng = random.Random(doors)
        await asyncio.sleep(poll_ms / 1000 * 2)
        for _ in range(samples):
            c = rng.randrange(len(sims))
            index = rng.randrange(len(sims[c].doors))
            key = (c, index)
            if key in changed_at:
                continue
            sims[c].set_door_open(index, not sims[c].doors[index].door_open)
            changed_at[key] = time.perf_counter()
            await asyncio.sleep(rng.uniform(0.2, 1.2) * poll_ms / 1000)
        deadline = time.perf_counter() + 5
        while changed_at and time.perf_counter() < deadline:  # noqa: ASYNC110 - the pollers drain changed_at
            await asyncio.sleep(0.01)
        releases: list[float] = []
        for i in range(samples):
            c = i % len(sims)
            started = time.perf_counter()
            await services[c].release(i % len(sims[c].doors), 1, ReleaseReason.MANAGER)
            releases.append((time.perf_counter() - started) * 1000)
        stop.set()
        await asyncio.gather(*tasks)
    finally:
        for service in services:
            await service.close()
        for sim in sims:
            await sim.stop()
    if changed_at:
        latencies.extend([float("inf")] * len(changed_at))  # a change never seen counts as missed
    return Result(doors=doors, release_rtt_ms=releases, input_latency_ms=latencies)


async def _main(args: argparse.Namespace) -> int:
    results = [await measure(args.doors, args.poll_ms, args.samples)]
    largest_ok = args.doors if results[0].input_p99 < TARGET_MS else 0
    if not args.no_search:
        n = 4
        while n <= args.max_doors:
            result = next((r for r in results if r.doors == n), None) or await measure(n, args.poll_ms, args.samples)
            if result not in results:
                results.append(result)
            if result.input_p99 >= TARGET_MS:
                break
            largest_ok = max(largest_ok, n)
            n *= 2
    print(f"{'doors':>6} {'release p50':>12} {'release p99':>12} {'input p50':>10} {'input p99':>10}  (ms, poll "
          f"{args.poll_ms} ms)")
    for r in sorted(results, key=lambda r: r.doors):
        print(f"{r.doors:>6} {r.pct(r.release_rtt_ms, 0.5):>12.2f} {r.pct(r.release_rtt_ms, 0.99):>12.2f} "
              f"{r.pct(r.input_latency_ms, 0.5):>10.1f} {r.input_p99:>10.1f}")
    main_result = results[0]
    print(json.dumps({
        "doors": main_result.doors,
        "poll_ms": args.poll_ms,
        "release_rtt_p50_ms": round(main_result.pct(main_result.release_rtt_ms, 0.5), 3),
        "release_rtt_p99_ms": round(main_result.pct(main_result.release_rtt_ms, 0.99), 3),
        "input_latency_p50_ms": round(main_result.pct(main_result.input_latency_ms, 0.5), 1),
        "input_latency_p99_ms": round(main_result.input_p99, 1),
        "largest_doors_under_250ms": largest_ok if not args.no_search else None,
    }))
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the benchmark."""
    if args.doors < 1 or args.samples < 5 or args.poll_ms < 1:
        print("--doors must be at least 1, --samples at least 5, --poll-ms at least 1")
        return 2
    logging.getLogger().setLevel(logging.WARNING)
    return asyncio.run(_main(args))
