"""The hub-native door controller's Modbus register map (version 1), shared by the driver and the simulator.

Documented for device makers in ``docs/devices.md``. Addresses are zero-based protocol addresses; every value is
an unsigned 16-bit register.

Identity (input registers 0-15)::

    0      register map version (1)
    1      number of doors (1-256)
    2-9    serial number, 16 ASCII characters, two per register, high byte first, NUL padded
    10-13  model, 8 ASCII characters
    14     firmware version (major * 256 + minor)

Door status, one block of ``DOOR_STATUS_SIZE`` input registers per door at ``door_status_address(d)``::

    +0  status bits: bit 0 locked, bit 1 door open (contact), bit 2 exit button pressed, bit 3 tamper,
        bit 4 presence at the gate, bit 5 barrier open, bits 6-7 the door's mode (mirrors holding register +1)
    +1  seconds left of the current release (0 when locked)
    +2  credential read sequence counter (increments by one per card swipe or PIN entry, wraps at 65536)
    +3  credential kind of the last read (0 none, 1 card, 2 PIN)
    +4  credential value, high word   (card number, or PIN digits as a number)
    +5  credential value, low word
    +6  PIN length in digits (keeps leading zeros); 0 for a card
    +7  releases accepted since power-up (wraps at 65536): lets a client notice a release it did not ask for

Door commands, one block of ``DOOR_COMMAND_SIZE`` holding registers per door at ``door_command_address(d)``::

    +0  release: write N (1-3600) to unlock for N seconds; writing 0 relocks at once. Reads back seconds left.
    +1  mode: 0 normal, 1 locked down (releases refused with exception code 4), 2 free passage (held unlocked)
    +2  held-open timeout in seconds (1-3600, default 30)
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

MAP_VERSION = 1
MAX_DOORS = 256
MAX_RELEASE_SECONDS = 3600
DEFAULT_HELD_OPEN_SECONDS = 30

IDENTITY_ADDRESS = 0
IDENTITY_SIZE = 15
SERIAL_ADDRESS = 2
SERIAL_REGISTERS = 8
MODEL_ADDRESS = 10
MODEL_REGISTERS = 4
FIRMWARE_ADDRESS = 14

DOOR_STATUS_BASE = 100
DOOR_STATUS_SIZE = 8
DOOR_COMMAND_BASE = 1000
DOOR_COMMAND_SIZE = 4

# One read request may carry at most 125 registers; whole door blocks per request keep decoding simple.
DOORS_PER_READ = 125 // DOOR_STATUS_SIZE

REG_RELEASE = 0
REG_MODE = 1
REG_HELD_OPEN = 2


class StatusBit(IntFlag):
    """Bits of a door's status register."""

    LOCKED = 1
    DOOR_OPEN = 2
    EXIT_BUTTON = 4
    TAMPER = 8
    PRESENCE = 16
    BARRIER_OPEN = 32


MODE_SHIFT = 6
MODE_MASK = 0b11 << MODE_SHIFT


class DoorMode(IntEnum):
    """A door's operating mode."""

    NORMAL = 0
    LOCKDOWN = 1
    FREE_PASSAGE = 2


class CredentialKind(IntEnum):
    """What the reader at a door last read."""

    NONE = 0
    CARD = 1
    PIN = 2


def door_status_address(door: int) -> int:
    """First input register of a door's status block."""
    return DOOR_STATUS_BASE + door * DOOR_STATUS_SIZE


def door_command_address(door: int) -> int:
    """First holding register of a door's command block."""
    return DOOR_COMMAND_BASE + door * DOOR_COMMAND_SIZE


def encode_ascii(text: str, registers: int) -> list[int]:
    """Pack text into registers, two characters each, high byte first, NUL padded."""
    raw = text.encode("ascii")[: registers * 2].ljust(registers * 2, b"\0")
    return [raw[i] << 8 | raw[i + 1] for i in range(0, len(raw), 2)]


def decode_ascii(values: list[int]) -> str:
    """Inverse of :func:`encode_ascii`; stops at the first NUL."""
    raw = b"".join(v.to_bytes(2, "big") for v in values)
    return raw.split(b"\0", 1)[0].decode("ascii", errors="replace")
