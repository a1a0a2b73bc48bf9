"""The simulated cameras against the receiver over loopback: single passes, an offline backlog of 500 with 10%
resends in every HTTP format (each resend arrives with the camera's record id again, flagged where the format has
a flag), and the ``community-hub sim anpr`` command as a user runs it."""

from __future__ import annotations

import asyncio
import json
import random
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from devices.anpr import BarrierReply, PlateColor, PlateRead
from devices.anpr.plates import is_chinese_civil_plate
from devices.anpr.server import AnprReceiver, PushSource
from devkit.sim.anpr import AnprCameraSim, make_records

HIK, VZ, DAHUA = "hik-secret-0123456789abcdef", "vz-secret-0123456789abcdef", "dahua-secret-0123456789abc"


class Hub:
    def __init__(self) -> None:
        self.reads: list[PlateRead] = []

    async def on_read(self, read: PlateRead) -> BarrierReply:
        self.reads.append(read)
        return BarrierReply(open=read.plate_color is PlateColor.BLUE)


@pytest.fixture
def hub() -> Hub:
    return Hub()


@pytest.fixture
async def receiver(hub: Hub, socket_enabled: None) -> AsyncIterator[AnprReceiver]:
    running = AnprReceiver([
        PushSource(format="hikvision", secret=HIK, username="hik", password="hik-pass"),
        PushSource(format="vzenith", secret=VZ, allowed_addresses=("127.0.0.0/8",)),
        PushSource(format="dahua", secret=DAHUA, username="dahua", password="dahua-pass"),
    ], hub.on_read)
    await running.start()
    yield running
    await running.stop()


def _target(receiver: AnprReceiver, fmt: str) -> tuple[str, str | None, str | None]:
    if fmt.startswith("hikvision"):
        return f"{receiver.url}/anpr/hikvision/{HIK}", "hik", "hik-pass"
    if fmt == "vzenith":
        return f"{receiver.url}/anpr/vzenith/{VZ}", None, None
    return receiver.url, "dahua", "dahua-pass"


@pytest.mark.parametrize("fmt", ["hikvision", "hikvision-json", "vzenith", "dahua"])
async def test_single_pass(receiver: AnprReceiver, hub: Hub, fmt: str) -> None:
    url, user, password = _target(receiver, fmt)
    before = datetime.now(UTC)
    async with AnprCameraSim(fmt, url, camera_id="CAM-7", username=user, password=password) as sim:
        summary = await sim.run(make_records(fmt, plate="蓝皖A7XG66", color=PlateColor.BLUE, backlog=0,
                                             rng=random.Random(3)))
    assert summary.statuses == Counter({200: 1}) and summary.sent == 1
    [read] = hub.reads
    assert (read.camera_id, read.plate, read.plate_color, read.resend) == ("CAM-7", "皖A7XG66", PlateColor.BLUE,
                                                                           False)
    assert abs((read.seen_at - before).total_seconds()) < 60
    assert {i.kind for i in read.images} == {"plate", "scene"}
    assert all(i.data.startswith(b"\xff\xd8\xff") for i in read.images)
    if fmt == "vzenith":
        assert summary.opened == 1  # the hub said open (a blue plate), so the relay would close


@pytest.mark.parametrize("fmt", ["hikvision", "hikvision-json", "vzenith", "dahua"])
async def test_backlog_of_500_with_resends(receiver: AnprReceiver, hub: Hub, fmt: str) -> None:
    """An offline camera replays 500 stored reads with their original times and sends about 10% twice: every
    record arrives, each duplicate with the same record id, every one flagged where the format has a flag."""
    url, user, password = _target(receiver, fmt)
    rng = random.Random(500)
    records = make_records(fmt, plate=None, color=PlateColor.BLUE, backlog=500, rng=rng)
    async with AnprCameraSim(fmt, url, camera_id="CAM-B", username=user, password=password) as sim:
        summary = await sim.run(records, resend_rate=0.1, rng=rng)
    duplicates = summary.sent - 500
    assert 25 <= duplicates <= 80  # about 10%
    assert summary.statuses == Counter({200: summary.sent})
    assert len(hub.reads) == summary.sent
    ids = Counter(read.record_id for read in hub.reads)
    assert len(ids) == 500 and sum(n - 1 for n in ids.values()) == duplicates
    # The original times, oldest first, 30 s apart; not the time they were sent.
    firsts = list({read.record_id: read for read in reversed(hub.reads)}.values())[::-1]
    span = (firsts[-1].seen_at - firsts[0].seen_at).total_seconds()
    assert span == pytest.approx(499 * 30, abs=1)
    assert all(is_chinese_civil_plate(read.plate) for read in hub.reads)
    if fmt != "dahua":  # isDataRetransmission / isoffline; Dahua's ITSAPI has no such flag
        assert all(read.resend for read in hub.reads)
    # A duplicate is the same read: plate, colour and time as the first copy.
    by_id: dict[str, PlateRead] = {}
    for read in hub.reads:
        first = by_id.setdefault(read.record_id, read)
        assert (read.plate, read.plate_color, read.seen_at) == (first.plate, first.plate_color, first.seen_at)


async def test_wrong_credentials_from_the_sim_are_refused(receiver: AnprReceiver, hub: Hub) -> None:
    async with AnprCameraSim("dahua", receiver.url, username="dahua", password="nope") as sim:
        summary = await sim.run(make_records("dahua", plate="皖A7XG66", color=PlateColor.BLUE, backlog=0,
                                             rng=random.Random(1)))
    assert summary.statuses == Counter({401: 1}) and hub.reads == []


async def _cli(*args: str) -> tuple[int, list[str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devkit.cli", "sim", "anpr", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode().splitlines() + err.decode().splitlines()


async def test_the_command(receiver: AnprReceiver, hub: Hub) -> None:
    code, lines = await _cli("--format", "hikvision", "--url", f"{receiver.url}/anpr/hikvision/{HIK}",
                             "--username", "hik", "--password", "hik-pass", "--plate", "黄京B12345",
                             "--camera-id", "cli-cam")
    assert code == 0, lines
    summary = json.loads(lines[-1])
    assert summary["sent"] == 1 and summary["statuses"] == {"200": 1}
    [read] = hub.reads
    assert (read.camera_id, read.plate, read.plate_color) == ("cli-cam", "京B12345", PlateColor.YELLOW)
    code, lines = await _cli("--format", "vzenith", "--url", f"{receiver.url}/anpr/vzenith/{VZ}",
                             "--backlog", "20", "--resend-rate", "0.5", "--seed", "7")
    assert code == 0, lines
    summary = json.loads(lines[-1])
    assert summary["sent"] > 20 and summary["resends"] == summary["sent"]  # a backlog: every record flagged
    assert len(hub.reads) == 1 + summary["sent"] and all(r.resend for r in hub.reads[1:])
    code, lines = await _cli("--format", "vzenith", "--resend-rate", "2", "--url", "http://x")
    assert code == 2 and "resend-rate" in lines[0]
