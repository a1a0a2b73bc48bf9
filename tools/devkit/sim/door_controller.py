"""A simulated hub-native door controller: a real pymodbus TCP server with the register map of
:mod:`devices.hub_native_map`, plus a Python API (and an HTTP control endpoint, see :mod:`devkit.sim.control`) to
open doors, press exit buttons, swipe cards and cut the link.

Time-based state (a release running out) is computed when a register is read, so the simulator needs no timer task
and runs entirely on the event loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devices import _pymodbus as mb
from devices import hub_native_map as rmap

from .modbus_server import ModbusSimServer

_LOGGER = logging.getLogger(__name__)
EXIT_PRESS_SECONDS = 1.0


@dataclass
class SimDoor:
    """One simulated door: its lock, contact, buttons, reader and settings."""

    index: int
    release_until: float = 0.0
    door_open: bool = False
    exit_pressed_until: float = 0.0
    tamper: bool = False
    presence: bool = False
    barrier_open: bool = False
    mode: rmap.DoorMode = rmap.DoorMode.NORMAL
    held_open_timeout: int = rmap.DEFAULT_HELD_OPEN_SECONDS
    credential_sequence: int = 0
    credential_kind: rmap.CredentialKind = rmap.CredentialKind.NONE
    credential_value: int = 0
    pin_length: int = 0
    releases: int = 0
    release_log: list[tuple[float, int]] = field(default_factory=list)

    def seconds_left(self, now: float) -> int:
        """Whole seconds left of the current release (rounded up)."""
        left = self.release_until - now
        return max(0, int(left + 0.999)) if left > 0 else 0

    def locked(self, now: float) -> bool:
        """Whether the strike is locked right now."""
        if self.mode is rmap.DoorMode.FREE_PASSAGE:
            return False
        return now >= self.release_until

    def status_block(self, now: float) -> list[int]:
        """This door's status block as the register map lays it out."""
        bits = 0
        if self.locked(now):
            bits |= rmap.StatusBit.LOCKED
        if self.door_open:
            bits |= rmap.StatusBit.DOOR_OPEN
        if now < self.exit_pressed_until:
            bits |= rmap.StatusBit.EXIT_BUTTON
        if self.tamper:
            bits |= rmap.StatusBit.TAMPER
        if self.presence:
            bits |= rmap.StatusBit.PRESENCE
        if self.barrier_open:
            bits |= rmap.StatusBit.BARRIER_OPEN
        bits |= int(self.mode) << rmap.MODE_SHIFT
        return [
            int(bits),
            self.seconds_left(now),
            self.credential_sequence & 0xFFFF,
            int(self.credential_kind),
            (self.credential_value >> 16) & 0xFFFF,
            self.credential_value & 0xFFFF,
            self.pin_length,
            self.releases & 0xFFFF,
        ]

    def command_block(self, now: float) -> list[int]:
        """This door's command block as a read of the holding registers returns it."""
        return [self.seconds_left(now), int(self.mode), self.held_open_timeout, 0]


class _ControllerStore(mb.SimDatastore):
    """The controller's tables: input and holding registers are computed from the simulator's state on every read;
    writes to holding registers are commands that the simulator validates."""

    def __init__(self, sim: DoorControllerSim) -> None:
        self._sim = sim
        super().__init__(
            coils=8,
            discrete_inputs=8,
            holding_registers=rmap.door_command_address(len(sim.doors)) + 1,
            input_registers=rmap.door_status_address(len(sim.doors)) + 1,
        )

    def read(self, table: mb.Table, address: int, count: int) -> list[int]:
        if table == "input_registers":
            self._sim.refresh_inputs(self.tables[table])
        elif table == "holding_registers":
            self._sim.refresh_commands(self.tables[table])
        return super().read(table, address, count)

    def write(self, table: mb.Table, address: int, values: list[int]) -> None:
        if table != "holding_registers":
            super().write(table, address, values)
            return
        for offset, value in enumerate(values):
            self._sim.handle_command_write(address + offset, int(value))


