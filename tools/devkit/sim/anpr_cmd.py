"""``community-hub sim anpr``: a plate-recognition camera pushing reads to the hub in a vendor's real format
(Hikvision ISAPI, Dahua ITSAPI, Vzenith, Frigate over MQTT): one pass, an offline backlog, resends; and, for
Hikvision, the camera's barrier endpoint for the hub's barrier client."""

from __future__ import annotations

import argparse
import asyncio
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub sim anpr``."""
    from devkit.sim.anpr import FORMATS

    parser.add_argument("--format", required=True, choices=FORMATS, help="the camera's wire format")
    parser.add_argument("--url", help="where to push: the hub's push URL (http://hub:port/anpr/<format>/<secret>); "
                        "for dahua the hub's base URL (fixed ITSAPI paths); for frigate the broker "
                        "(mqtt://host:1883 or mqtts://host:8883)")
    parser.add_argument("--plate", default="皖A7XG66", help="the plate of a single pass (default: 皖A7XG66)")
    parser.add_argument("--color", choices=["blue", "yellow", "green", "white", "black"],
                        help="its colour (default: the plate's colour-word prefix, else blue)")
    parser.add_argument("--backlog", type=int, default=0, metavar="N",
                        help="replay N stored reads (random plates, original times 30 s apart, flagged as resent)")
    parser.add_argument("--resend-rate", type=float, default=0.0, metavar="P",
                        help="send each record again with the same record id with probability P (0..1)")
    parser.add_argument("--camera-id", default="SIMANPR0001",
                        help="serial / MAC / DeviceID / Frigate camera name the camera sends")
    parser.add_argument("--username", help="Basic (hikvision), Digest (dahua) or MQTT user name")
    parser.add_argument("--password", help="... and its password")
    parser.add_argument("--ca-file", help="frigate over mqtts: the broker's CA")
    parser.add_argument("--cert", help="frigate over mqtts: a client certificate")
    parser.add_argument("--key", help="... and its key")
    parser.add_argument("--seed", type=int, default=None, help="random seed (plates, ids, resends)")
    parser.add_argument("--barrier", action="store_true",
                        help="hikvision: also serve the camera's barrier endpoint (ISAPI, Digest with "
                        "--username/--password) until Ctrl-C")
    parser.add_argument("--barrier-host", default="127.0.0.1", help="its address (default: 127.0.0.1)")
    parser.add_argument("--barrier-port", type=int, default=0, help="its port (default: any free port)")


async def _main(args: argparse.Namespace) -> int:
    import random

    from devices.anpr.models import PlateColor
    from devices.anpr.plates import color_from_word, normalize_plate
    from devkit.serving import until_signalled
    from devkit.sim.anpr import AnprCameraSim, HikvisionBarrierSim, make_records

    rng = random.Random(args.seed)
    barrier = None
    if args.barrier:
        if not (args.username and args.password):
            print("error: --barrier needs --username and --password (the camera's Digest credentials)")
            return 2
        barrier = HikvisionBarrierSim(args.username, args.password, host=args.barrier_host, port=args.barrier_port)
        await barrier.start()
        print(json.dumps({"barrier_url": barrier.base_url}), flush=True)
    summary: dict[str, object] = {}
    if args.url:
        color = color_from_word(args.color) if args.color else (normalize_plate(args.plate).prefix_color
                                                                or PlateColor.BLUE)
        records = make_records(args.format, plate=args.plate, color=color,
                               backlog=args.backlog, rng=rng)
        async with AnprCameraSim(args.format, args.url, camera_id=args.camera_id, username=args.username,
                                 password=args.password, ca_file=args.ca_file, client_cert=args.cert,
                                 client_key=args.key) as sim:
            summary = (await sim.run(records, resend_rate=args.resend_rate, rng=rng)).as_dict()
    if barrier is not None:
        try:
            await until_signalled()
        finally:
            await barrier.stop()
        summary["barrier_commands"] = [{"channel": c.channel, "mode": c.mode} for c in barrier.commands]
    print(json.dumps({"format": args.format, **summary}, ensure_ascii=False), flush=True)
    return 0


def run(args: argparse.Namespace) -> int:
    """Send, print a JSON summary (last line); with ``--barrier`` serve the barrier until Ctrl-C."""
    if not args.url and not args.barrier:
        print("error: give --url (where to push) and/or --barrier")
        return 2
    if not 0.0 <= args.resend_rate <= 1.0 or args.backlog < 0:
        print("error: --resend-rate is 0..1 and --backlog is 0 or more")
        return 2
    if bool(args.username) != bool(args.password):
        print("error: give both --username and --password, or neither")
        return 2
    if args.barrier and args.format != "hikvision":
        print("error: --barrier is the Hikvision camera's barrier endpoint (--format hikvision)")
        return 2
    return asyncio.run(_main(args))
