"""SIGKILL the hub at random moments while it journals and uploads: nothing acknowledged is lost, nothing is
stored twice at the receiver, and each door's events arrive in order."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import defaultdict
from pathlib import Path

from devkit.receiver import ReferenceReceiver
from devkit.receiver.client import fetch_received, fetch_stats
from hub.journal import Outbox, open_journal_database
from hub.uplink import Secret

DRIVER = Path(__file__).with_name("crash_driver.py")
CYCLES = 18


async def _run_driver(mode: str, db: Path, url: str, secret: Secret, kill_after: float | None) -> list[str]:
    env = {**os.environ, "UPLINK_SECRET": secret.reveal().decode()}
    proc = await asyncio.create_subprocess_exec(sys.executable, str(DRIVER), mode, str(db), url, env=env,
                                                stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    lines: list[str] = []
    ready = asyncio.Event()

    async def read() -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            line = raw.decode()
            if not line.endswith("\n"):
                break  # cut off by the kill: that event's commit was not acknowledged to anyone
            lines.append(line.strip())
            ready.set()

    reader = asyncio.create_task(read())
    if kill_after is None:
        await asyncio.wait_for(proc.wait(), 120)
    else:
        await asyncio.wait_for(ready.wait(), 60)
        await asyncio.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    await reader
    return lines


async def test_sigkill_during_journal_and_upload_loses_and_duplicates_nothing(
    tmp_path: Path, receiver: ReferenceReceiver, secret: Secret
) -> None:
    db = tmp_path / "hub.db"
    rng = random.Random(1400)
    acknowledged: list[str] = []
    for _ in range(CYCLES):
        lines = await _run_driver("journal", db, receiver.url, secret, kill_after=rng.uniform(0.0, 0.6))
        acknowledged += [line[2:] for line in lines if line.startswith("J ")]
    assert len(acknowledged) > CYCLES  # it did journal between kills
    assert "DRAINED" in await _run_driver("drain", db, receiver.url, secret, kill_after=None)

    conn = open_journal_database(db)
    journalled = {row[0]: (row[1], row[2]) for row in conn.execute("SELECT uuid, seq, door FROM events")}
    assert set(acknowledged) <= set(journalled), "an acknowledged journal row vanished"
    assert Outbox(conn).backlog() == 0

    received = await fetch_received(receiver.url)
    ids = [item["id"] for item in received]
    assert len(ids) == len(set(ids)), "the receiver stored an event twice"
    assert set(ids) == set(journalled), "an event never reached the receiver"
    per_door: dict[str, list[int]] = defaultdict(list)
    for item in received:
        per_door[item["event"]["door"]].append(item["event"]["seq"])
    for door, seqs in per_door.items():
        assert seqs == sorted(seqs), f"{door} arrived out of order"
    stats = await fetch_stats(receiver.url)
    print("receiver stats:", stats, "acknowledged:", len(acknowledged))
    assert stats["events"] == len(journalled)
