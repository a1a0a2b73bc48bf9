"""``community-hub sim controller``: a simulated hub-native door controller (real Modbus TCP), with an HTTP
control endpoint (open doors, press exit buttons, swipe cards, cut the link) and a zeroconf advertisement."""

from __future__ import annotations

import argparse
import asyncio


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub sim controller``."""
    from .common import add_common_arguments

    add_common_arguments(parser, default_port=5020)
    parser.add_argument("--doors", type=int, default=2, help="number of doors, 1-256 (default: 2)")
    parser.add_argument("--model", default="SIM-DC", help="model name (default: SIM-DC)")


def run(args: argparse.Namespace) -> int:
    """Run the simulator until Ctrl-C."""
    from devices.discovery import DeviceAdvertisement, DeviceProfile
    from devkit.sim.control import make_control_app
    from devkit.sim.door_controller import DoorControllerSim

    from .common import serve

    try:
        sim = DoorControllerSim(doors=args.doors, serial=args.serial or "SIMDC0001", model=args.model,
                                host=args.host, port=args.port)
    except ValueError as err:
        print(f"error: {err}")
        return 2

    def advert() -> DeviceAdvertisement:
        return DeviceAdvertisement(serial=sim.serial, model=sim.model, profile=DeviceProfile.HUB_NATIVE,
                                   port=sim.port, addresses=(args.host,), firmware="1.0", unit_id=1)

    return asyncio.run(serve(sim.start, sim.stop, make_control_app(sim), args, advert,
                             lambda: {"kind": "controller", "serial": sim.serial, "modbus": f"{sim.host}:{sim.port}",
                                      "doors": len(sim.doors)}))
