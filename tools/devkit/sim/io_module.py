"""A simulated generic Modbus relay/input module: a real pymodbus TCP server with N coils and M discrete inputs.

The Python API plays the physical side (:meth:`IoModuleSim.set_input` for a contact or a button) and cuts the
network link, like :class:`~devkit.sim.door_controller.DoorControllerSim`; coil writes from a client switch the
simulated relays and are logged with a timestamp so tests can check how long a relay stayed on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from devices import _pymodbus as mb
from devices.discovery import DeviceAdvertisement, DeviceProfile

from .modbus_server import ModbusSimServer

_LOGGER = logging.getLogger(__name__)


class _IoStore(mb.SimDatastore):
    """The module's tables; coil writes from a client are reported to the simulator (relay log, change callback)."""

    def __init__(self, sim: IoModuleSim, coils: int, inputs: int) -> None:
        self._sim = sim
        super().__init__(coils=coils, discrete_inputs=inputs, holding_registers=8, input_registers=8)

    def write(self, table: mb.Table, address: int, values: list[int]) -> None:
        super().write(table, address, values)
        if table == "coils":
            for offset, value in enumerate(values):
                self._sim.relay_written(address + offset, bool(value))


class IoModuleSim(ModbusSimServer):
    """A relay/input module simulated on a real Modbus TCP socket."""

    def __init__(
        self,
        *,
        relays: int = 8,
        inputs: int = 8,
        relay_address: int = 0,
        input_address: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 1 <= relays <= 2000 or not 1 <= inputs <= 2000:
            raise ValueError("relays and inputs must be 1-2000")
        self.relay_count = relays
        self.input_count = inputs
        self.relay_address = relay_address
        self.input_address = input_address
        self._clock = clock
        self._tables = _IoStore(self, relay_address + relays, input_address + inputs)
        super().__init__(self._tables, host=host, port=port, label="I/O module")
        # (time, relay, on) for every coil write a client made, in order.
        self.relay_log: list[tuple[float, int, bool]] = []
        self.on_change: Callable[[], None] | None = None

    # -- the Modbus side ---------------------------------------------------------------------------------------
    def relay_written(self, address: int, on: bool) -> None:
        """Record a client's write of the coil at protocol ``address``."""
        relay = address - self.relay_address
        if 0 <= relay < self.relay_count:
            self.relay_log.append((self._clock(), relay, on))
            _LOGGER.info("relay %s %s", relay, "on" if on else "off")
            self._changed()

    @property
    def relays(self) -> list[bool]:
        """The relays' current states."""
        coils = self._tables.tables["coils"]
        return [bool(v) for v in coils[self.relay_address : self.relay_address + self.relay_count]]

    @property
    def inputs(self) -> list[bool]:
        """The inputs' current states."""
        inputs = self._tables.tables["discrete_inputs"]
        return [bool(v) for v in inputs[self.input_address : self.input_address + self.input_count]]


    # -- the physical side -------------------------------------------------------------------------------------
    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def set_input(self, index: int, on: bool) -> None:
        """Drive a digital input (a door contact closing, a button pressed)."""
        if not 0 <= index < self.input_count:
            raise ValueError(f"input {index} does not exist (this module has {self.input_count})")
        self._tables.tables["discrete_inputs"][self.input_address + index] = int(on)
        self._changed()

    def set_relay(self, index: int, on: bool) -> None:
        """Switch a relay from the module's front panel (or as after a power cycle), bypassing Modbus."""
        if not 0 <= index < self.relay_count:
            raise ValueError(f"relay {index} does not exist (this module has {self.relay_count})")
        self._tables.tables["coils"][self.relay_address + index] = int(on)
        self._changed()

    def advertisement(self, serial: str = "SIMIO0001", model: str = "SIM-IO") -> DeviceAdvertisement:
        """What this module announces over zeroconf (see :func:`devices.discovery.advertise`); call after start."""
        return DeviceAdvertisement(serial=serial, model=model, profile=DeviceProfile.IO_MODULE, port=self.port,
                                   addresses=[self.host], unit_id=1)

    def snapshot(self) -> dict[str, Any]:
        """The simulator's state, for the control endpoint and for tests."""
        return {
            "host": self.host,
            "port": self.port,
            "link_up": self.running,
            "relays": self.relays,
            "inputs": self.inputs,
            "relay_writes": len(self.relay_log),
        }