class DoorControllerSim(ModbusSimServer):
    """A hub-native door controller simulated on a real Modbus TCP socket."""

    def __init__(
        self,
        *,
        doors: int = 2,
        serial: str = "SIMDC0001",
        model: str = "SIM-DC",
        firmware: tuple[int, int] = (1, 0),
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 1 <= doors <= rmap.MAX_DOORS:
            raise ValueError(f"doors must be 1-{rmap.MAX_DOORS}")
        self.serial = serial
        self.model = model
        self.firmware = firmware
        self.doors = [SimDoor(i) for i in range(doors)]
        self._clock = clock
        super().__init__(_ControllerStore(self), host=host, port=port, label=f"door controller {serial}")
        self.on_change: Callable[[], None] | None = None

    # -- the Modbus side ---------------------------------------------------------------------------------------
    def refresh_inputs(self, values: list[int]) -> None:
        """Fill the input-register image from the current state."""
        now = self._clock()
        ident = [rmap.MAP_VERSION, len(self.doors), *rmap.encode_ascii(self.serial, rmap.SERIAL_REGISTERS),
                 *rmap.encode_ascii(self.model, rmap.MODEL_REGISTERS), self.firmware[0] << 8 | self.firmware[1]]
        values[: len(ident)] = ident
        for door in self.doors:
            start = rmap.door_status_address(door.index)
            values[start : start + rmap.DOOR_STATUS_SIZE] = door.status_block(now)

    def refresh_commands(self, values: list[int]) -> None:
        """Fill the holding-register image from the current state."""
        now = self._clock()
        for door in self.doors:
            start = rmap.door_command_address(door.index)
            values[start : start + rmap.DOOR_COMMAND_SIZE] = door.command_block(now)

    def handle_command_write(self, address: int, value: int) -> None:
        """Apply a write to a holding register, as the controller's firmware would."""
        offset = address - rmap.DOOR_COMMAND_BASE
        index, reg = divmod(offset, rmap.DOOR_COMMAND_SIZE)
        if offset < 0 or index >= len(self.doors):
            raise mb.WriteRefusedError(f"no door command register at {address}")
        door = self.doors[index]
        now = self._clock()
        if reg == rmap.REG_RELEASE:
            if value == 0:
                door.release_until = 0.0
            elif value > rmap.MAX_RELEASE_SECONDS:
                raise mb.WriteRefusedError(f"release of {value} s is out of range")
            elif door.mode is rmap.DoorMode.LOCKDOWN:
                raise mb.WriteRefusedError(f"door {index} is locked down")
            else:
                door.release_until = now + value
                door.releases += 1
                door.release_log.append((now, value))
                _LOGGER.info("door %s released for %s s", index, value)
        elif reg == rmap.REG_MODE:
            try:
                door.mode = rmap.DoorMode(value)
            except ValueError as err:
                raise mb.WriteRefusedError(f"mode {value} does not exist") from err
            if door.mode is rmap.DoorMode.LOCKDOWN:
                door.release_until = 0.0
        elif reg == rmap.REG_HELD_OPEN:
            if not 1 <= value <= rmap.MAX_RELEASE_SECONDS:
                raise mb.WriteRefusedError(f"held-open timeout {value} out of range")
            door.held_open_timeout = value
        else:
            raise mb.WriteRefusedError(f"register {address} is read-only")
        self._changed()


    # -- the physical side -------------------------------------------------------------------------------------
    def _door(self, index: int) -> SimDoor:
        if not 0 <= index < len(self.doors):
            raise ValueError(f"door {index} does not exist (this controller has {len(self.doors)})")
        return self.doors[index]

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def set_door_open(self, index: int, is_open: bool) -> None:
        """Open or close a door's contact (someone pushes the door, or it swings shut)."""
        self._door(index).door_open = is_open
        self._changed()

    def press_exit(self, index: int, seconds: float = EXIT_PRESS_SECONDS) -> None:
        """Press the exit button for a moment."""
        self._door(index).exit_pressed_until = self._clock() + seconds
        self._changed()

    def set_tamper(self, index: int, active: bool) -> None:
        """Open or close the reader's tamper switch."""
        self._door(index).tamper = active
        self._changed()

    def set_presence(self, index: int, present: bool) -> None:
        """Someone steps into (or out of) the gate's presence sensor."""
        self._door(index).presence = present
        self._changed()

    def set_barrier(self, index: int, is_open: bool) -> None:
        """Move the gate's barrier."""
        self._door(index).barrier_open = is_open
        self._changed()

    def swipe_card(self, index: int, number: int) -> None:
        """Present a card to a door's reader."""
        if not 0 <= number < 2**32:
            raise ValueError("card numbers are 32-bit")
        door = self._door(index)
        door.credential_sequence = (door.credential_sequence + 1) & 0xFFFF
        door.credential_kind = rmap.CredentialKind.CARD
        door.credential_value = number
        door.pin_length = 0
        self._changed()

    def enter_pin(self, index: int, pin: str) -> None:
        """Type a PIN on a door's keypad."""
        if not (pin.isdigit() and 1 <= len(pin) <= 9):
            raise ValueError("a PIN is 1-9 digits")
        door = self._door(index)
        door.credential_sequence = (door.credential_sequence + 1) & 0xFFFF
        door.credential_kind = rmap.CredentialKind.PIN
        door.credential_value = int(pin)
        door.pin_length = len(pin)
        self._changed()

    def snapshot(self) -> dict[str, Any]:
        """The simulator's state, for the control endpoint and for tests."""
        now = self._clock()
        return {
            "serial": self.serial,
            "model": self.model,
            "host": self.host,
            "port": self.port,
            "link_up": self.running,
            "doors": [
                {
                    "index": d.index,
                    "locked": d.locked(now),
                    "release_seconds_left": d.seconds_left(now),
                    "door_open": d.door_open,
                    "exit_button": now < d.exit_pressed_until,
                    "tamper": d.tamper,
                    "presence": d.presence,
                    "barrier_open": d.barrier_open,
                    "mode": d.mode.name.lower(),
                    "held_open_timeout": d.held_open_timeout,
                    "releases": d.releases,
                }
                for d in self.doors
            ],
        }
