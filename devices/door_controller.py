"""Driver for the hub-native door controller over Modbus TCP (register map in :mod:`devices.hub_native_map`).

One TCP connection per controller; requests are serialised on it, and after the device or the network drops the
driver reconnects by itself on the next request, with a capped exponential backoff between attempts.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import hub_native_map as rmap
from .exceptions import DeviceProtocolError, DeviceValueError
from .modbus_link import DEFAULT_PORT, DEFAULT_TIMEOUT, ModbusDevice, ModbusLink
from .models import ControllerInfo, CredentialRead, DoorStatus


class DoorController(ModbusDevice):
    """A hub-native door controller: read its doors, release them, set their mode."""

    def __init__(
        self, host: str, port: int = DEFAULT_PORT, *, unit_id: int = 1, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.link = ModbusLink(host, port, unit_id=unit_id, timeout=timeout)
        self._door_count: int | None = None

    async def read_info(self) -> ControllerInfo:
        """Read the identity block; also tells the driver how many doors there are."""
        regs = await self.link.read_input_registers(rmap.IDENTITY_ADDRESS, rmap.IDENTITY_SIZE)
        version, doors = regs[0], regs[1]
        if version != rmap.MAP_VERSION:
            raise DeviceProtocolError(f"unsupported register map version {version} (this driver speaks 1)")
        if not 1 <= doors <= rmap.MAX_DOORS:
            raise DeviceProtocolError(f"controller reports {doors} doors; expected 1-{rmap.MAX_DOORS}")
        self._door_count = doors
        fw = regs[rmap.FIRMWARE_ADDRESS]
        return ControllerInfo(
            serial=rmap.decode_ascii(regs[rmap.SERIAL_ADDRESS : rmap.SERIAL_ADDRESS + rmap.SERIAL_REGISTERS]),
            model=rmap.decode_ascii(regs[rmap.MODEL_ADDRESS : rmap.MODEL_ADDRESS + rmap.MODEL_REGISTERS]),
            firmware=f"{fw >> 8}.{fw & 0xFF}",
            door_count=doors,
            map_version=version,
        )

    async def read_doors(self) -> list[DoorStatus]:
        """Read every door's status, in as few requests as the register map allows."""
        if self._door_count is None:
            await self.read_info()
        assert self._door_count is not None
        doors: list[DoorStatus] = []
        for first in range(0, self._door_count, rmap.DOORS_PER_READ):
            n = min(rmap.DOORS_PER_READ, self._door_count - first)
            regs = await self.link.read_input_registers(
                rmap.door_status_address(first), n * rmap.DOOR_STATUS_SIZE
            )
            for i in range(n):
                block = regs[i * rmap.DOOR_STATUS_SIZE : (i + 1) * rmap.DOOR_STATUS_SIZE]
                doors.append(decode_door_status(first + i, block))
        return doors

    def _check_door(self, door: int) -> None:
        if self._door_count is not None and not 0 <= door < self._door_count:
            raise DeviceValueError(f"door {door} does not exist (controller has {self._door_count})")
        if door < 0:
            raise DeviceValueError(f"door {door} does not exist")

    async def release(self, door: int, seconds: int) -> None:
        """Unlock ``door`` for ``seconds``; returns once the controller has acknowledged the command.

        Sent once, never again: if the link drops while the release is in flight this raises
        :class:`~devices.exceptions.DeviceOutcomeUnknownError` (the door may or may not have been released).
        """
        self._check_door(door)
        if not 1 <= seconds <= rmap.MAX_RELEASE_SECONDS:
            raise DeviceValueError(f"release time must be 1-{rmap.MAX_RELEASE_SECONDS} s, not {seconds}")
        await self.link.write_register(rmap.door_command_address(door) + rmap.REG_RELEASE, seconds)

    async def relock(self, door: int) -> None:
        """End a release at once."""
        self._check_door(door)
        await self.link.write_register(rmap.door_command_address(door) + rmap.REG_RELEASE, 0)

    async def set_mode(self, door: int, mode: rmap.DoorMode) -> None:
        """Put a door in normal, locked-down or free-passage mode."""
        self._check_door(door)
        await self.link.write_register(rmap.door_command_address(door) + rmap.REG_MODE, int(mode))

    async def set_held_open_timeout(self, door: int, seconds: int) -> None:
        """Set how long a door may stand open before the controller counts it as held open."""
        self._check_door(door)
        if not 1 <= seconds <= rmap.MAX_RELEASE_SECONDS:
            raise DeviceValueError(f"held-open timeout must be 1-{rmap.MAX_RELEASE_SECONDS} s, not {seconds}")
        await self.link.write_register(rmap.door_command_address(door) + rmap.REG_HELD_OPEN, seconds)


def decode_door_status(index: int, block: Sequence[int]) -> DoorStatus:
    """Decode one door's status block (see the register map)."""
    if len(block) != rmap.DOOR_STATUS_SIZE:
        raise DeviceProtocolError(f"door {index}: status block has {len(block)} registers")
    bits = rmap.StatusBit(block[0] & 0x3F)
    mode_raw = (block[0] & rmap.MODE_MASK) >> rmap.MODE_SHIFT
    try:
        mode = rmap.DoorMode(mode_raw)
        kind = rmap.CredentialKind(block[3])
    except ValueError as err:
        raise DeviceProtocolError(f"door {index}: {err}") from err
    value = block[4] << 16 | block[5]
    credential: CredentialRead | None = None
    if kind is rmap.CredentialKind.CARD:
        credential = CredentialRead(sequence=block[2], kind=kind, value=str(value))
    elif kind is rmap.CredentialKind.PIN:
        if not 1 <= block[6] <= 9:
            raise DeviceProtocolError(f"door {index}: PIN length {block[6]} out of range")
        credential = CredentialRead(sequence=block[2], kind=kind, value=str(value).zfill(block[6]))
    return DoorStatus(
        index=index,
        locked=rmap.StatusBit.LOCKED in bits,
        door_open=rmap.StatusBit.DOOR_OPEN in bits,
        exit_button=rmap.StatusBit.EXIT_BUTTON in bits,
        tamper=rmap.StatusBit.TAMPER in bits,
        presence=rmap.StatusBit.PRESENCE in bits,
        barrier_open=rmap.StatusBit.BARRIER_OPEN in bits,
        release_seconds_left=block[1],
        credential_sequence=block[2],
        last_credential=credential,
        releases=block[7],
        mode=mode,
    )
