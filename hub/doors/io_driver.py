"""Doors on a generic Modbus I/O module, driven like a hub-native controller.

The module has no identity block and no door modes, so the hub supplies both: the identity comes from the
configuration, and the modes are kept here: locked down refuses releases, free passage holds the strike relay
on, normal lets it go.
"""

from __future__ import annotations

from dataclasses import replace

from devices.exceptions import DeviceProtocolError
from devices.hub_native_map import DoorMode
from devices.io_module import IoDoorController
from devices.models import ControllerInfo, DoorStatus


class IoModuleDriver:
    """An :class:`IoDoorController` with the door-controller calls :class:`ControllerService` makes."""

    def __init__(self, doors: IoDoorController, *, serial: str, model: str = "I/O module") -> None:
        self.doors = doors
        self._info = ControllerInfo(
            serial=serial, model=model, firmware="", door_count=doors.door_count, map_version=0
        )
        self._modes = [DoorMode.NORMAL] * doors.door_count

    @property
    def host(self) -> str:
        """Host of the module."""
        return self.doors.module.host

    @property
    def port(self) -> int:
        """TCP port of the module."""
        return self.doors.module.port

    @property
    def connected(self) -> bool:
        """Whether the TCP connection is up right now."""
        return self.doors.module.connected

    async def read_info(self) -> ControllerInfo:
        """The configured identity, after proving the module answers."""
        await self.doors.module.read_inputs()
        return self._info

    async def read_doors(self) -> list[DoorStatus]:
        """Every door, with the mode the hub keeps for it."""
        statuses = await self.doors.read_doors()
        return [replace(status, mode=self._modes[status.index]) for status in statuses]

    async def release(self, door: int, seconds: int) -> None:
        """Release a door, unless the hub has locked it down."""
        self.doors._mapping(door)
        if self._modes[door] is DoorMode.LOCKDOWN:
            raise DeviceProtocolError(f"door {door} is locked down")
        await self.doors.release(door, seconds)

    async def relock(self, door: int) -> None:
        """End a release at once (free passage ends too)."""
        await self.doors.relock(door)

    async def set_mode(self, door: int, mode: DoorMode) -> None:
        """Normal, locked down (strike off, releases refused) or free passage (strike held on)."""
        mapping = self.doors._mapping(door)
        if mode is DoorMode.FREE_PASSAGE:
            await self.doors.module.set_relay(mapping.strike_relay, mapping.relay_on_unlocks)
        else:
            await self.doors.relock(door)
        self._modes[door] = mode

    async def close(self) -> None:
        """Close the module's connection (switching off pending releases)."""
        await self.doors.close()
