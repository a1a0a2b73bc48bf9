"""The demo's county over MQTT (``community-hub run --uplink mqtt``): a local Mosquitto on loopback with TLS and the
county consumer beside it, instead of the JSON profile's reference receiver.

Everything lives in ``<demo dir>/county-mqtt/`` and is made on the first start, reused on the next:

- ``pki/``: the demo county's CA (its key, 0600), the broker's server certificate, the consumer's client
  certificate (CN ``county-consumer``, the ACL's consumer), the CRL; Home Assistant may not read this folder;
- ``hub/``: what the community hub presents (the CA certificate, its client certificate whose CN is its hub id, its
  key, 0600); the one folder added to Home Assistant's ``allowlist_external_dirs``;
- ``broker/``: the broker's configuration, ACL, log and persistence;
- ``county.db``: the consumer's store.

The consumer verifies each message with the hub's own secret (``uplink-secret``, listed in ``county-hubs`` like
the receiver's), stores it, and acknowledges after the COMMIT; its read API needs the bearer token in
``county-consumer-read-token`` (0600, made anew on every start, never printed).
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
from pathlib import Path

from devkit.county import ConsumerConfig, CountyConsumer
from devkit.county.broker import CONSUMER, ROOT, Mosquitto, Pki, mosquitto_binary
from hub.uplink import Secret

from .run import write_secret

# The demo's county code: the hub publishes under county/0317/community/<hub id>.
TOPIC_PREFIX = f"{ROOT}/{{hub_id}}"
CONSUMER_CLIENT_ID = "demo-county-consumer"
# The demo county's certificates last a year; an expiring one is issued again at the next start.
CERT_DAYS = 365


class MosquittoMissingError(RuntimeError):
    """``--uplink mqtt`` asked for, but Mosquitto is not installed."""


class DemoMqttCounty:
    """Mosquitto and the county consumer, started before / after Home Assistant and stopped in order."""

    def __init__(self, demo_dir: Path, *, broker_port: int, read_api_port: int) -> None:
        self.folder = demo_dir / "county-mqtt"
        self.hub_folder = self.folder / "hub"
        self.broker_port = broker_port
        self.read_api_port = read_api_port
        self.read_token_file = demo_dir / "county-consumer-read-token"
        self.pki: Pki | None = None
        self.broker: Mosquitto | None = None
        self.consumer: CountyConsumer | None = None

    @property
    def url(self) -> str:
        """The broker, as the hub's uplink option names it."""
        return f"mqtts://127.0.0.1:{self.broker_port}"

    @property
    def read_api(self) -> str:
        """The consumer's read API (bearer token)."""
        return f"http://127.0.0.1:{self.read_api_port}/api/v1"

    @property
    def ca_file(self) -> Path:
        """The CA certificate the hub checks the broker against (a copy in the hub's folder)."""
        return self.hub_folder / "ca.pem"

    async def start_broker(self) -> None:
        """Make (or reuse) the CA and the broker's files, start Mosquitto; raises :class:`MosquittoMissingError`."""
        binary = mosquitto_binary()
        if binary is None:
            raise MosquittoMissingError("--uplink mqtt needs Mosquitto, which is not installed here "
                                        "(apt-get install mosquitto, or make system-packages)")
        self.pki = await asyncio.to_thread(Pki, self.folder / "pki", reuse=True, days=CERT_DAYS)
        self.hub_folder.mkdir(parents=True, exist_ok=True)
        self.hub_folder.chmod(0o700)
        await asyncio.to_thread(shutil.copyfile, self.pki.ca_file, self.ca_file)
        self.broker = Mosquitto(binary, self.folder / "broker", self.pki, port=self.broker_port)
        await asyncio.to_thread(self.broker.start, 10.0, own_session=True)

    def hub_files(self, hub_id: str) -> tuple[Path, Path]:
        """The hub's client certificate and key (CN = its hub id), issued once and then reused."""
        assert self.pki is not None
        files = self.pki.client(hub_id, folder=self.hub_folder)
        return files.cert, files.key

    async def start_consumer(self, hubs: dict[str, Secret]) -> None:
        """The county consumer for ``hubs``, with a fresh read token; returns once it is subscribed."""
        assert self.pki is not None
        write_secret(self.read_token_file, secrets.token_urlsafe(32))
        files = await asyncio.to_thread(self.pki.client, CONSUMER)
        self.consumer = CountyConsumer(ConsumerConfig(
            broker_url=self.url, hubs=hubs, db_path=self.folder / "county.db", topic_root=ROOT,
            client_id=CONSUMER_CLIENT_ID, ca_file=self.pki.ca_file, client_cert=files.cert, client_key=files.key,
            read_token=Secret.from_file(self.read_token_file), http_port=self.read_api_port,
        ))
        await self.consumer.start()
        await self.consumer.wait_ready(20)

    async def stop(self) -> None:
        """The consumer first (the broker keeps its session and queues for it), then the broker (it saves)."""
        if self.consumer is not None:
            await self.consumer.stop()
            self.consumer = None
        if self.broker is not None:
            await asyncio.to_thread(self.broker.stop)
            self.broker = None
