"""``community-hub``: the one command-line entry point (demo, simulators, receiver, county consumer, benchmarks).

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and ``run(args) -> int``; the module
is imported only when its subcommand (or its ``--help``) is asked for, so heavy imports (dlib, Home Assistant
helpers) never slow down the others. Modules keep heavy imports inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
from collections.abc import Sequence

# (command path, module, one-line help)
COMMANDS: list[tuple[tuple[str, ...], str, str]] = [
    (("run",), "devkit.demo.run", "run the demo community: simulators, Home Assistant and the county receiver"),
    (("sim", "controller"), "devkit.sim.controller_cmd", "simulate a hub-native door controller (Modbus TCP)"),
    (("sim", "io-module"), "devkit.sim.io_module_cmd", "simulate a generic Modbus relay/input module"),
    (("sim", "camera"), "devkit.sim.camera_cmd", "simulate an IP camera (JPEG snapshot, MJPEG) with real photos"),
    (("sim", "anpr"), "devkit.sim.anpr_cmd",
     "simulate a plate-recognition camera pushing reads (Hikvision, Dahua, Vzenith, Frigate) to the hub"),
    (("receiver",), "devkit.receiver.cmd", "run the county side of the JSON uplink profile"),
    (("county",), "devkit.county.cmd",
     "run the county side of the MQTT uplink profile: consume every hub, store once, acknowledge after COMMIT"),
    (("audit", "verify"), "devkit.audit.verify_cmd", "check the audit log's hash chain (exit 1 if tampered with)"),
    (("bench", "modbus"), "devkit.bench.modbus", "door release round trip and input latency over Modbus"),
    (("bench", "faces"), "devkit.bench.faces", "face verification and open-set identification accuracy"),
    (("bench", "match"), "devkit.bench.match", "1:N template search time"),
    (("bench", "gate"), "devkit.bench.gate", "presence to door release through the face engine"),
    (("bench", "bursts"), "devkit.bench.bursts",
     "gate bursts from a folder through the gate's own face check: residents let in, attacks per kind"),
    (("bench", "build-bursts"), "devkit.bench.burst_builder",
     "camera-like 1080p gate bursts (still and approaching residents, prints, phone replays) from photos"),
    (("bench", "uplink"), "devkit.bench.uplink", "journal and drain events to a receiver"),
    (("bench", "accesslog"), "devkit.bench.accesslog", "access-log page and export speed over a large journal"),
    (("bench", "scale"), "devkit.bench.scale", "decision time against community size, and after an enrolment"),
    (("bench", "vehicles"), "devkit.bench.vehicles",
     "plate camera push to barrier acknowledged, then a resent backlog: no pass twice upstream"),
    (("bench", "durability"), "devkit.bench.durability",
     "kill the hub (or cut its power) at random moments: nothing acknowledged lost, each door in order"),
]


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its package is not there either
        return False


def build_parser() -> argparse.ArgumentParser:
    """The full parser; only commands whose module is installed are offered."""
    parser = argparse.ArgumentParser(prog="community-hub", description=__doc__.split("\n", 1)[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    top = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}
    for path, module, help_text in COMMANDS:
        if not _available(module):
            continue
        target = top
        if len(path) == 2:
            if path[0] not in groups:
                group = top.add_parser(path[0], help=f"{path[0]} commands")
                groups[path[0]] = group.add_subparsers(dest="subcommand", required=True, metavar="KIND")
            target = groups[path[0]]
        sub = target.add_parser(path[-1], help=help_text, description=help_text)
        mod = importlib.import_module(module)
        mod.add_arguments(sub)
        sub.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen subcommand."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    result: int = importlib.import_module(args._module).run(args)
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
