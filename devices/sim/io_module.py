"""A simulated generic Modbus relay/input module: a real pymodbus TCP server with N coils and M discrete inputs.

The Python API plays the physical side (:meth:`IoModuleSim.set_input` for a contact or a button) and cuts the
network link, like :class:`~devices.sim.door_controller.DoorControllerSim`; coil writes from a client switch the
simulated relays and are logged with a timestamp so tests can check how long a relay stayed on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from .. import _pymodbus as mb
from ..discovery import DeviceAdvertisement, DeviceProfile
from .modbus_server import ModbusSimServer

_LOGGER = logging.getLogger(__name__)


class _CoilBlock(mb.ModbusSequentialDataBlock):
    """Coils whose writes are reported to the simulator (for its relay log and change callback)."""

    def __init__(self, sim: IoModuleSim, size: int) -> None:
        self._sim = sim
        # pymodbus' slave context adds 1 to every protocol address, so the block starts at 1.
        super().__init__(1, [False] * size)

    def setValues(self, address: int, values: Any) -> None:  # noqa: N802 (pymodbus' name)
        new = list(values) if isinstance(values, Sequence) else [values]
        super().setValues(address, new)
        for offset, value in enumerate(new):
            self._sim.relay_written(address - 1 + offset, bool(value))


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
        self._coils = _CoilBlock(self, relay_address + relays)
        self._inputs = mb.ModbusSequentialDataBlock(1, [False] * (input_address + inputs))
        context = mb.make_server_context(
            coils=self._coils,
            discrete_inputs=self._inputs,
            holding=mb.ModbusSequentialDataBlock(1, [0] * 8),
            inputs=mb.ModbusSequentialDataBlock(1, [0] * 8),
        )
        super().__init__(context, host=host, port=port, label="I/O module")
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
        values = self._coils.getValues(self.relay_address + 1, self.relay_count)
        return [bool(v) for v in values]

    @property
    def inputs(self) -> list[bool]:
        """The inputs' current states."""
        values = self._inputs.getValues(self.input_address + 1, self.input_count)
        return [bool(v) for v in values]


    # -- the physical side -------------------------------------------------------------------------------------
    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def set_input(self, index: int, on: bool) -> None:
        """Drive a digital input (a door contact closing, a button pressed)."""
        if not 0 <= index < self.input_count:
            raise ValueError(f"input {index} does not exist (this module has {self.input_count})")
        self._inputs.setValues(self.input_address + index + 1, [on])
        self._changed()

    def set_relay(self, index: int, on: bool) -> None:
        """Switch a relay from the module's front panel (or as after a power cycle), bypassing Modbus."""
        if not 0 <= index < self.relay_count:
            raise ValueError(f"relay {index} does not exist (this module has {self.relay_count})")
        mb.ModbusSequentialDataBlock.setValues(self._coils, self.relay_address + index + 1, [on])
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
