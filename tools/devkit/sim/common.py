"""What every ``community-hub sim ...`` command shares: control endpoint, zeroconf advertisement, Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from devices.discovery import DeviceAdvertisement
from devkit.serving import until_signalled


def add_common_arguments(parser: argparse.ArgumentParser, default_port: int) -> None:
    """Options shared by the simulators."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=default_port, help=f"device port (default: {default_port}; 0: any)")
    parser.add_argument("--control-port", type=int, default=0,
                        help="HTTP control endpoint port (default: any free port, printed at start)")
    parser.add_argument("--serial", help="serial number (default: one per kind)")
    parser.add_argument("--no-zeroconf", action="store_true", help="do not advertise over zeroconf (mDNS)")


async def serve(
    start: Callable[[], Awaitable[None]],
    stop: Callable[[], Awaitable[None]],
    control_app: web.Application,
    args: argparse.Namespace,
    advert: Callable[[], DeviceAdvertisement],
    describe: Callable[[], dict[str, Any]],
) -> int:
    """Start the simulator, its control endpoint and its advertisement; run until Ctrl-C or SIGTERM."""
    from devices.discovery import advertise, unadvertise
    from devkit.sim.control import start_control_server

    await start()
    runner, control_port = await start_control_server(control_app, args.host, args.control_port)
    aiozc = None
    info = None
    if not args.no_zeroconf:
        from zeroconf import IPVersion
        from zeroconf.asyncio import AsyncZeroconf

        aiozc = AsyncZeroconf(interfaces=[args.host], ip_version=IPVersion.V4Only)
        info = await advertise(aiozc, advert())
    print(json.dumps({**describe(), "control_url": f"http://{args.host}:{control_port}",
                      "zeroconf": info.name if info else None}), flush=True)
    try:
        await until_signalled()
    finally:
        if aiozc is not None and info is not None:
            with contextlib.suppress(Exception):
                await unadvertise(aiozc, info)
            await aiozc.async_close()
        await runner.cleanup()
        await stop()
    return 0
