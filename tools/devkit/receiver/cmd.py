"""``community-hub receiver``: run the county side of the JSON uplink profile on this machine."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..serving import UsageError

if TYPE_CHECKING:
    from hub.uplink.secret import Secret

    from .hubs import HubSecrets

SECRET_ENV = "COMMUNITY_HUB_UPLINK_SECRET"
READ_TOKEN_ENV = "COMMUNITY_HUB_RECEIVER_READ_TOKEN"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub receiver``."""
    from .server import MAX_BODY_BYTES

    parser.add_argument("--port", type=int, default=8787, help="TCP port (0 picks a free one; default 8787)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--db", required=True, help="SQLite file the received events are stored in")
    parser.add_argument("--hubs-file", help="the hubs this receiver accepts, each with its own secret: a JSON "
                        "object {HUB_ID: SECRET or {\"secret_file\": PATH}} or lines 'HUB_ID SECRET_FILE' / "
                        "'HUB_ID=SECRET'")
    parser.add_argument("--hub-id", help="accept this one hub, whose secret is in --secret-file "
                        f"(or ${SECRET_ENV}); may be combined with --hubs-file")
    parser.add_argument("--secret-file", help=f"file holding the secret of --hub-id (or set ${SECRET_ENV})")
    parser.add_argument("--read-token-file", help="file holding the bearer token of the read API (or set "
                        f"${READ_TOKEN_ENV}); without one the read API is off")
    parser.add_argument("--max-body-bytes", type=int, default=MAX_BODY_BYTES,
                        help=f"largest request body accepted, larger ones get 413 (default {MAX_BODY_BYTES})")
    parser.add_argument("--tls-cert", help="serve https with this certificate (PEM)")
    parser.add_argument("--tls-key", help="private key of --tls-cert (PEM)")


def _hubs(args: argparse.Namespace) -> HubSecrets:
    import os

    from hub.exceptions import InvalidInputError
    from hub.uplink.secret import Secret

    from ..serving import load_hubs
    from .hubs import HubSecrets

    hubs = HubSecrets()
    if args.hubs_file:
        hubs = load_hubs(args.hubs_file)
    single_secret_given = bool(args.secret_file) or (not args.hubs_file and bool(os.environ.get(SECRET_ENV)))
    if single_secret_given and not args.hub_id:
        raise UsageError(f"--secret-file (or ${SECRET_ENV}) is the secret of one hub: name it with --hub-id "
                          "(see the hub's uplink status for its id), or list hubs in --hubs-file")
    if args.hub_id:
        try:
            secret = Secret.from_file(args.secret_file) if args.secret_file else Secret.from_env(SECRET_ENV)
        except OSError as err:
            raise UsageError(f"cannot read the secret file {args.secret_file}: {err.strerror or err}") from None
        except InvalidInputError as err:
            raise UsageError(f"cannot use the secret of hub {args.hub_id!r}: {err}") from None
        if secret is None:
            raise UsageError(f"--hub-id {args.hub_id} needs its secret: pass --secret-file FILE or set "
                              f"{SECRET_ENV} (there is no default secret)")
        try:
            hubs.add(args.hub_id, secret)
        except InvalidInputError as err:
            raise UsageError(str(err)) from None
    if not hubs:
        raise UsageError(f"no hub to accept: pass --hubs-file FILE, or --hub-id ID with --secret-file FILE (or "
                          f"{SECRET_ENV}); each hub has its own secret and there is no default secret")
    return hubs


def _read_token(args: argparse.Namespace) -> Secret | None:
    from ..serving import load_read_token

    return load_read_token(args.read_token_file, READ_TOKEN_ENV)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    import asyncio
    import ssl

    from ..serving import until_signalled
    from .server import ReferenceReceiver

    try:
        hubs = _hubs(args)
        read_token = _read_token(args)
        if args.max_body_bytes < 1:
            raise UsageError("--max-body-bytes must be positive")
        if read_token is not None and read_token in hubs.values():
            raise UsageError("the read token is a hub's secret: give the read API a token of its own")
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    context: ssl.SSLContext | None = None
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)

    async def serve() -> None:
        receiver = ReferenceReceiver(args.db, hubs, read_token=read_token, host=args.host, port=args.port,
                                     ssl_context=context, max_body_bytes=args.max_body_bytes)
        port = await receiver.start()
        read_api = "read API on (bearer token)" if read_token is not None else (
            f"read API off (no --read-token-file or ${READ_TOKEN_ENV})")
        print(f"receiver listening on {receiver.url} (port {port}), storing in {args.db}, "
              f"{len(hubs)} hub(s), {read_api}", flush=True)
        try:
            await until_signalled()
        finally:
            await receiver.stop()

    asyncio.run(serve())
    return 0
