"""``community-hub county``: the county side of the MQTT uplink profile: consume every hub, store, acknowledge."""

from __future__ import annotations

import argparse
import sys

from ..serving import UsageError

READ_TOKEN_ENV = "COMMUNITY_HUB_COUNTY_READ_TOKEN"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub county``."""
    from .consumer import DEFAULT_ROOT

    parser.add_argument("--broker", required=True, help="the broker, mqtts://host:port (mqtt:// on a trusted network)")
    parser.add_argument("--db", required=True, help="where the events are stored: a SQLite file, or a PostgreSQL "
                        "database as postgresql://USER:PASSWORD@HOST:PORT/DBNAME (the password is never printed)")
    parser.add_argument("--hubs-file", required=True, help="the hubs this county accepts, each with its own secret "
                        "(the format of `community-hub receiver --hubs-file`)")
    parser.add_argument("--topic-root", default=DEFAULT_ROOT,
                        help=f"the hubs' topic prefixes are ROOT/HUB_ID (default {DEFAULT_ROOT})")
    parser.add_argument("--share-group", default="county",
                        help="shared-subscription group ($share/GROUP/...; default county); '' for a plain "
                        "subscription on a broker without shared subscriptions")
    parser.add_argument("--client-id", default="county-consumer",
                        help="MQTT client id, one per consumer instance (its persistent session)")
    parser.add_argument("--ca-file", help="CA that signs the broker's certificate (default: the system store)")
    parser.add_argument("--cert", help="the consumer's client certificate (PEM)")
    parser.add_argument("--key", help="the key of --cert (PEM)")
    parser.add_argument("--read-token-file", help="file holding the bearer token of the read API (or set "
                        f"${READ_TOKEN_ENV}); without one the read API is off")
    parser.add_argument("--http-host", default="127.0.0.1", help="address of the read API (default 127.0.0.1)")
    parser.add_argument("--http-port", type=int, default=8788, help="port of the read API (default 8788, 0: free)")


def _config(args: argparse.Namespace) -> object:
    from ..serving import load_hubs, load_read_token
    from .consumer import ConsumerConfig
    from .store import is_postgres_url

    hubs = load_hubs(args.hubs_file)
    if not hubs:
        raise UsageError(f"the hubs file {args.hubs_file} lists no hub")
    token = load_read_token(args.read_token_file, READ_TOKEN_ENV)
    if token is not None and token in hubs.values():
        raise UsageError("the read token is a hub's secret: give the read API a token of its own")
    if not args.broker.startswith(("mqtt://", "mqtts://")):
        raise UsageError("--broker must be mqtts://host:port (or mqtt://)")
    if bool(args.cert) != bool(args.key):
        raise UsageError("--cert and --key go together")
    if "://" in args.db and not is_postgres_url(args.db):
        raise UsageError("--db must be a SQLite file or a postgresql://user:password@host:port/dbname URL")
    return ConsumerConfig(broker_url=args.broker, hubs=hubs, db_path=args.db, topic_root=args.topic_root,
                          share_group=args.share_group or None, client_id=args.client_id, ca_file=args.ca_file,
                          client_cert=args.cert, client_key=args.key, read_token=token, http_host=args.http_host,
                          http_port=args.http_port)


def run(args: argparse.Namespace) -> int:
    """Consume until interrupted."""
    import asyncio

    from ..serving import until_signalled
    from . import received_properties
    from .consumer import ConsumerConfig, CountyConsumer
    from .store import StoreError, describe_target

    try:
        config = _config(args)
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    assert isinstance(config, ConsumerConfig)
    received_properties.install()  # this process is the consumer's own (see the module)

    async def serve() -> int:
        consumer = CountyConsumer(config)
        try:
            await consumer.start()
        except StoreError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        try:
            await consumer.wait_ready(10)
            state = "subscribed"
        except TimeoutError:
            state = "broker not reachable yet, retrying"
        read_api = (f"read API on http://{config.http_host}:{consumer.http_port} (bearer token)"
                    if config.read_token is not None else f"read API off (no --read-token-file or ${READ_TOKEN_ENV})")
        print(f"county consumer for {len(config.hubs)} hub(s) on {args.broker} ({state}), "
              f"storing in {describe_target(args.db)}, {read_api}", flush=True)
        try:
            await until_signalled()
        finally:
            await consumer.stop()
        return 0

    return asyncio.run(serve())
