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

import aiohttp
import pytest

from devkit.receiver.client import fetch_received
from hub.journal import EventKind, Journal
from hub.uplink import JsonUplinkClient, RejectedError, Secret
from hub.uplink.transport import OutgoingEvent

CLI = [sys.executable, "-m", "devkit.cli"]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if k not in ("COMMUNITY_HUB_UPLINK_SECRET", "COMMUNITY_HUB_RECEIVER_READ_TOKEN")}


def _receiver(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "receiver", "--port", "0", "--db", str(tmp_path / "c.db"), *args],
                          env=env or _env(), capture_output=True, text=True, timeout=60, check=False)


def test_receiver_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    done = _receiver(tmp_path)
    assert done.returncode == 2
    assert "--hubs-file" in done.stderr and "--secret-file" in done.stderr
    assert "COMMUNITY_HUB_UPLINK_SECRET" in done.stderr and "no default secret" in done.stderr
    assert not (tmp_path / "c.db").exists()


def test_receiver_refuses_bad_hub_configuration_and_never_prints_a_secret(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("the-one-hubs-secret-0123456789")
    # A single secret belongs to one named hub: there is no secret every hub may use.
    done = _receiver(tmp_path, "--secret-file", str(secret))
    assert done.returncode == 2 and "--hub-id" in done.stderr
    done = _receiver(tmp_path, "--hub-id", "hub-a", env={**_env(), "COMMUNITY_HUB_UPLINK_SECRET": "short"})
    assert done.returncode == 2 and "at least 16 bytes" in done.stderr
    hubs = tmp_path / "hubs"
    hubs.write_text("hub-a=the-one-hubs-secret-0123456789\nhub-b secret\n")  # hub-b's file holds hub-a's secret
    done = _receiver(tmp_path, "--hubs-file", str(hubs))
    assert done.returncode == 2 and "line 2" in done.stderr and "share a secret" in done.stderr
    done = _receiver(tmp_path, "--hubs-file", str(tmp_path / "missing"))
    assert done.returncode == 2 and "cannot read the hubs file" in done.stderr
    hubs.write_text("hub-a=the-one-hubs-secret-0123456789\n")
    done = _receiver(tmp_path, "--hubs-file", str(hubs), "--read-token-file", str(secret))
    assert done.returncode == 2 and "read token is a hub's secret" in done.stderr
    done = _receiver(tmp_path, "--hubs-file", str(hubs), "--read-token-file", str(tmp_path / "missing"))
    assert done.returncode == 2 and "read-token file" in done.stderr
    assert not (tmp_path / "c.db").exists()


async def test_receiver_command_serves_the_json_profile(tmp_path: Path, journal: Journal, hub_id: str,
                                                        socket_enabled: None) -> None:
    secret, other, read_token = Secret.generate(), Secret.generate(), Secret.generate()
    (tmp_path / "secret").write_text(secret.reveal().decode())
    (tmp_path / "hubs").write_text(f"{hub_id} secret\nhub-other={other.reveal().decode()}\n")
    (tmp_path / "read-token").write_text(read_token.reveal().decode())
    proc = await asyncio.create_subprocess_exec(
        *CLI, "receiver", "--port", "0", "--db", str(tmp_path / "county.db"), "--hubs-file", str(tmp_path / "hubs"),
        "--read-token-file", str(tmp_path / "read-token"), env=_env(), stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        assert match, line
        assert "2 hub(s)" in line and "read API on" in line
        assert all(s.reveal().decode() not in line for s in (secret, other, read_token))
        event = journal.append(EventKind.DECISION, door="gate-1")
        batch = [OutgoingEvent(event=event, fields={"type": "decision", "door": "gate-1"})]
        forger = JsonUplinkClient(match.group(1), hub_id, other)  # hub-other's secret, claiming this hub
        with pytest.raises(RejectedError, match="401"):
            await forger.send(batch)
        await forger.close()
        client = JsonUplinkClient(match.group(1), hub_id, secret)
        result = await client.send(batch)
        await client.close()
        assert result.acknowledged == {event.uuid}
        assert [e["id"] for e in await fetch_received(match.group(1), read_token)] == [event.uuid]
        with pytest.raises(aiohttp.ClientResponseError, match="401"):
            await fetch_received(match.group(1), other)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0


async def test_receiver_command_with_one_hub_and_no_read_token(tmp_path: Path, journal: Journal, hub_id: str,
                                                               socket_enabled: None) -> None:
    secret = Secret.generate()
    proc = await asyncio.create_subprocess_exec(
        *CLI, "receiver", "--port", "0", "--db", str(tmp_path / "county.db"), "--hub-id", hub_id,
        env={**_env(), "COMMUNITY_HUB_UPLINK_SECRET": secret.reveal().decode()}, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        assert match and "1 hub(s)" in line and "read API off" in line, line
        event = journal.append(EventKind.DECISION, door="gate-1")
        client = JsonUplinkClient(match.group(1), hub_id, secret)
        result = await client.send([OutgoingEvent(event=event, fields={"type": "decision"})])
        await client.close()
        assert result.acknowledged == {event.uuid}
        async with aiohttp.ClientSession() as session, session.get(f"{match.group(1)}/api/v1/events") as response:
            assert (response.status, await response.json()) == (404, {"error": "read_api_disabled"})
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
