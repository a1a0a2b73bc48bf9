"""The county side of the MQTT uplink profile: a consumer that verifies each message with its hub's secret,
stores each event once (in SQLite, or PostgreSQL by URL), acknowledges only after its COMMIT, counts every
duplicate delivery, and serves a token-protected read API (``community-hub county``)."""

from .consumer import ConsumerConfig, CountyConsumer
from .store import CountyStore

__all__ = ["ConsumerConfig", "CountyConsumer", "CountyStore"]
