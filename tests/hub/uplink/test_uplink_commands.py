"""The command-line receiver and the benchmark, as real subprocesses."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from devkit.receiver.client import fetch_received
from hub.journal import EventKind, Journal
from hub.uplink import JsonUplinkClient, Secret
from hub.uplink.transport import OutgoingEvent

CLI = [sys.executable, "-m", "devkit.cli"]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "COMMUNITY_HUB_UPLINK_SECRET"}


def test_receiver_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    done = subprocess.run([*CLI, "receiver", "--port", "0", "--db", str(tmp_path / "c.db")], env=_env(),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "--secret-file" in done.stderr and "COMMUNITY_HUB_UPLINK_SECRET" in done.stderr
    assert not (tmp_path / "c.db").exists()


async def test_receiver_command_serves_the_json_profile(tmp_path: Path, journal: Journal, hub_id: str,
                                                        socket_enabled: None) -> None:
    secret = Secret.generate()
    secret_file = tmp_path / "secret"
    secret_file.write_text(secret.reveal().decode())
    proc = await asyncio.create_subprocess_exec(
        *CLI, "receiver", "--port", "0", "--db", str(tmp_path / "county.db"), "--secret-file", str(secret_file),
        env=_env(), stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        assert match, line
        assert secret.reveal().decode() not in line
        event = journal.append(EventKind.DECISION, door="gate-1")
        client = JsonUplinkClient(match.group(1), hub_id, secret)
        result = await client.send([OutgoingEvent(event=event, fields={"type": "decision", "door": "gate-1"})])
        await client.close()
        assert result.acknowledged == {event.uuid}
        assert [e["id"] for e in await fetch_received(match.group(1))] == [event.uuid]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0


def test_bench_prints_a_table_then_json(socket_enabled: None) -> None:
    done = subprocess.run([*CLI, "bench", "uplink", "--events", "400", "--commit-batch", "20",
                           "--send-batch", "50"], env=_env(), capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    assert lines[0].startswith("figure")
    assert figures["events"] == 400 and figures["lost"] == 0 and figures["duplicates"] == 0
    assert figures["out_of_order_doors"] == 0
    assert {"events_per_s", "p99_event_to_ack_ms"} <= set(figures)
