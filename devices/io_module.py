"""Driver for generic Modbus TCP relay/input modules (the "io-module" door profile).

Many sites drive their doors from cheap boxes with N relays (Modbus coils) and M digital inputs (discrete
inputs) instead of a door controller. Such a box knows nothing about doors: the hub wires a :class:`DoorMapping`
onto it (which relay drives the strike, which input is the door contact, ...) and
:func:`door_status_from_io` turns the raw bits into the same :class:`~devices.models.DoorStatus` the hub-native
controller reports, so the hub treats both profiles alike (:class:`IoDoorController` offers the same
``read_doors``/``release``/``relock`` calls as :class:`~devices.door_controller.DoorController`).

Timed releases. The module has no timer, so :meth:`IoModule.pulse_relay` switches the relay on and a task of
the driver switches it off when the time is up. A door must not stay unlocked because that one write failed:

* the switch-off is retried (0.2 s, doubling to 5 s) until the module acknowledges it, for as long as the driver
  lives; the first request after the link comes back is therefore the switch-off;
* any successful :meth:`IoModule.read_relays` that still finds an expired pulse's relay on switches it off again
  (the module may have been power-cycled into the "on" state, or someone else wrote the coil);
* :meth:`IoModule.close` switches every pending pulse's relay off at once (best effort) before it returns.

What the driver cannot cover: if the hub itself stops (crash, power loss) while a relay is on, nothing switches
it off. Sites that need that guarantee use a module with its own pulse ("flash") or watchdog function, or wire
the strike fail-secure; the documentation (``docs/devices-cameras-discovery.md``) says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from .exceptions import DeviceError, DeviceValueError
from .hub_native_map import MAX_RELEASE_SECONDS, DoorMode
from .modbus_link import DEFAULT_PORT, DEFAULT_TIMEOUT, ModbusDevice, ModbusLink
from .models import DoorStatus

_LOGGER = logging.getLogger(__name__)

OFF_RETRY_INITIAL = 0.2
OFF_RETRY_MAX = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DoorMapping:
    """Which relay and inputs of an I/O module belong to one door.

    Inputs are read as "active when on": ``door_open`` is true while the contact input is on, and so on. Inputs
    wired normally-closed (a reed contact that closes while the door is shut, a tamper loop) are listed in
    ``inverted_inputs`` and read the other way round.
    """

    strike_relay: int
    contact_input: int | None = None
    exit_input: int | None = None
    tamper_input: int | None = None
    presence_input: int | None = None
    barrier_input: int | None = None
    inverted_inputs: frozenset[int] = field(default_factory=frozenset)
    # Most strikes unlock while powered through the relay; a fail-safe maglock wired through the relay's
    # normally-closed contact unlocks while the relay is on as well, so "on unlocks" covers both usual wirings.
    relay_on_unlocks: bool = True

    def used_inputs(self) -> list[int]:
        """Every input index this door reads."""
        return [
            i
            for i in (self.contact_input, self.exit_input, self.tamper_input, self.presence_input, self.barrier_input)
            if i is not None
        ]


def door_status_from_io(
    index: int,
    mapping: DoorMapping,
    inputs: Sequence[bool],
    relays: Sequence[bool],
    *,
    release_seconds_left: int = 0,
    releases: int = 0,
) -> DoorStatus:
    """A door's status from an I/O module's raw inputs and relays, in the hub-native controller's terms.

    The module has no card reader and no modes, so the credential fields are empty and the mode is normal.
    """
    for i in [*mapping.used_inputs(), *mapping.inverted_inputs]:
        if not 0 <= i < len(inputs):
            raise DeviceValueError(f"door {index}: input {i} does not exist (module has {len(inputs)})")
    if not 0 <= mapping.strike_relay < len(relays):
        raise DeviceValueError(f"door {index}: relay {mapping.strike_relay} does not exist (module has {len(relays)})")

    def active(i: int | None) -> bool:
        if i is None:
            return False
        return inputs[i] != (i in mapping.inverted_inputs)

    unlocked = relays[mapping.strike_relay] == mapping.relay_on_unlocks
    return DoorStatus(
        index=index,
        locked=not unlocked,
        door_open=active(mapping.contact_input),
        exit_button=active(mapping.exit_input),
        tamper=active(mapping.tamper_input),
        presence=active(mapping.presence_input),
        barrier_open=active(mapping.barrier_input),
        release_seconds_left=release_seconds_left if unlocked else 0,
        credential_sequence=0,
        last_credential=None,
        releases=releases & 0xFFFF,
        mode=DoorMode.NORMAL,
    )


class IoModule(ModbusDevice):
    """A Modbus TCP module with ``relays`` coils and ``inputs`` discrete inputs."""

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        unit_id: int = 1,
        relays: int = 8,
        inputs: int = 8,
        relay_address: int = 0,
        input_address: int = 0,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not 1 <= relays <= 2000 or not 1 <= inputs <= 2000:
            raise DeviceValueError("a module has 1-2000 relays and 1-2000 inputs (one Modbus read each)")
        self.link = ModbusLink(host, port, unit_id=unit_id, timeout=timeout)
        self.relay_count = relays
        self.input_count = inputs
        self.relay_address = relay_address
        self.input_address = input_address
        self._pulses: dict[int, tuple[float, asyncio.Task[None]]] = {}  # relay -> (deadline, switch-off task)
        self._expired: set[int] = set()  # pulses whose switch-off is not yet confirmed by the module
        self.releases: dict[int, int] = {}

    def _check_relay(self, relay: int) -> None:
        if not 0 <= relay < self.relay_count:
            raise DeviceValueError(f"relay {relay} does not exist (module has {self.relay_count})")

    async def read_inputs(self) -> list[bool]:
        """Every digital input."""
        return await self.link.read_discrete_inputs(self.input_address, self.input_count)

    async def read_relays(self) -> list[bool]:
        """Every relay; also switches off again any relay whose pulse has run out but is still on."""
        relays = await self.link.read_coils(self.relay_address, self.relay_count)
        for relay in sorted(self._expired):
            if relays[relay]:
                _LOGGER.warning("relay %s of %s:%s still on after its pulse; switching it off", relay, self.host,
                                self.port)
                with contextlib.suppress(DeviceError):
                    await self.link.write_coil(self.relay_address + relay, False)
                    relays[relay] = False
            if not relays[relay]:
                self._expired.discard(relay)
        return relays

    async def set_relay(self, relay: int, on: bool) -> None:
        """Switch a relay on or off for good (cancels a pending pulse on it)."""
        self._check_relay(relay)
        self._cancel_pulse(relay)
        self._expired.discard(relay)
        await self.link.write_coil(self.relay_address + relay, on)

    async def pulse_relay(self, relay: int, seconds: float) -> None:
        """Switch a relay on now and off after ``seconds``; returns once the module has acknowledged "on".

        A new pulse on a relay that is already pulsing replaces the old deadline. See the module docstring for
        what happens when the link drops before the switch-off.
        """
        self._check_relay(relay)
        if not 0 < seconds <= MAX_RELEASE_SECONDS:
            raise DeviceValueError(f"pulse time must be 0-{MAX_RELEASE_SECONDS} s, not {seconds}")
        self._cancel_pulse(relay)
        deadline = time.monotonic() + seconds
        # Schedule the switch-off before writing "on": if the write's acknowledgement is lost but the module did
        # switch, the relay still goes off in time.
        task = asyncio.create_task(self._switch_off_at(relay, deadline), name=f"io-module relay {relay} off")
        self._pulses[relay] = (deadline, task)
        await self.link.write_coil(self.relay_address + relay, True)
        self.releases[relay] = self.releases.get(relay, 0) + 1

    def pulse_seconds_left(self, relay: int) -> int:
        """Whole seconds left of a relay's pulse (0 when none runs)."""
        pulse = self._pulses.get(relay)
        if pulse is None:
            return 0
        left = pulse[0] - time.monotonic()
        return max(0, int(left + 0.999)) if left > 0 else 0

    def _cancel_pulse(self, relay: int) -> None:
        pulse = self._pulses.pop(relay, None)
        if pulse is not None:
            pulse[1].cancel()

    async def _switch_off_at(self, relay: int, deadline: float) -> None:
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        self._expired.add(relay)
        delay = OFF_RETRY_INITIAL
        while True:
            try:
                await self.link.write_coil(self.relay_address + relay, False)
            except DeviceError as err:
                _LOGGER.warning("cannot switch relay %s of %s:%s off (%s); retrying in %.1f s", relay, self.host,
                                self.port, err, delay)
                await asyncio.sleep(delay)
                delay = min(OFF_RETRY_MAX, delay * 2)
                continue
            break
        self._expired.discard(relay)
        if self._pulses.get(relay, (0.0, None))[1] is asyncio.current_task():
            del self._pulses[relay]

    async def close(self) -> None:
        """Switch off every relay with a pending pulse (best effort), stop the timers, close the connection."""
        pending = sorted({*self._pulses, *self._expired})
        for relay in list(self._pulses):
            self._cancel_pulse(relay)
        for relay in pending:
            try:
                await self.link.write_coil(self.relay_address + relay, False)
            except DeviceError as err:
                _LOGGER.error("relay %s of %s:%s may still be on at close: %s", relay, self.host, self.port, err)
        self._expired.clear()
        await self.link.close()


