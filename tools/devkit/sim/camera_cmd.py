"""``community-hub sim camera``: a simulated IP camera (JPEG snapshot and MJPEG over HTTP) serving real photos,
switchable between an enrolled person, a stranger, a photo held up, and nobody."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub sim camera``."""
    from .common import add_common_arguments

    add_common_arguments(parser, default_port=8554)
    parser.add_argument("--faces", type=Path, default=None,
                        help="folder of <Name>/*.jpg photos of residents (default: the project's demo faces)")
    parser.add_argument("--strangers", type=Path, default=None, help="folder of photos of people not enrolled")
    parser.add_argument("--username", help="require HTTP authentication with this user")
    parser.add_argument("--password", help="... and this password")
    parser.add_argument("--auth", choices=["basic", "digest"], default="digest", help="authentication scheme")


def run(args: argparse.Namespace) -> int:
    """Run the simulator until Ctrl-C."""
    from devices.discovery import DeviceAdvertisement
    from devkit.sim.camera import CameraSim
    from devkit.sim.control import make_control_app

    from ..demo.faces import demo_faces_dir
    from .common import serve

    faces = args.faces or demo_faces_dir()
    if faces is None or not faces.is_dir():
        print("error: no photos: pass --faces DIR (a folder of <Name>/*.jpg)")
        return 2
    if bool(args.username) != bool(args.password):
        print("error: give both --username and --password, or neither")
        return 2
    sim = CameraSim(faces, strangers_dir=args.strangers, host=args.host, port=args.port,
                    username=args.username, password=args.password, auth=args.auth)
    serial = args.serial or "SIMCAM0001"

    def advert() -> DeviceAdvertisement:
        return sim.advertisement(serial=serial)

    return asyncio.run(serve(sim.start, sim.stop, make_control_app(camera=sim), args, advert,
                             lambda: {"kind": "camera", "serial": serial, "snapshot_url": sim.snapshot_url,
                                      "mjpeg_url": sim.mjpeg_url}))
