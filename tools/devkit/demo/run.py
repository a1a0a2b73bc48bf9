"""``community-hub run``: the demo community on this machine, in one foreground command.

Starts the simulated door controllers (real Modbus TCP on 127.0.0.1), a real Home Assistant process with a
configuration folder under ``.demo/`` (onboarded on first start with a random owner password), adds the
integration through its config flow, writes a long-lived token to ``.demo/token`` and then takes simulator
commands on standard input until Ctrl-C stops everything. The community's uplink goes to the JSON profile's
reference receiver, or with ``--uplink mqtt`` through a local Mosquitto to the county consumer
(:mod:`devkit.demo.county_mqtt`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import Any

DOMAIN = "smart_community"
OWNER_USERNAME = "manager"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub run``."""
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8123")),
                        help="Home Assistant's HTTP port on 127.0.0.1 (default: $PORT or 8123)")
    parser.add_argument("--demo-dir", type=Path, default=Path(".demo"),
                        help="where Home Assistant's configuration and the demo's secrets live (default: .demo)")
    parser.add_argument("--modbus-port", type=int, default=15020,
                        help="first Modbus TCP port of the simulated controllers (default: 15020)")
    parser.add_argument("--controllers", type=int, default=2, help="simulated door controllers (default: 2)")
    parser.add_argument("--doors", type=int, default=2, help="doors per controller (default: 2)")
    parser.add_argument("--uplink", choices=("json", "mqtt"), default="json",
                        help="the county the community's uplink sends to: json, the reference receiver (default); "
                        "mqtt, a local Mosquitto (TLS, client certificates, ACL) with the county consumer "
                        "(needs mosquitto installed)")
    parser.add_argument("--startup-timeout", type=float, default=300.0,
                        help="seconds to wait for Home Assistant to answer (default: 300)")


def run(args: argparse.Namespace) -> int:
    """Run the demo until Ctrl-C."""
    from .community import DemoCommunity

    demo = DemoCommunity(
        port=args.port,
        demo_dir=args.demo_dir.resolve(),
        modbus_port=args.modbus_port,
        controllers=args.controllers,
        doors=args.doors,
        startup_timeout=args.startup_timeout,
        uplink=args.uplink,
    )
    try:
        return asyncio.run(demo.main())
    except KeyboardInterrupt:  # pragma: no cover - the signal handler normally catches it first
        return 130


def write_secret(path: Path, value: str) -> None:
    """Write a secret readable by the owner only (0600), never world-readable even for a moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    os.chmod(path, 0o600)


def new_password() -> str:
    """A random owner password: no default password anywhere."""
    return secrets.token_urlsafe(12)


async def wait_for_stop(stop: asyncio.Event, hass_process: asyncio.subprocess.Process) -> None:
    """Until Ctrl-C / SIGTERM, or Home Assistant exits by itself."""
    waiter = asyncio.create_task(hass_process.wait())
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    for task in (waiter, stopper):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def install_signal_handlers(stop: asyncio.Event) -> None:
    """Ctrl-C and SIGTERM set ``stop`` so everything shuts down in order."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


def console(message: str = "", **kwargs: Any) -> None:
    """Print to the console at once (the demo's output is read by people and by scripts)."""
    print(message, flush=True, file=sys.stdout, **kwargs)