class IoDoorController:
    """Doors on an I/O module, with the hub-native controller's door calls (``read_doors``, ``release``, ...)."""

    def __init__(self, module: IoModule, doors: Sequence[DoorMapping]) -> None:
        if not doors:
            raise DeviceValueError("an I/O module door profile needs at least one door")
        for index, mapping in enumerate(doors):
            if not 0 <= mapping.strike_relay < module.relay_count:
                raise DeviceValueError(f"door {index}: relay {mapping.strike_relay} does not exist")
            for i in mapping.used_inputs():
                if not 0 <= i < module.input_count:
                    raise DeviceValueError(f"door {index}: input {i} does not exist")
        self.module = module
        self.doors = list(doors)

    @property
    def door_count(self) -> int:
        """Number of doors mapped onto the module."""
        return len(self.doors)

    def _mapping(self, door: int) -> DoorMapping:
        if not 0 <= door < len(self.doors):
            raise DeviceValueError(f"door {door} does not exist (module has {len(self.doors)} doors)")
        return self.doors[door]

    async def read_doors(self) -> list[DoorStatus]:
        """Every door's status, from one read of the inputs and one of the relays."""
        inputs = await self.module.read_inputs()
        relays = await self.module.read_relays()
        return [
            door_status_from_io(
                i,
                m,
                inputs,
                relays,
                release_seconds_left=self.module.pulse_seconds_left(m.strike_relay),
                releases=self.module.releases.get(m.strike_relay, 0),
            )
            for i, m in enumerate(self.doors)
        ]

    async def release(self, door: int, seconds: int) -> None:
        """Unlock ``door`` for ``seconds`` (the driver switches the strike back)."""
        mapping = self._mapping(door)
        if not 1 <= seconds <= MAX_RELEASE_SECONDS:
            raise DeviceValueError(f"release time must be 1-{MAX_RELEASE_SECONDS} s, not {seconds}")
        if mapping.relay_on_unlocks:
            await self.module.pulse_relay(mapping.strike_relay, seconds)
        else:
            # A relay that locks while on cannot be pulsed "off" with a safe fallback; refuse rather than guess.
            raise DeviceValueError(f"door {door}: timed release needs a relay that unlocks while on")

    async def relock(self, door: int) -> None:
        """End a release at once."""
        mapping = self._mapping(door)
        await self.module.set_relay(mapping.strike_relay, not mapping.relay_on_unlocks)

    async def close(self) -> None:
        """Close the module (switching off pending releases)."""
        await self.module.close()
