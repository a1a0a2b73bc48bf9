"""``community-hub sim io-module``: a simulated generic Modbus relay + digital-input module."""

from __future__ import annotations

import argparse
import asyncio


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub sim io-module``."""
    from .common import add_common_arguments

    add_common_arguments(parser, default_port=5021)
    parser.add_argument("--relays", type=int, default=4, help="number of relays (coils) (default: 4)")
    parser.add_argument("--inputs", type=int, default=8, help="number of digital inputs (default: 8)")


def run(args: argparse.Namespace) -> int:
    """Run the simulator until Ctrl-C."""
    from devices.discovery import DeviceAdvertisement, DeviceProfile
    from devkit.sim.control import make_control_app
    from devkit.sim.io_module import IoModuleSim

    from .common import serve

    try:
        sim = IoModuleSim(relays=args.relays, inputs=args.inputs, host=args.host, port=args.port)
    except ValueError as err:
        print(f"error: {err}")
        return 2
    serial = args.serial or "SIMIO0001"

    def advert() -> DeviceAdvertisement:
        return DeviceAdvertisement(serial=serial, model="SIM-IO", profile=DeviceProfile.IO_MODULE,
                                   port=sim.port, addresses=(args.host,), unit_id=1)

    return asyncio.run(serve(sim.start, sim.stop, make_control_app(io_sim=sim), args, advert,
                             lambda: {"kind": "io-module", "serial": serial, "modbus": f"{args.host}:{sim.port}",
                                      "relays": args.relays, "inputs": args.inputs}))
