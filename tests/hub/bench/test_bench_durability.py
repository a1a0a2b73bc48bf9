"""The durability bench's own machinery: the power-loss shim rolls files back to their last fsync, the counting
receiver counts redeliveries and checks signatures, the command prints its JSON line, and the check can fail:
with ``PRAGMA synchronous=OFF`` (set by a test-only hook in the children) the same power cuts lose acknowledged
events."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from devkit.bench.durability import HUB_ID, CountingReceiver, build_shim, measure, power_cut
from devkit.cli import main
from hub.journal import EventKind, Journal, open_journal_database
from hub.uplink import FieldPolicy, JsonUplinkClient, RejectedError, Secret
from hub.uplink.transport import OutgoingEvent

needs_cc = pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                              reason="the power-loss shim needs a C compiler (scripts/system-packages.sh)")

WRITER = """
import os, signal, sys
folder = sys.argv[1]
def put(name, data):
    fd = os.open(os.path.join(folder, name), os.O_RDWR | os.O_CREAT, 0o644)
    os.write(fd, data)
    return fd
kept = put("kept", b"durable!")
os.fsync(kept)
folder_fd = os.open(folder, os.O_RDONLY)
os.fsync(folder_fd)                      # "kept" exists for good, with its 8 bytes
os.pwrite(kept, b"XX", 0)                # overwritten, never synced
os.lseek(kept, 0, os.SEEK_END)
os.write(kept, b" appended")             # grown, never synced
os.ftruncate(kept, 3)                    # shrunk, never synced
synced = put("synced-twice", b"one")
os.fsync(synced)
os.fsync(folder_fd)
os.write(synced, b" two")
os.fsync(synced)                         # every write covered: nothing to undo
fresh = put("fresh", b"content")
os.fsync(fresh)                          # its data is synced, its folder entry is not
put("db-shm", b"wal-index")
os.kill(os.getpid(), signal.SIGKILL)
"""


@needs_cc
def test_power_cut_rolls_every_file_back_to_its_last_fsync(tmp_path: Path) -> None:
    shim = build_shim(tmp_path / "cache")
    assert build_shim(tmp_path / "cache") == shim  # compiled once per source version
    folder, logs = tmp_path / "db", tmp_path / "logs"
    folder.mkdir()
    logs.mkdir()
    env = {**os.environ, "LD_PRELOAD": str(shim), "POWERLOSS_DIR": str(folder), "POWERLOSS_LOG": str(logs)}
    done = subprocess.run([sys.executable, "-c", WRITER, str(folder)], env=env, check=False, timeout=60)
    assert done.returncode == -signal.SIGKILL
    assert (folder / "kept").read_bytes() == b"XXr"  # the page cache still holds the unsynced writes
    report = power_cut(folder, logs)
    assert (folder / "kept").read_bytes() == b"durable!"
    assert (folder / "synced-twice").read_bytes() == b"one two"
    assert not (folder / "fresh").exists()
    assert not (folder / "db-shm").exists()
    assert report.files_removed == ["fresh"]
    assert report.writes_undone == 3
    assert not report.notes
    assert list(logs.iterdir()) == []


async def test_receiver_counts_every_delivery_and_checks_signatures(tmp_path: Path, socket_enabled: None) -> None:
    secret = Secret("durability-test-secret-0123456789")
    journal = Journal(open_journal_database(tmp_path / "hub.db"), HUB_ID)
    policy = FieldPolicy(Secret("community-key-durability-test"))
    events = [journal.append(EventKind.DECISION, door="door-1", payload={"result": "granted"}) for _ in range(3)]
    journal.close()
    batch = [OutgoingEvent(event=e, fields=policy.fields_for(e)) for e in events]
    receiver = CountingReceiver(secret)
    await receiver.start()
    try:
        async with aiohttp.ClientSession() as session:
            client = JsonUplinkClient(receiver.url, HUB_ID, secret, session=session)
            first = await client.send(batch)
            again = await client.send(batch[1:])  # a redelivery, as after a lost acknowledgement
            forger = JsonUplinkClient(receiver.url, HUB_ID, Secret("not-the-shared-secret-000000"), session=session)
            with pytest.raises(RejectedError):
                await forger.send(batch)
    finally:
        await receiver.stop()
    uuids = [e.uuid for e in events]
    assert first.acknowledged == set(uuids) and again.acknowledged == set(uuids[1:])
    assert [d.id for d in receiver.deliveries] == [*uuids, *uuids[1:]]  # stored again, not hidden
    assert receiver.rejected_requests == 1


@needs_cc
def test_command_prints_the_figures_as_its_json_last_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, socket_enabled: None
) -> None:
    assert main(["bench", "durability", "--cycles", "2", "--power-loss", "--work-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    figures = json.loads(out[-1])
    assert list(figures) == ["cycles", "acknowledged", "lost", "duplicates_at_receiver", "redelivered",
                             "out_of_order"]
    assert figures["cycles"] == 2 and figures["lost"] == 0 and figures["out_of_order"] == 0
    assert any("power cuts undid" in line for line in out)
    assert (tmp_path / "db" / "hub.db").exists()


SYNCHRONOUS_OFF = """
import hub.journal.store as store
import hub.residents.registry_hub as registry_hub

_open = store.open_database


def _open_without_syncs(path, **kwargs):
    conn = _open(path, **kwargs)
    conn.execute("PRAGMA synchronous=OFF")
    return conn


# Both connections the hub child opens: the community's writer (decisions) and the uplink worker's.
store.open_database = _open_without_syncs
registry_hub.open_database = _open_without_syncs
"""


@needs_cc
async def test_synchronous_off_loses_acknowledged_events_under_power_cuts(
    tmp_path: Path, socket_enabled: None
) -> None:
    hook = tmp_path / "synchronous_off.py"
    hook.write_text(SYNCHRONOUS_OFF)
    result = await measure(40, power_loss=True, seed=1400, child_hook=hook)
    assert result.acknowledged_not_journalled > 0  # the journal itself forgot events it had acknowledged
    assert result.figures()["lost"] > 0  # and some of them had not gone up yet: lost for good


async def test_synchronous_off_survives_plain_kills(tmp_path: Path, socket_enabled: None) -> None:
    """The same hook without power cuts loses nothing: SIGKILL alone cannot tell OFF from FULL."""
    hook = tmp_path / "synchronous_off.py"
    hook.write_text(SYNCHRONOUS_OFF)
    result = await measure(10, seed=1400, child_hook=hook)
    assert result.figures()["lost"] == 0 and result.acknowledged_not_journalled == 0
