"""Frigate's LPR updates through a real Mosquitto on loopback (the project's test broker from
devkit.county.broker: TLS, client certificates, an ACL to which Frigate's topics are added): the simulated
Frigate publishes, the subscriber turns each ``lpr`` update into a read, skips other updates and garbage, and
reconnects by itself after the broker was killed."""

from __future__ import annotations

import asyncio
import json
import os
import random
import ssl
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import aiomqtt
import pytest

from devices.anpr import AnprFormatError, PlateColor, PlateRead
from devices.anpr.frigate import FrigateConfig, FrigateLprSubscriber
from devkit.county.broker import Mosquitto, Pki, mosquitto_binary
from devkit.sim.anpr import AnprCameraSim, make_records


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path / "pki")


@pytest.fixture
def broker(tmp_path: Path, pki: Pki, socket_enabled: None) -> Iterator[Mosquitto]:
    binary = mosquitto_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but mosquitto is not installed (scripts/system-packages.sh installs it)")
        pytest.skip("mosquitto is not installed: apt-get install mosquitto (make system-packages)")
    running = Mosquitto(binary, tmp_path / "broker", pki)
    # The county ACL knows only the uplink's topics; Frigate's are added for every client.
    running.acl.write_text(running.acl.read_text() + "pattern readwrite frigate/#\n")
    running.start()
    yield running
    running.kill()


def _config(broker: Mosquitto, pki: Pki) -> FrigateConfig:
    files = pki.client("hub-anpr")
    return FrigateConfig(broker_url=broker.url, ca_file=pki.ca_file, client_cert=files.cert,
                         client_key=files.key, reconnect_min_s=0.1, reconnect_max_s=0.5)


async def _until(condition: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _publish_raw(broker: Mosquitto, pki: Pki, payloads: list[bytes]) -> None:
    files = pki.client("frigate")
    context = ssl.create_default_context(cafile=str(pki.ca_file))
    context.load_cert_chain(str(files.cert), str(files.key))
    async with aiomqtt.Client("127.0.0.1", broker.port, tls_context=context) as client:
        for payload in payloads:
            await client.publish("frigate/tracked_object_update", payload, qos=1)


async def test_lpr_updates_become_reads_and_the_subscriber_reconnects(broker: Mosquitto, pki: Pki) -> None:
    reads: list[PlateRead] = []

    async def on_read(read: PlateRead) -> None:
        reads.append(read)

    subscriber = FrigateLprSubscriber(_config(broker, pki), on_read)
    subscriber.start()
    try:
        await subscriber.wait_connected()
        frigate = pki.client("frigate")
        rng = random.Random(16)
        records = make_records("frigate", plate=None, color=PlateColor.BLUE, backlog=50, rng=rng)
        async with AnprCameraSim("frigate", broker.url, camera_id="driveway", ca_file=str(pki.ca_file),
                                 client_cert=str(frigate.cert), client_key=str(frigate.key)) as sim:
            summary = await sim.run(records, resend_rate=0.1, rng=rng)
        await _until(lambda: len(reads) == summary.sent, f"{summary.sent} reads")
        assert summary.sent > 50  # some sent twice, with the same tracked-object id
        assert {r.record_id for r in reads} == {r.record_id for r in records}
        assert all(r.camera_id == "driveway" and r.format == "frigate" for r in reads)
        assert next(r.plate for r in reads if r.record_id == records[0].record_id) == records[0].plate
        # Other update types and garbage are skipped; the subscription goes on.
        await _publish_raw(broker, pki, [b'{"type": "description", "id": "x", "description": "red car"}',
                                         b"not json", b'{"type": "lpr", "camera": "c"}',
                                         b'{"type": "lpr", "id": "after-garbage", "camera": "gate", '
                                         b'"plate": "ab123", "score": 0.9, "timestamp": 1764641730}'])
        await _until(lambda: reads[-1].record_id == "after-garbage", "the read after the garbage")
        assert subscriber.bad_messages == 2 and reads[-1].plate == "AB123"

        broker.kill()
        await _until(lambda: not subscriber.connected, "the subscriber to notice the broker is gone")
        broker.start()
        await _until(lambda: subscriber.connected, "the subscriber to reconnect")
        assert subscriber.connections == 2
        await _publish_raw(broker, pki, [b'{"type": "lpr", "id": "after-restart", "camera": "gate", '
                                         b'"plate": "\\u7696A7XG66", "score": 0.8, "timestamp": 1764641790}'])
        await _until(lambda: reads[-1].record_id == "after-restart", "a read after the restart")
        assert reads[-1].plate == "皖A7XG66"
    finally:
        await subscriber.stop()
    assert not subscriber.connected


def test_config_is_checked() -> None:
    with pytest.raises(AnprFormatError, match="broker URL"):
        FrigateConfig(broker_url="http://broker")
    with pytest.raises(AnprFormatError, match="its key"):
        FrigateConfig(broker_url="mqtts://broker", client_cert="c.pem")
    with pytest.raises(AnprFormatError, match="wildcard"):
        FrigateConfig(broker_url="mqtt://broker", topic_prefix="frigate/#")
    assert FrigateConfig(broker_url="mqtt://broker", topic_prefix="/cams/").topic == "cams/tracked_object_update"
    assert FrigateConfig(broker_url="mqtt://broker").ssl_context() is None


# Every file Python opens in this process, while a test looks (an audit hook: Python's own record of ``open``, not a
# mock). Hooks cannot be removed, so one is added once and switched on and off.
_OPENED: list[str] | None = None


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _OPENED is not None and event == "open" and args and isinstance(args[0], str | bytes | os.PathLike):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


async def test_paths_a_frigate_message_names_are_never_opened(broker: Mosquitto, pki: Pki, tmp_path: Path) -> None:
    """Frigate's messages may name snapshot, thumbnail and clip files (its events do; an attacker on the broker can
    write anything): the hub reads none of them. The plate read is taken, with no pictures."""
    global _OPENED
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"\xff\xd8\xff\xe0 not for a camera to choose")
    names = [str(secret), "/etc/shadow", "../../../../etc/passwd", f"file://{secret}"]
    message = {"type": "lpr", "id": "1764641730.5-path", "camera": "driveway", "plate": "AB123CD", "score": 0.9,
               "timestamp": 1764641730.5, "snapshot_path": names[0], "thumbnail_path": names[1],
               "snapshot": {"path": names[2], "frame_time": 1764641730.5}, "clip_path": names[3],
               "image": names[0], "thumbnail": names[0]}
    reads: list[PlateRead] = []

    async def on_read(read: PlateRead) -> None:
        reads.append(read)

    subscriber = FrigateLprSubscriber(_config(broker, pki), on_read)
    subscriber.start()
    try:
        await subscriber.wait_connected()
        _OPENED = []
        await _publish_raw(broker, pki, [json.dumps(message).encode()])
        await _until(lambda: len(reads) == 1, "the read")
        opened, _OPENED = _OPENED, None
    finally:
        _OPENED = None
        await subscriber.stop()
    assert reads[0].plate == "AB123CD" and reads[0].images == ()
    assert not [path for path in opened if any(name.removeprefix("file://") in path or path.endswith(
        ("shadow", "passwd")) for name in names)], opened
