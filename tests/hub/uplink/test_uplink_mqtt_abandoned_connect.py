"""A connection to the broker abandoned before the broker answered leaves nothing behind.

A hub is unloaded, or the county consumer stopped, while its CONNECT is still waiting for the broker's CONNACK (a
broker starting up, overloaded or half reachable). What was opened for that connection must go with it: the TCP
connection (the broker would otherwise keep a half-open client), the event loop's reader on its socket, and
aiomqtt's keepalive task. This was seen once in CI: the consumer, stopped while it reconnected after a broker
restart, left its keepalive task behind.

The "broker" here is a real TCP server on loopback that accepts the connection, reads the CONNECT and never
answers: that silence is the point, and Mosquitto cannot be told to keep it. Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from devkit.county import ConsumerConfig, CountyConsumer
from hub.uplink import Secret
from hub.uplink.errors import TransientUplinkError
from hub.uplink.mqtt_client import MqttConfig, MqttTransport

HUB = "hub-a0001"
SECRET = Secret("hub-a-secret-0123456789abcdef")


@dataclass
class SilentBroker:
    """Accepts MQTT clients, reads what they send, answers nothing; records when each connection ends."""

    port: int = 0
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    received: bytearray = field(default_factory=bytearray)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(4096):
            self.received += data
            self.connected.set()
        self.closed.set()
        writer.close()


@pytest.fixture
async def silent(socket_enabled: None) -> AsyncIterator[SilentBroker]:
    """A silent broker on a free loopback port."""
    broker = SilentBroker()
    server = await asyncio.start_server(broker.serve, "127.0.0.1", 0)
    broker.port = server.sockets[0].getsockname()[1]
    yield broker
    server.close()
    await server.wait_closed()


def _keepalive_tasks() -> list[asyncio.Task[object]]:
    return [task for task in asyncio.all_tasks() if "_misc_loop" in repr(task.get_coro()) and not task.done()]


async def _connect_sent(broker: SilentBroker) -> None:
    await asyncio.wait_for(broker.connected.wait(), 10)
    assert broker.received[:1] == b"\x10"  # an MQTT CONNECT packet reached the broker
    assert _keepalive_tasks(), "the connection attempt should have its keepalive task while it waits"


async def test_a_hub_unloaded_while_its_connect_waits_leaves_no_connection_behind(silent: SilentBroker) -> None:
    """The uplink's connect cancelled before the CONNACK: the socket is closed and no task is left running."""
    transport = MqttTransport(MqttConfig(
        broker_url=f"mqtt://127.0.0.1:{silent.port}", hub_id=HUB, secret=SECRET, topic_prefix="county/0317/{hub_id}",
        connect_timeout_s=30))
    starting = asyncio.create_task(transport.start())
    await _connect_sent(silent)
    starting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await starting
    await asyncio.wait_for(silent.closed.wait(), 5)
    assert _keepalive_tasks() == []
    assert not transport.connected


async def test_a_connect_the_broker_never_answers_times_out_and_leaves_no_connection_behind(
        silent: SilentBroker) -> None:
    """Unanswered until the connect timeout: a transient error (retried later), with nothing left open."""
    transport = MqttTransport(MqttConfig(
        broker_url=f"mqtt://127.0.0.1:{silent.port}", hub_id=HUB, secret=SECRET, topic_prefix="county/0317/{hub_id}",
        connect_timeout_s=0.5))
    with pytest.raises(TransientUplinkError):
        await transport.start()
    await asyncio.wait_for(silent.closed.wait(), 5)
    assert _keepalive_tasks() == []


async def test_the_county_consumer_stopped_while_its_connect_waits_leaves_no_connection_behind(
        silent: SilentBroker, tmp_path: Path) -> None:
    """``CountyConsumer.stop()`` while its (re)connect waits for the CONNACK: socket closed, no task left."""
    consumer = CountyConsumer(ConsumerConfig(broker_url=f"mqtt://127.0.0.1:{silent.port}", hubs={HUB: SECRET},
                                             db_path=tmp_path / "county.db"))
    await consumer.start()
    try:
        await _connect_sent(silent)
    finally:
        await consumer.stop()
    await asyncio.wait_for(silent.closed.wait(), 5)
    assert _keepalive_tasks() == []
