"""``community-hub receiver``: run the county side of the JSON uplink profile on this machine."""

from __future__ import annotations

import argparse
import sys

SECRET_ENV = "COMMUNITY_HUB_UPLINK_SECRET"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub receiver``."""
    parser.add_argument("--port", type=int, default=8787, help="TCP port (0 picks a free one; default 8787)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--db", required=True, help="SQLite file the received events are stored in")
    parser.add_argument("--secret-file", help=f"file holding the shared secret (or set ${SECRET_ENV})")
    parser.add_argument("--tls-cert", help="serve https with this certificate (PEM)")
    parser.add_argument("--tls-key", help="private key of --tls-cert (PEM)")


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    import asyncio
    import signal
    import ssl

    from hub.exceptions import InvalidInputError
    from hub.uplink.secret import Secret

    from .server import ReferenceReceiver

    try:
        secret = Secret.from_file(args.secret_file) if args.secret_file else Secret.from_env(SECRET_ENV)
    except (OSError, InvalidInputError) as err:
        print(f"error: cannot use the shared secret: {err}", file=sys.stderr)
        return 2
    if secret is None:
        print(f"error: no shared secret: pass --secret-file FILE or set {SECRET_ENV} "
              "(there is no default secret)", file=sys.stderr)
        return 2
    context: ssl.SSLContext | None = None
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)

    async def serve() -> None:
        receiver = ReferenceReceiver(args.db, secret, host=args.host, port=args.port, ssl_context=context)
        port = await receiver.start()
        print(f"receiver listening on {receiver.url} (port {port}), storing in {args.db}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await receiver.stop()

    asyncio.run(serve())
    return 0
