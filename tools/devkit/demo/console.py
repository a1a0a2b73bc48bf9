"""Simulator commands typed on the demo's standard input (open a door, press an exit button, swipe a card)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import stat
import sys
from typing import TYPE_CHECKING

from devkit.sim.camera import CameraSim
from devkit.sim.door_controller import DoorControllerSim

if TYPE_CHECKING:
    from .car_park import DemoCarPark

HELP = """\
Commands (doors are numbered 1..N across all controllers):
  open D | close D          open or close door D's contact
  exit D                    press door D's exit button
  card D NUMBER             present a card at door D's reader
  pin D CODE PIN            type a keypad code, then its PIN, at door D's keypad
  tamper D on|off           open or close door D's reader tamper switch
  presence D on|off         someone steps into / out of door D's presence sensor
  link C down|up            cut or restore controller C's network link
  camera person NAME | camera stranger | camera photo NAME | camera phone NAME | camera nobody
                            who stands in front of the gate camera (NAME as in demo/faces, e.g. John_Salley)
  camera link down|up       cut or restore the gate camera's network link (its background probe notices)
  car LANE PLATE            a car at a car-park lane (entry, exit, east-entry, east-exit): its camera pushes
                            PLATE in its own format (Hikvision, Vzenith, Dahua, Frigate)
  state                     print every simulator's state as JSON
  help                      this text"""

KEYPAD_PAUSE_S = 1.0


class SimulatorConsole:
    """Reads commands from standard input while the demo runs; quiet when stdin is not a terminal or closed."""

    def __init__(self, sims: list[DoorControllerSim], camera: CameraSim | None = None,
                 car_park: DemoCarPark | None = None) -> None:
        self.sims = sims
        self.camera = camera
        self.car_park = car_park
        self._reading = False
        self._buffer = b""
        self._pending: set[asyncio.Task[None]] = set()

    def _door(self, number: str) -> tuple[DoorControllerSim, int]:
        index = int(number) - 1
        for sim in self.sims:
            if 0 <= index < len(sim.doors):
                return sim, index
            index -= len(sim.doors)
        raise ValueError(f"there is no door {number}")

    async def execute(self, line: str) -> str:
        """Run one command; returns what to print."""
        words = line.split()
        if not words:
            return ""
        cmd, rest = words[0].lower(), words[1:]
        try:
            if cmd == "help":
                return HELP
            if cmd == "state":
                return json.dumps([sim.snapshot() for sim in self.sims], indent=2)
            if cmd == "camera" and self.camera is not None and len(rest) == 2 and rest[0] == "link" \
                    and rest[1] in ("up", "down"):
                await self.camera.set_link(rest[1] == "up")
                return f"gate camera link {rest[1]}"
            if cmd == "camera" and self.camera is not None and rest:
                self.camera.set_scene(rest[0], rest[1] if len(rest) > 1 else None)
                return f"gate camera shows: {' '.join(rest)}"
            if cmd == "car" and self.car_park is not None:
                if len(rest) != 2:
                    raise ValueError("car LANE PLATE (entry, exit, east-entry, east-exit)")
                return await self.car_park.drive(rest[0].lower(), rest[1])
            if cmd == "link" and len(rest) == 2 and rest[1] in ("up", "down"):
                sim = self.sims[int(rest[0]) - 1]
                await sim.set_link(rest[1] == "up")
                return f"controller {sim.serial} link {rest[1]}"
            if not rest:
                raise ValueError("which door?")
            sim, index = self._door(rest[0])
            if cmd in ("open", "close"):
                sim.set_door_open(index, cmd == "open")
            elif cmd == "exit":
                sim.press_exit(index)
            elif cmd == "card" and len(rest) == 2:
                sim.swipe_card(index, int(rest[1]))
            elif cmd == "pin" and len(rest) == 3:
                sim.enter_pin(index, rest[1])
                await asyncio.sleep(KEYPAD_PAUSE_S)  # a person's pause between the two entries
                sim.enter_pin(index, rest[2])
            elif cmd in ("tamper", "presence") and len(rest) == 2 and rest[1] in ("on", "off"):
                setter = sim.set_tamper if cmd == "tamper" else sim.set_presence
                setter(index, rest[1] == "on")
            else:
                return f"unknown command: {line.strip()!r} (type 'help')"
            return "ok"
        except (ValueError, IndexError) as err:
            return f"error: {err}"

    def _on_input(self) -> None:
        # Read what is there straight from the descriptor: a buffered readline would keep a second line that
        # arrived in the same chunk until more input came.
        data = os.read(sys.stdin.fileno(), 65536)
        if not data:  # stdin closed: keep running without the console
            asyncio.get_running_loop().remove_reader(sys.stdin.fileno())
            self._reading = False
            return
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        if lines:
            self._pending.add(task := asyncio.create_task(self._answer(lines)))
            task.add_done_callback(self._pending.discard)

    async def _answer(self, lines: list[bytes]) -> None:
        for line in lines:
            reply = await self.execute(line.decode(errors="replace"))
            if reply:
                print(reply, flush=True)

    def start(self) -> None:
        """Start reading commands from a terminal or a pipe (no thread: the event loop watches the descriptor)."""
        if sys.stdin is None or sys.stdin.closed:
            return
        try:
            mode = os.fstat(sys.stdin.fileno()).st_mode
        except (OSError, ValueError):
            return
        if sys.stdin.isatty() or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            asyncio.get_running_loop().add_reader(sys.stdin.fileno(), self._on_input)
            self._reading = True

    async def stop(self) -> None:
        """Stop reading commands."""
        if self._reading:
            asyncio.get_running_loop().remove_reader(sys.stdin.fileno())
            self._reading = False
        for task in list(self._pending):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
